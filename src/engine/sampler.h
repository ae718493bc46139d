#pragma once
// Choosing the next token from logits, with llama.cpp's sampling settings and their order:
// penalties, top-k, top-p, min-p, temperature, then a seeded draw (greedy at temperature 0).
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace lp {

struct SamplingSettings {
  double temperature = 0.8;
  int64_t top_k = 40;          // 0: off
  double top_p = 0.95;         // 1: off
  double min_p = 0.05;         // 0: off
  double repeat_penalty = 1.0; // 1: off; divides positive logits of recent tokens, multiplies negative ones
  int64_t repeat_last_n = 64;  // how many recent tokens the penalties look at
  double presence_penalty = 0.0;  // subtracted once from the logit of every recent token
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingSettings& settings);
  // `history` is every token so far (prompt and generated), for the penalties.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

 private:
  SamplingSettings s_;
  std::mt19937_64 rng_;
  // Reused from token to token: sampling allocates nothing once warm.
  std::vector<std::pair<float, int32_t>> candidates_;
  std::vector<double> probs_, weights_;
  std::vector<uint8_t> seen_;
};

int32_t argmax(std::span<const float> logits);

}  // namespace lp
