#include "decide/distribution_cost.h"

#include "core/error.h"

namespace lp::decide {

double download_seconds(uint64_t file_bytes, double mbps) {
  if (mbps <= 0) fail("a network speed must be positive, not {} Mbps", mbps);
  return static_cast<double>(file_bytes) / 1e6 * 8.0 / mbps;
}

double storage_share_pct(uint64_t file_bytes, double app_base_mb, double storage_gb) {
  if (storage_gb <= 0) fail("a device's storage must be positive, not {} GB", storage_gb);
  return 100.0 * (app_base_mb + static_cast<double>(file_bytes) / 1e6) / (storage_gb * 1000.0);
}

CdnMonth cdn_month(uint64_t file_bytes, double users, double downloads_per_user, double usd_per_gb) {
  if (users < 0 || downloads_per_user < 0 || usd_per_gb < 0) fail("users, downloads and CDN prices must not be negative");
  CdnMonth m;
  m.gigabytes = users * downloads_per_user * static_cast<double>(file_bytes) / 1e9;
  m.usd = m.gigabytes * usd_per_gb;
  return m;
}

double joules_per_token(double watts, double tokens_per_second) {
  if (watts < 0 || tokens_per_second <= 0) fail("energy per token needs a power of 0 W or more and a positive speed");
  return watts / tokens_per_second;
}

}  // namespace lp::decide
