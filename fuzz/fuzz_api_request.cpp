// libFuzzer target: a request body of the server's generation endpoints (src/serve/). The
// first byte picks the API (OpenAI chat, OpenAI completions, Ollama chat, Ollama generate),
// the rest is the body; a parsed request is then answered in that API's streaming shapes.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "serve/api_request.h"
#include "serve/api_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto api = static_cast<lp::serve::Api>(data[0] % 4);
  try {
    const lp::serve::ApiRequest request = lp::serve::parse_api_request(api, lp::fuzz::as_text(data + 1, size - 1));
    lp::serve::ResponseContext context{"id", "model", 0, "2026-01-01T00:00:00Z"};
    lp::serve::JobOutcome outcome;
    outcome.text = request.prompt.value_or("");
    outcome.stop_reason = "eos";
    lp::serve::frame(api, lp::serve::stream_chunk(request, context, outcome.text, true));
    for (const auto& event : lp::serve::stream_end(request, context, outcome)) lp::serve::frame(api, event);
  } catch (const lp::serve::ApiError&) {
  }
  return 0;
}
