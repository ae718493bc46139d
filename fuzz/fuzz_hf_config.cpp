// libFuzzer target: a Hugging Face config.json into normalized hyperparameters, and those
// back out as JSON (what `inspect` prints). Any architecture field, rope_scaling shape or
// number must end in hparams or an InputError.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/json_guard.h"
#include "fuzz_input.h"
#include "model/hparams.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const nlohmann::json config = lp::parse_untrusted_json(lp::fuzz::as_text(data, size), "fuzz/config.json");
    const lp::ModelHParams h = lp::hparams_from_hf_config(config, "fuzz/config.json");
    (void)lp::hparams_to_json(h).dump();
  } catch (const lp::InputError&) {
  }
  return 0;
}
