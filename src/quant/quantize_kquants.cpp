// Quantizers for the K-quant super-blocks (Q2_K ... Q6_K) and Q8_K.
//
// Each sub-block is first fitted on its own (scale_search.h). The sub-block scales (and
// mins) are then themselves quantized against one fp16 super-block scale, and, because
// rounding a scale moves every value of its sub-block, each sub-block then searches the
// integer scale/min codes around its rounded ones, re-rounding its values at every
// candidate with the exact arithmetic of the dequantizer and keeping the least error.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/float_convert.h"
#include "quant/block_layouts.h"
#include "quant/quantize.h"
#include "quant/scale_search.h"

namespace lp {
namespace {

constexpr int kCodeSearchRadius = 2;

template <class Block>
void store(uint8_t* dst, int64_t i, const Block& b) {
  std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

// Super-block with affine sub-blocks: x ≈ (d·sc)·l − (dmin·m), sc and m codes in [0, kCodeMax].
template <int kSubBlocks, int kLmax, int kCodeMax>
struct AffineSuperBlock {
  static constexpr int kSubSize = kQK_K / kSubBlocks;
  uint16_t d = 0, dmin = 0;
  uint8_t scale_code[kSubBlocks] = {};
  uint8_t min_code[kSubBlocks] = {};
  uint8_t levels[kQK_K] = {};

  void quantize(const float* x, const float* importance) {
    float w[kQK_K];
    float scale[kSubBlocks], min[kSubBlocks];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int s = 0; s < kSubBlocks; ++s) {
      const int o = s * kSubSize;
      block_weights(importance ? importance + o : nullptr, kSubSize, w + o);
      const AffineFit f = fit_affine(x + o, w + o, kSubSize, kLmax, /*offset_nonpositive=*/true, levels + o);
      scale[s] = std::fmax(f.scale, 0.0f);
      min[s] = -f.offset;
      max_scale = std::fmax(max_scale, scale[s]);
      max_min = std::fmax(max_min, min[s]);
    }
    d = f32_to_f16(max_scale / kCodeMax);
    dmin = f32_to_f16(max_min / kCodeMax);
    const float df = f16_to_f32(d), dminf = f16_to_f32(dmin);
    for (int s = 0; s < kSubBlocks; ++s) {
      const int o = s * kSubSize;
      const int sc0 = df > 0 ? clamp_int(round_to_int(scale[s] / df), 0, kCodeMax) : 0;
      const int m0 = dminf > 0 ? clamp_int(round_to_int(min[s] / dminf), 0, kCodeMax) : 0;
      double best = INFINITY;
      for (int sc = std::max(0, sc0 - kCodeSearchRadius); sc <= std::min(kCodeMax, sc0 + kCodeSearchRadius); ++sc) {
        for (int m = std::max(0, m0 - kCodeSearchRadius); m <= std::min(kCodeMax, m0 + kCodeSearchRadius); ++m) {
          const float dl = df * static_cast<float>(sc), ml = dminf * static_cast<float>(m);
          double err = 0;
          uint8_t trial[kSubSize];
          for (int j = 0; j < kSubSize; ++j) {
            const int l = dl > 0 ? clamp_int(round_to_int((x[o + j] + ml) / dl), 0, kLmax) : 0;
            trial[j] = static_cast<uint8_t>(l);
            const float r = x[o + j] - (dl * static_cast<float>(l) - ml);
            err += static_cast<double>(w[o + j]) * r * r;
          }
          if (err < best) {
            best = err;
            scale_code[s] = static_cast<uint8_t>(sc);
            min_code[s] = static_cast<uint8_t>(m);
            std::memcpy(levels + o, trial, kSubSize);
          }
        }
      }
    }
  }
};

// Super-block with symmetric sub-blocks: x ≈ (d·sc)·l, sc codes in [kCodeMin, kCodeMax].
template <int kSubBlocks, int kLmin, int kLmax, int kCodeMin, int kCodeMax>
struct SymmetricSuperBlock {
  static constexpr int kSubSize = kQK_K / kSubBlocks;
  uint16_t d = 0;
  int8_t scale_code[kSubBlocks] = {};
  int8_t levels[kQK_K] = {};

  void quantize(const float* x, const float* importance) {
    float w[kQK_K];
    float scale[kSubBlocks];
    float max_scale = 0.0f;
    for (int s = 0; s < kSubBlocks; ++s) {
      const int o = s * kSubSize;
      block_weights(importance ? importance + o : nullptr, kSubSize, w + o);
      scale[s] = fit_symmetric(x + o, w + o, kSubSize, kLmin, kLmax, levels + o);
      if (std::fabs(scale[s]) > std::fabs(max_scale)) max_scale = scale[s];
    }
    // The largest scale maps to the negative end, which is one code longer.
    d = f32_to_f16(max_scale / kCodeMin);
    const float df = f16_to_f32(d);
    for (int s = 0; s < kSubBlocks; ++s) {
      const int o = s * kSubSize;
      const int sc0 = df != 0 ? clamp_int(round_to_int(scale[s] / df), kCodeMin, kCodeMax) : 0;
      double best = INFINITY;
      for (int sc = std::max(kCodeMin, sc0 - kCodeSearchRadius); sc <= std::min(kCodeMax, sc0 + kCodeSearchRadius); ++sc) {
        const float dl = df * static_cast<float>(sc);
        double err = 0;
        int8_t trial[kSubSize];
        for (int j = 0; j < kSubSize; ++j) {
          const int l = dl != 0 ? clamp_int(round_to_int(x[o + j] / dl), kLmin, kLmax) : 0;
          trial[j] = static_cast<int8_t>(l);
          const float r = x[o + j] - dl * static_cast<float>(l);
          err += static_cast<double>(w[o + j]) * r * r;
        }
        if (err < best) {
          best = err;
          scale_code[s] = static_cast<int8_t>(sc);
          std::memcpy(levels + o, trial, kSubSize);
        }
      }
    }
  }
};

const float* block_importance(const float* importance, int64_t block) {
  return importance != nullptr ? importance + block * kQK_K : nullptr;
}

// Q2_K, Q3_K and Q6_K spread each 128 values over 32 bytes: value 32g + l of a half sits at
// byte l, bit position 2g (a 2-bit field). Returns the byte index and shift for value v.
inline int quarter_byte(int v) { return 32 * (v / 128) + v % 32; }
inline int quarter_shift(int v) { return 2 * ((v % 128) / 32); }

}  // namespace

void quantize_row_q2_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    AffineSuperBlock<16, 3, 15> q;
    q.quantize(src + i * kQK_K, block_importance(importance, i));
    BlockQ2_K b{};
    b.d = q.d;
    b.dmin = q.dmin;
    for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>(q.scale_code[s] | (q.min_code[s] << 4));
    for (int v = 0; v < kQK_K; ++v) b.qs[quarter_byte(v)] |= static_cast<uint8_t>(q.levels[v] << quarter_shift(v));
    store(dst, i, b);
  }
}

void quantize_row_q3_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    SymmetricSuperBlock<16, -4, 3, -32, 31> q;
    q.quantize(src + i * kQK_K, block_importance(importance, i));
    BlockQ3_K b{};
    b.d = q.d;
    pack_scales_q3_k(q.scale_code, b.scales);
    for (int v = 0; v < kQK_K; ++v) {
      const int u = q.levels[v] + 4;  // 0..7: low 2 bits in qs, bit 2 in hmask (set = no -4)
      b.qs[quarter_byte(v)] |= static_cast<uint8_t>((u & 3) << quarter_shift(v));
      if (u >= 4) b.hmask[v % 32] |= static_cast<uint8_t>(1 << (4 * (v / 128) + (v % 128) / 32));
    }
    store(dst, i, b);
  }
}

void quantize_row_q4_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    AffineSuperBlock<8, 15, 63> q;
    q.quantize(src + i * kQK_K, block_importance(importance, i));
    BlockQ4_K b{};
    b.d = q.d;
    b.dmin = q.dmin;
    pack_scale_min_k4(q.scale_code, q.min_code, b.scales);
    for (int v = 0; v < kQK_K; ++v) {
      const int sub = v / 32;
      b.qs[32 * (sub / 2) + v % 32] |= static_cast<uint8_t>(q.levels[v] << (sub % 2 == 0 ? 0 : 4));
    }
    store(dst, i, b);
  }
}

void quantize_row_q5_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    AffineSuperBlock<8, 31, 63> q;
    q.quantize(src + i * kQK_K, block_importance(importance, i));
    BlockQ5_K b{};
    b.d = q.d;
    b.dmin = q.dmin;
    pack_scale_min_k4(q.scale_code, q.min_code, b.scales);
    for (int v = 0; v < kQK_K; ++v) {
      const int sub = v / 32;
      b.qs[32 * (sub / 2) + v % 32] |= static_cast<uint8_t>((q.levels[v] & 0xF) << (sub % 2 == 0 ? 0 : 4));
      b.qh[v % 32] |= static_cast<uint8_t>((q.levels[v] >> 4) << sub);
    }
    store(dst, i, b);
  }
}

void quantize_row_q6_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    SymmetricSuperBlock<16, -32, 31, -128, 127> q;
    q.quantize(src + i * kQK_K, block_importance(importance, i));
    BlockQ6_K b{};
    b.d = q.d;
    for (int s = 0; s < 16; ++s) b.scales[s] = q.scale_code[s];
    for (int v = 0; v < kQK_K; ++v) {
      const int u = q.levels[v] + 32;  // 0..63
      const int half = v / 128, group = (v % 128) / 32, l = v % 32;
      b.ql[64 * half + l + 32 * (group % 2)] |= static_cast<uint8_t>((u & 0xF) << (group < 2 ? 0 : 4));
      b.qh[32 * half + l] |= static_cast<uint8_t>((u >> 4) << (2 * group));
    }
    store(dst, i, b);
  }
}

void quantize_row_q8_k(const float* src, uint8_t* dst, int64_t n, const float*) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ8_K b{};
    float max_value = 0.0f, max_abs = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > max_abs) {
        max_abs = std::fabs(x[j]);
        max_value = x[j];
      }
    }
    if (max_abs > 0.0f) {
      // The largest value maps to -127 (not -128: see Q8_0), as llama.cpp's quantize_row_q8_K does.
      const float inverse_scale = -127.0f / max_value;
      for (int j = 0; j < kQK_K; ++j) b.qs[j] = static_cast<int8_t>(std::min(127, round_to_int(inverse_scale * x[j])));
      b.d = 1.0f / inverse_scale;
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += b.qs[16 * g + j];
      b.bsums[g] = static_cast<int16_t>(sum);
    }
    store(dst, i, b);
  }
}

}  // namespace lp
