#pragma once
// MLX's affine quantization (mlx.core.quantize, mode "affine"), the format mlx-lm checkpoints
// hold their weights in: each group of `group_size` consecutive values of a row keeps a scale
// and a bias, and each value a level q in [0, 2^bits) with w ~ scale * q + bias. Levels are
// one little-endian bitstream per row (value i at bits [bits*i, bits*i + bits)), stored as
// uint32 words (2/4/8 bits) or bytes (3/5/6 bits): the same bytes either way.
//
// The engine computes on these weights repacked at load into blocks of 32 values: groups of
// up to 4 bits become GGML Q4_1 blocks and 5-bit groups Q5_1 blocks when their scales and
// biases are exact in fp16 (always, for fp16 checkpoints; nearly always for bf16 ones), so
// they run on those types' SIMD kernels; every other group (6 and 8 bits, or scales fp16
// cannot hold) becomes an engine-only MLX_U8 block: float32 scale and bias and one byte per
// level. Bytes cost 6-bit tensors a third more memory than MLX's packing, for one kernel that
// reads every width.
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

// The block type a tensor with these scales and biases (n_groups values each, widened from the
// checkpoint's dtype) is repacked into: Q4_1 / Q5_1 when exact, else MLX_U8.
GgmlType mlx_repack_type(MlxAffineSpec spec, const float* scales, const float* biases, int64_t n_groups);
// One row repacked into `type`'s blocks (ggml_row_bytes(type, n) bytes).
void mlx_repack_row(const uint8_t* packed, const float* scales, const float* biases, int64_t n, MlxAffineSpec spec,
                    GgmlType type, uint8_t* out);

// MLX_U8 rows as float32 (its GgmlTypeTraits' dequantize), and float32 rows quantized into it
// as MLX quantizes at 8 bits with groups of 32 (for tests of its kernels; importance is ignored).
void dequantize_row_mlx_u8(const uint8_t* src, float* dst, int64_t n);
void quantize_row_mlx_u8(const float* src, uint8_t* dst, int64_t n, const float* importance);

}  // namespace lp
