// libFuzzer target: a tokenizer rebuilt from a GGUF's tokenizer.ggml.* metadata (tokens,
// scores, types, merges, pre-tokenizer name, special ids), then a few texts encoded and
// decoded with it. GgufModel maps a path, so the input goes through a scratch file. The
// seeds are tokenizer-only GGUFs (no tensors) converted from the tiny fixture models.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "fuzz_input.h"
#include "tokenizer/tokenizer_load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Spaces, digits, punctuation, non-ASCII, a special-token spelling and invalid UTF-8: the
  // paths through pre-tokenizer stages, byte fallback and added-token cutting.
  static constexpr std::string_view kTexts[] = {
      "Hello world! 12345 don't", "  leading spaces\n\ttabs", "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80",
      "<|endoftext|><s></s>", "\xFF\xFE broken \xC3"};
  try {
    const lp::GgufModel model = lp::GgufModel::open(lp::fuzz::write_scratch_file("tokenizer.gguf", lp::fuzz::as_text(data, size)));
    const lp::Tokenizer tok = lp::load_tokenizer_from_gguf(model, "fuzz/tokenizer.gguf");
    for (const std::string_view text : kTexts) {
      const std::vector<int32_t> ids = tok.encode(text, true);
      (void)tok.decode(ids, true);
    }
  } catch (const lp::InputError&) {
  }
  return 0;
}
