#pragma once
// The importance matrix as llama.cpp's llama-imatrix computes it, from our engine's forward
// pass: for every weight matrix of the layers, the sum over tokens of each input column's
// squared activation, and how many tokens were summed. A stacked expert tensor keeps one row
// of sums and one count per expert (the tokens routed to it). Written as llama.cpp's GGUF
// imatrix (general.type "imatrix"; per weight "<name>.in_sum2" [columns, experts] and
// "<name>.counts" [1, experts], both F32), which llama-quantize and our quantize --imatrix read.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/activation_observer.h"

namespace lp::validate {

class ImatrixCollector final : public ActivationObserver {
 public:
  explicit ImatrixCollector(int64_t n_expert) : n_expert_(n_expert) {}

  void observe(int64_t layer, MatrixRole role, int64_t expert, const float* x, int64_t n_tokens, int64_t cols) override;

  struct Entry {
    std::vector<double> sums;     // experts x columns (one row for a plain matrix)
    std::vector<int64_t> counts;  // per expert (one for a plain matrix)
  };
  const std::map<std::string, Entry>& entries() const { return entries_; }
  // Experts no token reached, over all stacked tensors (llama-imatrix's "partial data").
  int64_t unused_experts() const;

  // `datasets`: the text files it was computed on; chunks of `chunk_size` tokens.
  void write(const std::filesystem::path& path, const std::vector<std::string>& datasets, int64_t chunk_count,
             int64_t chunk_size) const;

 private:
  int64_t n_expert_;
  std::map<std::string, Entry> entries_;
};

}  // namespace lp::validate
