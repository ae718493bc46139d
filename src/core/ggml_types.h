#pragma once
// The GGML tensor types: one row per type (id, name, values per block, bytes per block).
// This is the single table every other part of the tool asks about a type; the
// quantization work adds its quantize/dequantize functions to the same rows.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace lp {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41,
  // Engine-only block types, never in a GGUF file: MLX affine weights repacked at load as
  // byte levels (quant/mlx_affine.h).
  MLX_U8 = 1008,
};

// One row of float32 values to and from blocks; `n` is a multiple of the block size.
// `importance` (n values or nullptr) weights the squared error a quantizer minimizes.
using DequantizeRowFn = void (*)(const uint8_t* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, uint8_t* dst, int64_t n, const float* importance);

struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;
  uint32_t block_size;   // values per block
  uint32_t block_bytes;  // bytes per block
  DequantizeRowFn dequantize = nullptr;  // nullptr: a type we can read past but not compute with
  QuantizeRowFn quantize = nullptr;
};

// The types GGML defines (what a GGUF file may hold); the engine-only types are not among them.
std::span<const GgmlTypeTraits> all_ggml_types();
// nullptr when the id is not a type GGML currently defines (removed ids 4, 5, 31-33, 36-38 included).
const GgmlTypeTraits* find_ggml_type(uint32_t id);
// Any type, GGML's or engine-only.
const GgmlTypeTraits& ggml_type_traits(GgmlType type);
std::optional<GgmlType> ggml_type_from_name(std::string_view name);  // GGML's, case-insensitive
bool is_engine_only_type(GgmlType type);

// Bytes of a row of `n_values` values, or nullopt when n_values is not a whole number of blocks.
std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t n_values);

}  // namespace lp
