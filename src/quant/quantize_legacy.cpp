// Quantizers for the plain float types and the 32-value block types (Q4_0 ... Q8_0).
#include <cstring>

#include "core/float_convert.h"
#include "quant/block_layouts.h"
#include "quant/quantize.h"
#include "quant/scale_search.h"

namespace lp {
namespace {

template <class Block>
void store(uint8_t* dst, int64_t i, const Block& b) {
  std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

// Symmetric block: fit the scale, store it as fp16, then round every value at the stored
// scale (for a fixed scale, rounding each value on its own is optimal).
template <int kLmin, int kLmax>
uint16_t quantize_symmetric_block(const float* x, const float* importance, int8_t* levels) {
  float w[kQK];
  block_weights(importance, kQK, w);
  const uint16_t d16 = f32_to_f16(fit_symmetric(x, w, kQK, kLmin, kLmax, levels));
  const float d = f16_to_f32(d16);
  for (int j = 0; j < kQK; ++j) levels[j] = static_cast<int8_t>(d != 0.0f ? clamp_int(round_to_int(x[j] / d), kLmin, kLmax) : 0);
  return d16;
}

// Affine block (x ≈ d·l + m): fit, store d and m as fp16, round at the stored values.
template <int kLmax>
void quantize_affine_block(const float* x, const float* importance, uint16_t& d16, uint16_t& m16, uint8_t* levels) {
  float w[kQK];
  block_weights(importance, kQK, w);
  const AffineFit fit = fit_affine(x, w, kQK, kLmax, /*offset_nonpositive=*/false, levels);
  d16 = f32_to_f16(fit.scale);
  m16 = f32_to_f16(fit.offset);
  const float d = f16_to_f32(d16), m = f16_to_f32(m16);
  for (int j = 0; j < kQK; ++j) levels[j] = static_cast<uint8_t>(d != 0.0f ? clamp_int(round_to_int((x[j] - m) / d), 0, kLmax) : 0);
}

const float* block_importance(const float* importance, int64_t offset) {
  return importance != nullptr ? importance + offset : nullptr;
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
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ4_0 b{};
    int8_t l[kQK];
    b.d = quantize_symmetric_block<-8, 7>(src + i * kQK, block_importance(importance, i * kQK), l);
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>((l[j] + 8) | ((l[j + 16] + 8) << 4));
    store(dst, i, b);
  }
}

void quantize_row_q5_0(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ5_0 b{};
    int8_t l[kQK];
    uint8_t u[kQK];
    b.d = quantize_symmetric_block<-16, 15>(src + i * kQK, block_importance(importance, i * kQK), l);
    for (int j = 0; j < kQK; ++j) u[j] = static_cast<uint8_t>(l[j] + 16);
    pack_5bit(u, b.qs, b.qh);
    store(dst, i, b);
  }
}

void quantize_row_q8_0(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ8_0 b{};
    // -128 is left out: llama.cpp's integer kernels take |q| with a sign trick that overflows on it.
    b.d = quantize_symmetric_block<-127, 127>(src + i * kQK, block_importance(importance, i * kQK), b.qs);
    store(dst, i, b);
  }
}

void quantize_row_q4_1(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ4_1 b{};
    uint8_t u[kQK];
    quantize_affine_block<15>(src + i * kQK, block_importance(importance, i * kQK), b.d, b.m, u);
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(u[j] | (u[j + 16] << 4));
    store(dst, i, b);
  }
}

void quantize_row_q5_1(const float* src, uint8_t* dst, int64_t n, const float* importance) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    BlockQ5_1 b{};
    uint8_t u[kQK];
    quantize_affine_block<31>(src + i * kQK, block_importance(importance, i * kQK), b.d, b.m, u);
    pack_5bit(u, b.qs, b.qh);
    store(dst, i, b);
  }
}

}  // namespace lp
