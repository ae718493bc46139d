// The sweep graph with --shards: which steps each stage holds, and the shard step names that
// travel through Slurm scripts (ids) and file names (records, logs).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "decide/matrix_records.h"
#include "decide/sweep_graph.h"

namespace lp::decide {
namespace {

std::vector<std::string> ids(const SweepStage& stage) {
  std::vector<std::string> out;
  for (const auto& s : stage.steps) out.push_back(s.id());
  return out;
}

TEST(SweepGraph, UnshardedHasNoMergeStage) {
  const auto stages = sweep_stages({"F16", "Q4_K_M"}, "F16", false);
  ASSERT_EQ(stages.size(), 4u);
  EXPECT_EQ(stages[2].name, "quality");
  EXPECT_EQ(ids(stages[2]), (std::vector<std::string>{"mc:F16", "text:Q4_K_M", "mc:Q4_K_M", "gen:Q4_K_M"}));
}

TEST(SweepGraph, ShardsAreQualityStepsAndMergesAStageBeforeBench) {
  const auto stages = sweep_stages({"F16", "Q4_K_M"}, "F16", true, 2);
  ASSERT_EQ(stages.size(), 5u);
  EXPECT_EQ(ids(stages[2]), (std::vector<std::string>{"mc#1/2:F16", "mc#2/2:F16", "code:F16", "text#1/2:Q4_K_M",
                                                      "text#2/2:Q4_K_M", "mc#1/2:Q4_K_M", "mc#2/2:Q4_K_M", "gen:Q4_K_M",
                                                      "code:Q4_K_M"}));
  EXPECT_EQ(stages[3].name, "merge");
  EXPECT_EQ(ids(stages[3]), (std::vector<std::string>{"mc:F16", "text:Q4_K_M", "mc:Q4_K_M"}));
  EXPECT_EQ(stages[4].name, "bench");
}

TEST(SweepGraph, ShardNames) {
  EXPECT_EQ(shard_step("mc", 2, 3), "mc#2/3");
  const ShardOf s = split_shard_step("text#2/3");
  EXPECT_EQ(s.step, "text");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(split_shard_step("mc").count, 0);
  EXPECT_EQ(split_shard_step("mc#4/3").count, 0);
  EXPECT_EQ(step_file_stem("mc#2/3", "Q4_K_M"), "mc#2of3-Q4_K_M");
  EXPECT_EQ(step_file_stem("mc", "Q4_K_M"), "mc-Q4_K_M");
  EXPECT_EQ(parse_sweep_step("text#1/2:Q8_0").step, "text#1/2");
  EXPECT_THROW(parse_sweep_step("gen#1/2:Q8_0"), InputError);  // gen runs whole
  EXPECT_THROW(parse_sweep_step("mc#0/2:Q8_0"), InputError);
  EXPECT_THROW(parse_sweep_step("mc#1/x:Q8_0"), InputError);
}

}  // namespace
}  // namespace lp::decide
