#pragma once
// The shape of a prefill kernel: a panel of a few weight rows against every token of a
// batch. Unpacking quantized weights is a large share of a tile kernel's work, repeated for
// every tile of tokens; a panel kernel unpacks its rows once per call into a layout whose
// vector lanes are rows, so the integer products, the block scales and the offsets of all its
// rows take one instruction each per token. (F16 has nothing to unpack: its panel kernel
// multiplies register tiles of rows by tokens straight from the weights.)
#include <cstdint>

namespace lp {

// Rows one panel kernel call takes (one 32-bit lane per row of a 256-bit vector).
constexpr int kPanelRows = 8;

// Batches of fewer tokens take the tile kernels: the panel's unpacking must be shared by
// enough tokens to pay for itself, and decode (one token) keeps its own path.
constexpr int64_t kPanelMinTokens = 16;

// out[t * out_stride + r] = dot(weight row r, activation row t) for r < n_rows
// (1..kPanelRows) and t < n_tokens. Weight row r starts at weights + r * row_bytes;
// activations are laid out as for DotTileFn, and written by the panel's batch quantizer
// (panel_quantizer_for) where it has one: x86's 32-value panels take the values as a + 128
// (all five types with VNNI, all but Q8_0 on AVX2), quantized so once per call rather than
// copied so once per panel of eight rows (the copy took a third of a Q8_0 prefill with VNNI,
// bench/RESULTS.md).
using PanelGemmFn = void (*)(int64_t n, const uint8_t* weights, uint64_t row_bytes, int n_rows, const uint8_t* act,
                             uint64_t act_stride, int64_t n_tokens, float* out, int64_t out_stride);

}  // namespace lp
