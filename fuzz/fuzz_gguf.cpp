// libFuzzer target: any bytes into the GGUF parser. The only acceptable outcomes are a
// parsed file or an InputError; anything else (a crash, a sanitizer report, another
// exception, a huge allocation) is a finding.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/gguf_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lp::GgufContents contents = lp::parse_gguf({data, size}, "fuzz.gguf");
    // Touch the first and last byte of every tensor so a bad span is caught by ASan.
    volatile uint8_t sink = 0;
    for (const auto& t : contents.tensors) {
      if (!t.data.empty()) sink = sink ^ t.data.front() ^ t.data.back();
    }
  } catch (const lp::InputError&) {
  }
  return 0;
}
