#include "validate/reference_logits_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace lp::validate {
namespace {

constexpr char kMagic[8] = {'_', 'l', 'o', 'g', 'i', 't', 's', '_'};
constexpr uint64_t kHeaderBytes = 8 + 4 + 4 + 4;

template <class T>
void put(AtomicFile& f, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // x86 and ARM Linux are little-endian, as the format is
  f.write(std::span<const uint8_t>(b, sizeof(T)));
}

template <class T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

void quantize_log_probs(const float* logits, int64_t n_vocab, uint16_t* row) {
  float max_logit = logits[0], min_logit = logits[0];
  for (int64_t i = 1; i < n_vocab; ++i) {
    max_logit = std::max(max_logit, logits[i]);
    min_logit = std::min(min_logit, logits[i]);
  }
  min_logit = std::max(min_logit, max_logit - 16);
  double sum_exp = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum_exp += std::exp(logits[i] - max_logit);
  const auto log_sum_exp = static_cast<float>(std::log(sum_exp));
  const float min_log_prob = min_logit - max_logit - log_sum_exp;
  const float scale = (max_logit - min_logit) / 65535.f;
  std::memcpy(row, &scale, 4);
  std::memcpy(row + 2, &min_log_prob, 4);
  uint16_t* q = row + 4;
  std::fill(q, q + (row_words(n_vocab) - 4), uint16_t{0});
  if (scale == 0) return;  // a flat row: every token at the one level
  const float inv_scale = 1 / scale;
  for (int64_t i = 0; i < n_vocab; ++i) {
    // Round to nearest, ties to even, as llama.cpp's nearest_int does.
    if (logits[i] > min_logit) q[i] = static_cast<uint16_t>(std::nearbyint(inv_scale * (logits[i] - min_logit)));
  }
}

QuantizedLogProbs view_row(const uint16_t* row) {
  QuantizedLogProbs v;
  std::memcpy(&v.scale, row, 4);
  std::memcpy(&v.min_log_prob, row + 2, 4);
  v.q = row + 4;
  return v;
}

ReferenceLogitsWriter::ReferenceLogitsWriter(const std::filesystem::path& path, int64_t n_ctx, int64_t n_vocab,
                                             int64_t n_chunks, std::span<const int32_t> tokens)
    : file_(path), n_ctx_(n_ctx), n_vocab_(n_vocab), n_chunks_(n_chunks) {
  if (static_cast<int64_t>(tokens.size()) < n_ctx * n_chunks) fail("internal: fewer tokens than chunks");
  file_.write(std::string_view(kMagic, 8));
  put<uint32_t>(file_, static_cast<uint32_t>(n_ctx));
  put<int32_t>(file_, static_cast<int32_t>(n_vocab));
  put<int32_t>(file_, static_cast<int32_t>(n_chunks));
  file_.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(tokens.data()),
                                       static_cast<size_t>(n_ctx * n_chunks) * sizeof(int32_t)));
}

void ReferenceLogitsWriter::add_chunk(std::span<const uint16_t> rows) {
  const auto expected = static_cast<size_t>((n_ctx_ - 1 - n_ctx_ / 2) * row_words(n_vocab_));
  if (rows.size() != expected || chunks_written_ >= n_chunks_) fail("internal: reference logits chunk of wrong size");
  file_.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(rows.data()), rows.size() * 2));
  ++chunks_written_;
}

void ReferenceLogitsWriter::commit() {
  if (chunks_written_ != n_chunks_) fail("internal: {} of {} reference chunks written", chunks_written_, n_chunks_);
  file_.commit();
}

ReferenceLogitsReader::ReferenceLogitsReader(const std::filesystem::path& path) : file_(MappedFile::open(path)) {
  const auto bytes = file_.bytes();
  const std::string name = path.string();
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    fail("{} is not a reference-logits file (no '_logits_' header; write one with --save-reference-logits "
         "or llama-perplexity --kl-divergence-base)",
         name);
  }
  n_ctx_ = get<uint32_t>(bytes.data() + 8);
  n_vocab_ = get<int32_t>(bytes.data() + 12);
  n_chunks_ = get<int32_t>(bytes.data() + 16);
  if (n_ctx_ < 4 || n_vocab_ < 1 || n_chunks_ < 1 || n_ctx_ > (1 << 24) || n_vocab_ > (1 << 24)) {
    fail("{}: implausible header (n_ctx {}, n_vocab {}, n_chunk {})", name, n_ctx_, n_vocab_, n_chunks_);
  }
  // In 64 bits: n_ctx (< 2^25) times n_chunks (< 2^31) wraps a 32-bit product.
  const uint64_t token_count = static_cast<uint64_t>(n_ctx_) * static_cast<uint64_t>(n_chunks_);
  const uint64_t token_bytes = token_count * 4;
  const uint64_t row_bytes = static_cast<uint64_t>(row_words(n_vocab_)) * 2;
  // The rows' bytes can pass 2^64 for a hostile header (2^31 chunks x 2^23 rows x 2^25 bytes):
  // a wrapped product would pass the size check, so an overflow counts as too big a file.
  uint64_t row_total_bytes = 0;
  const bool overflows =
      __builtin_mul_overflow(static_cast<uint64_t>(n_chunks_) * static_cast<uint64_t>(rows_per_chunk()), row_bytes,
                             &row_total_bytes);
  const uint64_t need = overflows ? UINT64_MAX : kHeaderBytes + token_bytes + row_total_bytes;
  if (overflows || bytes.size() < need) {
    fail("{} is truncated: {} bytes, {} chunks of n_ctx {} with {} tokens need {}", name, bytes.size(), n_chunks_,
         n_ctx_, n_vocab_, need);
  }
  tokens_.resize(static_cast<size_t>(token_count));
  std::memcpy(tokens_.data(), bytes.data() + kHeaderBytes, token_bytes);
  for (int32_t t : tokens_) {
    if (t < 0 || t >= n_vocab_) fail("{}: token id {} outside its vocabulary of {}", name, t, n_vocab_);
  }
  rows_ = bytes.data() + kHeaderBytes + token_bytes;
}

QuantizedLogProbs ReferenceLogitsReader::row(int64_t chunk, int64_t index) const {
  const auto words = static_cast<uint64_t>(row_words(n_vocab_));
  const uint8_t* p = rows_ + (static_cast<uint64_t>(chunk * rows_per_chunk() + index) * words) * 2;
  // The mapping is page-aligned and rows are an even number of uint16 after a 20-byte header
  // plus tokens: every row starts on a 4-byte boundary, so it can be read as uint16 in place.
  return view_row(reinterpret_cast<const uint16_t*>(p));
}

}  // namespace lp::validate
