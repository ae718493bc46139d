#pragma once
// Speed on a device we are not on. Decoding a token reads every weight once, so memory
// bandwidth bounds it: tokens/s = efficiency x bandwidth / bytes read per token. The
// efficiency (the share of the bandwidth a runtime turns into decode) is calibrated where we
// can measure it, on this machine: measured decode against measured bandwidth. Prefill is
// bounded by compute where the catalog gives FLOPs: tokens/s <= FLOPs / (2 x parameters).
// Every figure says whether it is predicted or measured.
#include <cstdint>
#include <optional>
#include <string>

namespace lp::decide {

struct SpeedCalibration {
  double efficiency = 0.0;
  bool measured = false;  // from a decode and a bandwidth probe on this machine
  std::string how;        // what it rests on, for the report
};

// Until something is measured: the share our engine reached on this project's benchmark
// machine (bench/RESULTS.md: Q4_K_M/Q8_0 decode at 70-100% of the probed ceiling), taken low.
SpeedCalibration default_calibration();
// measured decode tokens/s of a file whose token reads `bytes_per_token`, on `bandwidth_gbs`.
SpeedCalibration calibrate(double decode_tps, double bytes_per_token, double bandwidth_gbs);

struct SpeedPrediction {
  double decode_tps = 0;
  std::optional<double> prefill_tps_bound;  // compute-bound ceiling, where FLOPs are known
};

SpeedPrediction predict_speed(double bandwidth_gbs, std::optional<double> fp16_tflops, double bytes_per_token,
                              uint64_t parameters, const SpeedCalibration& calibration);

}  // namespace lp::decide
