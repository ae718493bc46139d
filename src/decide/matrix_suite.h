#pragma once
// How much a `matrix` sweep measures per level: one row per suite. quick takes minutes on a
// 135M model; tr125 is TR125's study (285 MMLU + 200 ARC-Challenge questions, its five
// generation families); full is every question, all of WikiText-2 and HumanEval.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lp::decide {

struct MatrixSuite {
  std::string_view name;
  int64_t ctx_size = 512;         // perplexity/KLD windows
  int64_t ppl_chunks = 0;         // windows scored (0: the whole text)
  std::string_view mc_subset;     // validate --subset
  std::string_view mc_scoring;    // validate --mc-scoring (the tier reads rescored accuracy: generate)
  size_t gen_prompts_per_family;  // of the 10 built-in prompts per family
  int64_t bench_prompt = 512, bench_gen = 128;
  int bench_repetitions = 1;
  bool code = false;              // HumanEval pass@1 per level (matrix --code / --no-code override)
};

const MatrixSuite& matrix_suite(std::string_view name);  // InputError naming the suites

// TR125's seven levels, highest precision first (TR125 ran Q3_K_S as its 3-bit level).
const std::vector<std::string>& default_matrix_levels();

// Rank of a level by precision (lower: more precise), for ordering and picking the baseline;
// InputError for a name that is not a file type `quantize` writes.
int level_precision_rank(const std::string& level);

}  // namespace lp::decide
