#pragma once
// Unicode normalization forms (NFC, NFD, NFKC, NFKD) for tokenizer.json normalizers, through
// ICU: Qwen2's tokenizer.json, for one, composes text (NFC) before splitting it.
#include <string>
#include <string_view>

namespace lp {

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };

// Normalizes valid UTF-8 text.
std::string normalize_unicode(std::string_view text, UnicodeForm form);

}  // namespace lp
