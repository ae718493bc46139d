#pragma once
// The bodies of the engine's row loops (row_ops.h), included by one unit per instruction set
// (row_ops_{baseline,avx2,avx512}.cpp), each compiled with that set's flags: the compiler
// vectorizes the same loops for each, and everything here sits in an anonymous namespace so
// the units' copies stay apart. Only the attention products' register blocking differs
// between the sets (kColumnBlocks).
#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__F16C__)
#include <immintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#include "core/float_convert.h"
#include "kernels/row_ops.h"

namespace lp {
namespace {

// exp(x) by 2^n * e^r, r = x - n ln2 in [-ln2/2, ln2/2], e^r from Cephes' expf polynomial.
// Rounding uses the 1.5 * 2^23 trick and 2^n is built from the exponent bits, so every step is a
// plain float or int operation the vectorizer maps to lanes.
inline float exp_poly(float x) {
  constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  const bool underflow = x < -87.3f;
  x = std::min(std::max(x, -87.3f), 88.3f);  // 2^n stays a normal float
  const float shifted = x * kLog2e + kRound;
  const float n = shifted - kRound;
  const float r = x - n * kLn2Hi - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const int32_t exponent = std::bit_cast<int32_t>(shifted) - std::bit_cast<int32_t>(kRound);
  const float scale = std::bit_cast<float>((exponent + 127) << 23);
  return underflow ? 0.0f : er * scale;
}

inline float silu_poly(float x) { return x / (1.0f + exp_poly(-x)); }

inline float gelu_tanh_poly(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  // 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u))
  const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
  return x / (1.0f + exp_poly(-2.0f * u));
}

void exp_row(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = exp_poly(x[i]);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = silu_poly(gate[i]) * up[i];
}

void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gelu_tanh_poly(gate[i]) * up[i];
}

void swiglu_oai(const float* gate, const float* up, float* out, int64_t n, float alpha, float limit) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], limit), u = std::clamp(up[i], -limit, limit);
    out[i] = g / (1.0f + exp_poly(-alpha * g)) * (u + 1.0f);
  }
}

float dot_row(const float* a, const float* b, int64_t n) {
  // Sixteen partial sums (one vector's lanes), so the loop is not one long dependency chain.
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 16; ++k) acc[k] += a[i + k] * b[i + k];
  }
  for (; i < n; ++i) acc[0] += a[i] * b[i];
  float s = 0.0f;
  for (float v : acc) s += v;
  return s;
}

void axpy_row(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void scale_row(float* x, float a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

// Sixteen partial maxima and sums (one vector's lanes), so the loops vectorize without
// reassociating a single chain.
float scale_max_row(float* x, float a, int64_t n) {
  float lanes[16];
  for (float& l : lanes) l = x[0] * a;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 16; ++k) {
      x[i + k] *= a;
      lanes[k] = lanes[k] < x[i + k] ? x[i + k] : lanes[k];
    }
  }
  float max = lanes[0];
  for (; i < n; ++i) {
    x[i] *= a;
    max = std::max(max, x[i]);
  }
  for (float l : lanes) max = std::max(max, l);
  return max;
}

float exp_shifted_sum_row(float* x, float shift, int64_t n) {
  float lanes[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 16; ++k) {
      x[i + k] = exp_poly(x[i + k] - shift);
      lanes[k] += x[i + k];
    }
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += (x[i] = exp_poly(x[i] - shift));
  for (float l : lanes) sum += l;
  return sum;
}

// GCC/Clang vector of 16 floats: one AVX-512 register, two AVX2 or four SSE registers.
typedef float F32x16 __attribute__((vector_size(64)));

}  // namespace
// Loads and stores of such vectors are statement expressions, not functions: a function taking
// or returning one would cross an ABI boundary that differs between the units' instruction
// sets (GCC warns, Clang refuses). __extension__ says the GNU extension is meant.
#define LP_LOAD16(p)                               \
  __extension__({                                  \
    F32x16 lp_loaded_;                             \
    std::memcpy(&lp_loaded_, (p), sizeof(F32x16)); \
    lp_loaded_;                                    \
  })
#define LP_STORE16(p, v)                           \
  do {                                             \
    const F32x16 lp_stored_ = (v);                 \
    std::memcpy((p), &lp_stored_, sizeof(F32x16)); \
  } while (0)
// Sixteen float16 values at p (uint16_t bits) as an F32x16: vcvtph2ps where the unit has F16C
// (one AVX-512 or two AVX2 conversions), four NEON conversions on ARM, scalar otherwise.
#if defined(__AVX512F__)
#define LP_LOAD16_F16(p) ((F32x16)_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))))
#elif defined(__F16C__)
#define LP_LOAD16_F16(p)                                                                          \
  __extension__({                                                                                 \
    const uint16_t* lp_h_ = (p);                                                                  \
    const __m256 lp_lo_ = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lp_h_))); \
    const __m256 lp_hi_ = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lp_h_ + 8))); \
    F32x16 lp_v_;                                                                                 \
    std::memcpy(&lp_v_, &lp_lo_, sizeof(lp_lo_));                                                 \
    std::memcpy(reinterpret_cast<char*>(&lp_v_) + sizeof(lp_lo_), &lp_hi_, sizeof(lp_hi_));        \
    lp_v_;                                                                                        \
  })
#elif defined(__ARM_NEON)
#define LP_LOAD16_F16(p)                                                                          \
  __extension__({                                                                                 \
    const uint16_t* lp_h_ = (p);                                                                  \
    F32x16 lp_v_;                                                                                 \
    for (int lp_q_ = 0; lp_q_ < 4; ++lp_q_) {                                                     \
      const float32x4_t lp_f_ = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(lp_h_ + 4 * lp_q_))); \
      std::memcpy(reinterpret_cast<char*>(&lp_v_) + 16 * lp_q_, &lp_f_, 16);                     \
    }                                                                                             \
    lp_v_;                                                                                        \
  })
#else
#define LP_LOAD16_F16(p)                                         \
  __extension__({                                                \
    const uint16_t* lp_h_ = (p);                                 \
    F32x16 lp_v_;                                                \
    for (int lp_k_ = 0; lp_k_ < 16; ++lp_k_) lp_v_[lp_k_] = f16_to_f32(lp_h_[lp_k_]); \
    lp_v_;                                                       \
  })
#endif
namespace {

// How many 16-float columns the attention products carry per query row at once: four rows x
// that many accumulators, plus that many loaded vectors, must fit the register file. AVX-512:
// 16 + 4 of 32 registers. With 16 registers (AVX2, SSE) four columns would spill every
// accumulator, so one: 8 + 2 ymm registers, and the tile is crossed in four passes.
#if defined(__AVX512F__)
constexpr int kColumnBlocks = 4;
#else
constexpr int kColumnBlocks = 1;
#endif

void attention_scores_4x64(const float* kt, const float* const q[4], int64_t d, float* out) {
  for (int c0 = 0; c0 < 64; c0 += 16 * kColumnBlocks) {
    F32x16 acc[4][kColumnBlocks] = {};
    for (int64_t i = 0; i < d; ++i) {
      F32x16 k[kColumnBlocks];
      for (int c = 0; c < kColumnBlocks; ++c) k[c] = LP_LOAD16(kt + i * 64 + c0 + c * 16);
      for (int r = 0; r < 4; ++r) {
        const float qr = q[r][i];
        for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] += qr * k[c];
      }
    }
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) LP_STORE16(out + r * 64 + c0 + c * 16, acc[r][c]);
    }
  }
}

void attention_values_4(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n, float* const out[4],
                        int64_t dv) {
  constexpr int64_t kWidth = 16 * kColumnBlocks;
  int64_t c0 = 0;
  for (; c0 + kWidth <= dv; c0 += kWidth) {
    F32x16 acc[4][kColumnBlocks];
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] = LP_LOAD16(out[r] + c0 + c * 16);
    }
    for (int64_t j = 0; j < n; ++j) {
      const float* vj = v + j * v_stride + c0;
      F32x16 x[kColumnBlocks];
      for (int c = 0; c < kColumnBlocks; ++c) x[c] = LP_LOAD16(vj + c * 16);
      for (int r = 0; r < 4; ++r) {
        const float pr = p[r * p_stride + j];
        for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] += pr * x[c];
      }
    }
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) LP_STORE16(out[r] + c0 + c * 16, acc[r][c]);
    }
  }
  for (; c0 + 16 <= dv; c0 += 16) {
    F32x16 acc[4];
    for (int r = 0; r < 4; ++r) acc[r] = LP_LOAD16(out[r] + c0);
    for (int64_t j = 0; j < n; ++j) {
      const F32x16 x = LP_LOAD16(v + j * v_stride + c0);
      for (int r = 0; r < 4; ++r) acc[r] += p[r * p_stride + j] * x;
    }
    for (int r = 0; r < 4; ++r) LP_STORE16(out[r] + c0, acc[r]);
  }
  for (; c0 < dv; ++c0) {
    for (int r = 0; r < 4; ++r) {
      for (int64_t j = 0; j < n; ++j) out[r][c0] += p[r * p_stride + j] * v[j * v_stride + c0];
    }
  }
}

// The same products over a float16 cache, converted in registers as they are read: keys in
// the cache's transposed tiles (kt[i * 64 + j], kernels/kv_rows.h), values as rows.
void attention_scores_4x64_f16(const uint16_t* kt, const float* const q[4], int64_t d, float* out) {
  for (int c0 = 0; c0 < 64; c0 += 16 * kColumnBlocks) {
    F32x16 acc[4][kColumnBlocks] = {};
    for (int64_t i = 0; i < d; ++i) {
      F32x16 k[kColumnBlocks];
      for (int c = 0; c < kColumnBlocks; ++c) k[c] = LP_LOAD16_F16(kt + i * 64 + c0 + c * 16);
      for (int r = 0; r < 4; ++r) {
        const float qr = q[r][i];
        for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] += qr * k[c];
      }
    }
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) LP_STORE16(out + r * 64 + c0 + c * 16, acc[r][c]);
    }
  }
}

void attention_values_4_f16(const float* p, int64_t p_stride, const uint16_t* v, int64_t v_stride, int64_t n,
                            float* const out[4], int64_t dv) {
  constexpr int64_t kWidth = 16 * kColumnBlocks;
  int64_t c0 = 0;
  for (; c0 + kWidth <= dv; c0 += kWidth) {
    F32x16 acc[4][kColumnBlocks];
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] = LP_LOAD16(out[r] + c0 + c * 16);
    }
    for (int64_t j = 0; j < n; ++j) {
      const uint16_t* vj = v + j * v_stride + c0;
      F32x16 x[kColumnBlocks];
      for (int c = 0; c < kColumnBlocks; ++c) x[c] = LP_LOAD16_F16(vj + c * 16);
      for (int r = 0; r < 4; ++r) {
        const float pr = p[r * p_stride + j];
        for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] += pr * x[c];
      }
    }
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) LP_STORE16(out[r] + c0 + c * 16, acc[r][c]);
    }
  }
  for (; c0 + 16 <= dv; c0 += 16) {
    F32x16 acc[4];
    for (int r = 0; r < 4; ++r) acc[r] = LP_LOAD16(out[r] + c0);
    for (int64_t j = 0; j < n; ++j) {
      const F32x16 x = LP_LOAD16_F16(v + j * v_stride + c0);
      for (int r = 0; r < 4; ++r) acc[r] += p[r * p_stride + j] * x;
    }
    for (int r = 0; r < 4; ++r) LP_STORE16(out[r] + c0, acc[r]);
  }
  for (; c0 < dv; ++c0) {
    for (int r = 0; r < 4; ++r) {
      for (int64_t j = 0; j < n; ++j) out[r][c0] += p[r * p_stride + j] * f16_to_f32(v[j * v_stride + c0]);
    }
  }
}

constexpr RowOps kRowOps{exp_row,
                         silu_mul,
                         gelu_tanh_mul,
                         swiglu_oai,
                         dot_row,
                         axpy_row,
                         scale_row,
                         scale_max_row,
                         exp_shifted_sum_row,
                         attention_scores_4x64,
                         attention_values_4,
                         attention_scores_4x64_f16,
                         attention_values_4_f16};

}  // namespace
}  // namespace lp
