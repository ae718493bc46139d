// libFuzzer target: an importance matrix file (llama-imatrix's GGUF format, what
// `quantize --imatrix` reads). The loader takes a path, so the input goes through a scratch
// file; the GGUF layer and the imatrix checks on top of it (F32 sums and counts, expert
// division, finite values) must end in a matrix or an InputError.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "fuzz_input.h"
#include "quant/imatrix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lp::ImportanceMatrix m = lp::load_imatrix(lp::fuzz::write_scratch_file("imatrix.gguf", lp::fuzz::as_text(data, size)));
    volatile float sink = 0;
    for (const auto& [name, values] : m.columns) {
      if (!values.empty()) sink = sink + values.front() + values.back();
    }
  } catch (const lp::InputError&) {
  }
  return 0;
}
