#pragma once
// AVX-512 VNNI products with row-interleaved Q4_K (layout in interleaved_q4_k.h). Included
// only by the AVX-512 unit, after x86_panels.h, whose panel kernel takes batches.
//
// One token (decode): per super-block and 32-byte piece, the low and high nibbles of eight
// rows meet the token's four activation bytes (broadcast) in one vpdpbusd each; the 4 x 2
// sub-block accumulators are independent chains. A sub-block's integer sums then meet the
// eight rows' scales in one vpmulld, the minimums' term comes from the activation's bsums
// through vpmaddwd, and d, dmin of the eight rows are one vector each. Integer sums per
// super-block are exact, as in the scalar reference; only the float additions' order differs.
#include "kernels/interleaved_q4_k.h"
#include "kernels/x86_panels.h"

namespace lp {
namespace {

// The eight rows' scales and mins of one super-block, unpacked to [sub-block][row] bytes:
// the word formulas of unpack_scales_mins_k4_words applied to packed byte k of all eight
// rows at once (16-bit shifts: the bits a shift brings in from the next byte are masked off).
struct RowScalesMins {
  alignas(32) uint8_t scales[8][kInterleavedRows];
  alignas(32) uint8_t mins[8][kInterleavedRows];
};

inline void unpack_row_scales(const BlockQ4_Kx8& x, RowScalesMins& out) {
  const __m256i bytes0 = load256(x.scales[0]), bytes4 = load256(x.scales[4]), bytes8 = load256(x.scales[8]);
  const __m256i six_bits = _mm256_set1_epi8(0x3F), low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
  store256(out.scales[0], _mm256_and_si256(bytes0, six_bits));
  store256(out.scales[4], _mm256_or_si256(_mm256_and_si256(bytes8, low4),
                                          _mm256_and_si256(_mm256_srli_epi16(bytes0, 2), bits45)));
  store256(out.mins[0], _mm256_and_si256(bytes4, six_bits));
  store256(out.mins[4], _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes8, 4), low4),
                                        _mm256_and_si256(_mm256_srli_epi16(bytes4, 2), bits45)));
}

inline __m128i load64(const void* p) { return _mm_loadl_epi64(static_cast<const __m128i*>(p)); }

inline __m256i scales_of_rows(const uint8_t (&scales)[kInterleavedRows]) { return _mm256_cvtepu8_epi32(load64(scales)); }

void matvec_q4_kx8(int64_t n, const BlockQ4_Kx8* x, const BlockQ8_K* a, float* out) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    __m256i low[4], high[4];
    for (int c = 0; c < 4; ++c) low[c] = high[c] = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
      for (int c = 0; c < 4; ++c) {
        const __m256i q = load256(x[b].qs[c][k]);
        low[c] = _mm256_dpbusd_epi32(low[c], _mm256_and_si256(q, nibble),
                                     _mm256_set1_epi32(load_i32(a[b].qs + 64 * c + 4 * k)));
        high[c] = _mm256_dpbusd_epi32(high[c], _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble),
                                      _mm256_set1_epi32(load_i32(a[b].qs + 64 * c + 32 + 4 * k)));
      }
    }
    RowScalesMins u;
    unpack_row_scales(x[b], u);
    __m256i scaled = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      scaled = _mm256_add_epi32(scaled, _mm256_mullo_epi32(low[c], scales_of_rows(u.scales[2 * c])));
      scaled = _mm256_add_epi32(scaled, _mm256_mullo_epi32(high[c], scales_of_rows(u.scales[2 * c + 1])));
    }
    // Sub-blocks 2p and 2p + 1 per vpmaddwd: each row's two mins against the activation's
    // sums over those sub-blocks (two bsums each, at most 8160 in magnitude: int16).
    __m256i mins = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      const int16_t* bs = a[b].bsums + 4 * p;
      const auto first = static_cast<uint16_t>(bs[0] + bs[1]), second = static_cast<uint16_t>(bs[2] + bs[3]);
      const __m256i row_mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(load64(u.mins[2 * p]), load64(u.mins[2 * p + 1])));
      mins = _mm256_add_epi32(mins, _mm256_madd_epi16(row_mins, _mm256_set1_epi32(static_cast<int32_t>(first | (uint32_t{second} << 16)))));
    }
    const __m256 ad = _mm256_set1_ps(a[b].d);
    acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].d)), ad), _mm256_cvtepi32_ps(scaled), acc);
    acc = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].dmin)), ad), _mm256_cvtepi32_ps(mins), acc);
  }
  _mm256_storeu_ps(out, acc);
}

// A batch: the eight rows go into the prefill panel's layout (already lanes = rows, so a
// copy with the nibbles split) and the panel kernel takes the tokens.
void fill_panel_q4_kx8(const BlockQ4_Kx8* x, int64_t blocks, PanelSuperBlock* panel) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < blocks; ++b) {
    PanelSuperBlock& p = panel[b];
    for (int c = 0; c < 4; ++c)
      for (int k = 0; k < 8; ++k) {
        const __m256i q = load256(x[b].qs[c][k]);
        store256(p.levels[16 * c + k], _mm256_and_si256(q, nibble));
        store256(p.levels[16 * c + 8 + k], _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble));
      }
    RowScalesMins u;
    unpack_row_scales(x[b], u);
    const __m256 d = _mm256_cvtph_ps(load128(x[b].d));
    for (int j = 0; j < 8; ++j) _mm256_store_ps(p.scale[j], _mm256_mul_ps(d, _mm256_cvtepi32_ps(scales_of_rows(u.scales[j]))));
    for (int j = 0; j < 8; ++j)
      for (int r = 0; r < kInterleavedRows; ++r) p.offset_coef[j][r][0] = p.offset_coef[j][r][1] = u.mins[j][r];
    _mm256_store_ps(p.offset_scale, _mm256_sub_ps(_mm256_setzero_ps(), _mm256_cvtph_ps(load128(x[b].dmin))));
  }
}

void gemm_q4_kx8(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t stride, int64_t n_tokens, float* out,
                 int64_t out_stride) {
  const auto* x = reinterpret_cast<const BlockQ4_Kx8*>(group);
  if (n_tokens >= kPanelMinTokens) {
    const int64_t blocks = n / kQK_K;
    PanelSuperBlock* panel = panel_scratch(blocks);
    fill_panel_q4_kx8(x, blocks, panel);
    panel_times_all_tokens<32>(panel, blocks, act, stride, n_tokens, out, out_stride, 0xFF);
    return;
  }
  for (int64_t t = 0; t < n_tokens; ++t)
    matvec_q4_kx8(n, x, reinterpret_cast<const BlockQ8_K*>(act + static_cast<uint64_t>(t) * stride), out + t * out_stride);
}

constexpr SimdInterleaved kX86Interleaved[] = {{GgmlType::Q4_K, gemm_q4_kx8}};

}  // namespace
}  // namespace lp
