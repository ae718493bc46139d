// TR125 §12's cost table (tests/fixtures/tr125/cost.json) from its own tok/s at $0.035/hr.
// TR125 computed its dollars from unrounded throughput and prints tok/s to 0.1, so a few cells
// land one unit off in the 4th decimal; each is listed with the reason, and is checked to be
// within what the printed tok/s's own rounding (±0.05 tok/s) allows.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/error.h"
#include "decide/token_cost.h"
#include "formats/json_guard.h"

namespace lp::decide {
namespace {

double round4(double x) { return std::round(x * 1e4) / 1e4; }

nlohmann::json cost_table() { return read_json_file(std::string(LP_FIXTURES_DIR) + "/tr125/cost.json"); }

TEST(DecideCost, FormulaAndErrors) {
  // $0.035 an hour at 49.2 tok/s: 177,120 tokens an hour.
  EXPECT_NEAR(cost_per_million_tokens(0.035, 49.2), 0.035 / 177120 * 1e6, 1e-15);
  EXPECT_DOUBLE_EQ(cost_per_million_tokens(0.0, 10), 0.0);  // free hardware is allowed
  EXPECT_DOUBLE_EQ(cost_per_million_tokens(3.6, 1.0), 1000.0);
  EXPECT_DOUBLE_EQ(savings_pct(0.5, 2.0), 75.0);
  EXPECT_DOUBLE_EQ(savings_pct(3.0, 2.0), -50.0);  // dearer than baseline: negative savings
  EXPECT_THROW(cost_per_million_tokens(0.035, 0.0), InputError);
  EXPECT_THROW(cost_per_million_tokens(0.035, -3.0), InputError);
  EXPECT_THROW(cost_per_million_tokens(0.035, std::nan("")), InputError);
  EXPECT_THROW(cost_per_million_tokens(-0.01, 10), InputError);
  EXPECT_THROW(cost_per_million_tokens(INFINITY, 10), InputError);
  EXPECT_THROW(savings_pct(0.1, 0.0), InputError);
  EXPECT_THROW(savings_pct(-0.1, 1.0), InputError);
  try {
    cost_per_million_tokens(0.035, 0.0);
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "the throughput must be a positive number of tokens per second to price a token, and 0 is not");
  }
}

// "model quant" -> why the printed $/1M is not the printed tok/s's cost, rounded.
const std::map<std::string, std::string> kCostExceptions = {
    {"llama3.1-8b Q6_K", "75.6 tok/s gives $0.12860; TR125 prints $0.1287 (75.55-75.57 tok/s unrounded)"},
    {"llama3.1-8b Q4_K_M", "96.7 tok/s gives $0.10054; TR125 prints $0.1006 (96.65-96.69 tok/s unrounded)"},
    {"llama3.1-8b Q3_K_S", "153.2 tok/s gives $0.06346; TR125 prints $0.0634 (153.23-153.25 tok/s unrounded)"},
    {"llama3.2-3b Q4_K_M", "141.0 tok/s gives $0.06895; TR125 prints $0.0689 (141.00-141.05 tok/s unrounded)"},
    {"phi-2 Q3_K_S", "205.3 tok/s gives $0.04736; TR125 prints $0.0473 (205.33-205.35 tok/s unrounded)"},
};
const std::map<std::string, std::string> kSavingsExceptions = {
    {"llama3.2-3b Q2_K",
     "244.3 vs 99.0 tok/s saves 59.48%; TR125 prints 60% (reachable only at the edge of the tok/s rounding, "
     "e.g. 244.35 vs 98.95 tok/s = 59.50%)"},
};

TEST(DecideCost, ReproducesTr125CostTable) {
  const auto table = cost_table();
  const double rate = table["hourly_rate_usd"];
  EXPECT_EQ(rate, 0.035);
  std::map<std::string, double> tok_s;
  for (const auto& r : table["rows"])
    tok_s[r["model"].get<std::string>() + " " + r["quant"].get<std::string>()] = r["tok_s"];
  ASSERT_EQ(tok_s.size(), 34u);
  std::set<std::string> cost_off, savings_off;
  for (const auto& r : table["rows"]) {
    const std::string model = r["model"];
    const std::string cell = model + " " + r["quant"].get<std::string>();
    const double tps = r["tok_s"], base_tps = tok_s.at(model + " " + r["baseline"].get<std::string>());
    const double printed = r["usd_per_1m"];
    const double cost = cost_per_million_tokens(rate, tps);
    const double base_cost = cost_per_million_tokens(rate, base_tps);
    EXPECT_EQ(round4(base_cost) == r["baseline_usd_per_1m"].get<double>(),
              !kCostExceptions.count(model + " " + r["baseline"].get<std::string>()))
        << cell;
    // Whatever the digit, the printed cost is what some tok/s that rounds to the printed one gives.
    EXPECT_GE(printed, cost_per_million_tokens(rate, tps + 0.05) - 0.00005) << cell;
    EXPECT_LE(printed, cost_per_million_tokens(rate, tps - 0.05) + 0.00005) << cell;
    if (round4(cost) != printed) {
      cost_off.insert(cell);
      EXPECT_TRUE(kCostExceptions.count(cell)) << cell << ": " << cost << " vs printed " << printed;
    }
    const double saved = savings_pct(cost, base_cost);
    const double printed_saved = r["savings_pct"];
    if (std::round(saved) != printed_saved) {
      savings_off.insert(cell);
      EXPECT_TRUE(kSavingsExceptions.count(cell)) << cell << ": " << saved << "% vs printed " << printed_saved;
      const double best =
          savings_pct(cost_per_million_tokens(rate, tps + 0.05), cost_per_million_tokens(rate, base_tps - 0.05));
      const double worst =
          savings_pct(cost_per_million_tokens(rate, tps - 0.05), cost_per_million_tokens(rate, base_tps + 0.05));
      EXPECT_GE(printed_saved, std::round(worst)) << cell;
      EXPECT_LE(printed_saved, std::round(best)) << cell;
    }
  }
  for (const auto& [c, why] : kCostExceptions) EXPECT_TRUE(cost_off.count(c)) << c << " now agrees: " << why;
  for (const auto& [c, why] : kSavingsExceptions) EXPECT_TRUE(savings_off.count(c)) << c << " now agrees: " << why;
}

// TR125's cost headlines: a 10x range from $0.0203 to $0.1976, and "Q4_K_M saves 30-67% vs FP16".
TEST(DecideCost, ReproducesTr125CostHeadlines) {
  const auto table = cost_table();
  double lo = INFINITY, hi = 0, q4_lo = INFINITY, q4_hi = 0;
  std::map<std::string, double> base;
  for (const auto& r : table["rows"])
    if (r["quant"] == r["baseline"]) base[r["model"]] = cost_per_million_tokens(0.035, r["tok_s"]);
  for (const auto& r : table["rows"]) {
    const double c = cost_per_million_tokens(0.035, r["tok_s"]);
    lo = std::min(lo, c);
    hi = std::max(hi, c);
    if (r["quant"] == "Q4_K_M") {
      const double s = savings_pct(c, base.at(r["model"]));
      q4_lo = std::min(q4_lo, s);
      q4_hi = std::max(q4_hi, s);
    }
  }
  EXPECT_EQ(round4(lo), 0.0203);
  EXPECT_EQ(round4(hi), 0.1976);
  EXPECT_EQ(std::round(q4_lo), 30);
  EXPECT_EQ(std::round(q4_hi), 67);
}

}  // namespace
}  // namespace lp::decide
