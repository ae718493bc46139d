// libFuzzer target: a tokenizer.json, then a text encoded with the tokenizer it describes and
// decoded back (input: "<tokenizer.json>\0<text>"). Building the BPE model, the added-token
// matcher and the pre-tokenizer regexes from hostile JSON, and running them on hostile text,
// must end in a tokenizer or an InputError; a crash, a sanitizer report, another exception or
// a hang is a finding.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "fuzz_input.h"
#include "tokenizer/tokenizer_load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [json_text, text] = lp::fuzz::split_at_nul(lp::fuzz::as_text(data, size));
  try {
    const lp::Tokenizer tok = lp::load_tokenizer_from_json_text(json_text, "fuzz/tokenizer.json");
    const std::vector<int32_t> ids = tok.encode(text, true);
    const std::string back = tok.decode(ids, false);
    lp::StreamDecoder stream(tok);
    for (const int32_t id : ids) stream.step(id);
    stream.finish();
    for (const int32_t id : ids) (void)tok.token_text(id);
  } catch (const lp::InputError&) {
  }
  return 0;
}
