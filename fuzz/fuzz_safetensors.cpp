// libFuzzer target: any bytes into the safetensors parser, and float conversion of what it
// accepts. A parsed file or an InputError are the only acceptable outcomes.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lp::SafetensorsContents contents = lp::parse_safetensors({data, size}, "fuzz.safetensors");
    for (const auto& t : contents.tensors) {
      if (t.dtype->is_float_convertible && t.n_elements <= (1u << 20)) {
        volatile float sink = 0;
        for (const float v : lp::safetensors_to_f32(t)) sink = sink + v;
      }
    }
  } catch (const lp::InputError&) {
  }
  return 0;
}
