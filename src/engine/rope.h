#pragma once
// Rotary position embeddings. Each layer kind (Gemma 3's local and global layers differ in
// base) has one Rope; per position it gives cos/sin per rotary pair, and applying them
// rotates either interleaved pairs (x[2i], x[2i+1]) or halves (x[i], x[i + d/2], NeoX).
#include <cstdint>
#include <span>
#include <vector>

namespace lp {

struct RopeSettings {
  double base = 10000.0;
  int64_t dims = 0;                 // rotated dimensions of a head
  double position_scale = 1.0;      // linear scaling: positions divided by the factor
  std::span<const float> freq_factors;  // per pair divisors of the frequency (Llama 3.1, longrope)
  double attn_factor = 1.0;         // multiplies cos and sin (Phi-3 longrope, YaRN)
  // YaRN: frequencies blend from extrapolated (fast dimensions) to interpolated by this
  // factor (slow ones) between the dimensions turning beta_fast and beta_slow times over
  // the original context. 1: off.
  double yarn_factor = 1.0;
  uint64_t yarn_original_context = 0;
  double yarn_beta_fast = 32.0, yarn_beta_slow = 1.0;
  bool yarn_truncate = true;  // the ramp's ends rounded out to whole dimensions
  bool neox = false;
};

class Rope {
 public:
  explicit Rope(const RopeSettings& settings);
  int64_t pairs() const { return static_cast<int64_t>(inv_freq_.size()); }
  // cos and sin of each pair's angle at `pos` (pairs() values each).
  void angles(int64_t pos, float* cos, float* sin) const;
  // Rotates `heads` consecutive heads of `head_dim` values each.
  void apply(float* x, int64_t heads, int64_t head_dim, const float* cos, const float* sin) const;

 private:
  std::vector<float> inv_freq_;
  RopeSettings s_;
};

}  // namespace lp
