#pragma once
// MLX's affine quantization (mlx.core.quantize, mode "affine"), the format mlx-lm checkpoints
// hold their weights in: each group of `group_size` consecutive values of a row keeps a scale
// and a bias, and each value a level q in [0, 2^bits) with w ~ scale * q + bias. Levels are
// one little-endian bitstream per row (value i at bits [bits*i, bits*i + bits)), stored as
// uint32 words (2/4/8 bits) or bytes (3/5/6 bits): the same bytes either way.
//
// The engine computes on these weights repacked into blocks of 32 values (mlx_blocks_*):
// 4- and 5-bit groups become GGML Q4_1 / Q5_1 blocks when their scales and biases are exact
// in fp16 (they always are for fp16 checkpoints), so they run on those types' SIMD kernels;
// everything else becomes one of the engine-only MLX_A* block types (float32 scale and bias,
// then the group's bitstream slice), whose kernels live beside the legacy types'.
#include <cstdint>
#include <optional>
#include <string>

#include "core/ggml_types.h"

namespace lp {

struct MlxAffineSpec {
  int bits = 4;
  int group_size = 64;
  bool operator==(const MlxAffineSpec&) const = default;
};

bool mlx_bits_supported(int bits);         // 2, 3, 4, 5, 6, 8 (what mx.quantize accepts)
bool mlx_group_size_supported(int group);  // 32, 64, 128
// One clear sentence when the pair is not one mx.quantize accepts, else nullopt.
std::optional<std::string> mlx_spec_problem(MlxAffineSpec spec);

// Bytes of a row of `n` levels (n * bits / 8; n is a multiple of the group size).
inline uint64_t mlx_packed_row_bytes(int64_t n, int bits) { return static_cast<uint64_t>(n) * bits / 8; }

// One row of n values (the weights as the checkpoint's dtype holds them, widened to float)
// quantized exactly as MLX's CPU kernel does: scale and bias in float32 (the caller rounds them
// to the dtype it stores), levels computed with the unrounded ones.
void mlx_affine_quantize_row(const float* w, int64_t n, MlxAffineSpec spec, uint8_t* packed, float* scales,
                             float* biases);

// Level i of a packed row.
uint32_t mlx_level(const uint8_t* packed, int bits, int64_t i);

// scale * q + bias per value, in float32 as MLX's kernels compute it.
void mlx_affine_dequantize_row(const uint8_t* packed, const float* scales, const float* biases, int64_t n,
                               MlxAffineSpec spec, float* out);

// ---- the engine's blocks --------------------------------------------------------------

// The engine-only block type for `bits` (MLX_A2 ... MLX_A8): per 32 values a float32 scale,
// a float32 bias and the 4 * bits bytes of their bitstream.
GgmlType mlx_block_type(int bits);
// The block type a tensor with these scales and biases (n_groups values each, widened from the
// checkpoint's dtype) is repacked into: Q4_1 / Q5_1 when exact, else mlx_block_type(bits).
GgmlType mlx_repack_type(MlxAffineSpec spec, const float* scales, const float* biases, int64_t n_groups);
// One row repacked into `type`'s blocks (ggml_row_bytes(type, n) bytes).
void mlx_repack_row(const uint8_t* packed, const float* scales, const float* biases, int64_t n, MlxAffineSpec spec,
                    GgmlType type, uint8_t* out);

// Rows of the MLX_A* types as float32 (their GgmlTypeTraits' dequantize).
void dequantize_row_mlx_a2(const uint8_t* src, float* dst, int64_t n);
void dequantize_row_mlx_a3(const uint8_t* src, float* dst, int64_t n);
void dequantize_row_mlx_a4(const uint8_t* src, float* dst, int64_t n);
void dequantize_row_mlx_a5(const uint8_t* src, float* dst, int64_t n);
void dequantize_row_mlx_a6(const uint8_t* src, float* dst, int64_t n);
void dequantize_row_mlx_a8(const uint8_t* src, float* dst, int64_t n);

}  // namespace lp
