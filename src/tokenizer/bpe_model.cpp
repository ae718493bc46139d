#include "tokenizer/bpe_model.h"

#include <fmt/format.h>

#include <queue>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace lp {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

size_t slot_of(uint64_t key, size_t mask) {
  key ^= key >> 29;  // mix both ids into the low bits before masking
  key *= 0xBF58476D1CE4E5B9ull;
  key ^= key >> 32;
  return static_cast<size_t>(key) & mask;
}

struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t id;
  // std::priority_queue pops the largest, so "greater" means lower rank, then further left.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

BpeModel::BpeModel(std::vector<std::string> vocab) : vocab_(std::move(vocab)) {
  ids_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) ids_[vocab_[i]] = static_cast<int32_t>(i);
  byte_tokens_.fill(-1);
  byte_level_ids_.fill(-1);
  for (int c = 0; c < 128; ++c) ascii_ids_[c] = find(std::string(1, static_cast<char>(c)));
  merges_.resize(1024);
}

void BpeModel::grow_merges() {
  std::vector<MergeSlot> old(merges_.size() * 2);
  old.swap(merges_);
  const size_t mask = merges_.size() - 1;
  for (const MergeSlot& s : old) {
    if (s.key == kEmptyKey) continue;
    size_t i = slot_of(s.key, mask);
    while (merges_[i].key != kEmptyKey) i = (i + 1) & mask;
    merges_[i] = s;
  }
}

int32_t BpeModel::find(std::string_view token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

void BpeModel::add_merge(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  // The first listing of a pair wins, as when tokenizers builds its merge map.
  if ((merge_count_ + 1) * 2 > merges_.size()) grow_merges();
  const uint64_t key = pair_key(left, right);
  const size_t mask = merges_.size() - 1;
  size_t i = slot_of(key, mask);
  for (; merges_[i].key != kEmptyKey; i = (i + 1) & mask)
    if (merges_[i].key == key) return;
  merges_[i] = {key, BpeMerge{rank, merged}};
  ++merge_count_;
}

void BpeModel::set_byte_fallback(bool on) {
  byte_fallback_ = on;
  for (int b = 0; b < 256; ++b) byte_tokens_[b] = find(fmt::format("<0x{:02X}>", b));
}

void BpeModel::set_byte_level(bool on) {
  byte_level_ = on;
  for (int b = 0; b < 256; ++b) byte_level_ids_[b] = find(byte_level_char(static_cast<uint8_t>(b)));
}

const BpeMerge* BpeModel::merge_of(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  const size_t mask = merges_.size() - 1;
  for (size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    if (merges_[i].key == key) return &merges_[i].merge;
    if (merges_[i].key == kEmptyKey) return nullptr;
  }
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const {
  auto add = [&](int32_t id, uint32_t len) {
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, -1, len});
    if (n > 0) symbols[n - 1].next = n;
  };
  if (byte_level_) {
    for (const char c : word) {
      const int32_t id = byte_level_ids_[static_cast<unsigned char>(c)];
      if (id >= 0) add(id, 1);
      else if (unk_ >= 0) add(unk_, 1);
    }
    return;
  }
  int32_t pending_unk_len = 0;  // unknown characters waiting to become one (fused) or more tokens
  auto flush_unk = [&] {
    if (pending_unk_len > 0) add(unk_, static_cast<uint32_t>(pending_unk_len));
    pending_unk_len = 0;
  };
  for (size_t i = 0; i < word.size();) {
    const size_t n = utf8_char_length(static_cast<unsigned char>(word[i]));
    const std::string_view ch = word.substr(i, n);
    i += n;
    if (const int32_t id = n == 1 ? ascii_ids_[static_cast<unsigned char>(ch[0])] : find(ch); id >= 0) {
      flush_unk();
      add(id, static_cast<uint32_t>(n));
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (const char c : ch) all = all && byte_tokens_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        flush_unk();
        for (const char c : ch) add(byte_tokens_[static_cast<unsigned char>(c)], 1);
        continue;
      }
    }
    if (unk_ < 0) continue;  // no unknown token: tokenizers drops the character
    if (!fuse_unk_) flush_unk();
    pending_unk_len += static_cast<int32_t>(n);
  }
  flush_unk();
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {  // a word that is itself a token skips merging (Llama 3's tokenizer.json)
    std::string spelled;
    if (byte_level_)
      for (const char c : word) spelled += byte_level_char(static_cast<uint8_t>(c));
    if (const int32_t id = find(byte_level_ ? std::string_view(spelled) : word); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const bool cacheable = word.size() <= kCacheMaxWord;
  if (cacheable) {
    if (const auto it = cache_.find(std::string(word)); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  initial_symbols(word, symbols);

  std::priority_queue<Candidate> queue;
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i)
    if (const BpeMerge* m = merge_of(symbols[i].id, symbols[i + 1].id)) queue.push({m->rank, i, m->id});
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    const int32_t right_pos = left.next;
    Symbol& right = symbols[right_pos];
    // The pair may have changed since this candidate was queued.
    const BpeMerge* now = merge_of(left.id, right.id);
    if (now == nullptr || now->id != top.id) continue;
    left.id = top.id;
    left.len += right.len;
    left.next = right.next;
    right.len = 0;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0)
      if (const BpeMerge* m = merge_of(symbols[left.prev].id, left.id)) queue.push({m->rank, left.prev, m->id});
    if (left.next >= 0)
      if (const BpeMerge* m = merge_of(left.id, symbols[left.next].id)) queue.push({m->rank, top.pos, m->id});
  }
  const size_t start = out.size();
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
  if (cacheable) {
    if (cache_.size() >= kCacheCapacity) cache_.clear();
    cache_.emplace(std::string(word), std::vector<int32_t>(out.begin() + static_cast<ptrdiff_t>(start), out.end()));
  }
}

}  // namespace lp
