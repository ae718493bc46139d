#include "quant/dequantize.h"

#include <cstdint>
#include <cstring>

#include "core/float_convert.h"
#include "kernels/half_vectors.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

// Blocks are read by memcpy: file data carries no alignment guarantee.
template <class Block>
Block load(const uint8_t* src, int64_t i) {
  Block b;
  std::memcpy(&b, src + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return b;
}

}  // namespace

void dequantize_row_f32(const uint8_t* src, float* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }

// F16C where the CPU has it: reading an F16 model for quantization is this conversion.
void dequantize_row_f16(const uint8_t* src, float* dst, int64_t n) {
  if (reinterpret_cast<uintptr_t>(src) % alignof(uint16_t) == 0) {
    f16_to_f32_row(reinterpret_cast<const uint16_t*>(src), dst, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = f16_to_f32(h);
  }
}

void dequantize_row_bf16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = bf16_to_f32(h);
  }
}

void dequantize_row_q4_0(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const auto b = load<BlockQ4_0>(src, i);
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = static_cast<float>((b.qs[j] & 0xF) - 8) * d;
      dst[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const auto b = load<BlockQ4_1>(src, i);
    const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = static_cast<float>(b.qs[j] & 0xF) * d + m;
      dst[j + kQK / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_row_q5_0(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const auto b = load<BlockQ5_0>(src, i);
    const float d = f16_to_f32(b.d);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int high0 = ((qh >> j) & 1) << 4, high1 = ((qh >> (j + 16)) & 1) << 4;
      dst[j] = static_cast<float>(((b.qs[j] & 0xF) | high0) - 16) * d;
      dst[j + kQK / 2] = static_cast<float>(((b.qs[j] >> 4) | high1) - 16) * d;
    }
  }
}

void dequantize_row_q5_1(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const auto b = load<BlockQ5_1>(src, i);
    const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int high0 = ((qh >> j) & 1) << 4, high1 = ((qh >> (j + 16)) & 1) << 4;
      dst[j] = static_cast<float>((b.qs[j] & 0xF) | high0) * d + m;
      dst[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) | high1) * d + m;
    }
  }
}

void dequantize_row_q8_0(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const auto b = load<BlockQ8_0>(src, i);
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(b.qs[j]) * d;
  }
}

void dequantize_row_mxfp4(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const auto b = load<BlockMXFP4>(src, i);
    const float d = e8m0_to_fp32_half(b.e);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = static_cast<float>(kMxfp4Values[b.qs[j] & 0xF]) * d;
      dst[j + kQK / 2] = static_cast<float>(kMxfp4Values[b.qs[j] >> 4]) * d;
    }
  }
}

void dequantize_row_q2_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load<BlockQ2_K>(src, i);
    const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
    // Values 32*g .. 32*g+31 of each 128-half live in bit pair `shift` of qs[32*half + l].
    for (int v = 0; v < kQK_K; ++v) {
      const int half = v / 128, group = (v % 128) / 32, l = v % 32;
      const int sub = v / 16;
      const uint8_t sc = b.scales[sub];
      const float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
      const int q = (b.qs[32 * half + l] >> (2 * group)) & 3;
      *dst++ = dl * static_cast<float>(q) - ml;
    }
  }
}

void dequantize_row_q3_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load<BlockQ3_K>(src, i);
    const float d = f16_to_f32(b.d);
    int8_t scales[16];
    unpack_scales_q3_k(b.scales, scales);
    for (int v = 0; v < kQK_K; ++v) {
      const int half = v / 128, group = (v % 128) / 32, l = v % 32;
      const float dl = d * static_cast<float>(scales[v / 16]);
      const int low = (b.qs[32 * half + l] >> (2 * group)) & 3;
      const bool high = (b.hmask[l] >> (4 * half + group)) & 1;
      *dst++ = dl * static_cast<float>(low - (high ? 0 : 4));
    }
  }
}

void dequantize_row_q4_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load<BlockQ4_K>(src, i);
    const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
    for (int sub = 0; sub < 8; ++sub) {  // sub-block s: low nibbles (even s) or high (odd s) of qs[32*(s/2)..]
      uint8_t sc, m;
      unpack_scale_min_k4(sub, b.scales, sc, m);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
      const uint8_t* q = b.qs + 32 * (sub / 2);
      for (int l = 0; l < 32; ++l) {
        const int level = sub % 2 == 0 ? q[l] & 0xF : q[l] >> 4;
        *dst++ = dl * static_cast<float>(level) - ml;
      }
    }
  }
}

void dequantize_row_q5_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load<BlockQ5_K>(src, i);
    const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
    for (int sub = 0; sub < 8; ++sub) {
      uint8_t sc, m;
      unpack_scale_min_k4(sub, b.scales, sc, m);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
      const uint8_t* q = b.qs + 32 * (sub / 2);
      for (int l = 0; l < 32; ++l) {
        const int low = sub % 2 == 0 ? q[l] & 0xF : q[l] >> 4;
        const int high = ((b.qh[l] >> sub) & 1) << 4;  // bit `sub` of qh[l] is the 5th bit
        *dst++ = dl * static_cast<float>(low | high) - ml;
      }
    }
  }
}

void dequantize_row_q6_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto b = load<BlockQ6_K>(src, i);
    const float d = f16_to_f32(b.d);
    for (int v = 0; v < kQK_K; ++v) {
      // Each 128-half: value 32*g + l takes a nibble of ql[64*half + l + 32*(g%2)] (low for
      // g<2, high otherwise) and bits 2g..2g+1 of qh[32*half + l].
      const int half = v / 128, group = (v % 128) / 32, l = v % 32;
      const uint8_t ql = b.ql[64 * half + l + 32 * (group % 2)];
      const int low = group < 2 ? ql & 0xF : ql >> 4;
      const int high = (b.qh[32 * half + l] >> (2 * group)) & 3;
      const float scale = d * static_cast<float>(b.scales[v / 16]);
      *dst++ = scale * static_cast<float>((low | (high << 4)) - 32);
    }
  }
}

void dequantize_row_q8_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, dst += kQK_K) {
    const auto b = load<BlockQ8_K>(src, i);
    for (int j = 0; j < kQK_K; ++j) dst[j] = b.d * static_cast<float>(b.qs[j]);
  }
}

}  // namespace lp
