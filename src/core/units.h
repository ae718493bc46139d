#pragma once
// Binary size units, for turning byte counts into the MiB and GiB that reports print.
namespace lp {

inline constexpr double kMiB = 1024.0 * 1024.0;
inline constexpr double kGiB = 1024.0 * kMiB;

}  // namespace lp
