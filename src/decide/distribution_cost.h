#pragma once
// The money and time of shipping a model file to users (seed 000 §1 and §6): download time
// per network, the share of a device's storage, CDN traffic and cost per month, and energy per
// token where the device's power is known (an estimate: power x time, labelled so).
#include <cstdint>

namespace lp::decide {

// (size in MB x 8) / Mbps: seed 000's formula, MB = 10^6 bytes as networks count.
double download_seconds(uint64_t file_bytes, double mbps);

// (app + model) as a percentage of the device's storage.
double storage_share_pct(uint64_t file_bytes, double app_base_mb, double storage_gb);

struct CdnMonth {
  double gigabytes = 0;
  double usd = 0;
};
// users x downloads per user x file size, at usd_per_gb.
CdnMonth cdn_month(uint64_t file_bytes, double users, double downloads_per_user, double usd_per_gb);

// joules per generated token at `watts` and `tokens_per_second`.
double joules_per_token(double watts, double tokens_per_second);

}  // namespace lp::decide
