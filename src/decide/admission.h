#pragma once
// Will a model load on a device: a need in MiB against what the device leaves usable, as
// PASS / MARGINAL / FAIL with the margin. Two ways to put the need:
//  - seed000: seed 000's rule, allow_load if free_ram >= size x 1.6 + 600 MB (a rule of thumb
//    for ExecuTorch that ignores the context);
//  - predicted (the default): the peak the memory model predicts for this file at this context.
// Either way MARGINAL means it fits but with less than `marginal_fraction` of the usable
// memory to spare: 20% reproduces seed 000's iPhone grid (3,200 MB free: 2,392 PASS, 2,664
// MARGINAL), and it is more than the memory model's worst error against measurement.
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace lp::decide {

enum class Verdict { pass, marginal, fail };
const char* verdict_name(Verdict v);  // PASS, MARGINAL, FAIL

enum class AdmissionPolicy { predicted, seed000 };
AdmissionPolicy admission_policy(const std::string& name);  // "predicted" or "seed000"; InputError else
const char* admission_policy_name(AdmissionPolicy p);

inline constexpr double kMarginalFraction = 0.20;

// seed 000's need: file size x 1.6 + 600 (MB as the seed writes them).
double seed000_need_mb(double file_mb);

struct Admission {
  Verdict verdict = Verdict::fail;
  double need_mib = 0, usable_mib = 0;
  double margin_mib = 0;     // usable - need (negative: short by that much)
  double headroom_pct = 0;   // margin as a share of usable
};

Admission admit(double need_mib, double usable_mib, double marginal_fraction = kMarginalFraction);

nlohmann::json admission_json(const Admission& a);

}  // namespace lp::decide
