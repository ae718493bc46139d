#pragma once
// The bodies of the engine's row loops (row_ops.h), included by one unit per instruction set
// (row_ops_{baseline,avx2,avx512}.cpp), each compiled with that set's flags: the compiler
// vectorizes the same loops for each, and everything here sits in an anonymous namespace so
// the units' copies stay apart. Only the attention products' vector width and register
// blocking differ between the sets (kLanes, kColumnBlocks).
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

// The attention products work on GCC/Clang vectors of one register's width (F32xN): a wider
// generic vector than the unit's registers is lowered through memory (GCC 12 keeps a 16-float
// vector's halves on the stack in an AVX2 unit and moves them through general registers: the
// products took 80% of a decode at depth). Four query rows x kColumnBlocks
// accumulators, plus kColumnBlocks loaded vectors, must fit the register file: AVX-512 16 + 4
// of 32 zmm registers, AVX2 8 + 2 of 16 ymm, 64-bit ARM 16 + 4 of 32, SSE 8 + 2 of 16.
#if defined(__AVX512F__)
constexpr int kLanes = 16, kColumnBlocks = 4;
#elif defined(__AVX2__)
constexpr int kLanes = 8, kColumnBlocks = 2;
#elif defined(__aarch64__)
constexpr int kLanes = 4, kColumnBlocks = 4;
#else
constexpr int kLanes = 4, kColumnBlocks = 2;
#endif
constexpr int kPass = kLanes * kColumnBlocks;  // positions (scores) or value columns (values) per pass
static_assert(64 % kPass == 0, "a tile of 64 positions is crossed in whole passes");
typedef float F32xN __attribute__((vector_size(kLanes * sizeof(float))));

}  // namespace
// Loads and stores of such vectors are statement expressions, not functions: a function taking
// or returning one would cross an ABI boundary that differs between instruction sets (GCC
// warns, Clang refuses). __extension__ says the GNU extension is meant.
#define LP_LOADV(p)                               \
  __extension__({                                 \
    F32xN lp_loaded_;                             \
    std::memcpy(&lp_loaded_, (p), sizeof(F32xN)); \
    lp_loaded_;                                   \
  })
#define LP_STOREV(p, v)                           \
  do {                                            \
    const F32xN lp_stored_ = (v);                 \
    std::memcpy((p), &lp_stored_, sizeof(F32xN)); \
  } while (0)
// kLanes float16 values at p (uint16_t bits) as an F32xN: vcvtph2ps where the unit has F16C,
// NEON's conversion on ARM, scalar otherwise.
#if defined(__AVX512F__)
// (The zero-masked form: GCC 12 warns that the plain one's undefined pass-through register "may
// be used uninitialized".)
#define LP_LOADV_F16(p) ((F32xN)_mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))))
#elif defined(__F16C__)
#define LP_LOADV_F16(p) ((F32xN)_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))))
#elif defined(__ARM_NEON)
#define LP_LOADV_F16(p) ((F32xN)vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))))
#else
#define LP_LOADV_F16(p)                                                             \
  __extension__({                                                                   \
    const uint16_t* lp_h_ = (p);                                                    \
    F32xN lp_v_;                                                                    \
    for (int lp_k_ = 0; lp_k_ < kLanes; ++lp_k_) lp_v_[lp_k_] = f16_to_f32(lp_h_[lp_k_]); \
    lp_v_;                                                                          \
  })
#endif
namespace {

// The products of attention over a tile of 64 positions (engine/ops.h), for keys and values
// stored as float (loaded by LP_LOADV) or float16 (LP_LOADV_F16: converted in registers).
template <typename Key, typename LoadKey>
void scores_4x64(const Key* kt, const float* const q[4], int64_t d, float* out, LoadKey load) {
  for (int c0 = 0; c0 < 64; c0 += kPass) {
    F32xN acc[4][kColumnBlocks] = {};
    for (int64_t i = 0; i < d; ++i) {
      F32xN k[kColumnBlocks];
      for (int c = 0; c < kColumnBlocks; ++c) k[c] = load(kt + i * 64 + c0 + c * kLanes);
      for (int r = 0; r < 4; ++r) {
        const float qr = q[r][i];
        for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] += qr * k[c];
      }
    }
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) LP_STOREV(out + r * 64 + c0 + c * kLanes, acc[r][c]);
    }
  }
}

template <typename Value, typename LoadValue, typename ToFloat>
void values_4(const float* p, int64_t p_stride, const Value* v, int64_t v_stride, int64_t n, float* const out[4], int64_t dv,
              LoadValue load, ToFloat to_float) {
  int64_t c0 = 0;
  for (; c0 + kPass <= dv; c0 += kPass) {
    F32xN acc[4][kColumnBlocks];
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] = LP_LOADV(out[r] + c0 + c * kLanes);
    }
    for (int64_t j = 0; j < n; ++j) {
      const Value* vj = v + j * v_stride + c0;
      F32xN x[kColumnBlocks];
      for (int c = 0; c < kColumnBlocks; ++c) x[c] = load(vj + c * kLanes);
      for (int r = 0; r < 4; ++r) {
        const float pr = p[r * p_stride + j];
        for (int c = 0; c < kColumnBlocks; ++c) acc[r][c] += pr * x[c];
      }
    }
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < kColumnBlocks; ++c) LP_STOREV(out[r] + c0 + c * kLanes, acc[r][c]);
    }
  }
  for (; c0 + kLanes <= dv; c0 += kLanes) {
    F32xN acc[4];
    for (int r = 0; r < 4; ++r) acc[r] = LP_LOADV(out[r] + c0);
    for (int64_t j = 0; j < n; ++j) {
      const F32xN x = load(v + j * v_stride + c0);
      for (int r = 0; r < 4; ++r) acc[r] += p[r * p_stride + j] * x;
    }
    for (int r = 0; r < 4; ++r) LP_STOREV(out[r] + c0, acc[r]);
  }
  for (; c0 < dv; ++c0) {
    for (int r = 0; r < 4; ++r) {
      for (int64_t j = 0; j < n; ++j) out[r][c0] += p[r * p_stride + j] * to_float(v[j * v_stride + c0]);
    }
  }
}

// Lambdas returning F32xN are inlined into their one caller: no call crosses an ABI boundary.
constexpr auto kLoadFloats = [](const float* x) { return LP_LOADV(x); };
constexpr auto kLoadHalves = [](const uint16_t* x) { return LP_LOADV_F16(x); };
constexpr auto kFloat = [](float x) { return x; };
constexpr auto kHalf = [](uint16_t x) { return f16_to_f32(x); };

void attention_scores_4x64(const float* kt, const float* const q[4], int64_t d, float* out) {
  scores_4x64(kt, q, d, out, kLoadFloats);
}

void attention_values_4(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n, float* const out[4],
                        int64_t dv) {
  values_4(p, p_stride, v, v_stride, n, out, dv, kLoadFloats, kFloat);
}

void attention_scores_4x64_f16(const uint16_t* kt, const float* const q[4], int64_t d, float* out) {
  scores_4x64(kt, q, d, out, kLoadHalves);
}

void attention_values_4_f16(const float* p, int64_t p_stride, const uint16_t* v, int64_t v_stride, int64_t n,
                            float* const out[4], int64_t dv) {
  values_4(p, p_stride, v, v_stride, n, out, dv, kLoadHalves, kHalf);
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
