#pragma once
// The rows of the KV cache: what one head's keys or values at one position are stored as.
// F32 and F16 hold the values; Q8_0 and Q4_0 (llama.cpp's --cache-type-k/-v q8_0 and q4_0) hold
// them in GGML's blocks of 32, quantized as ggml's reference quantizers do (round to nearest,
// one scale per block), so a cache row is the bytes llama.cpp would store. Attention converts a
// tile of rows back to float once and shares it among every query that reads it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ggml_types.h"
#include "kernels/key_transpose.h"

namespace lp {

// The cache types by llama.cpp's names for them (--cache-type-k): f32, f16, q8_0, q4_0.
const std::vector<std::string>& kv_cache_type_names();
// nullopt for a name that is not one of them.
std::optional<GgmlType> kv_cache_type_from_name(std::string_view name);
std::string kv_cache_type_name(GgmlType type);
// InputError unless rows of key_dim and value_dim values can be stored as `type` (the
// quantized types hold whole blocks of 32).
void check_kv_cache_fits(GgmlType type, int64_t key_dim, int64_t value_dim);

// `n` floats into `type`'s row bytes at `dst` (n a multiple of the block size).
void kv_row_from_f32(GgmlType type, const float* src, uint8_t* dst, int64_t n);
// `n` values of `type` back to float (exactly the type's dequantization).
void kv_row_to_f32(GgmlType type, const uint8_t* src, float* dst, int64_t n);

// F16 keys are kept transposed, in tiles of kKeyTile positions, so attention multiplies a tile
// as it is stored, converting in registers (engine/attention.cpp): no transpose per query
// block. A KV head's tile t holds positions [64 t, 64 t + 64): value i of position j at
// [i * 64 + j % 64]. The other types keep one row per position.
bool keys_in_tiles(GgmlType type);
// The positions a KV head's keys take room for in a cache of `ctx`: whole tiles when tiled.
int64_t kv_key_positions(GgmlType type, int64_t ctx);
// One key (`width` floats) into its column of a tile of F16 keys (rounded as kv_row_from_f32).
void store_key_in_tile(const float* key, uint16_t* tile, int64_t column, int64_t width);

// ggml's quantize_row_q4_0_ref: d = (the value of largest magnitude) / -8, q = x / d + 8.5
// truncated, at most 15.
void quantize_row_q4_0_nearest(const float* src, uint8_t* dst, int64_t n);

namespace kv_rows_scalar {
void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n);
void q4_0_to_f32(const uint8_t* src, float* dst, int64_t n);
}  // namespace kv_rows_scalar

namespace kv_rows_avx2 {
void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n);
void q4_0_to_f32(const uint8_t* src, float* dst, int64_t n);
}  // namespace kv_rows_avx2

}  // namespace lp
