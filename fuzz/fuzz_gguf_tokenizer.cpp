// libFuzzer target: a GGUF's tokenizer metadata (tokenizer.ggml.*: model, pre, tokens,
// scores, token types, merges, special ids) built into a Tokenizer, then a text encoded and
// decoded with it. The text comes first and the GGUF after the first NUL byte, since a GGUF
// is full of zeros. fuzz_gguf covers the container itself.
#include "formats/gguf_reader.h"
#include "fuzz/fuzz_support.h"
#include "tokenizer/tokenizer_load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [text, gguf] = lp::fuzz::split_at_nul(lp::fuzz::as_text(data, size));
  return lp::fuzz::accept_input_errors([&, text = text, gguf = gguf] {
    const lp::GgufModel model = lp::GgufModel::open(lp::fuzz::input_file(gguf, "tokenizer.gguf"));
    const lp::Tokenizer tokenizer = lp::load_tokenizer_from_gguf(model, "tokenizer.gguf");
    const std::vector<int32_t> ids = tokenizer.encode(text);
    (void)tokenizer.decode(ids);
  });
}
