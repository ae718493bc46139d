// libFuzzer target: a reference-logits file (validate --reference-logits; llama-perplexity's
// --kl-divergence-base layout), read through a scratch file because the reader maps it. The
// header's sizes decide how far the rows reach, so every row is then read end to end: a size
// check that let a row run past the file is what ASan is here to catch.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "fuzz_input.h"
#include "validate/reference_logits_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lp::validate::ReferenceLogitsReader reader(
        lp::fuzz::write_scratch_file("reference.logits", lp::fuzz::as_text(data, size)));
    volatile float sink = 0;
    for (int64_t c = 0; c < reader.n_chunks(); ++c) {
      for (int64_t i = 0; i < reader.rows_per_chunk(); ++i) {
        const lp::validate::QuantizedLogProbs row = reader.row(c, i);
        sink = sink + row.log_prob(0) + row.log_prob(reader.n_vocab() - 1);
      }
    }
  } catch (const lp::InputError&) {
  }
  return 0;
}
