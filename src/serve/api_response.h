#pragma once
// Responses of the generation endpoints, in each API's own shapes: OpenAI's completion
// objects and server-sent-event chunks (with usage, and llama-server's `timings`), Ollama's
// objects and NDJSON lines with its native timing fields in nanoseconds (total_duration,
// load_duration, prompt_eval_count/_duration, eval_count/_duration), which TR125 reads.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/api_request.h"
#include "serve/batch_scheduler.h"
#include "tokenizer/tokenizer.h"

namespace lp::serve {

struct ResponseContext {
  std::string id;          // chatcmpl-... / cmpl-...
  std::string model;       // the name clients use
  int64_t created = 0;     // Unix seconds
  std::string created_at;  // RFC 3339, Ollama's
};

// The whole answer of a non-streaming request.
nlohmann::ordered_json complete_response(const ApiRequest& request, const ResponseContext& context, const JobOutcome& outcome,
                                         const Tokenizer& tokenizer);
// One streamed piece of text.
nlohmann::ordered_json stream_chunk(const ApiRequest& request, const ResponseContext& context, const std::string& text,
                                    bool first);
// What ends a stream: the finishing chunk (with usage and timings), and OpenAI's usage-only
// chunk when the client asked for it.
std::vector<nlohmann::ordered_json> stream_end(const ApiRequest& request, const ResponseContext& context,
                                               const JobOutcome& outcome);
// One event on the wire: "data: {...}\n\n" for OpenAI, "{...}\n" for Ollama; OpenAI's
// stream ends with "data: [DONE]\n\n" (stream_done).
std::string frame(Api api, const nlohmann::ordered_json& event);
std::string stream_done(Api api);

bool is_ollama(Api api);

}  // namespace lp::serve
