// The MXFP4 quantizer: ggml's quantize_row_mxfp4_ref, byte for byte. MXFP4 files come from
// other tools (gpt-oss ships its experts so), and a block we write must read back in llama.cpp
// exactly as one llama-quantize wrote; so no scale search and no importance weighting: the
// exponent follows from the block's largest magnitude, and every value takes its nearest level.
#include <cmath>
#include <cstdint>

#include "quant/block_layouts.h"
#include "quant/quantize.h"

namespace lp {
namespace {

// The block exponent: floor(log2(amax)) - 2 + 127, so that amax lands in [4, 8) times the
// halved scale, i.e. on the table's top levels 4..12 (doubled E2M1 6 is the format's max).
// ggml casts the float straight to uint8_t; on x86 that truncates through int32, so blocks
// whose amax is below 2^-125 wrap to 232..255 (and numpy, gguf-py's reference, does the same).
// We do that wrap on purpose, without the undefined cast; an infinite amax gives 0, as there.
uint8_t mxfp4_exponent(float amax) {
  if (!(amax > 0.0f)) return 0;
  const float e = std::floor(std::log2(amax)) - 2.0f + 127.0f;
  if (!std::isfinite(e)) return 0;
  return static_cast<uint8_t>(static_cast<int32_t>(e));
}

// The first of the levels nearest to x at scale d (ties keep the lower index, so 0 wins over
// -0 and a value halfway between levels takes the one listed first), as ggml's best_index_mxfp4.
uint8_t mxfp4_nearest_level(float x, float d) {
  uint8_t best = 0;
  float best_error = std::fabs(static_cast<float>(kMxfp4Values[0]) * d - x);
  for (uint8_t i = 1; i < 16; ++i) {
    const float error = std::fabs(static_cast<float>(kMxfp4Values[i]) * d - x);
    if (error < best_error) {
      best = i;
      best_error = error;
    }
  }
  return best;
}

}  // namespace

void quantize_row_mxfp4(const float* src, uint8_t* dst, int64_t n, const float*) {
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(src[j])) amax = std::fabs(src[j]);  // NaN never enters, as in ggml
    }
    BlockMXFP4 b{};
    b.e = mxfp4_exponent(amax);
    const float d = e8m0_to_fp32_half(b.e);
    for (int j = 0; j < kQK / 2; ++j) {
      b.qs[j] = static_cast<uint8_t>(mxfp4_nearest_level(src[j], d) | (mxfp4_nearest_level(src[j + kQK / 2], d) << 4));
    }
    store_block(dst, i, b);
  }
}

}  // namespace lp
