#include "quant/name_pattern.h"
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"

namespace lp {
namespace {
// Tensor names are tens of bytes; a million steps is far beyond any sane pattern on them and
// still ends a hostile one ("(a|a)*b" style backtracking) in milliseconds.
constexpr uint32_t kMatchStepLimit = 1'000'000;
constexpr uint32_t kMatchDepthLimit = 10'000;

std::string pcre2_message(int code) {
  PCRE2_UCHAR message[256];
  pcre2_get_error_message(code, message, sizeof message);
  return reinterpret_cast<const char*>(message);
}
}  // namespace

struct NamePattern::Compiled {
  pcre2_code* code = nullptr;
  pcre2_match_context* limits = nullptr;
  ~Compiled() {
    if (limits) pcre2_match_context_free(limits);
    if (code) pcre2_code_free(code);
  }
};

NamePattern::NamePattern(std::string_view pattern, const std::string& source) : pattern_(pattern), source_(source) {
  if (pattern.size() > kMaxNamePatternBytes) {
    fail("{}: a tensor-name pattern of {} bytes is longer than the {} allowed", source, pattern.size(),
         kMaxNamePatternBytes);
  }
  auto compiled = std::make_shared<Compiled>();
  int error = 0;
  PCRE2_SIZE offset = 0;
  // Bytes, not UTF-8: a name is matched as the bytes the file holds, valid UTF-8 or not.
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0, &error, &offset,
                                 nullptr);
  if (compiled->code == nullptr) {
    fail("{}: '{}' is not a valid regular expression (at offset {}: {})", source, pattern, offset,
         pcre2_message(error));
  }
  compiled->limits = pcre2_match_context_create(nullptr);
  if (compiled->limits == nullptr) throw std::bad_alloc();
  pcre2_set_match_limit(compiled->limits, kMatchStepLimit);
  pcre2_set_depth_limit(compiled->limits, kMatchDepthLimit);
  compiled_ = std::move(compiled);
}

bool NamePattern::matches(std::string_view name) const {
  // Match data per call: a NamePattern may be shared by threads planning different files.
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), &pcre2_match_data_free);
  if (!match) throw std::bad_alloc();
  const int rc = pcre2_match(compiled_->code, reinterpret_cast<PCRE2_SPTR>(name.data()), name.size(), 0, 0,
                             match.get(), compiled_->limits);
  if (rc >= 0) return true;
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  fail("{}: pattern '{}' could not be matched against tensor '{}' ({})", source_, pattern_, name, pcre2_message(rc));
}

}  // namespace lp
