#pragma once
// Will this file run on those devices, how fast, and at what cost: the memory model, the
// admission rule, the speed prediction and the money side put together per device. `fit`
// prints it; `matrix` builds the same report for every level it measured.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "decide/admission.h"
#include "decide/deployment_data.h"
#include "decide/device_catalog.h"
#include "decide/memory_model.h"
#include "decide/speed_prediction.h"

namespace lp::decide {

struct FitSettings {
  MemorySettings memory;
  int64_t max_new = 128;  // tokens one answer generates (the KV a decoded token reads grows with them)
  AdmissionPolicy policy = AdmissionPolicy::predicted;
  std::optional<double> usd_per_hour;  // overrides every device's rate
  double users = 10000;                // for the CDN month
  double updates_per_month = 0;        // full re-downloads per user per month beyond the seed's mix
};

struct DeviceFit {
  const Device* device = nullptr;
  Admission admission;
  SpeedPrediction speed;            // predicted from the bandwidth
  std::optional<double> measured_decode_tps;  // this machine, when calibrated
  std::optional<double> usd_per_million;      // at the device's (or the given) hourly rate
  std::optional<double> joules_per_token;     // estimate, where the device's power is known
};

struct DownloadTime {
  const Network* network = nullptr;
  double seconds = 0;
};

struct CdnCost {
  const CdnPrice* cdn = nullptr;
  double gigabytes = 0, usd = 0;
};

struct FitReport {
  std::string model_path, model_name, file_type;
  uint64_t file_bytes = 0, parameters = 0;
  uint64_t active_parameters = 0;  // per token (a mixture of experts uses some experts)
  FitSettings settings;
  MemoryEstimate memory;
  double decode_bytes_per_token = 0;  // weights + the KV an answer's token reads on average
  SpeedCalibration calibration;
  std::vector<DeviceFit> devices;
  std::vector<DownloadTime> downloads;
  double storage_share_pct = 0, storage_gb = 0;
  std::vector<CdnCost> cdn;
};

// A decode run on this machine: its speed, what each of its tokens read, and the read
// bandwidth probed beside it. It calibrates the efficiency every prediction uses.
struct DecodeMeasurement {
  double decode_tps = 0, bytes_per_token = 0, bandwidth_gbs = 0;
  std::string what;  // e.g. "tg32 on an empty context, 2 threads"
};

FitReport build_fit_report(const ModelSummary& model, const FitSettings& settings, const std::vector<const Device*>& devices,
                           const DeploymentData& deployment, const std::optional<DecodeMeasurement>& here);

nlohmann::json fit_report_json(const FitReport& r);
std::string fit_report_text(const FitReport& r, bool explain);

}  // namespace lp::decide
