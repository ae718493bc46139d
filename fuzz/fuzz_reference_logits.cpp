// libFuzzer target: a base-logits file (validate --reference-logits; ours or
// llama-perplexity's --kl-divergence-base). Every row is read at its first and last entry so
// a header whose counts overrun the file is caught by ASan, not by a later KLD.
#include "fuzz/fuzz_support.h"
#include "validate/reference_logits_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return lp::fuzz::accept_input_errors([&] {
    const lp::validate::ReferenceLogitsReader reader(lp::fuzz::input_file(lp::fuzz::as_text(data, size), "base.logits"));
    volatile float sink = 0;
    for (int64_t chunk = 0; chunk < reader.n_chunks(); ++chunk) {
      for (int64_t i = 0; i < reader.rows_per_chunk(); ++i) {
        const lp::validate::QuantizedLogProbs row = reader.row(chunk, i);
        sink = sink + row.log_prob(0) + row.log_prob(reader.n_vocab() - 1);
      }
    }
    for (int32_t t : reader.tokens()) sink = sink + static_cast<float>(t);
  });
}
