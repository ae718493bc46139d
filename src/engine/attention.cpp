#include "engine/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <utility>

#include "core/thread_pool.h"
#include "engine/ops.h"
#include "kernels/key_transpose.h"
#include "kernels/kv_rows.h"

namespace lp {
namespace {

// Work units wanted per thread, so threads slowed by other processes are balanced.
constexpr int64_t kUnitsPerThread = 4;
// A block of positions shorter than this is not worth a unit of its own.
constexpr int64_t kMinBlock = 32;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Positions [j0, j0 + n) of one KV head (its row starts `head_offset` bytes into each
// position's) as float rows of `width`: in place for an F32 cache; converted into `scratch`
// otherwise, in one call when the head's positions are contiguous. Returns the rows and their
// stride in floats.
std::pair<const float*, int64_t> head_rows_as_float(GgmlType type, const uint8_t* cache, int64_t stride, int64_t head_offset,
                                                    int64_t j0, int64_t n, int64_t width, float* scratch) {
  const uint8_t* rows = cache + j0 * stride + head_offset;
  if (type == GgmlType::F32) return {reinterpret_cast<const float*>(rows), stride / static_cast<int64_t>(sizeof(float))};
  const auto row_bytes = static_cast<int64_t>(*ggml_row_bytes(type, static_cast<uint64_t>(width)));
  if (stride == row_bytes) {
    kv_row_to_f32(type, rows, scratch, n * width);
  } else {
    for (int64_t j = 0; j < n; ++j) kv_row_to_f32(type, rows + j * stride, scratch + j * width, width);
  }
  return {scratch, width};
}

}  // namespace

CachedAttention::CachedAttention(const AttentionShape& shape, unsigned threads)
    : threads_(std::max(1u, threads)), group_(shape.n_head / shape.n_head_kv) {
  const auto rows = static_cast<size_t>((kTokenBlock * group_ + 3) / 4 * 4);  // padded to a multiple of 4
  scratch_.resize(threads_);
  for (Scratch& s : scratch_) {
    s.keys_t.resize(static_cast<size_t>(shape.head_dim * kTile));
    s.values.resize(static_cast<size_t>(kTile * shape.head_dim_v));
    s.keys.resize(static_cast<size_t>(kTile * shape.head_dim));
    s.pad_out.resize(static_cast<size_t>(4 * shape.head_dim_v));
    s.scores.resize(rows * kTile);
    s.m.resize(rows);
    s.l.resize(rows);
  }
  // Blocks are used only while pairs < wanted units, so units stay below twice that.
  const auto units = static_cast<size_t>(2 * kUnitsPerThread * threads_);
  partial_out_.resize(units * static_cast<size_t>(group_ * shape.head_dim_v));
  partial_m_.resize(units * static_cast<size_t>(group_));
  partial_l_.resize(units * static_cast<size_t>(group_));
}

void CachedAttention::run_unit(const AttentionShape& s, const float* q, int64_t n_past, int64_t t0, int64_t t1, int64_t kvh,
                               int64_t begin, int64_t end, const KvLayerView& kv, Scratch& scratch, float* out, float* m_out,
                               float* l_out) const {
  static_assert(kTile == 64 && kKeyTile == kTile, "attention_scores_4x64 computes tiles of 64 positions");
  const int64_t dk = s.head_dim, dv = s.head_dim_v, rows = (t1 - t0) * group_, padded = (rows + 3) / 4 * 4;
  float* m = scratch.m.data();
  float* l = scratch.l.data();
  float* keys_t = scratch.keys_t.data();
  // Row r is token t0 + r / group_, query head kvh * group_ + r % group_.
  auto q_row = [&](int64_t r) { return q + ((t0 + r / group_) * s.n_head + kvh * group_ + r % group_) * dk; };
  auto out_row = [&](int64_t r) {
    return m_out ? out + r * dv : out + ((t0 + r / group_) * s.n_head + kvh * group_ + r % group_) * dv;
  };
  // The positions a row's token sees: [first, last].
  auto last = [&](int64_t r) { return n_past + t0 + r / group_; };
  auto first = [&](int64_t r) { return s.window > 0 ? std::max<int64_t>(0, last(r) - s.window + 1) : int64_t{0}; };
  std::fill(m, m + rows, kNegInf);
  std::fill(l, l + rows, 0.0f);
  for (int64_t r = 0; r < rows; ++r) std::fill(out_row(r), out_row(r) + dv, 0.0f);

  for (int64_t j0 = begin; j0 < end; j0 += kTile) {
    const int64_t jn = std::min(kTile, end - j0);
    // Keys of the tile transposed, keys[d * kTile + jj]: as stored for tiled F16 keys (j0 is a
    // tile's first position then), else transposed into scratch, F16 converted on the way,
    // quantized rows dequantized first.
    const uint16_t* key_tile = nullptr;
    if (kv.key_tiles) {
      key_tile = reinterpret_cast<const uint16_t*>(kv.k + j0 / kTile * kv.k_stride + kvh * kv.k_head_stride);
    } else if (kv.type == GgmlType::F16) {
      const uint8_t* rows = kv.k + j0 * kv.k_stride + kvh * kv.k_head_stride;
      transpose_keys_f16(reinterpret_cast<const uint16_t*>(rows), kv.k_stride / 2, jn, dk, keys_t);
    } else {
      const auto [keys, key_stride] =
          head_rows_as_float(kv.type, kv.k, kv.k_stride, kvh * kv.k_head_stride, j0, jn, dk, scratch.keys.data());
      transpose_keys_f32(keys, key_stride, jn, dk, keys_t);
    }
    // Scores of every row (rows padded to a multiple of 4 repeat the last query).
    float* scores = scratch.scores.data();
    for (int64_t r = 0; r < rows; r += 4) {
      const float* qs[4] = {q_row(r), q_row(std::min(r + 1, rows - 1)), q_row(std::min(r + 2, rows - 1)),
                            q_row(std::min(r + 3, rows - 1))};
      if (key_tile) {
        attention_scores_4x64_f16(key_tile, qs, dk, scores + r * kTile);
      } else {
        attention_scores_4x64(keys_t, qs, dk, scores + r * kTile);
      }
    }
    for (int64_t r = 0; r < padded; ++r) {
      float* sc = scores + r * kTile;
      // The part of the tile this row sees; the rest gets weight 0.
      const int64_t lo = r < rows ? std::max<int64_t>(first(r), j0) - j0 : 0;
      const int64_t hi = r < rows ? std::min<int64_t>(last(r) + 1, j0 + jn) - j0 : 0;
      if (lo >= hi) {
        std::fill(sc, sc + jn, 0.0f);
        continue;
      }
      float tile_max = scale_max_row(sc + lo, s.scale, hi - lo);
      if (s.softcap > 0) {
        for (int64_t jj = lo; jj < hi; ++jj) sc[jj] = s.softcap * std::tanh(sc[jj] / s.softcap);
        tile_max = *std::max_element(sc + lo, sc + hi);
      }
      // Online softmax: raise the row's maximum to the tile's, rescaling what was summed.
      if (tile_max > m[r]) {
        const float c = std::exp(m[r] - tile_max);  // 0 on the row's first tile (m = -inf)
        l[r] *= c;
        scale_row(out_row(r), c, dv);
        m[r] = tile_max;
      }
      l[r] += exp_shifted_sum_row(sc + lo, m[r], hi - lo);
      std::fill(sc, sc + lo, 0.0f);
      std::fill(sc + hi, sc + jn, 0.0f);
    }
    // Weighted values, four rows at a time (padding rows write to scratch): F16 rows converted
    // in registers, other types as float rows.
    const uint16_t* value_halves = nullptr;
    std::pair<const float*, int64_t> values{nullptr, 0};
    if (kv.type == GgmlType::F16) {
      value_halves = reinterpret_cast<const uint16_t*>(kv.v + j0 * kv.v_stride + kvh * kv.v_head_stride);
    } else {
      values = head_rows_as_float(kv.type, kv.v, kv.v_stride, kvh * kv.v_head_stride, j0, jn, dv, scratch.values.data());
    }
    for (int64_t r = 0; r < rows; r += 4) {
      float* outs[4];
      for (int64_t i = 0; i < 4; ++i) outs[i] = r + i < rows ? out_row(r + i) : scratch.pad_out.data() + i * dv;
      if (value_halves) {
        attention_values_4_f16(scores + r * kTile, kTile, value_halves, kv.v_stride / 2, jn, outs, dv);
      } else {
        attention_values_4(scores + r * kTile, kTile, values.first, values.second, jn, outs, dv);
      }
    }
  }
  if (m_out) {
    std::copy(m, m + rows, m_out);
    std::copy(l, l + rows, l_out);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float denominator = l[r];
    if (s.sinks) {  // the sink's share, relative to the row's maximum (either may be the larger)
      const float sink = s.sinks[kvh * group_ + r % group_], top = std::max(m[r], sink);
      const float c = std::exp(m[r] - top);
      denominator = l[r] * c + std::exp(sink - top);
      scale_row(out_row(r), c, dv);
    }
    scale_row(out_row(r), 1.0f / denominator, dv);
  }
}

void CachedAttention::run(const AttentionShape& s, const float* q, int64_t n, int64_t n_past, const KvLayerView& kv, float* out,
                          ThreadPool& pool) {
  const int64_t pairs = n * s.n_head_kv;
  const int64_t wanted = kUnitsPerThread * static_cast<int64_t>(threads_);
  const int64_t dv = s.head_dim_v;
  // Many pairs: blocks of tokens (as many per unit as still leaves `wanted` units). Few:
  // one token per unit and its positions split into blocks.
  const int64_t tokens_per_unit = std::clamp<int64_t>(pairs / wanted, 1, kTokenBlock);
  const int64_t blocks =
      pairs >= wanted ? 1 : std::max<int64_t>(1, std::min((wanted + pairs - 1) / pairs, (n_past + n) / kMinBlock));
  const int64_t token_blocks = (n + tokens_per_unit - 1) / tokens_per_unit;
  const int64_t units = token_blocks * s.n_head_kv * blocks;

  // Tiled keys are read a whole tile at a time, so a unit's positions start on a tile's first
  // (those before what a row sees are masked like any others).
  const auto unit_start = [&](int64_t j) { return kv.key_tiles ? j / kTile * kTile : j; };

  // Units are handed out by a counter, the last tokens (which see the most positions) first.
  std::atomic<int64_t> next{0};
  pool.run([&](unsigned ti, unsigned) {
    Scratch& scratch = scratch_[ti];
    for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < units; i = next.fetch_add(1, std::memory_order_relaxed)) {
      const int64_t u = units - 1 - i;
      const int64_t b = u % blocks, kvh = (u / blocks) % s.n_head_kv, tb = u / blocks / s.n_head_kv;
      const int64_t t0 = tb * tokens_per_unit, t1 = std::min(n, t0 + tokens_per_unit);
      if (blocks == 1) {
        const int64_t begin = s.window > 0 ? std::max<int64_t>(0, n_past + t0 - s.window + 1) : 0;
        run_unit(s, q, n_past, t0, t1, kvh, unit_start(begin), n_past + t1, kv, scratch, out, nullptr, nullptr);
        continue;
      }
      // One token (t0): split the positions it sees.
      const int64_t pos = n_past + t0, start = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0, len = pos - start + 1;
      const int64_t block_end = b + 1 == blocks ? start + len : unit_start(start + len * (b + 1) / blocks);
      run_unit(s, q, n_past, t0, t1, kvh, unit_start(start + len * b / blocks), block_end, kv, scratch,
               partial_out_.data() + u * group_ * dv, partial_m_.data() + u * group_, partial_l_.data() + u * group_);
    }
  });
  if (blocks == 1) return;

  // Merge each head's blocks: out = sum_b e^(m_b - M) acc_b / sum_b e^(m_b - M) l_b.
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t t = pair / s.n_head_kv, kvh = pair % s.n_head_kv;
    for (int64_t g = 0; g < group_; ++g) {
      float* o = out + (t * s.n_head + kvh * group_ + g) * dv;
      const float sink = s.sinks ? s.sinks[kvh * group_ + g] : kNegInf;
      float max = sink;
      for (int64_t b = 0; b < blocks; ++b) max = std::max(max, partial_m_[static_cast<size_t>((pair * blocks + b) * group_ + g)]);
      std::fill(o, o + dv, 0.0f);
      float sum = s.sinks ? std::exp(sink - max) : 0.0f;
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t u = pair * blocks + b;
        const float mb = partial_m_[static_cast<size_t>(u * group_ + g)];
        if (mb == kNegInf) continue;  // an empty block
        const float c = std::exp(mb - max);
        sum += c * partial_l_[static_cast<size_t>(u * group_ + g)];
        axpy_row(c, partial_out_.data() + (u * group_ + g) * dv, o, dv);
      }
      scale_row(o, 1.0f / sum, dv);
    }
  }
}

}  // namespace lp
