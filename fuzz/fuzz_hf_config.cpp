// libFuzzer target: a Hugging Face config.json into normalized hyperparameters (the step that
// decides layer counts, head sizes and RoPE scaling before anything is allocated).
#include "formats/json_guard.h"
#include "fuzz/fuzz_support.h"
#include "model/hparams.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return lp::fuzz::accept_input_errors([&] {
    const nlohmann::json config = lp::parse_untrusted_json(lp::fuzz::as_text(data, size), "config.json");
    (void)lp::hparams_to_json(lp::hparams_from_hf_config(config, "config.json"));
  });
}
