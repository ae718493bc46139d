#include "decide/admission.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lp::decide {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::marginal: return "MARGINAL";
    case Verdict::fail: return "FAIL";
  }
  return "?";
}

AdmissionPolicy admission_policy(const std::string& name) {
  if (name == "predicted") return AdmissionPolicy::predicted;
  if (name == "seed000") return AdmissionPolicy::seed000;
  fail("unknown admission policy \"{}\" (predicted or seed000)", name);
}

const char* admission_policy_name(AdmissionPolicy p) { return p == AdmissionPolicy::seed000 ? "seed000" : "predicted"; }

double seed000_need_mb(double file_mb) { return file_mb * 1.6 + 600.0; }

Admission admit(double need_mib, double usable_mib, double marginal_fraction) {
  Admission a;
  a.need_mib = need_mib;
  a.usable_mib = usable_mib;
  a.margin_mib = usable_mib - need_mib;
  a.headroom_pct = usable_mib > 0 ? 100.0 * a.margin_mib / usable_mib : 0.0;
  if (a.margin_mib < 0) a.verdict = Verdict::fail;
  else if (a.margin_mib < marginal_fraction * usable_mib) a.verdict = Verdict::marginal;
  else a.verdict = Verdict::pass;
  return a;
}

nlohmann::json admission_json(const Admission& a) {
  return {{"verdict", verdict_name(a.verdict)}, {"need_mib", a.need_mib}, {"usable_mib", a.usable_mib},
          {"margin_mib", a.margin_mib}, {"headroom_pct", a.headroom_pct}};
}

}  // namespace lp::decide
