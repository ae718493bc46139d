#pragma once
// Float activations quantized to the 8-bit type GGML pairs with each weight type, so that a
// quantized weight row and an activation row meet in integer dot products:
//   Q8_0 for Q4_0, Q5_0, Q8_0, MXFP4 weights; Q8_1 for Q4_1, Q5_1; Q8_K for the K-quants.
// These scalar versions compute what ggml's quantize_row_q8_0_ref / _q8_1_ref / _q8_K_ref
// compute, byte for byte; SIMD versions must produce the same bytes.
#include <cstdint>

#include "quant/block_layouts.h"

namespace lp {

// ggml's block_q8_1: like Q8_0 plus s = d * sum(qs), which carries the weights' offset
// term (m * sum(x)) of Q4_1 and Q5_1 without a second pass over the activations.
struct BlockQ8_1 { uint16_t d, s; int8_t qs[kQK]; };
static_assert(sizeof(BlockQ8_1) == 36);

// `n` floats (a multiple of the block size) into blocks at `dst`.
using QuantizeActivationsFn = void (*)(const float* src, uint8_t* dst, int64_t n);

void quantize_activations_q8_0(const float* src, uint8_t* dst, int64_t n);
void quantize_activations_q8_1(const float* src, uint8_t* dst, int64_t n);
void quantize_activations_q8_k(const float* src, uint8_t* dst, int64_t n);

// Q8_1 blocks back to float (Q8_0 and Q8_K have theirs in quant/dequantize.h); tests use it
// to check dot products against dequantized operands.
void dequantize_activations_q8_1(const uint8_t* src, float* dst, int64_t n);

}  // namespace lp
