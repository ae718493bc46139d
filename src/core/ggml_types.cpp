#include "core/ggml_types.h"

#include "core/text.h"
#include "quant/dequantize.h"
#include "quant/mlx_affine.h"
#include "quant/quantize.h"

#include <algorithm>
#include <array>

namespace lp {
namespace {

// Sizes from ggml-common.h's static_asserts. Q8_1 is 36 bytes there (two fp16 + 32 int8);
// gguf-py's table says 40, an old leftover; we follow the C library that loads the files.
constexpr std::array kTypes = {
    GgmlTypeTraits{GgmlType::F32, "F32", 1, 4, dequantize_row_f32, quantize_row_f32},
    GgmlTypeTraits{GgmlType::F16, "F16", 1, 2, dequantize_row_f16, quantize_row_f16},
    GgmlTypeTraits{GgmlType::Q4_0, "Q4_0", 32, 18, dequantize_row_q4_0, quantize_row_q4_0},
    GgmlTypeTraits{GgmlType::Q4_1, "Q4_1", 32, 20, dequantize_row_q4_1, quantize_row_q4_1},
    GgmlTypeTraits{GgmlType::Q5_0, "Q5_0", 32, 22, dequantize_row_q5_0, quantize_row_q5_0},
    GgmlTypeTraits{GgmlType::Q5_1, "Q5_1", 32, 24, dequantize_row_q5_1, quantize_row_q5_1},
    GgmlTypeTraits{GgmlType::Q8_0, "Q8_0", 32, 34, dequantize_row_q8_0, quantize_row_q8_0},
    GgmlTypeTraits{GgmlType::Q8_1, "Q8_1", 32, 36},
    GgmlTypeTraits{GgmlType::Q2_K, "Q2_K", 256, 84, dequantize_row_q2_k, quantize_row_q2_k},
    GgmlTypeTraits{GgmlType::Q3_K, "Q3_K", 256, 110, dequantize_row_q3_k, quantize_row_q3_k},
    GgmlTypeTraits{GgmlType::Q4_K, "Q4_K", 256, 144, dequantize_row_q4_k, quantize_row_q4_k},
    GgmlTypeTraits{GgmlType::Q5_K, "Q5_K", 256, 176, dequantize_row_q5_k, quantize_row_q5_k},
    GgmlTypeTraits{GgmlType::Q6_K, "Q6_K", 256, 210, dequantize_row_q6_k, quantize_row_q6_k},
    GgmlTypeTraits{GgmlType::Q8_K, "Q8_K", 256, 292, dequantize_row_q8_k, quantize_row_q8_k},
    GgmlTypeTraits{GgmlType::IQ2_XXS, "IQ2_XXS", 256, 66},
    GgmlTypeTraits{GgmlType::IQ2_XS, "IQ2_XS", 256, 74},
    GgmlTypeTraits{GgmlType::IQ3_XXS, "IQ3_XXS", 256, 98},
    GgmlTypeTraits{GgmlType::IQ1_S, "IQ1_S", 256, 50},
    GgmlTypeTraits{GgmlType::IQ4_NL, "IQ4_NL", 32, 18},
    GgmlTypeTraits{GgmlType::IQ3_S, "IQ3_S", 256, 110},
    GgmlTypeTraits{GgmlType::IQ2_S, "IQ2_S", 256, 82},
    GgmlTypeTraits{GgmlType::IQ4_XS, "IQ4_XS", 256, 136},
    GgmlTypeTraits{GgmlType::I8, "I8", 1, 1},
    GgmlTypeTraits{GgmlType::I16, "I16", 1, 2},
    GgmlTypeTraits{GgmlType::I32, "I32", 1, 4},
    GgmlTypeTraits{GgmlType::I64, "I64", 1, 8},
    GgmlTypeTraits{GgmlType::F64, "F64", 1, 8},
    GgmlTypeTraits{GgmlType::IQ1_M, "IQ1_M", 256, 56},
    GgmlTypeTraits{GgmlType::BF16, "BF16", 1, 2, dequantize_row_bf16, quantize_row_bf16},
    GgmlTypeTraits{GgmlType::TQ1_0, "TQ1_0", 256, 54},
    GgmlTypeTraits{GgmlType::TQ2_0, "TQ2_0", 256, 66},
    GgmlTypeTraits{GgmlType::MXFP4, "MXFP4", 32, 17, dequantize_row_mxfp4, quantize_row_mxfp4},
    GgmlTypeTraits{GgmlType::NVFP4, "NVFP4", 64, 36},
    GgmlTypeTraits{GgmlType::Q1_0, "Q1_0", 128, 18},
};

// MLX affine groups repacked for the engine: per 32 values float32 scale and bias, then 32
// levels as bytes (quant/mlx_affine.h). Read and computed, never written.
constexpr std::array kEngineOnlyTypes = {
    GgmlTypeTraits{GgmlType::MLX_U8, "MLX_U8", 32, 40, dequantize_row_mlx_u8, quantize_row_mlx_u8},
};

}  // namespace

std::span<const GgmlTypeTraits> all_ggml_types() { return kTypes; }

const GgmlTypeTraits* find_ggml_type(uint32_t id) {
  auto it = std::ranges::find_if(kTypes, [id](const auto& t) { return static_cast<uint32_t>(t.type) == id; });
  return it == kTypes.end() ? nullptr : &*it;
}

const GgmlTypeTraits& ggml_type_traits(GgmlType type) {
  if (const GgmlTypeTraits* t = find_ggml_type(static_cast<uint32_t>(type))) return *t;
  return *std::ranges::find(kEngineOnlyTypes, type, &GgmlTypeTraits::type);
}

bool is_engine_only_type(GgmlType type) {
  return std::ranges::find(kEngineOnlyTypes, type, &GgmlTypeTraits::type) != kEngineOnlyTypes.end();
}

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
  auto it = std::ranges::find_if(kTypes, [name](const auto& t) { return iequals(t.name, name); });
  if (it == kTypes.end()) return std::nullopt;
  return it->type;
}

std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t n_values) {
  const auto& t = ggml_type_traits(type);
  if (n_values % t.block_size != 0) return std::nullopt;
  return n_values / t.block_size * t.block_bytes;
}

}  // namespace lp
