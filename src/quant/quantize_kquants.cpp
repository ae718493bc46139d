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
#include "quant/lane_batch.h"
#include "quant/quantize.h"
#include "quant/scale_search.h"

namespace lp {
namespace {

constexpr int kCodeSearchRadius = 2;
// Results of one super-block: the fp16 scale(s), the integer sub-block codes and the levels.
template <int kSubBlocks, class Level>
struct SuperBlockCodes {
  uint16_t d = 0, dmin = 0;
  Level scale_code[kSubBlocks] = {};
  uint8_t min_code[kSubBlocks] = {};
  Level levels[kQK_K] = {};
};

// Super-blocks with affine sub-blocks, x ≈ (d·sc)·l − (dmin·m), sc and m codes in [0, kCodeMax],
// `blocks` of them from src; pack(index, codes) stores each. Batches of super-blocks fill the
// lanes of the kernels (lane_kernels.h).
template <int kSubBlocks, int kLmax, int kCodeMax, class Pack>
void quantize_affine_superblocks(const float* src, int64_t blocks, const float* importance, Pack pack) {
  constexpr int n = kQK_K / kSubBlocks;
  const LaneKernels& k = lane_kernels();
  const int per_batch = std::max(1, k.lanes / kSubBlocks);  // super-blocks per batch
  const int subs = per_batch * kSubBlocks;                    // sub-blocks per batch, a multiple of lanes
  LaneBatch batch;
  float scale[32], offset[32], d[32], dmin[32], sc0[32], m0[32], sc[32], m[32], dl[32], ml[32];
  alignas(64) int8_t levels[kMaxBatchValues];
  SuperBlockCodes<kSubBlocks, uint8_t> q;
  uint16_t d16[2], dmin16[2];
  for (int64_t i = 0; i < blocks; i += per_batch) {
    const int real = static_cast<int>(std::min<int64_t>(per_batch, blocks - i));
    batch.load(k, src + i * kQK_K, importance ? importance + i * kQK_K : nullptr, real * kSubBlocks, subs, n);
    // 1. Each sub-block fitted on its own.
    for (int g = 0; g < subs; g += k.lanes) {
      k.fit_affine(batch.xt + g * n, batch.weights(g * n), n, kLmax, /*offset_nonpositive=*/true, kDefaultFitGrid, scale + g,
                   offset + g);
    }
    // 2. Sub-block scales and mins quantized against the super-block's fp16 scales.
    for (int b = 0; b < per_batch; ++b) {
      float max_scale = 0.0f, max_min = 0.0f;
      for (int s = b * kSubBlocks; s < (b + 1) * kSubBlocks; ++s) {
        scale[s] = std::fmax(scale[s], 0.0f);
        offset[s] = -offset[s];  // the min, >= 0
        max_scale = std::fmax(max_scale, scale[s]);
        max_min = std::fmax(max_min, offset[s]);
      }
      d16[b] = f32_to_f16(max_scale / kCodeMax);
      dmin16[b] = f32_to_f16(max_min / kCodeMax);
      const float df = f16_to_f32(d16[b]), dminf = f16_to_f32(dmin16[b]);
      for (int s = b * kSubBlocks; s < (b + 1) * kSubBlocks; ++s) {
        d[s] = df;
        dmin[s] = dminf;
        sc0[s] = static_cast<float>(df > 0 ? clamp_int(round_to_int(scale[s] / df), 0, kCodeMax) : 0);
        m0[s] = static_cast<float>(dminf > 0 ? clamp_int(round_to_int(offset[s] / dminf), 0, kCodeMax) : 0);
      }
    }
    // 3. Rounding a scale moves every value of its sub-block: search the codes around the
    // rounded ones at the dequantizer's own arithmetic.
    for (int g = 0; g < subs; g += k.lanes) {
      k.codes_affine(batch.xt + g * n, batch.weights(g * n), n, kLmax, kCodeMax, kCodeSearchRadius, d + g, dmin + g,
                     sc0 + g, m0 + g, sc + g, m + g);
    }
    for (int s = 0; s < real * kSubBlocks; ++s) {
      dl[s] = d[s] * sc[s];
      ml[s] = dmin[s] * m[s];
    }
    k.levels_affine(src + i * kQK_K, real * kSubBlocks, n, kLmax, dl, ml, levels);
    for (int b = 0; b < real; ++b) {
      q.d = d16[b];
      q.dmin = dmin16[b];
      for (int s = 0; s < kSubBlocks; ++s) {
        const int sb = b * kSubBlocks + s;
        q.scale_code[s] = static_cast<uint8_t>(sc[sb]);
        q.min_code[s] = static_cast<uint8_t>(m[sb]);
      }
      std::memcpy(q.levels, levels + b * kQK_K, kQK_K);
      pack(i + b, q);
    }
  }
}

// Super-blocks with symmetric sub-blocks, x ≈ (d·sc)·l, sc codes in [kCodeMin, kCodeMax].
template <int kSubBlocks, int kLmin, int kLmax, int kCodeMin, int kCodeMax, class Pack>
void quantize_symmetric_superblocks(const float* src, int64_t blocks, const float* importance, Pack pack) {
  constexpr int n = kQK_K / kSubBlocks;
  const LaneKernels& k = lane_kernels();
  const int per_batch = std::max(1, k.lanes / kSubBlocks);
  const int subs = per_batch * kSubBlocks;
  LaneBatch batch;
  float scale[32], d[32], sc0[32], sc[32], dl[32];
  alignas(64) int8_t levels[kMaxBatchValues];
  SuperBlockCodes<kSubBlocks, int8_t> q;
  uint16_t d16[2];
  for (int64_t i = 0; i < blocks; i += per_batch) {
    const int real = static_cast<int>(std::min<int64_t>(per_batch, blocks - i));
    batch.load(k, src + i * kQK_K, importance ? importance + i * kQK_K : nullptr, real * kSubBlocks, subs, n);
    for (int g = 0; g < subs; g += k.lanes) {
      k.fit_symmetric(batch.xt + g * n, batch.weights(g * n), n, kLmin, kLmax, kDefaultFitGrid, scale + g);
    }
    for (int b = 0; b < per_batch; ++b) {
      float max_scale = 0.0f;
      for (int s = b * kSubBlocks; s < (b + 1) * kSubBlocks; ++s) {
        if (std::fabs(scale[s]) > std::fabs(max_scale)) max_scale = scale[s];
      }
      // The largest scale maps to the negative end, which is one code longer.
      d16[b] = f32_to_f16(max_scale / kCodeMin);
      const float df = f16_to_f32(d16[b]);
      for (int s = b * kSubBlocks; s < (b + 1) * kSubBlocks; ++s) {
        d[s] = df;
        sc0[s] = static_cast<float>(df != 0 ? clamp_int(round_to_int(scale[s] / df), kCodeMin, kCodeMax) : 0);
      }
    }
    for (int g = 0; g < subs; g += k.lanes) {
      k.codes_symmetric(batch.xt + g * n, batch.weights(g * n), n, kLmin, kLmax, kCodeMin, kCodeMax, kCodeSearchRadius,
                        d + g, sc0 + g, sc + g);
    }
    for (int s = 0; s < real * kSubBlocks; ++s) dl[s] = d[s] * sc[s];
    k.levels_symmetric(src + i * kQK_K, real * kSubBlocks, n, kLmin, kLmax, dl, levels);
    for (int b = 0; b < real; ++b) {
      q.d = d16[b];
      for (int s = 0; s < kSubBlocks; ++s) {
        const int sb = b * kSubBlocks + s;
        q.scale_code[s] = static_cast<int8_t>(sc[sb]);
      }
      std::memcpy(q.levels, levels + b * kQK_K, kQK_K);
      pack(i + b, q);
    }
  }
}

// Q2_K, Q3_K and Q6_K spread each 128 values over 32 bytes: value 32g + l of a half sits at
// byte l, bit position 2g (a 2-bit field). Returns the byte index and shift for value v.
inline int quarter_byte(int v) { return 32 * (v / 128) + v % 32; }
inline int quarter_shift(int v) { return 2 * ((v % 128) / 32); }

}  // namespace

void quantize_row_q2_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_affine_superblocks<16, 3, 15>(src, n / kQK_K, importance, [&](int64_t i, const auto& q) {
    BlockQ2_K b{};
    b.d = q.d;
    b.dmin = q.dmin;
    for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>(q.scale_code[s] | (q.min_code[s] << 4));
    for (int v = 0; v < kQK_K; ++v) b.qs[quarter_byte(v)] |= static_cast<uint8_t>(q.levels[v] << quarter_shift(v));
    store_block(dst, i, b);
  });
}

void quantize_row_q3_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_symmetric_superblocks<16, -4, 3, -32, 31>(src, n / kQK_K, importance, [&](int64_t i, const auto& q) {
    BlockQ3_K b{};
    b.d = q.d;
    pack_scales_q3_k(q.scale_code, b.scales);
    for (int v = 0; v < kQK_K; ++v) {
      const int u = q.levels[v] + 4;  // 0..7: low 2 bits in qs, bit 2 in hmask (set = no -4)
      b.qs[quarter_byte(v)] |= static_cast<uint8_t>((u & 3) << quarter_shift(v));
      if (u >= 4) b.hmask[v % 32] |= static_cast<uint8_t>(1 << (4 * (v / 128) + (v % 128) / 32));
    }
    store_block(dst, i, b);
  });
}

void quantize_row_q4_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_affine_superblocks<8, 15, 63>(src, n / kQK_K, importance, [&](int64_t i, const auto& q) {
    BlockQ4_K b{};
    b.d = q.d;
    b.dmin = q.dmin;
    pack_scale_min_k4(q.scale_code, q.min_code, b.scales);
    for (int v = 0; v < kQK_K; ++v) {
      const int sub = v / 32;
      b.qs[32 * (sub / 2) + v % 32] |= static_cast<uint8_t>(q.levels[v] << (sub % 2 == 0 ? 0 : 4));
    }
    store_block(dst, i, b);
  });
}

void quantize_row_q5_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_affine_superblocks<8, 31, 63>(src, n / kQK_K, importance, [&](int64_t i, const auto& q) {
    BlockQ5_K b{};
    b.d = q.d;
    b.dmin = q.dmin;
    pack_scale_min_k4(q.scale_code, q.min_code, b.scales);
    for (int v = 0; v < kQK_K; ++v) {
      const int sub = v / 32;
      b.qs[32 * (sub / 2) + v % 32] |= static_cast<uint8_t>((q.levels[v] & 0xF) << (sub % 2 == 0 ? 0 : 4));
      b.qh[v % 32] |= static_cast<uint8_t>((q.levels[v] >> 4) << sub);
    }
    store_block(dst, i, b);
  });
}

void quantize_row_q6_k(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_symmetric_superblocks<16, -32, 31, -128, 127>(src, n / kQK_K, importance, [&](int64_t i, const auto& q) {
    BlockQ6_K b{};
    b.d = q.d;
    for (int s = 0; s < 16; ++s) b.scales[s] = q.scale_code[s];
    for (int v = 0; v < kQK_K; ++v) {
      const int u = q.levels[v] + 32;  // 0..63
      const int half = v / 128, group = (v % 128) / 32, l = v % 32;
      b.ql[64 * half + l + 32 * (group % 2)] |= static_cast<uint8_t>((u & 0xF) << (group < 2 ? 0 : 4));
      b.qh[32 * half + l] |= static_cast<uint8_t>((u >> 4) << (2 * group));
    }
    store_block(dst, i, b);
  });
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
    store_block(dst, i, b);
  }
}

}  // namespace lp
