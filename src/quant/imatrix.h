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
};

ImportanceMatrix load_imatrix(const std::filesystem::path& path);

}  // namespace lp
