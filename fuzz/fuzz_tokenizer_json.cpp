// libFuzzer target: a tokenizer.json (before the first NUL byte) built into a Tokenizer, then
// the text after the NUL encoded and decoded with it. Hostile vocabularies, merges, regex
// patterns and normalizers must end in a Tokenizer or an InputError; encoding any text with
// a Tokenizer that loaded must not crash.
#include "fuzz/fuzz_support.h"
#include "tokenizer/tokenizer_load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [json, text] = lp::fuzz::split_at_nul(lp::fuzz::as_text(data, size));
  return lp::fuzz::accept_input_errors([&, json = json, text = text] {
    const lp::Tokenizer tokenizer = lp::load_tokenizer_from_json(lp::fuzz::input_file(json, "tokenizer.json"));
    const std::vector<int32_t> ids = tokenizer.encode(text);
    (void)tokenizer.decode(ids);
  });
}
