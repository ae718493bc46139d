#include "decide/matrix_suite.h"

#include <array>

#include "core/error.h"

namespace lp::decide {

const MatrixSuite& matrix_suite(std::string_view name) {
  static constexpr std::array<MatrixSuite, 3> kSuites = {{
      {"quick", 512, 8, "quick", "generate", 2, 512, 128, 1, false},
      {"tr125", 512, 40, "tr125", "both", 10, 512, 128, 3, false},
      {"full", 512, 0, "full", "both", 10, 512, 128, 5, true},
  }};
  for (const MatrixSuite& s : kSuites)
    if (s.name == name) return s;
  fail("unknown suite \"{}\" (quick, tr125 or full)", name);
}

const std::vector<std::string>& default_matrix_levels() {
  static const std::vector<std::string> levels = {"F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_S", "Q2_K"};
  return levels;
}

int level_precision_rank(const std::string& level) {
  // Most precise first: the order a baseline is chosen in and a report lists levels in.
  static const std::array<std::string_view, 18> kOrder = {"F32",    "BF16",   "F16",  "Q8_0",   "Q6_K",   "Q5_K_M",
                                                          "Q5_K_S", "Q5_1",   "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1",
                                                          "Q4_0",   "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K",  "Q2_K_S"};
  for (size_t i = 0; i < kOrder.size(); ++i)
    if (kOrder[i] == level) return static_cast<int>(i);
  fail("unknown level \"{}\" (levels are quantize's file types: F16, BF16, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q3_K_M, Q2_K, ...)", level);
}

}  // namespace lp::decide
