#pragma once
// Importance matrices as llama.cpp's llama-imatrix writes them (GGUF: general.type =
// "imatrix", per weight `<name>.in_sum2` and `<name>.counts`): per-column mean squared
// activations, which the quantizers use as the weights of the error they minimize.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lp {

struct ImportanceMatrix {
  // GGUF tensor name -> ne0 * n_expert values (expert-major), already divided by the counts.
  std::map<std::string, std::vector<float>> columns;
  // GGUF tensor name -> tokens summed, per expert (one value for a plain matrix): how often
  // the router chose each expert over the calibration text.
  std::map<std::string, std::vector<float>> counts;
};

ImportanceMatrix load_imatrix(const std::filesystem::path& path);

// --expert-balanced: an expert the calibration text routed few tokens to has noisy column
// statistics (none at all when it saw no token). Each expert's mean squares are pulled toward
// its layer's all-expert means, as if `prior_tokens` tokens of the layer average were added
// to its own: w = (c_e m_e + k m_layer) / (c_e + k). Experts with many tokens keep their own.
void balance_expert_importance(ImportanceMatrix& m, double prior_tokens = 64.0);

}  // namespace lp
