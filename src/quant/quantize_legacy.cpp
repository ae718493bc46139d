// Quantizers for the plain float types and the 32-value block types (Q4_0 ... Q8_0).
#include <algorithm>
#include <cstring>

#include "core/float_convert.h"
#include "quant/block_layouts.h"
#include "quant/lane_batch.h"
#include "quant/quantize.h"
#include "quant/scale_search.h"

namespace lp {
namespace {

// Blocks of 32 in batches that fill the kernels' lanes (lane_kernels.h). Symmetric blocks:
// fit the scale, store it as fp16, then round every value at the stored scale (for a fixed
// scale, rounding each value on its own is optimal). pack(index, d16, levels of the block,
// a stride of `lanes` apart).
template <int kLmin, int kLmax, class Pack>
void quantize_symmetric_blocks(const float* src, int64_t blocks, const float* importance, Pack pack) {
  const LaneKernels& k = lane_kernels();
  LaneBatch batch;
  float scale[16], d[16];
  alignas(64) int8_t levels[kMaxBatchValues];
  for (int64_t i = 0; i < blocks; i += k.lanes) {
    const int real = static_cast<int>(std::min<int64_t>(k.lanes, blocks - i));
    batch.load(k, src + i * kQK, importance ? importance + i * kQK : nullptr, real, k.lanes, kQK);
    k.fit_symmetric(batch.xt, batch.weights(0), kQK, kLmin, kLmax, kDefaultFitGrid, scale);
    uint16_t d16[16];
    for (int b = 0; b < k.lanes; ++b) {
      d16[b] = f32_to_f16(scale[b]);
      d[b] = f16_to_f32(d16[b]);
    }
    k.levels_symmetric(src + i * kQK, real, kQK, kLmin, kLmax, d, levels);
    for (int b = 0; b < real; ++b) pack(i + b, d16[b], levels + b * kQK);
  }
}

// Affine blocks (x ≈ d·l + m): fit, store d and m as fp16, round at the stored values.
template <int kLmax, class Pack>
void quantize_affine_blocks(const float* src, int64_t blocks, const float* importance, Pack pack) {
  const LaneKernels& k = lane_kernels();
  LaneBatch batch;
  float scale[16], offset[16], d[16], ml[16];
  alignas(64) int8_t levels[kMaxBatchValues];
  for (int64_t i = 0; i < blocks; i += k.lanes) {
    const int real = static_cast<int>(std::min<int64_t>(k.lanes, blocks - i));
    batch.load(k, src + i * kQK, importance ? importance + i * kQK : nullptr, real, k.lanes, kQK);
    k.fit_affine(batch.xt, batch.weights(0), kQK, kLmax, /*offset_nonpositive=*/false, kDefaultFitGrid, scale, offset);
    uint16_t d16[16], m16[16];
    for (int b = 0; b < k.lanes; ++b) {
      d16[b] = f32_to_f16(scale[b]);
      m16[b] = f32_to_f16(offset[b]);
      d[b] = f16_to_f32(d16[b]);
      ml[b] = -f16_to_f32(m16[b]);  // x ≈ d·l + m
    }
    k.levels_affine(src + i * kQK, real, kQK, kLmax, d, ml, levels);
    for (int b = 0; b < real; ++b) pack(i + b, d16[b], m16[b], reinterpret_cast<const uint8_t*>(levels + b * kQK));
  }
}

// Q5 types keep the low 4 bits in nibbles (value j low, value j+16 high) and the 5th bits in qh.
void pack_5bit(const uint8_t* u, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((u[j] & 0xF) | ((u[j + 16] & 0xF) << 4));
    qh |= static_cast<uint32_t>(u[j] >> 4) << j;
    qh |= static_cast<uint32_t>(u[j + 16] >> 4) << (j + 16);
  }
  std::memcpy(qh_bytes, &qh, 4);
}

}  // namespace

void quantize_row_f32(const float* src, uint8_t* dst, int64_t n, const float*) { std::memcpy(dst, src, n * 4); }

void quantize_row_f16(const float* src, uint8_t* dst, int64_t n, const float*) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_f16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void quantize_row_bf16(const float* src, uint8_t* dst, int64_t n, const float*) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = f32_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void quantize_row_q4_0(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_symmetric_blocks<-8, 7>(src, n / kQK, importance, [&](int64_t i, uint16_t d, const int8_t* l) {
    BlockQ4_0 b{};
    b.d = d;
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>((l[j] + 8) | ((l[j + 16] + 8) << 4));
    store_block(dst, i, b);
  });
}

void quantize_row_q5_0(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_symmetric_blocks<-16, 15>(src, n / kQK, importance, [&](int64_t i, uint16_t d, const int8_t* l) {
    BlockQ5_0 b{};
    uint8_t u[kQK];
    b.d = d;
    for (int j = 0; j < kQK; ++j) u[j] = static_cast<uint8_t>(l[j] + 16);
    pack_5bit(u, b.qs, b.qh);
    store_block(dst, i, b);
  });
}

void quantize_row_q8_0(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  // -128 is left out: llama.cpp's integer kernels take |q| with a sign trick that overflows on it.
  quantize_symmetric_blocks<-127, 127>(src, n / kQK, importance, [&](int64_t i, uint16_t d, const int8_t* l) {
    BlockQ8_0 b{};
    b.d = d;
    std::memcpy(b.qs, l, kQK);
    store_block(dst, i, b);
  });
}

void quantize_row_q4_1(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_affine_blocks<15>(src, n / kQK, importance, [&](int64_t i, uint16_t d, uint16_t m, const uint8_t* u) {
    BlockQ4_1 b{};
    b.d = d;
    b.m = m;
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(u[j] | (u[j + 16] << 4));
    store_block(dst, i, b);
  });
}

void quantize_row_q5_1(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  quantize_affine_blocks<31>(src, n / kQK, importance, [&](int64_t i, uint16_t d, uint16_t m, const uint8_t* u) {
    BlockQ5_1 b{};
    b.d = d;
    b.m = m;
    pack_5bit(u, b.qs, b.qh);
    store_block(dst, i, b);
  });
}

}  // namespace lp
