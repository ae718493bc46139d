#pragma once
// The shape every dot-product kernel has: one weight row against a few activation rows at
// once. Loading and unpacking a quantized weight block is most of a kernel's work, so a
// tile of tokens shares it (prefill), and one token (decode) is the tile of width 1.
#include <cstdint>

namespace lp {

// The most tokens one kernel call takes (a kernel may split them into smaller tiles when its
// instruction set has too few registers for eight tokens' accumulators).
constexpr int kMaxTileTokens = 8;

// out[t * out_stride] = dot(weight row, activation row t) for t < n_tokens (1..kMaxTileTokens).
// `weights` is one row of n values in the weight type; activation row t starts at
// act + t * act_stride bytes, in the activation type the kernel table pairs with the weight
// type (float32 for float weights).
using DotTileFn = void (*)(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t act_stride, int n_tokens,
                           float* out, int64_t out_stride);

// A single-token dot product in the form of ggml's scalar ggml_vec_dot_<weight>_<activation>.
using VecDotFn = float (*)(int64_t n, const uint8_t* weights, const uint8_t* act);

// A tile kernel made of one vec_dot per token (the scalar path).
template <VecDotFn dot>
void tile_of_vec_dots(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t act_stride, int n_tokens,
                      float* out, int64_t out_stride) {
  for (int t = 0; t < n_tokens; ++t) out[t * out_stride] = dot(n, weights, act + t * act_stride);
}

}  // namespace lp
