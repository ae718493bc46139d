// libFuzzer target: a chat template (before the first NUL byte) rendered against the
// conversation file after it (or a fixed two-message one when that is not a valid file).
// The render budget is small so a template that loops or grows ends in an InputError within
// the fuzzer's time limit, which is what the CLI's larger budget guarantees at its scale.
#include "fuzz/fuzz_support.h"
#include "tokenizer/chat_template.h"

namespace {
constexpr std::string_view kDefaultConversation =
    R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [template_text, conversation] = lp::fuzz::split_at_nul(lp::fuzz::as_text(data, size));
  lp::ChatRequest request;
  try {
    request = lp::parse_chat_request(conversation, "fuzz.json");
  } catch (const lp::InputError&) {
    request = lp::parse_chat_request(kDefaultConversation, "default.json");
  }
  const lp::ChatTemplate tmpl{std::string(template_text), "<s>", "</s>"};
  const lp::jinja::RenderLimits limits{.max_output_bytes = size_t{1} << 20, .max_steps = 100'000};
  return lp::fuzz::accept_input_errors([&] { (void)lp::render_chat_template(tmpl, request, limits); });
}
