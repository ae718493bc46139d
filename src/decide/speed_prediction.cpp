#include "decide/speed_prediction.h"

#include <fmt/core.h>

#include "core/error.h"

namespace lp::decide {

SpeedCalibration default_calibration() {
  return {0.7, false, "assumed 70% of peak bandwidth (not calibrated: run fit --calibrate on a machine that holds the model)"};
}

SpeedCalibration calibrate(double decode_tps, double bytes_per_token, double bandwidth_gbs) {
  if (decode_tps <= 0 || bytes_per_token <= 0 || bandwidth_gbs <= 0)
    fail("a calibration needs a positive decode speed, bytes per token and bandwidth");
  const double efficiency = decode_tps * bytes_per_token / (bandwidth_gbs * 1e9);
  return {efficiency, true,
          fmt::format("measured here: {:.1f} tok/s x {:.1f} MB per token over {:.1f} GB/s read bandwidth = {:.0f}%", decode_tps,
                      bytes_per_token / 1e6, bandwidth_gbs, 100.0 * efficiency)};
}

SpeedPrediction predict_speed(double bandwidth_gbs, std::optional<double> fp16_tflops, double bytes_per_token,
                              uint64_t parameters, const SpeedCalibration& calibration) {
  if (bytes_per_token <= 0) fail("a speed prediction needs the bytes a token reads");
  SpeedPrediction p;
  p.decode_tps = calibration.efficiency * bandwidth_gbs * 1e9 / bytes_per_token;
  if (fp16_tflops && *fp16_tflops > 0 && parameters > 0)
    p.prefill_tps_bound = *fp16_tflops * 1e12 / (2.0 * static_cast<double>(parameters));
  return p;
}

}  // namespace lp::decide
