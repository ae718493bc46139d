// Seed 000's weighted score against the component scores it works out for Llama 3.2 1B Q4_K_M
// and Qwen 2.5 1.5B Q4_K_M (tests/fixtures/seed000/weighted_score.json). The seed prints each
// component rounded to 0.1 and adds the rounded parts; our components round to the same digits
// and our unrounded total rounds to its total.
//
// Where the seed is inconsistent with itself (checked below, not skipped):
//  * "74.1 (rescaled to 92/100)" and "65.5 (rescaled to 88/100)": no single rescaling maps both
//    (92 / 74.1 = 1.242, 88 / 65.5 = 1.344), so the matrix's "Total Score" column cannot be
//    derived from the breakdown; we report the breakdown's total, out of the weights' sum.
//  * Only memory is said to be capped ("30 (capped at 25)"); no cap is stated for the decode
//    half of speed, which the seed's own Qwen 2.5 0.5B (40-45 tok/s) would overrun. We cap it
//    at its share; none of the seed's worked numbers reaches the cap.
//  * Llama's 25 memory points assume it runs on 4 GB devices, but the seed's own admission rule
//    (free RAM >= size x 1.6 + 600 MB) needs 810 x 1.6 + 600 = 1896 MB against the ~1.5 GB an
//    iPhone 12 has free. On the 6 GB class it earns 20 + 5 = 25 all the same, so the total holds.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "decide/weighted_score.h"
#include "formats/json_guard.h"

namespace lp::decide {
namespace {

double round1(double x) { return std::round(x * 10) / 10; }

ScoreInputs inputs_from(const nlohmann::json& j) {
  return {j["accuracy"], j["ttft_ms"], j["decode_tok_s"], j["min_device_gb"], j["headroom_pct"], j["size_gb"]};
}

nlohmann::json seed_models() {
  return read_json_file(std::string(LP_FIXTURES_DIR) + "/seed000/weighted_score.json")["models"];
}

TEST(DecideScore, ReproducesSeed000Components) {
  const auto models = seed_models();
  ASSERT_EQ(models.size(), 2u);
  for (const auto& m : models) {
    const std::string name = m["model"].get<std::string>() + " " + m["quant"].get<std::string>();
    const auto& p = m["published"];
    const auto s = weighted_score(inputs_from(m["inputs"]));
    EXPECT_EQ(round1(s.quality.points), p["quality"].get<double>()) << name << ": " << s.quality.working;
    EXPECT_EQ(round1(s.speed_ttft), p["speed_ttft"].get<double>()) << name;
    EXPECT_EQ(round1(s.speed_decode), p["speed_decode"].get<double>()) << name;
    EXPECT_EQ(round1(s.speed.points), p["speed"].get<double>()) << name << ": " << s.speed.working;
    EXPECT_EQ(round1(s.memory.uncapped), p["memory_uncapped"].get<double>()) << name;
    EXPECT_EQ(round1(s.memory.points), p["memory"].get<double>()) << name << ": " << s.memory.working;
    EXPECT_EQ(round1(s.size.points), p["size"].get<double>()) << name << ": " << s.size.working;
    EXPECT_EQ(round1(s.total), p["total"].get<double>()) << name << ": " << s.summary;
    // The seed adds its rounded parts; that sum agrees with our rounded total here.
    EXPECT_NEAR(
        p["quality"].get<double>() + p["speed"].get<double>() + p["memory"].get<double>() + p["size"].get<double>(),
        p["total"].get<double>(), 1e-9)
        << name;
    EXPECT_NEAR(s.total, s.quality.points + s.speed.points + s.memory.points + s.size.points, 1e-12);
    EXPECT_FALSE(s.speed.capped()) << name << ": the seed's numbers never reach the decode cap";
  }
}

TEST(DecideScore, WorkingShowsEachComponent) {
  const auto s = weighted_score(inputs_from(seed_models()[0]["inputs"]));
  EXPECT_EQ(s.quality.working, "(49.3 / 70) x 30 = 21.1");
  EXPECT_EQ(s.memory.working, "25 (4 GB device) + (50 / 50) x 5 = 30.0 (capped at 25)");
  EXPECT_TRUE(s.memory.capped());
  EXPECT_EQ(s.size.working, "max(0, (2 - 0.81) / 2 x 20) = 11.9");
  EXPECT_EQ(s.summary, "21.1 + 16.1 + 25.0 + 11.9 = 74.1");
}

TEST(DecideScore, Seed000RescalingIsNotOneRule) {
  const auto models = seed_models();
  const double k0 = models[0]["published"]["rescaled"].get<double>() / models[0]["published"]["total"].get<double>();
  const double k1 = models[1]["published"]["rescaled"].get<double>() / models[1]["published"]["total"].get<double>();
  EXPECT_GT(std::abs(k0 - k1), 0.05) << "one factor would map both totals to their '/100' scores";
}

TEST(DecideScore, Seed000LlamaMemoryPointsHoldOnTheSixGigabyteClass) {
  ScoreInputs llama = inputs_from(seed_models()[0]["inputs"]);
  EXPECT_GT(810 * 1.6 + 600, 1500);  // the seed's admission rule against the iPhone 12's free RAM
  llama.min_device_gb = 6;
  const auto s = weighted_score(llama);
  EXPECT_DOUBLE_EQ(s.memory_device, 20);
  EXPECT_DOUBLE_EQ(s.memory.points, 25);
}

TEST(DecideScore, CapsAndFloors) {
  // Faster than the reference: the decode half stops at 12.5 of 25.
  ScoreInputs fast{35, 90, 42.5, 4, 0, 0.48};  // the seed's Qwen 2.5 0.5B Q4_K_M, midpoints
  const auto s = weighted_score(fast);
  EXPECT_DOUBLE_EQ(s.speed_decode, 12.5);
  EXPECT_TRUE(s.speed.capped());
  EXPECT_NEAR(s.speed.uncapped, (200 - 90) / 200.0 * 12.5 + 42.5 / 40 * 12.5, 1e-12);
  EXPECT_NE(s.speed.working.find("(capped at 12.5)"), std::string::npos) << s.speed.working;
  // Slower than the TTFT budget and larger than the size budget earn nothing, never negative.
  ScoreInputs slow{69.0, 275, 18, 8, 10, 2.39};  // the seed's Phi-3.5 Mini
  const auto p = weighted_score(slow);
  EXPECT_EQ(p.speed_ttft, 0);
  EXPECT_EQ(p.size.points, 0);
  EXPECT_NEAR(p.quality.points, 69.0 / 70 * 30, 1e-12);
  EXPECT_NEAR(p.memory.points, 15 + 10.0 / 50 * 5, 1e-12);
  // More accurate than the reference: quality stops at its weight.
  EXPECT_DOUBLE_EQ(weighted_score({80, 100, 20, 6, 10, 1}).quality.points, 30);
  // Needs a device larger than any class: no device points.
  EXPECT_DOUBLE_EQ(weighted_score({50, 100, 20, 12, 10, 1}).memory_device, 0);
  // Between classes: a 5 GB minimum earns the 6 GB class's points.
  EXPECT_DOUBLE_EQ(weighted_score({50, 100, 20, 5, 0, 1}).memory_device, 20);
  EXPECT_THROW(weighted_score({50, -1, 20, 6, 10, 1}), InputError);
  EXPECT_THROW(weighted_score({50, 100, std::nan(""), 6, 10, 1}), InputError);
  EXPECT_THROW(weighted_score({50, 100, 20, 6, -5, 1}), InputError);
}

TEST(DecideScore, WeightsLoadFromJson) {
  const auto w = score_weights_from_json(nlohmann::json::parse(R"({
      "quality": 40, "size": 10, "reference_accuracy": 100,
      "device_points": [{"min_device_gb": 6, "points": 25}, {"min_device_gb": 12, "points": 10}]})"));
  EXPECT_EQ(w.quality, 40);
  EXPECT_EQ(w.speed, 25);  // untouched keys keep the base value
  EXPECT_EQ(w.size, 10);
  EXPECT_EQ(w.reference_accuracy, 100);
  ASSERT_EQ(w.device_points.size(), 2u);
  const auto s = weighted_score({50, 130, 37.5, 8, 0, 0.81}, w);
  EXPECT_DOUBLE_EQ(s.quality.points, 20);  // 50 / 100 x 40
  EXPECT_DOUBLE_EQ(s.memory_device, 10);   // 8 GB -> the 12 GB class
  EXPECT_NEAR(s.size.points, (2.0 - 0.81) / 2.0 * 10, 1e-12);
  EXPECT_THROW(score_weights_from_json(nlohmann::json::parse(R"({"qualty": 30})")), InputError);
  EXPECT_THROW(score_weights_from_json(nlohmann::json::parse(R"({"speed": "fast"})")), InputError);
  EXPECT_THROW(score_weights_from_json(nlohmann::json::parse(R"({"memory": -1})")), InputError);
  EXPECT_THROW(score_weights_from_json(nlohmann::json::parse(R"({"reference_tok_s": 0})")), InputError);
  EXPECT_THROW(score_weights_from_json(nlohmann::json::parse(R"([1, 2])")), InputError);
  EXPECT_THROW(score_weights_from_json(nlohmann::json::parse(
                   R"({"device_points": [{"min_device_gb": 8, "points": 15}, {"min_device_gb": 4, "points": 25}]})")),
               InputError);
  EXPECT_THROW(score_weights_from_json(nlohmann::json::parse(R"({"device_points": [{"min_device_gb": 8}]})")),
               InputError);
}

}  // namespace
}  // namespace lp::decide
