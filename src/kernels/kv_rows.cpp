#include "kernels/kv_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/float_convert.h"
#include "core/text.h"
#include "kernels/activation_quant.h"
#include "kernels/half_vectors.h"
#include "kernels/kernel_table.h"
#include "quant/block_layouts.h"
#include "quant/dequantize.h"

namespace lp {

const std::vector<std::string>& kv_cache_type_names() {
  static const std::vector<std::string> names = {"f16", "f32", "q8_0", "q4_0"};
  return names;
}

std::optional<GgmlType> kv_cache_type_from_name(std::string_view name) {
  for (const std::string& known : kv_cache_type_names()) {
    if (name == known) return ggml_type_from_name(name);
  }
  return std::nullopt;
}

std::string kv_cache_type_name(GgmlType type) { return ascii_lower(std::string(ggml_type_traits(type).name)); }

void check_kv_cache_fits(GgmlType type, int64_t key_dim, int64_t value_dim) {
  if (!kv_cache_type_from_name(kv_cache_type_name(type))) fail("{} is not a KV cache type", ggml_type_traits(type).name);
  const auto fits = [&](int64_t width) { return width > 0 && ggml_row_bytes(type, static_cast<uint64_t>(width)).has_value(); };
  if (!fits(key_dim) || !fits(value_dim)) {
    fail("a {} KV cache stores whole blocks of {} values, and this model's heads have {} (keys) and {} (values); use f16",
         kv_cache_type_name(type), ggml_type_traits(type).block_size, key_dim, value_dim);
  }
}

bool keys_in_tiles(GgmlType type) { return type == GgmlType::F16; }

int64_t kv_key_positions(GgmlType type, int64_t ctx) {
  return keys_in_tiles(type) ? (ctx + kKeyTile - 1) / kKeyTile * kKeyTile : ctx;
}

void store_key_in_tile(const float* key, uint16_t* tile, int64_t column, int64_t width) {
  for (int64_t i = 0; i < width; ++i) tile[i * kKeyTile + column] = f32_to_f16(key[i]);
}

void quantize_row_q4_0_nearest(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const auto lo = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * inverse + 8.5f))));
      const auto hi =
          static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x[j + kQK / 2] * inverse + 8.5f))));
      blocks[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

namespace kv_rows_scalar {
void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n) { dequantize_row_q8_0(src, dst, n); }
void q4_0_to_f32(const uint8_t* src, float* dst, int64_t n) { dequantize_row_q4_0(src, dst, n); }
}  // namespace kv_rows_scalar

namespace {

using BlocksToFloat = void (*)(const uint8_t*, float*, int64_t);

// Chosen per call from the active instruction set, so LP_KERNELS=scalar forces the reference.
BlocksToFloat blocks_to_float(GgmlType type) {
#if defined(LP_X86_KERNELS)
  if (active_kernel_isa() >= KernelIsa::Avx2) return type == GgmlType::Q8_0 ? kv_rows_avx2::q8_0_to_f32 : kv_rows_avx2::q4_0_to_f32;
#endif
  return type == GgmlType::Q8_0 ? kv_rows_scalar::q8_0_to_f32 : kv_rows_scalar::q4_0_to_f32;
}

}  // namespace

void kv_row_from_f32(GgmlType type, const float* src, uint8_t* dst, int64_t n) {
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      f32_to_f16_row(src, reinterpret_cast<uint16_t*>(dst), n);
      return;
    case GgmlType::Q8_0:
      quantize_activations_q8_0(src, dst, n);
      return;
    default:
      quantize_row_q4_0_nearest(src, dst, n);
  }
}

void kv_row_to_f32(GgmlType type, const uint8_t* src, float* dst, int64_t n) {
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      f16_to_f32_row(reinterpret_cast<const uint16_t*>(src), dst, n);
      return;
    default:
      blocks_to_float(type)(src, dst, n);
  }
}

}  // namespace lp
