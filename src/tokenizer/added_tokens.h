#pragma once
// Added tokens (special ones like <|im_start|> and user-defined ones like "\n\n") are cut out
// of the text before anything else, as tokenizers' AddedVocabulary does: the leftmost match
// wins, and among those starting there, the longest.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lp {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;  // matched in the normalized text rather than in the raw input
  bool lstrip = false;      // swallows whitespace on its left
  bool rstrip = false;      // swallows whitespace on its right
};

struct TextSegment {
  size_t begin = 0, end = 0;
  int32_t id = -1;  // the added token it is, or -1 for plain text
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);
  bool empty() const { return nodes_.size() <= 1; }
  // Appends the segments of text, in order, covering all of it.
  void split(std::string_view text, std::vector<TextSegment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    int32_t token = -1;                                       // index into tokens_ when a token ends here
  };
  int32_t child(int32_t node, unsigned char byte) const;
  std::vector<Node> nodes_{Node{}};
  std::vector<AddedToken> tokens_;
  std::array<bool, 256> first_byte_{};
};

}  // namespace lp
