#include "tokenizer/unicode_normalize.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <stdexcept>

namespace lp {
namespace {

const icu::Normalizer2& normalizer(UnicodeForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case UnicodeForm::NFC: n = icu::Normalizer2::getNFCInstance(status); break;
    case UnicodeForm::NFD: n = icu::Normalizer2::getNFDInstance(status); break;
    case UnicodeForm::NFKC: n = icu::Normalizer2::getNFKCInstance(status); break;
    case UnicodeForm::NFKD: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  // ICU's data is linked in; failing to find it is a broken installation, not bad input.
  if (U_FAILURE(status) || n == nullptr) throw std::runtime_error("ICU normalization data is unavailable");
  return *n;
}

}  // namespace

std::string normalize_unicode(std::string_view text, UnicodeForm form) {
  const icu::Normalizer2& n = normalizer(form);
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  UErrorCode status = U_ZERO_ERROR;
  // Most text is already normalized; checking is much cheaper than rebuilding it.
  if (n.isNormalized(source, status) && U_SUCCESS(status)) return std::string(text);
  status = U_ZERO_ERROR;
  const icu::UnicodeString result = n.normalize(source, status);
  if (U_FAILURE(status)) throw std::runtime_error("ICU could not normalize text");
  std::string out;
  result.toUTF8String(out);
  return out;
}

}  // namespace lp
