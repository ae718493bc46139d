// libFuzzer target: an importance-matrix file (quantize --imatrix), llama-imatrix's GGUF format.
#include "fuzz/fuzz_support.h"
#include "quant/imatrix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return lp::fuzz::accept_input_errors([&] {
    const lp::ImportanceMatrix m = lp::load_imatrix(lp::fuzz::input_file(lp::fuzz::as_text(data, size), "imatrix.gguf"));
    volatile float sink = 0;
    for (const auto& [name, columns] : m.columns) {
      if (!columns.empty()) sink = sink + columns.front() + columns.back();
    }
  });
}
