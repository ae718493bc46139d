#include "quant/mlx_affine.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/float_convert.h"
#include "quant/block_layouts.h"

namespace lp {

bool mlx_bits_supported(int bits) { return bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8; }
bool mlx_group_size_supported(int group) { return group == 32 || group == 64 || group == 128; }

std::optional<std::string> mlx_spec_problem(MlxAffineSpec spec) {
  if (!mlx_bits_supported(spec.bits)) {
    return fmt::format("{} bits is not a width MLX quantizes to (2, 3, 4, 5, 6 or 8)", spec.bits);
  }
  if (!mlx_group_size_supported(spec.group_size)) {
    return fmt::format("group size {} is not one MLX quantizes with (32, 64 or 128)", spec.group_size);
  }
  return std::nullopt;
}

void mlx_affine_quantize_row(const float* w, int64_t n, MlxAffineSpec spec, uint8_t* packed, float* scales,
                             float* biases) {
  // mlx/backend/cpu/quantized.cpp `quantize`: the value of larger magnitude ("edge") lands on a
  // level exactly, and so does 0 when the group straddles it (the scale is nudged to edge / q0).
  const float n_bins = static_cast<float>((1 << spec.bits) - 1);
  const float eps = 1e-7f;
  const int g = spec.group_size;
  std::memset(packed, 0, mlx_packed_row_bytes(n, spec.bits));
  for (int64_t group = 0; group < n / g; ++group) {
    const float* x = w + group * g;
    float w_min = std::numeric_limits<float>::infinity(), w_max = -w_min;
    for (int j = 0; j < g; ++j) {
      w_max = std::max(w_max, x[j]);
      w_min = std::min(w_min, x[j]);
    }
    const bool min_is_edge = std::abs(w_min) > std::abs(w_max);
    float scale = std::max((w_max - w_min) / n_bins, eps);
    scale = min_is_edge ? scale : -scale;
    const float edge = min_is_edge ? w_min : w_max;
    const float q0 = std::rint(edge / scale);
    float bias = 0.0f;
    if (q0 != 0.0f) {
      scale = edge / q0;
      bias = edge;
    }
    for (int j = 0; j < g; ++j) {
      const float level = std::min(std::max(std::rint((x[j] - bias) / scale), 0.0f), n_bins);
      const uint64_t bit = static_cast<uint64_t>(group * g + j) * spec.bits;
      const uint32_t q = static_cast<uint32_t>(level);
      // A level spans at most two bytes (bits <= 8).
      packed[bit / 8] |= static_cast<uint8_t>(q << (bit % 8));
      if (bit % 8 + spec.bits > 8) packed[bit / 8 + 1] |= static_cast<uint8_t>(q >> (8 - bit % 8));
    }
    scales[group] = scale;
    biases[group] = bias;
  }
}

uint32_t mlx_level(const uint8_t* packed, int bits, int64_t i) {
  const uint64_t bit = static_cast<uint64_t>(i) * bits;
  uint32_t v = packed[bit / 8] >> (bit % 8);
  if (bit % 8 + bits > 8) v |= static_cast<uint32_t>(packed[bit / 8 + 1]) << (8 - bit % 8);
  return v & ((1u << bits) - 1);
}

void mlx_affine_dequantize_row(const uint8_t* packed, const float* scales, const float* biases, int64_t n,
                               MlxAffineSpec spec, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t group = i / spec.group_size;
    out[i] = scales[group] * static_cast<float>(mlx_level(packed, spec.bits, i)) + biases[group];
  }
}

// ---- the engine's blocks --------------------------------------------------------------

namespace {

bool exact_in_f16(float v) { return f16_to_f32(f32_to_f16(v)) == v; }

}  // namespace

GgmlType mlx_repack_type(MlxAffineSpec spec, const float* scales, const float* biases, int64_t n_groups) {
  if (spec.bits <= 5) {
    bool exact = true;
    for (int64_t i = 0; i < n_groups && exact; ++i) exact = exact_in_f16(scales[i]) && exact_in_f16(biases[i]);
    if (exact) return spec.bits <= 4 ? GgmlType::Q4_1 : GgmlType::Q5_1;
  }
  return GgmlType::MLX_U8;
}

void mlx_repack_row(const uint8_t* packed, const float* scales, const float* biases, int64_t n, MlxAffineSpec spec,
                    GgmlType type, uint8_t* out) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const int64_t group = b * kQK / spec.group_size;
    const float scale = scales[group], bias = biases[group];
    auto level = [&](int j) { return static_cast<uint8_t>(mlx_level(packed, spec.bits, b * kQK + j)); };
    if (type == GgmlType::Q4_1) {
      BlockQ4_1 q{f32_to_f16(scale), f32_to_f16(bias), {}};
      for (int j = 0; j < kQK / 2; ++j) q.qs[j] = static_cast<uint8_t>(level(j) | (level(j + 16) << 4));
      std::memcpy(out + b * sizeof q, &q, sizeof q);
    } else if (type == GgmlType::Q5_1) {
      BlockQ5_1 q{f32_to_f16(scale), f32_to_f16(bias), {}, {}};
      uint32_t high = 0;
      for (int j = 0; j < kQK; ++j) high |= static_cast<uint32_t>(level(j) >> 4) << j;
      std::memcpy(q.qh, &high, 4);
      for (int j = 0; j < kQK / 2; ++j) q.qs[j] = static_cast<uint8_t>((level(j) & 15) | ((level(j + 16) & 15) << 4));
      std::memcpy(out + b * sizeof q, &q, sizeof q);
    } else {
      BlockMlxU8 q{scale, bias, {}};
      for (int j = 0; j < kQK; ++j) q.q[j] = level(j);
      std::memcpy(out + b * sizeof q, &q, sizeof q);
    }
  }
}

void quantize_row_mlx_u8(const float* src, uint8_t* dst, int64_t n, const float* /*importance*/) {
  const MlxAffineSpec spec{8, kQK};
  std::vector<uint8_t> packed(mlx_packed_row_bytes(n, 8));
  std::vector<float> scales(static_cast<size_t>(n / kQK)), biases(scales.size());
  mlx_affine_quantize_row(src, n, spec, packed.data(), scales.data(), biases.data());
  mlx_repack_row(packed.data(), scales.data(), biases.data(), n, spec, GgmlType::MLX_U8, dst);
}

void dequantize_row_mlx_u8(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    BlockMlxU8 q;
    std::memcpy(&q, src + b * sizeof q, sizeof q);
    for (int j = 0; j < kQK; ++j) dst[b * kQK + j] = q.scale * static_cast<float>(q.q[j]) + q.bias;
  }
}

}  // namespace lp
