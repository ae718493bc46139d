#pragma once
// The BPE model of Hugging Face `tokenizers`: a vocabulary, ranked merges, and what to do with
// a character the vocabulary lacks (byte fallback to <0xXX> tokens, or an unknown token). It
// turns one pre-tokenized word into ids by repeatedly merging the adjacent pair of lowest
// rank, leftmost first, exactly like tokenizers' Word::merge_all.
#include <array>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lp {

struct BpeMerge {
  int32_t rank = 0;
  int32_t id = 0;  // the token the pair becomes
};

class BpeModel {
 public:
  // Token strings by id; a string that appears twice maps to its last id, as in a Python dict.
  explicit BpeModel(std::vector<std::string> vocab);

  void add_merge(int32_t left, int32_t right, int32_t rank, int32_t merged);
  size_t merge_count() const { return merge_count_; }
  void set_unknown(int32_t id, bool fuse) { unk_ = id, fuse_unk_ = fuse; }
  void set_byte_fallback(bool on);
  void set_ignore_merges(bool on) { ignore_merges_ = on; }
  // Words arrive as raw bytes and each byte starts as the token GPT-2's byte alphabet spells it.
  void set_byte_level(bool on);

  const std::vector<std::string>& vocab() const { return vocab_; }
  int32_t find(std::string_view token) const;  // -1 when absent

  // Appends the ids of one word (text after normalization and pre-tokenization).
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

 private:
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    uint32_t len;  // bytes of the word it covers; 0 once merged into its left neighbour
  };
  void initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const;
  const BpeMerge* merge_of(int32_t left, int32_t right) const;

  // Merges live in an open-addressing table: lookups dominate encoding, and a flat array with
  // linear probing touches one cache line where a node-based map chases pointers.
  struct MergeSlot {
    uint64_t key = kEmptyKey;
    BpeMerge merge;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  void grow_merges();

  std::vector<std::string> vocab_;
  std::unordered_map<std::string_view, int32_t> ids_;
  std::vector<MergeSlot> merges_;  // size is a power of two, at most half full
  size_t merge_count_ = 0;
  std::array<int32_t, 128> ascii_ids_{};  // ids of one-character ASCII tokens (-1: none)
  int32_t unk_ = -1;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool byte_level_ = false;
  std::array<int32_t, 256> byte_tokens_{};      // <0xXX> ids for byte fallback (-1: missing)
  std::array<int32_t, 256> byte_level_ids_{};   // ids of the byte-level spelling of each byte

  // Words repeat a lot in real text; remembering short ones saves most of the merging.
  // The cache is filled inside const calls, so a model is not for concurrent use.
  static constexpr size_t kCacheCapacity = 1 << 15;
  static constexpr size_t kCacheMaxWord = 256;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace lp
