#include "engine/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/thread_pool.h"
#include "engine/ops.h"
#include "kernels/half_vectors.h"

namespace lp {
namespace {

// Work units wanted per thread, so threads slowed by other processes are balanced.
constexpr int64_t kUnitsPerThread = 2;
// A block of positions shorter than this is not worth a unit of its own.
constexpr int64_t kMinBlock = 32;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

}  // namespace

CachedAttention::CachedAttention(const AttentionShape& shape, unsigned threads)
    : threads_(std::max(1u, threads)), group_(shape.n_head / shape.n_head_kv) {
  scratch_.resize(threads_);
  for (Scratch& s : scratch_) {
    s.keys.resize(static_cast<size_t>(kTile * shape.head_dim));
    s.values.resize(static_cast<size_t>(kTile * shape.head_dim_v));
    s.scores.resize(static_cast<size_t>(group_ * kTile));
    s.m.resize(static_cast<size_t>(group_));
    s.l.resize(static_cast<size_t>(group_));
  }
  // Blocks are used only while pairs < wanted units, so units stay below twice that.
  const auto units = static_cast<size_t>(2 * kUnitsPerThread * threads_);
  partial_out_.resize(units * static_cast<size_t>(group_ * shape.head_dim_v));
  partial_m_.resize(units * static_cast<size_t>(group_));
  partial_l_.resize(units * static_cast<size_t>(group_));
}

// Positions [begin, end) of token t for the query heads of KV head kvh. Writes each head's
// output: normalized into out (m_out == nullptr), or unnormalized with its running maximum
// and sum into out / m_out / l_out (a block, merged later).
void CachedAttention::run_unit(const AttentionShape& s, const float* q, int64_t t, int64_t kvh, int64_t begin, int64_t end,
                               const KvLayerView& kv, Scratch& scratch, float* out, float* m_out, float* l_out) const {
  const int64_t dk = s.head_dim, dv = s.head_dim_v;
  float* m = scratch.m.data();
  float* l = scratch.l.data();
  const float* q0 = q + (t * s.n_head + kvh * group_) * dk;
  std::fill(m, m + group_, kNegInf);
  std::fill(l, l + group_, 0.0f);
  for (int64_t g = 0; g < group_; ++g) std::fill(out + g * dv, out + (g + 1) * dv, 0.0f);

  for (int64_t j0 = begin; j0 < end; j0 += kTile) {
    const int64_t jn = std::min(kTile, end - j0);
    // Scores of the tile for every head of the group, each key read once.
    for (int64_t jj = 0; jj < jn; ++jj) {
      const float* key;
      if (kv.k_float) {
        key = kv.k_float + (j0 + jj) * kv.k_stride + kvh * dk;
      } else {
        f16_to_f32_row(kv.k_half + (j0 + jj) * kv.k_stride + kvh * dk, scratch.keys.data() + jj * dk, dk);
        key = scratch.keys.data() + jj * dk;
      }
      for (int64_t g = 0; g < group_; ++g) {
        float score = dot_row(q0 + g * dk, key, dk) * s.scale;
        if (s.softcap > 0) score = s.softcap * std::tanh(score / s.softcap);
        scratch.scores[static_cast<size_t>(g * kTile + jj)] = score;
      }
    }
    // Online softmax: raise each head's maximum to the tile's, rescaling what was summed.
    for (int64_t g = 0; g < group_; ++g) {
      float* sc = scratch.scores.data() + g * kTile;
      const float tile_max = *std::max_element(sc, sc + jn);
      if (tile_max > m[g]) {
        const float c = std::exp(m[g] - tile_max);  // 0 on the first tile (m = -inf)
        l[g] *= c;
        scale_row(out + g * dv, c, dv);
        m[g] = tile_max;
      }
      for (int64_t jj = 0; jj < jn; ++jj) sc[jj] -= m[g];
      exp_row(sc, sc, jn);
      float sum = 0.0f;
      for (int64_t jj = 0; jj < jn; ++jj) sum += sc[jj];
      l[g] += sum;
    }
    // Weighted values, each value row read once.
    for (int64_t jj = 0; jj < jn; ++jj) {
      const float* value;
      if (kv.v_float) {
        value = kv.v_float + (j0 + jj) * kv.v_stride + kvh * dv;
      } else {
        f16_to_f32_row(kv.v_half + (j0 + jj) * kv.v_stride + kvh * dv, scratch.values.data() + jj * dv, dv);
        value = scratch.values.data() + jj * dv;
      }
      for (int64_t g = 0; g < group_; ++g) axpy_row(scratch.scores[static_cast<size_t>(g * kTile + jj)], value, out + g * dv, dv);
    }
  }
  if (m_out) {
    std::copy(m, m + group_, m_out);
    std::copy(l, l + group_, l_out);
    return;
  }
  for (int64_t g = 0; g < group_; ++g) scale_row(out + g * dv, 1.0f / l[g], dv);
}

void CachedAttention::run(const AttentionShape& s, const float* q, int64_t n, int64_t n_past, const KvLayerView& kv, float* out,
                          ThreadPool& pool) {
  const int64_t pairs = n * s.n_head_kv;
  const int64_t wanted = kUnitsPerThread * static_cast<int64_t>(threads_);
  const int64_t blocks = pairs >= wanted ? 1 : std::max<int64_t>(1, std::min((wanted + pairs - 1) / pairs, (n_past + n) / kMinBlock));
  const int64_t units = pairs * blocks;
  const int64_t dv = s.head_dim_v;
  // The positions token t sees: [first, t's own position].
  auto first_position = [&](int64_t pos) { return s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : int64_t{0}; };

  pool.run([&](unsigned ti, unsigned tn) {
    Scratch& scratch = scratch_[ti];
    for (int64_t u = units * ti / tn; u < units * (ti + 1) / tn; ++u) {
      const int64_t pair = u / blocks, b = u % blocks;
      const int64_t t = pair / s.n_head_kv, kvh = pair % s.n_head_kv;
      const int64_t pos = n_past + t, start = first_position(pos), len = pos - start + 1;
      const int64_t begin = start + len * b / blocks, end = start + len * (b + 1) / blocks;
      if (blocks == 1) {
        run_unit(s, q, t, kvh, begin, end, kv, scratch, out + (t * s.n_head + kvh * group_) * dv, nullptr, nullptr);
      } else {
        run_unit(s, q, t, kvh, begin, end, kv, scratch, partial_out_.data() + u * group_ * dv, partial_m_.data() + u * group_,
                 partial_l_.data() + u * group_);
      }
    }
  });
  if (blocks == 1) return;

  // Merge each head's blocks: out = sum_b e^(m_b - M) acc_b / sum_b e^(m_b - M) l_b.
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t t = pair / s.n_head_kv, kvh = pair % s.n_head_kv;
    for (int64_t g = 0; g < group_; ++g) {
      float* o = out + (t * s.n_head + kvh * group_ + g) * dv;
      float max = kNegInf;
      for (int64_t b = 0; b < blocks; ++b) max = std::max(max, partial_m_[static_cast<size_t>((pair * blocks + b) * group_ + g)]);
      std::fill(o, o + dv, 0.0f);
      float sum = 0.0f;
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
