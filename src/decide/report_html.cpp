#include "decide/report_html.h"

#include <fmt/core.h>

#include <array>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/units.h"
#include "decide/json_path.h"
#include "decide/svg_chart.h"
#include "model/model_summary.h"

namespace lp::decide {
namespace {

using nlohmann::json;

constexpr const char* kDash = "—";  // what a missing value shows

// ---- Reading the report defensively (json_at): a missing key, a null or a wrong type all read as absent.

std::optional<double> num(const json& j, std::initializer_list<const char*> path) {
  const json* p = json_at(j, path);
  if (p && p->is_number()) return p->get<double>();
  return std::nullopt;
}

// Any scalar as text (a version may come as a number); "" when absent.
std::string str(const json& j, std::initializer_list<const char*> path) {
  const json* p = json_at(j, path);
  if (!p) return {};
  if (p->is_string()) return p->get<std::string>();
  if (p->is_boolean()) return p->get<bool>() ? "true" : "false";
  if (p->is_number_integer() || p->is_number_unsigned()) return p->dump();
  if (p->is_number_float()) return fmt::format("{:g}", p->get<double>());
  return {};
}

bool flag(const json& j, std::initializer_list<const char*> path) {
  const json* p = json_at(j, path);
  return p && p->is_boolean() && p->get<bool>();
}

const json& array_at(const json& j, std::initializer_list<const char*> path) {
  static const json empty = json::array();
  const json* p = json_at(j, path);
  return p && p->is_array() ? *p : empty;
}

// ---- Formatting.

std::string esc_or_dash(const std::string& s) { return s.empty() ? kDash : html_escape(s); }

std::string fixed(std::optional<double> v, int decimals, double scale = 1) {
  return v ? fmt::format("{:.{}f}", *v * scale, decimals) : kDash;
}

std::string signed_fixed(double v, int decimals) {
  if (std::abs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0;  // "+0.0", never "-0.0"
  return fmt::format("{:+.{}f}", v, decimals);
}

// {"value", "ci95": [lo, hi]} as the value with its interval underneath.
std::string with_ci(const json* v, int decimals, bool signed_value, const char* unit = "") {
  if (!v || !json_at(*v, {"value"}) || !json_at(*v, {"value"})->is_number()) return kDash;
  const double value = (*v)["value"].get<double>();
  std::string out = (signed_value ? signed_fixed(value, decimals) : fmt::format("{:.{}f}", value, decimals)) + unit;
  const json* ci = json_at(*v, {"ci95"});
  if (ci && ci->is_array() && ci->size() == 2 && (*ci)[0].is_number() && (*ci)[1].is_number()) {
    const double lo = (*ci)[0].get<double>(), hi = (*ci)[1].get<double>();
    out += signed_value ? fmt::format("<span class=\"ci\">[{}, {}]</span>", signed_fixed(lo, decimals),
                                      signed_fixed(hi, decimals))
                        : fmt::format("<span class=\"ci\">[{:.{}f}, {:.{}f}]</span>", lo, decimals, hi, decimals);
  }
  return out;
}

// Only the four TR125 tiers become CSS classes; anything else is shown as text, uncoloured.
std::string tier_class(const std::string& tier) {
  for (const char* known : {"negligible", "acceptable", "concerning", "unacceptable"})
    if (tier == known) return std::string("tier-") + known;
  return "tier-none";
}

std::string tier_badge(const std::string& tier) {
  return tier.empty() ? kDash : fmt::format("<span class=\"badge {}\">{}</span>", tier_class(tier), html_escape(tier));
}

std::string level_tier(const json& level) { return str(level, {"tier", "name"}); }

// ---- Sections.

constexpr const char* kStyle = R"css(
:root { --ink:#1f2328; --muted:#656d76; --line:#d0d7de; --soft:#f6f8fa;
  --neg:#1a7f37; --neg-bg:#dafbe1; --acc:#0f766e; --acc-bg:#d5f5ef; --con:#b45309; --con-bg:#fff1d6;
  --una:#c62828; --una-bg:#ffe1e1; --none:#8c959f; }
* { box-sizing: border-box; }
body { margin: 0; padding: 28px 32px 24px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0; }
.card { border: 1px solid var(--line); border-left: 6px solid var(--none); border-radius: 8px; padding: 14px 18px;
  margin: 20px 0 0; background: var(--soft); }
.card.tier-negligible { border-left-color: var(--neg); } .card.tier-acceptable { border-left-color: var(--acc); }
.card.tier-concerning { border-left-color: var(--con); } .card.tier-unacceptable { border-left-color: var(--una); }
.card .pick { font-size: 22px; font-weight: 650; margin-right: 10px; }
.card ul { margin: 8px 0 4px; padding-left: 20px; }
.ranking { color: var(--muted); margin: 6px 0 0; }
.ranking b { color: var(--ink); font-weight: 600; }
table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 7px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
tr.level td:first-child { border-left: 5px solid var(--none); font-weight: 600; white-space: nowrap; }
tr.tier-negligible td:first-child { border-left-color: var(--neg); } tr.tier-negligible { background: #f2fcf4; }
tr.tier-acceptable td:first-child { border-left-color: var(--acc); } tr.tier-acceptable { background: #effbf8; }
tr.tier-concerning td:first-child { border-left-color: var(--con); } tr.tier-concerning { background: #fff9ec; }
tr.tier-unacceptable td:first-child { border-left-color: var(--una); } tr.tier-unacceptable { background: #fff3f3; }
tr.recommended td:first-child::after { content: " ★"; color: #9a6700; }
.ci { display: block; color: var(--muted); font-size: 11px; white-space: nowrap; }
.same-model { color: var(--muted); font-size: 11px; white-space: nowrap; }
.tag { display: inline-block; margin-left: 6px; padding: 0 5px; border-radius: 4px; font-size: 10.5px; font-weight: 500;
  background: #ddf4ff; color: #0550ae; vertical-align: 1px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  background: #eaeef2; color: #424a53; white-space: nowrap; }
.badge.tier-negligible { background: var(--neg-bg); color: var(--neg); }
.badge.tier-acceptable { background: var(--acc-bg); color: var(--acc); }
.badge.tier-concerning { background: var(--con-bg); color: var(--con); }
.badge.tier-unacceptable { background: var(--una-bg); color: var(--una); }
.badge.pass { background: var(--neg-bg); color: var(--neg); } .badge.marginal { background: var(--con-bg); color: var(--con); }
.unsettled { display: block; color: var(--con); font-size: 11px; white-space: nowrap; }
.working { display: block; color: var(--muted); font-size: 11px; max-width: 260px; text-align: left; }
.scroll { overflow-x: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 20px; }
.chart { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 8px; background: #fff;
  font-family: inherit; }
.chart .chart-title { font-size: 14px; font-weight: 600; fill: var(--ink); }
.chart .grid line { stroke: #eaeef2; } .chart .tick { font-size: 11px; fill: var(--muted); }
.chart .frame { fill: none; stroke: #afb8c1; } .chart .axis-label { font-size: 12px; fill: var(--ink); }
.chart .point { stroke: #fff; stroke-width: 1.5; fill: var(--none); }
.chart .point.tier-negligible { fill: var(--neg); } .chart .point.tier-acceptable { fill: var(--acc); }
.chart .point.tier-concerning { fill: var(--con); } .chart .point.tier-unacceptable { fill: var(--una); }
.chart .baseline-ring { fill: none; stroke: #0550ae; stroke-width: 2; }
.chart .point-label, .chart .reference-label { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.chart .point-label { font-size: 12px; fill: var(--ink); } .chart .point-label.baseline { fill: #0550ae; font-weight: 600; }
.chart .reference { stroke: #0550ae; stroke-dasharray: 5 4; stroke-width: 1; opacity: .7; }
.chart .reference-label { font-size: 11px; fill: #0550ae; } .chart .no-data { fill: var(--muted); }
.legend { color: var(--muted); font-size: 12px; margin: 8px 0 0; }
.legend .badge { margin-right: 4px; }
.cliff { margin: 0; }
dl.defs { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.defs dt { color: var(--muted); } dl.defs dd { margin: 0; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } th { position: static; } }
)css";

std::string header(const json& r) {
  const std::string model = str(r, {"model", "name"}), baseline = str(r, {"baseline", "level"});
  std::string out = fmt::format("<h1>Decision matrix: {}</h1>\n", esc_or_dash(model));
  std::vector<std::string> facts;
  if (auto s = str(r, {"model", "architecture"}); !s.empty()) facts.push_back(html_escape(s));
  if (auto p = num(r, {"model", "parameters"})) {
    std::string count = human_count(static_cast<uint64_t>(*p)) + " parameters";
    // A mixture of experts: what a token computes with, beside what memory holds.
    if (auto active = num(r, {"model", "active_parameters"}); active && *active < *p)
      count += " (" + human_count(static_cast<uint64_t>(*active)) + " active per token)";
    facts.push_back(count);
  }
  if (!baseline.empty()) {
    std::string b = "baseline <b>" + html_escape(baseline) + "</b>";
    if (auto why = str(r, {"baseline", "why"}); !why.empty()) b += " (" + html_escape(why) + ")";
    facts.push_back(b);
  }
  if (auto s = str(r, {"suite", "name"}); !s.empty()) facts.push_back("suite " + html_escape(s));
  std::string joined;
  for (size_t i = 0; i < facts.size(); ++i) joined += (i ? " · " : "") + facts[i];
  out += fmt::format("<p class=\"sub\">{}</p>\n", joined);
  if (auto src = str(r, {"model", "source"}); !src.empty())
    out += fmt::format("<p class=\"sub\">source: {}</p>\n", html_escape(src));
  return out;
}

const json* find_level(const json& r, const std::string& name) {
  for (const json& l : array_at(r, {"levels"}))
    if (str(l, {"level"}) == name) return &l;
  return nullptr;
}

std::string recommendation(const json& r) {
  const std::string pick = str(r, {"recommendation", "level"});
  const json* level = pick.empty() ? nullptr : find_level(r, pick);
  const std::string tier = level ? level_tier(*level) : "";
  std::string out = fmt::format("<section class=\"card {}\" id=\"recommendation\">\n", tier_class(tier));
  if (pick.empty()) {
    out += "<span class=\"pick\">No level recommended</span>\n";
  } else {
    out += fmt::format("<span class=\"sub\">Recommended</span><br><span class=\"pick\">{}</span>{}\n",
                       html_escape(pick), tier.empty() ? "" : tier_badge(tier));
    if (level) {
      if (auto score = num(*level, {"score", "total"}))
        out += fmt::format(" <span class=\"sub\" style=\"display:inline\">score {:.1f}</span>", *score);
    }
  }
  const json& reasons = array_at(r, {"recommendation", "reasons"});
  if (!reasons.empty()) {
    out += "<ul>\n";
    for (const json& reason : reasons)
      if (reason.is_string()) out += "<li>" + html_escape(reason.get<std::string>()) + "</li>\n";
    out += "</ul>\n";
  }
  const json& ranking = array_at(r, {"recommendation", "ranking"});
  if (!ranking.empty()) {
    out += "<p class=\"ranking\">Ranking by weighted score: ";
    for (size_t i = 0; i < ranking.size(); ++i) {
      const auto score = num(ranking[i], {"score"});
      out += fmt::format("{}{}. <b>{}</b> {}", i ? " · " : "", i + 1, esc_or_dash(str(ranking[i], {"level"})),
                         score ? fmt::format("{:.1f}", *score) : kDash);
    }
    out += "</p>\n";
  }
  return out + "</section>\n";
}

std::string tier_html(const json& level) {
  const std::string tier = level_tier(level);
  if (tier.empty()) return kDash;
  std::string out = tier_badge(tier);
  if (flag(level, {"tier", "unsettled"})) {
    out += fmt::format(
        "<span class=\"unsettled\" title=\"the 95% interval spans tiers: {} at its lower end, {} at its upper\">"
        "unsettled<br>{}–{}</span>",
        html_escape(str(level, {"tier", "at_lower"})), html_escape(str(level, {"tier", "at_upper"})),
        esc_or_dash(str(level, {"tier", "at_lower"})), esc_or_dash(str(level, {"tier", "at_upper"})));
  }
  // Where the benchmark alone says otherwise (the generation delta decided), show what it says.
  const std::string bench = str(level, {"tier", "benchmark_tier"});
  if (!bench.empty() && bench != tier)
    out += fmt::format("<span class=\"unsettled\">benchmark alone: {}</span>", html_escape(bench));
  return out;
}

std::string accuracy_cell(const json& level) {
  const auto pooled = num(level, {"accuracy", "pooled", "value"});
  if (!pooled) return kDash;
  std::string detail;
  for (const auto& [key, name] : {std::pair{"mmlu", "MMLU"}, std::pair{"arc_challenge", "ARC-C"}}) {
    if (auto v = num(level, {"accuracy", key, "value"}))
      detail += fmt::format("<span class=\"ci\">{} {:.1f}%</span>", name, *v * 100);
  }
  std::string out = fmt::format("{:.1f}%", *pooled * 100);
  const auto correct = num(level, {"accuracy", "pooled", "correct"}),
             questions = num(level, {"accuracy", "pooled", "questions"});
  if (correct && questions)
    out = fmt::format("<span title=\"{:.0f} of {:.0f} questions\">{}</span>", *correct, *questions, out);
  out += detail;
  return out;
}

// HumanEval pass@1 with its Wilson interval on hover.
std::string code_cell(const json& level) {
  const auto pass = num(level, {"code", "pass_at_1"});
  if (!pass) return kDash;
  // How many problems: a sweep may score a subset (--problems), and 0% of 8 is not 0% of 164.
  const auto problems = num(level, {"code", "problems"});
  const std::string detail = problems ? fmt::format("<span class=\"ci\">of {:.0f} problems</span>", *problems) : "";
  const json* w = json_at(level, {"code", "wilson95"});
  if (!w || !w->is_array() || w->size() != 2 || !(*w)[0].is_number() || !(*w)[1].is_number()) {
    return fmt::format("{:.1f}%", *pass * 100) + detail;
  }
  return fmt::format("<span title=\"Wilson 95%: {:.1f}–{:.1f}%\">{:.1f}%</span>", (*w)[0].get<double>() * 100,
                     (*w)[1].get<double>() * 100, *pass * 100) + detail;
}

std::string tier_table(const json& r) {
  const std::string pick = str(r, {"recommendation", "level"}), baseline = str(r, {"baseline", "level"});
  bool any_code = false;
  for (const json& l : array_at(r, {"levels"})) any_code = any_code || num(l, {"code", "pass_at_1"}).has_value();
  std::string out =
      "<h2>Levels</h2>\n<div class=\"scroll\"><table id=\"tier-table\">\n<thead><tr>"
      "<th class=\"text\">Level</th><th>Size<br>MiB</th><th>Bits/<br>weight</th><th>Perplexity</th><th>KLD</th>"
      "<th>Accuracy<br>(pooled)</th><th>Benchmark Δ<br>pp, 95% CI</th><th>Generation Δ<br>%, 95% CI</th>"
      "<th class=\"text\">Tier</th><th title=\"prompt processing\">pp<br>tok/s</th><th title=\"token "
      "generation\">tg<br>tok/s</th><th>TTFT<br>ms</th><th>Peak RSS<br>MiB</th>"
      "<th>$ / 1M<br>tokens</th><th>Score</th>";
  if (any_code) out += "<th title=\"HumanEval, greedy, run in a sandbox\">HumanEval<br>pass@1</th><th>Code Δ<br>pp, 95% CI</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const json& l : array_at(r, {"levels"})) {
    const std::string name = str(l, {"level"});
    const bool is_baseline = flag(l, {"is_baseline"}) || (!baseline.empty() && name == baseline);
    std::string classes = "level " + tier_class(level_tier(l));
    if (!pick.empty() && name == pick) classes += " recommended";
    const auto cost = num(l, {"cost", "usd_per_million"});
    out += fmt::format("<tr class=\"{}\" data-level=\"{}\" title=\"{}\">", classes, html_escape(name),
                       html_escape(str(l, {"tier", "explanation"})));
    const std::string same_model = str(l, {"same_model_as"});
    out += fmt::format("<td class=\"text\">{}{}{}</td>", esc_or_dash(name),
                       is_baseline ? "<span class=\"tag\">baseline</span>" : "",
                       same_model.empty() ? "" : "<br><span class=\"same-model\">same tensors as " + html_escape(same_model) + "</span>");
    out += "<td>" + fixed(num(l, {"file", "bytes"}), 1, 1 / kMiB) + "</td>";
    out += "<td>" + fixed(num(l, {"bits_per_weight"}), 2) + "</td>";
    out += "<td>" + with_ci(json_at(l, {"perplexity"}), 2, false) + "</td>";
    out += "<td>" + fixed(num(l, {"kld_mean"}), 4) + "</td>";
    out += "<td>" + accuracy_cell(l) + "</td>";
    out += "<td>" + with_ci(json_at(l, {"benchmark_delta_pp"}), 1, true) + "</td>";
    out += "<td>" + with_ci(json_at(l, {"generation", "delta_pct"}), 1, true) + "</td>";
    out += "<td class=\"text\">" + tier_html(l) + "</td>";
    out += "<td>" + fixed(num(l, {"speed", "pp_tps"}), 0) + "</td>";
    out += "<td>" + fixed(num(l, {"speed", "tg_tps"}), 1) + "</td>";
    out += "<td>" + fixed(num(l, {"speed", "ttft_ms"}), 0) + "</td>";
    out += "<td>" + fixed(num(l, {"speed", "peak_rss_bytes"}), 0, 1 / kMiB) + "</td>";
    out += "<td>" + (cost ? fmt::format("${:.3f}", *cost) : std::string(kDash)) + "</td>";
    out += "<td>" + fixed(num(l, {"score", "total"}), 1) + "</td>";
    if (any_code) out += "<td>" + code_cell(l) + "</td><td>" + with_ci(json_at(l, {"code", "delta_pp"}), 1, true) + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody></table></div>\n<p class=\"legend\">";
  for (const char* t : {"negligible", "acceptable", "concerning", "unacceptable"}) out += tier_badge(t);
  out += " Rows are coloured by tier; “unsettled” means the 95% interval reaches another tier. ★ recommended.</p>\n";
  return out;
}

std::string charts(const json& r) {
  const std::string baseline = str(r, {"baseline", "level"});
  ChartSpec quality, speed;
  quality.id = "quality-vs-size";
  quality.title = "Quality vs size";
  quality.y_label = "pooled rescored accuracy (%)";
  speed.id = "speed-vs-size";
  speed.title = "Speed vs size";
  speed.y_label = "generation speed (tg tok/s)";
  quality.x_label = speed.x_label = "file size (MiB)";
  speed.y_from_zero = true;
  for (const json& l : array_at(r, {"levels"})) {
    const std::string name = str(l, {"level"});
    const auto bytes = num(l, {"file", "bytes"});
    if (!bytes || name.empty()) continue;
    const double mib = *bytes / kMiB;
    const bool is_baseline = flag(l, {"is_baseline"}) || (!baseline.empty() && name == baseline);
    const std::string cls = tier_class(level_tier(l));
    if (auto acc = num(l, {"accuracy", "pooled", "value"})) {
      quality.points.push_back(
          {name, mib, *acc * 100, cls, fmt::format("{}: {:.1f} MiB, {:.1f}%", name, mib, *acc * 100), is_baseline});
      if (is_baseline) {
        quality.reference_y = *acc * 100;
        quality.reference_label = "baseline " + name;
      }
    }
    if (auto tg = num(l, {"speed", "tg_tps"}))
      speed.points.push_back(
          {name, mib, *tg, cls, fmt::format("{}: {:.1f} MiB, {:.1f} tok/s", name, mib, *tg), is_baseline});
  }
  return "<h2>Charts</h2>\n<div class=\"charts\">\n" + scatter_svg(quality) + scatter_svg(speed) + "</div>\n";
}

std::string cliff(const json& r) {
  std::string out = "<h2>Accuracy cliff</h2>\n<p class=\"cliff\" id=\"accuracy-cliff\">";
  const json* c = json_at(r, {"accuracy_cliff"});
  const std::string level = c ? str(*c, {"level"}) : "";
  if (level.empty()) return out + "No cliff: accuracy holds at every level measured.</p>\n";
  out += fmt::format("Accuracy falls off a cliff at <b>{}</b>", html_escape(level));
  if (auto pp = num(*c, {"size_pp"})) out += fmt::format(" ({} pp)", signed_fixed(-std::abs(*pp), 1));
  const std::string safe = str(*c, {"last_safe"});
  out += safe.empty() ? ". No level before it is safe."
                      : fmt::format(". The last safe level is <b>{}</b>.", html_escape(safe));
  return out + "</p>\n";
}

std::string memory_tiers(const json& r) {
  const json& tiers = array_at(r, {"memory_tiers"});
  std::string out = "<h2>Memory tiers</h2>\n";
  if (auto ctx = str(r, {"suite", "deploy_ctx"}); !ctx.empty())
    out += fmt::format("<p class=\"sub\">Judged at a {}-token context.</p>\n", html_escape(ctx));
  out +=
      "<table id=\"memory-tiers\"><thead><tr><th class=\"text\">Device memory</th><th>Usable GB</th>"
      "<th class=\"text\">Best level</th><th class=\"text\">Verdict</th><th "
      "class=\"text\">Why</th></tr></thead>\n<tbody>\n";
  for (const json& t : tiers) {
    const std::string verdict = str(t, {"verdict"});
    const std::string badge = verdict == "PASS"       ? "<span class=\"badge pass\">PASS</span>"
                              : verdict == "MARGINAL" ? "<span class=\"badge marginal\">MARGINAL</span>"
                                                      : esc_or_dash(verdict);
    out += fmt::format(
        "<tr><td class=\"text\">{}</td><td>{}</td><td class=\"text\"><b>{}</b></td><td class=\"text\">{}</td>"
        "<td class=\"text\">{}</td></tr>\n",
        esc_or_dash(str(t, {"name"})), fixed(num(t, {"usable_gb"}), 1), esc_or_dash(str(t, {"best"})), badge,
        esc_or_dash(str(t, {"reason"})));
  }
  return out + "</tbody></table>\n";
}

std::string score_components(const json& r) {
  constexpr std::array<const char*, 4> kParts = {"quality", "speed", "memory", "size"};
  std::string out =
      "<h2>Weighted score</h2>\n<div class=\"scroll\"><table id=\"score-components\"><thead><tr><th "
      "class=\"text\">Level</th>";
  for (const char* part : kParts) out += fmt::format("<th>{}{}</th>", static_cast<char>(part[0] - 'a' + 'A'), part + 1);
  out += "<th>Total</th></tr></thead>\n<tbody>\n";
  for (const json& l : array_at(r, {"levels"})) {
    out += fmt::format("<tr class=\"level {}\"><td class=\"text\">{}</td>", tier_class(level_tier(l)),
                       esc_or_dash(str(l, {"level"})));
    for (const char* part : kParts) {
      const auto points = num(l, {"score", "components", part, "points"});
      const auto weight = num(l, {"score", "components", part, "weight"});
      if (!points) {
        out += std::string("<td>") + kDash + "</td>";
        continue;
      }
      out += fmt::format("<td>{:.1f}{}", *points, weight ? fmt::format(" / {:g}", *weight) : "");
      if (auto w = str(l, {"score", "components", part, "working"}); !w.empty())
        out += "<span class=\"working\">" + html_escape(w) + "</span>";
      out += "</td>";
    }
    out += "<td><b>" + fixed(num(l, {"score", "total"}), 1) + "</b></td></tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string machines(const json& r) {
  std::string out =
      "<h2>Measured on</h2>\n<table id=\"machines\"><thead><tr><th class=\"text\">CPU</th><th>Logical cores</th>"
      "<th>Memory GiB</th><th class=\"text\">OS</th></tr></thead>\n<tbody>\n";
  const json& list = array_at(r, {"machines"});
  for (const json& m : list)
    out += fmt::format("<tr><td class=\"text\">{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>\n",
                       esc_or_dash(str(m, {"cpu_model"})), fixed(num(m, {"logical_cores"}), 0),
                       fixed(num(m, {"memory_bytes"}), 1, 1 / kGiB), esc_or_dash(str(m, {"os"})));
  if (list.empty()) out += std::string("<tr><td class=\"text\" colspan=\"4\">") + kDash + "</td></tr>\n";
  return out + "</tbody></table>\n";
}

std::string method(const json& r) {
  std::string out = "<h2>Method</h2>\n<dl class=\"defs\">\n";
  auto row = [&](const char* term, const std::string& html) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", term, html);
  };
  std::string key = esc_or_dash(str(r, {"key_metric", "name"}));
  std::string metrics;
  for (const json& m : array_at(r, {"key_metric", "metrics"}))
    if (m.is_string()) metrics += (metrics.empty() ? "" : ", ") + html_escape(m.get<std::string>());
  if (!metrics.empty()) key += " (" + metrics + ")";
  if (auto d = str(r, {"key_metric", "description"}); !d.empty()) key += ": " + html_escape(d);
  row("Key metric", key);
  row("Tier rule", esc_or_dash(str(r, {"tier_rule", "description"})));

  std::string suite = esc_or_dash(str(r, {"suite", "name"}));
  std::vector<std::string> parts;
  auto add = [&](const char* what, std::initializer_list<const char*> path) {
    if (auto v = str(r, path); !v.empty()) parts.push_back(fmt::format("{} {}", what, html_escape(v)));
  };
  add("context", {"suite", "ctx_size"});
  add("perplexity chunks", {"suite", "ppl_chunks"});
  add("MC subset", {"suite", "mc_subset"});
  add("generation prompts", {"suite", "gen_prompts"});
  add("bench prompt", {"suite", "bench", "n_prompt"});
  add("bench generate", {"suite", "bench", "n_gen"});
  add("repetitions", {"suite", "bench", "repetitions"});
  for (size_t i = 0; i < parts.size(); ++i) suite += (i ? ", " : ": ") + parts[i];
  row("Suite", suite);
  if (auto rate = num(r, {"cost", "usd_per_hour"}))
    row("Cost", fmt::format("${:g}/hour, {}", *rate, esc_or_dash(str(r, {"cost", "source"}))));
  std::string dirs;
  for (const json& d : array_at(r, {"records", "dirs"}))
    if (d.is_string()) dirs += (dirs.empty() ? "" : ", ") + html_escape(d.get<std::string>());
  row("Records", fmt::format("{} from {}", fixed(num(r, {"records", "count"}), 0), dirs.empty() ? kDash : dirs));
  out += "</dl>\n";

  const json& thresholds = array_at(r, {"tier_rule", "thresholds"});
  if (!thresholds.empty()) {
    out +=
        "<table id=\"tier-rule\" style=\"margin-top:12px\"><thead><tr><th class=\"text\">Tier</th>"
        "<th>Benchmark Δ at least (pp)</th><th>Generation Δ at least (%)</th></tr></thead>\n<tbody>\n";
    for (const json& t : thresholds) {
      const auto pp = num(t, {"min_benchmark_pp"}), pct = num(t, {"min_generation_pct"});
      out += fmt::format("<tr><td class=\"text\">{}</td><td>{}</td><td>{}</td></tr>\n", tier_badge(str(t, {"tier"})),
                         pp ? signed_fixed(*pp, 1) : kDash, pct ? signed_fixed(*pct, 1) : kDash);
    }
    out += "</tbody></table>\n";
  }
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string matrix_report_html(const json& report) {
  const std::string model = str(report, {"model", "name"}), baseline = str(report, {"baseline", "level"});
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // Nothing may load from anywhere: the page is one file.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src "
      "data:\">\n";
  out += fmt::format("<title>{} — decision matrix vs {}</title>\n", esc_or_dash(model), esc_or_dash(baseline));
  out += std::string("<style>") + kStyle + "</style>\n</head>\n<body>\n";
  out += header(report) + recommendation(report) + tier_table(report) + charts(report) + cliff(report) +
         memory_tiers(report) + score_components(report) + machines(report) + method(report);
  out +=
      fmt::format("<footer>Generated by {} {} · {}</footer>\n</body>\n</html>\n",
                  esc_or_dash(str(report, {"tool", "name"}).empty() ? "llama-pajamas" : str(report, {"tool", "name"})),
                  html_escape(str(report, {"tool", "version"})), esc_or_dash(str(report, {"schema"})));
  return out;
}

}  // namespace lp::decide
