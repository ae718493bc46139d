// libFuzzer target: a chat template rendered over a conversation (input:
// "<template>\0<conversation JSON>"; without a valid conversation a fixed one is used, so the
// template side is always exercised). Rendering is bounded tighter than the CLI's defaults
// (1 MiB, 1e5 steps) so each input stays fast; a template that exceeds them must fail with an
// InputError like any other bad template.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "fuzz_input.h"
#include "tokenizer/chat_template.h"

namespace {

lp::ChatRequest fallback_conversation() {
  lp::ChatRequest r;
  r.messages = nlohmann::ordered_json::parse(R"([{"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello", "reasoning_content": "greet"},
    {"role": "user", "content": [{"type": "text", "text": "And?"}]}])");
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [template_text, conversation] = lp::fuzz::split_at_nul(lp::fuzz::as_text(data, size));
  lp::ChatRequest request = fallback_conversation();
  try {
    if (!conversation.empty()) request = lp::parse_chat_request(conversation, "fuzz/messages.json");
  } catch (const lp::InputError&) {
  }
  const lp::ChatTemplate tmpl{std::string(template_text), "<s>", "</s>"};
  const lp::jinja::RenderLimits limits{.max_output_bytes = size_t{1} << 20, .max_steps = 100'000};
  try {
    request.add_generation_prompt = size % 2 == 0;
    (void)lp::render_chat_template(tmpl, request, limits);
  } catch (const lp::InputError&) {
  }
  return 0;
}
