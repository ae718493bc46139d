// report.html from a hand-built report.json (schema in decide/matrix_report.h): every level
// appears, every string from the report is escaped, each chart has one point per level that
// has the data, and a level missing speed or generation data shows "—" instead of crashing.
// tests/python/test_report_html.py renders the same kind of page in Chromium.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "decide/report_html.h"
#include "decide/svg_chart.h"

namespace lp::decide {
namespace {

using nlohmann::json;

json acc(double value, int questions) {
  return {{"value", value}, {"correct", static_cast<int>(value * questions + 0.5)}, {"questions", questions}};
}

json level(const std::string& name, double mib, double bpw, double pooled, const char* tier) {
  return {
      {"level", name},
      {"is_baseline", false},
      {"file", {{"path", "models/" + name + ".gguf"}, {"bytes", mib * 1024 * 1024}, {"sha256", "00"}}},
      {"bits_per_weight", bpw},
      {"perplexity", {{"value", 12.5}, {"ci95", {12.1, 12.9}}}},
      {"kld_mean", 0.0123},
      {"same_top_p", 0.95},
      {"accuracy", {{"mmlu", acc(pooled, 200)}, {"arc_challenge", acc(pooled, 200)}, {"pooled", acc(pooled, 400)}}},
      {"benchmark_delta_pp", {{"value", -1.25}, {"ci95", {-3.0, 0.5}}}},
      {"generation", {{"key_metric", "rouge_l"}, {"delta_pct", {{"value", -2.0}, {"ci95", {-4.0, 0.1}}}}}},
      {"tier",
       {{"name", tier},
        {"explanation", "within the rule"},
        {"at_lower", tier},
        {"at_upper", tier},
        {"unsettled", false}}},
      {"speed",
       {{"pp_tps", 410.0}, {"tg_tps", 2400.0 / mib}, {"ttft_ms", 45.0}, {"load_ms", 80.0}, {"peak_rss_bytes", 3e8}}},
      {"memory", {{"predicted_peak_bytes", 3.1e8}}},
      {"cost", {{"usd_per_million", 0.012}, {"savings_pct", 20.0}}},
      {"score",
       {{"total", 71.5},
        {"components",
         {{"quality", {{"points", 25.0}, {"weight", 30}, {"working", "45 / 70 x 30"}}},
          {"speed", {{"points", 20.0}, {"weight", 25}, {"working", "ttft 10 + decode 10"}}},
          {"memory", {{"points", 15.0}, {"weight", 25}, {"working", "4 GB"}}},
          {"size", {{"points", 11.5}, {"weight", 20}, {"working", "(2.0 - 0.2) / 2.0 x 20"}}}}}}}};
}

json sample_report() {
  json levels = json::array();
  levels.push_back(level("F16", 258, 16.0, 0.46, "negligible"));
  levels[0]["is_baseline"] = true;
  levels.push_back(level("Q8_0", 138, 8.5, 0.455, "negligible"));
  levels.push_back(level("Q4_K_M", 101, 4.9, 0.44, "acceptable"));
  levels[2]["tier"]["unsettled"] = true;
  levels[2]["tier"]["at_lower"] = "concerning";
  // Interrupted: no bench record, no generation record, so no tier, cost or score either.
  json partial = level("Q2_K", 64, 2.6, 0.31, "unacceptable");
  partial["speed"] = nullptr;
  partial["generation"] = nullptr;
  partial["tier"] = nullptr;
  partial["cost"] = nullptr;
  partial["score"] = nullptr;
  levels.push_back(partial);
  return {{"schema", "llama-pajamas/matrix-report/1"},
          {"tool", {{"name", "llama-pajamas"}, {"version", "0.9.1-test"}}},
          {"model",
           {{"source", "HuggingFaceTB/SmolLM2-135M-Instruct"},
            {"name", "SmolLM2 <script>alert(1)</script>"},
            {"architecture", "llama"},
            {"parameters", 134515008}}},
          {"suite",
           {{"name", "quick"},
            {"ctx_size", 512},
            {"ppl_chunks", 8},
            {"mc_subset", 200},
            {"gen_prompts", 20},
            {"bench", {{"n_prompt", 128}, {"n_gen", 64}, {"repetitions", 3}}},
            {"deploy_ctx", 2048}}},
          {"baseline", {{"level", "F16"}, {"why", "the source's own precision"}}},
          {"key_metric",
           {{"name", "rouge_l"}, {"metrics", {"rouge_l", "bleu"}}, {"description", "ROUGE-L F1 vs baseline"}}},
          {"tier_rule",
           {{"thresholds", {{{"tier", "negligible"}, {"min_benchmark_pp", -1.0}, {"min_generation_pct", -3.0}}}},
            {"description", "TR125 §13"}}},
          {"machines",
           {{{"cpu_model", "Xeon & friends"}, {"logical_cores", 2}, {"memory_bytes", 8589934592.0}, {"os", "Linux"}}}},
          {"cost", {{"usd_per_hour", 0.035}, {"source", "TR125"}}},
          {"levels", levels},
          {"accuracy_cliff", {{"level", "Q2_K"}, {"last_safe", "Q4_K_M"}, {"size_pp", 13.0}}},
          {"memory_tiers",
           {{{"name", "4 GB"}, {"usable_gb", 2.8}, {"best", "Q8_0"}, {"verdict", "PASS"}, {"reason", "fits"}},
            {{"name", "1 GB"}, {"usable_gb", 0.3}, {"best", nullptr}, {"verdict", nullptr}, {"reason", "none fits"}}}},
          {"recommendation",
           {{"level", "Q4_K_M"},
            {"reasons", {"best score", "a reason with \"quotes\" & <b>tags</b>"}},
            {"ranking", {{{"level", "Q4_K_M"}, {"score", 71.5}}, {{"level", "Q8_0"}, {"score", 70.0}}}}}},
          {"records", {{"dirs", {"records/"}}, {"count", 11}}}};
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size())) ++n;
  return n;
}

// The body of the <svg id="ID"> element.
std::string chart(const std::string& page, const std::string& id) {
  const size_t begin = page.find("<svg id=\"" + id + "\"");
  EXPECT_NE(begin, std::string::npos) << id;
  if (begin == std::string::npos) return {};
  return page.substr(begin, page.find("</svg>", begin) - begin);
}

TEST(DecideReportHtml, ShowsEveryLevelAndTheRecommendation) {
  const std::string page = matrix_report_html(sample_report());
  ASSERT_TRUE(page.starts_with("<!DOCTYPE html>"));
  for (const char* l : {"F16", "Q8_0", "Q4_K_M", "Q2_K"})
    EXPECT_NE(page.find(std::string("data-level=\"") + l + "\""), std::string::npos) << l;
  EXPECT_NE(page.find("<span class=\"pick\">Q4_K_M</span>"), std::string::npos);
  EXPECT_NE(page.find("tr class=\"level tier-acceptable recommended\""), std::string::npos);
  EXPECT_NE(page.find("unsettled<br>concerning–acceptable"), std::string::npos);
  EXPECT_NE(page.find("<b>Q2_K</b> (-13.0 pp)"), std::string::npos);
  EXPECT_NE(page.find("0.9.1-test"), std::string::npos);
  EXPECT_NE(page.find("id=\"memory-tiers\""), std::string::npos);
  EXPECT_NE(page.find("45 / 70 x 30"), std::string::npos);
}

TEST(DecideReportHtml, EscapesEveryStringFromTheReport) {
  const std::string page = matrix_report_html(sample_report());
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_NE(page.find("SmolLM2 &lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&quot;quotes&quot; &amp; &lt;b&gt;tags&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(page.find("Xeon &amp; friends"), std::string::npos);
  EXPECT_EQ(html_escape("<a href='x'>\"&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
}

TEST(DecideReportHtml, OnePointPerLevelWithTheData) {
  const std::string page = matrix_report_html(sample_report());
  const std::string quality = chart(page, "quality-vs-size"), speed = chart(page, "speed-vs-size");
  EXPECT_EQ(count(quality, "class=\"point "), 4u);  // every level has an accuracy
  EXPECT_EQ(count(speed, "class=\"point "), 3u);    // Q2_K has no bench record
  EXPECT_EQ(count(speed, "data-level=\"Q2_K\""), 0u);
  EXPECT_EQ(count(quality, "baseline-ring"), 1u);
  EXPECT_NE(quality.find("F16 (baseline)"), std::string::npos);
  EXPECT_EQ(count(page, "class=\"point "), 7u);
}

TEST(DecideReportHtml, NullsRenderAsDashes) {
  const std::string page = matrix_report_html(sample_report());
  const size_t row = page.find("<tr class=\"level tier-none\" data-level=\"Q2_K\"");
  ASSERT_NE(row, std::string::npos);
  const std::string q2k = page.substr(row, page.find("</tr>", row) - row);
  // generation Δ, tier, pp, tg, TTFT, peak RSS, $/1M and score.
  EXPECT_EQ(count(q2k, "<td>—</td>") + count(q2k, "<td class=\"text\">—</td>"), 8u) << q2k;
  EXPECT_NE(page.find("<td class=\"text\"><b>—</b></td><td class=\"text\">—</td>"),
            std::string::npos);  // no best, no verdict
}

TEST(DecideReportHtml, SurvivesAnEmptyOrMalformedReport) {
  for (const json& r :
       {json::object(), json(nullptr), json::array(), json{{"levels", 3}}, json{{"levels", {1, "x", nullptr}}},
        json{{"model", "not an object"}, {"recommendation", {{"level", nullptr}}}}}) {
    const std::string page = matrix_report_html(r);
    EXPECT_NE(page.find("</html>"), std::string::npos) << r.dump();
    EXPECT_EQ(count(page, "class=\"point "), 0u) << r.dump();
    EXPECT_NE(page.find("no level has the data"), std::string::npos) << r.dump();
  }
}

TEST(DecideReportHtml, NiceTicks) {
  const Ticks t = nice_ticks(0, 258);
  EXPECT_DOUBLE_EQ(t.lo, 0);
  EXPECT_DOUBLE_EQ(t.step, 50);
  EXPECT_DOUBLE_EQ(t.hi, 300);
  EXPECT_EQ(t.decimals, 0);
  const Ticks a = nice_ticks(31, 46);
  EXPECT_DOUBLE_EQ(a.step, 5);
  EXPECT_DOUBLE_EQ(a.lo, 30);
  EXPECT_DOUBLE_EQ(a.hi, 50);
  const Ticks f = nice_ticks(0.012, 0.018);
  EXPECT_EQ(f.decimals, 3);
  const Ticks one = nice_ticks(5, 5);  // a single value still gets an axis
  EXPECT_LT(one.lo, 5);
  EXPECT_GT(one.hi, 5);
}

}  // namespace
}  // namespace lp::decide
