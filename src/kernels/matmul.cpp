#include "kernels/matmul.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/kernel_table.h"

namespace lp {
namespace {

const WeightKernels& kernels_for(const WeightMatrix& w) {
  const WeightKernels* kernels = find_weight_kernels(w.type);
  const auto& traits = ggml_type_traits(w.type);
  if (kernels == nullptr) fail("cannot compute with {} weights: no matrix kernel for this type", traits.name);
  const auto expected = ggml_row_bytes(w.type, static_cast<uint64_t>(w.cols));
  if (!expected || *expected != w.row_bytes)
    fail("a {} weight of {} columns has rows of {} bytes, which is not a whole number of blocks", traits.name, w.cols,
         w.row_bytes);
  return *kernels;
}

// Quantized activations, one buffer per distinct (input, quantizer) a call needs (Q8_0,
// Q8_1, Q8_K of each input, and the rows some panel kernels read instead: panel_gemm.h).
// Kept per calling thread and grown as needed, so decode (hundreds of calls per token) does
// not allocate after the first token.
std::vector<uint8_t>& activation_scratch(size_t index) {
  thread_local std::deque<std::vector<uint8_t>> scratch;  // grows in place: buffers do not move
  while (scratch.size() <= index) scratch.emplace_back();
  return scratch[index];
}

// Rows per work item: about 64 KiB of weights, so a chunk stays in L2 while every token tile
// passes over it, but at least 8 chunks per thread so threads that other processes slow
// down (shared cores) are balanced by the atomic counter.
int64_t rows_per_chunk(const WeightMatrix& w, unsigned threads) {
  const int64_t by_cache = std::max<int64_t>(1, static_cast<int64_t>(65536 / std::max<uint64_t>(w.row_bytes, 1)));
  const int64_t by_balance = std::max<int64_t>(1, w.rows / (static_cast<int64_t>(threads) * 8));
  return std::min(by_cache, by_balance);
}

// Below this many weight bytes times tokens a call runs on the calling thread alone: waking
// the pool costs more than the work (tiny models, small heads).
constexpr uint64_t kSmallWorkBytes = 48 * 1024;

// One weight's share of a call: its kernel, its activations and its chunks of rows.
struct Job {
  const WeightMatrix* w;
  float* y;
  DotTileFn tile;
  const uint8_t* act;
  uint64_t act_stride;
  int64_t chunk_rows;
  int64_t first_chunk;  // index of its first chunk in the call's chunk numbering
  bool dequantize = false;               // float activations: rows are dequantized, `tile` is F32's
  PanelGemmFn panel = nullptr;           // a batch large enough for the panel kernel (chunks of whole panels)
  InterleavedGemmFn interleaved = nullptr;  // interleaved weights (chunks of whole groups)
};

// One thread's share of a call's chunks, [next, end), with its own cursor (own cache line:
// the threads advance theirs at the same time).
struct alignas(64) ChunkRange {
  std::atomic<int64_t> next{0};
  int64_t end = 0;
};

// Float activations against quantized weights: each row is dequantized once per chunk pass
// and met by the float32 tile, so the result is the model's exact arithmetic.
void run_chunk_dequantized(const Job& job, int64_t row_begin, int64_t row_end, int64_t n_tokens) {
  const WeightMatrix& w = *job.w;
  thread_local std::vector<float> row;
  if (row.size() < static_cast<size_t>(w.cols)) row.resize(static_cast<size_t>(w.cols));
  for (int64_t r = row_begin; r < row_end; ++r) {
    weight_row_to_float(w, r, row.data());
    for (int64_t t = 0; t < n_tokens; t += kMaxTileTokens) {
      const int tokens = static_cast<int>(std::min<int64_t>(kMaxTileTokens, n_tokens - t));
      job.tile(w.cols, reinterpret_cast<const uint8_t*>(row.data()), job.act + static_cast<uint64_t>(t) * job.act_stride,
               job.act_stride, tokens, job.y + t * w.rows + r, w.rows);
    }
  }
}

void run_chunk(const Job& job, int64_t chunk, int64_t n_tokens) {
  const WeightMatrix& w = *job.w;
  const int64_t row_begin = chunk * job.chunk_rows, row_end = std::min(w.rows, row_begin + job.chunk_rows);
  if (job.dequantize) {
    run_chunk_dequantized(job, row_begin, row_end, n_tokens);
    return;
  }
  if (job.interleaved) {
    for (int64_t r = row_begin; r < row_end; r += kInterleavedRows)
      job.interleaved(w.cols, w.group(r / kInterleavedRows), job.act, job.act_stride, n_tokens, job.y + r, w.rows);
    return;
  }
  if (job.panel) {
    for (int64_t r = row_begin; r < row_end; r += kPanelRows)
      job.panel(w.cols, w.row(r), w.row_bytes, static_cast<int>(std::min<int64_t>(kPanelRows, row_end - r)), job.act,
                job.act_stride, n_tokens, job.y + r, w.rows);
    return;
  }
  for (int64_t t = 0; t < n_tokens; t += kMaxTileTokens) {
    const int tokens = static_cast<int>(std::min<int64_t>(kMaxTileTokens, n_tokens - t));
    const uint8_t* act_tile = job.act + static_cast<uint64_t>(t) * job.act_stride;
    for (int64_t r = row_begin; r < row_end; ++r)
      job.tile(w.cols, w.row(r), act_tile, job.act_stride, tokens, job.y + t * w.rows + r, w.rows);
  }
}

}  // namespace

void weight_row_to_float(const WeightMatrix& w, int64_t r, float* out) {
  if (w.interleaved()) {
    kernels_for(w).interleaved->dequantize_row(w.group(r / kInterleavedRows), static_cast<int>(r % kInterleavedRows), out,
                                              w.cols);
    return;
  }
  const auto& traits = ggml_type_traits(w.type);
  if (!traits.dequantize) fail("cannot compute with {} weights", traits.name);
  traits.dequantize(w.row(r), out, w.cols);
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            ActivationPrecision precision) {
  const MatmulOutput output{&w, y};
  matmul_same_input(std::span(&output, 1), x, n_tokens, pool, precision);
}

void matmul_same_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens, ThreadPool& pool,
                       ActivationPrecision precision) {
  thread_local std::vector<MatmulTask> tasks;  // reused: a call allocates nothing once warm
  tasks.clear();
  for (const MatmulOutput& o : outputs) {
    if (o.weight->cols != outputs[0].weight->cols) {
      fail("weights sharing one input have {} and {} columns", outputs[0].weight->cols, o.weight->cols);
    }
    tasks.push_back({o.weight, x, o.y});
  }
  matmul_tasks(tasks, n_tokens, pool, precision);
}

void matmul_tasks(std::span<const MatmulTask> tasks, int64_t n_tokens, ThreadPool& pool, ActivationPrecision precision) {
  if (tasks.empty() || n_tokens <= 0) return;
  const KernelIsa isa = active_kernel_isa();
  const bool small = [&] {
    uint64_t bytes = 0;
    for (const MatmulTask& o : tasks) bytes += o.weight->row_bytes * static_cast<uint64_t>(o.weight->rows);
    return bytes * static_cast<uint64_t>(n_tokens) < kSmallWorkBytes;
  }();
  const unsigned threads = small ? 1u : pool.size();

  // Every activation row is quantized once per input and quantizer, not once per weight.
  struct Quantized {
    const float* x;
    QuantizeActivationsFn quantize;
    const uint8_t* rows;
  };
  thread_local std::vector<Quantized> quantized;
  quantized.clear();
  // The caller's reusable list (a call allocates nothing once warm). A named reference, not
  // the thread_local itself, so the pool's threads read the caller's list.
  thread_local std::vector<Job> caller_jobs;
  std::vector<Job>& jobs = caller_jobs;
  jobs.clear();
  int64_t n_chunks = 0;
  for (const MatmulTask& o : tasks) {
    const WeightMatrix& w = *o.weight;
    const WeightKernels& kernels = kernels_for(w);
    const int64_t cols = w.cols;
    const float* x = o.x;
    Job job{&w, o.y, dot_tile_for(kernels, isa), reinterpret_cast<const uint8_t*>(x),
            static_cast<uint64_t>(cols) * sizeof(float), 0, n_chunks};
    QuantizeActivationsFn quantize = quantizer_for(kernels, isa);
    if (quantize != nullptr && precision == ActivationPrecision::float32) {
      job.dequantize = true;
      job.tile = dot_tile_for(*find_weight_kernels(GgmlType::F32), isa);
    } else if (w.interleaved()) {  // the product decides how its activations are quantized (panel_gemm.h)
      job.interleaved = interleaved_gemm_for(kernels, isa);
      quantize = interleaved_quantizer_for(kernels, isa, n_tokens);
    } else if (n_tokens >= kPanelMinTokens) {
      job.panel = panel_for(kernels, isa);  // nullptr: the tiles, and the plain quantizer
      quantize = panel_quantizer_for(kernels, isa);
    }
    if (quantize != nullptr && !job.dequantize) {
      job.act_stride = activation_row_bytes(kernels, cols);
      const auto known = std::ranges::find_if(quantized, [&](const Quantized& q) { return q.x == x && q.quantize == quantize; });
      if (known != quantized.end()) {
        job.act = known->rows;
      } else {
        auto& scratch = activation_scratch(quantized.size());
        const uint64_t bytes = job.act_stride * static_cast<uint64_t>(n_tokens);
        if (scratch.size() < bytes) scratch.resize(bytes);
        uint8_t* out = scratch.data();
        const uint64_t stride = job.act_stride;
        if (n_tokens == 1 || threads == 1) {
          for (int64_t t = 0; t < n_tokens; ++t) quantize(x + t * cols, out + static_cast<uint64_t>(t) * stride, cols);
        } else {
          pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
            for (int64_t t = begin; t < end; ++t) quantize(x + t * cols, out + static_cast<uint64_t>(t) * stride, cols);
          });
        }
        quantized.push_back({x, quantize, out});
        job.act = out;
      }
    }
    job.chunk_rows = rows_per_chunk(w, threads);
    const int64_t row_multiple = w.interleaved() ? kInterleavedRows : job.panel ? kPanelRows : 1;
    job.chunk_rows = (job.chunk_rows + row_multiple - 1) / row_multiple * row_multiple;
    n_chunks += (w.rows + job.chunk_rows - 1) / job.chunk_rows;
    jobs.push_back(job);
  }

  // Chunks of every weight in one numbering. Decode and small batches, which stream the
  // weights from memory, cut it into one contiguous range per thread: each thread takes its
  // own range's chunks in order, then helps with the others' (every range has its own atomic
  // cursor, so each chunk runs once). One long ascending stream per thread keeps the hardware
  // prefetchers running, where chunks dealt out alternately from one counter broke every
  // thread's stream (decode 1.06-1.35x faster, Qwen2.5-1.5B and Llama-3.2-1B Q4_K_M, 2
  // threads). Batches big enough for the panels are compute-bound: one range, one counter.
  const unsigned n_ranges = n_tokens < kPanelMinTokens ? threads : 1;
  thread_local std::deque<ChunkRange> caller_ranges;  // grows in place: cursors do not move
  std::deque<ChunkRange>& ranges = caller_ranges;
  while (ranges.size() < n_ranges) ranges.emplace_back();
  for (unsigned r = 0; r < n_ranges; ++r) {
    ranges[r].next.store(n_chunks * r / n_ranges, std::memory_order_relaxed);
    ranges[r].end = n_chunks * (r + 1) / n_ranges;
  }
  auto work = [&](unsigned thread, unsigned) {
    for (unsigned k = 0; k < n_ranges; ++k) {
      ChunkRange& range = ranges[(thread + k) % n_ranges];
      size_t j = 0;
      for (int64_t c = range.next.fetch_add(1, std::memory_order_relaxed); c < range.end;
           c = range.next.fetch_add(1, std::memory_order_relaxed)) {
        while (j + 1 < jobs.size() && c >= jobs[j + 1].first_chunk) ++j;
        run_chunk(jobs[j], c - jobs[j].first_chunk, n_tokens);
      }
    }
  };
  if (threads == 1) work(0, 1);
  else pool.run(work);
}

uint64_t interleaved_bytes(const WeightMatrix& w) {
  const char* setting = std::getenv("LP_INTERLEAVE");
  if (setting != nullptr && std::string_view(setting) == "0") return 0;
  const WeightKernels* kernels = find_weight_kernels(w.type);
  if (kernels == nullptr || !interleaving_pays(*kernels, active_kernel_isa()) || w.rows % kInterleavedRows != 0) return 0;
  return kernels->interleaved->group_bytes(w.cols) * static_cast<uint64_t>(w.rows / kInterleavedRows);
}

WeightMatrix interleave_rows(const WeightMatrix& w, uint8_t* out) {
  const InterleavedFormat& format = *kernels_for(w).interleaved;
  WeightMatrix result = w;
  result.data = out;
  result.group_bytes = format.group_bytes(w.cols);
  for (int64_t g = 0; g < w.rows / kInterleavedRows; ++g)
    format.interleave(w.row(g * kInterleavedRows), w.row_bytes, w.cols, out + static_cast<uint64_t>(g) * result.group_bytes);
  return result;
}

}  // namespace lp
