#include "serve/api_request.h"

#include <cmath>
#include <fmt/format.h>

#include "core/error.h"
#include "formats/json_guard.h"

namespace lp::serve {
namespace {

using Body = nlohmann::json;  // what clients sent
using Ordered = nlohmann::ordered_json;  // what the chat template reads

[[noreturn]] void bad(const std::string& message) { throw ApiError(400, message); }

// A field's value when present and not null, checked for its type; `where` names it.
const Body* field(const Body& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

double number_in(const Body& object, const char* key, double lo, double hi, double fallback) {
  const Body* v = field(object, key);
  if (!v) return fallback;
  if (!v->is_number()) bad(fmt::format("'{}' must be a number", key));
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) bad(fmt::format("'{}' must be between {} and {}", key, lo, hi));
  return x;
}

int64_t integer_in(const Body& object, const char* key, int64_t lo, int64_t hi, int64_t fallback) {
  const Body* v = field(object, key);
  if (!v) return fallback;
  if (!v->is_number_integer() && !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>())) {
    bad(fmt::format("'{}' must be an integer", key));
  }
  const double x = v->get<double>();
  if (x < static_cast<double>(lo) || x > static_cast<double>(hi)) bad(fmt::format("'{}' must be between {} and {}", key, lo, hi));
  return static_cast<int64_t>(x);
}

bool boolean(const Body& object, const char* key, bool fallback) {
  const Body* v = field(object, key);
  if (!v) return fallback;
  if (!v->is_boolean()) bad(fmt::format("'{}' must be true or false", key));
  return v->get<bool>();
}

std::optional<std::string> text(const Body& object, const char* key) {
  const Body* v = field(object, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad(fmt::format("'{}' must be a string", key));
  return v->get<std::string>();
}

// `stop`: a string or a list of strings (both APIs).
std::vector<std::string> stop_strings(const Body& object) {
  const Body* v = field(object, "stop");
  if (!v) return {};
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    if (v->size() > kMaxStopStrings) bad(fmt::format("'stop' holds {} strings; at most {}", v->size(), kMaxStopStrings));
    for (const Body& s : *v) {
      if (!s.is_string()) bad("'stop' must be a string or a list of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    bad("'stop' must be a string or a list of strings");
  }
  for (const auto& s : out) {
    if (s.size() > kMaxStopLength) bad(fmt::format("a stop string is {} bytes long; at most {}", s.size(), kMaxStopLength));
  }
  return out;
}

// A message's content: a string, or OpenAI's list of parts of which only text is understood.
std::string message_content(const Body& message) {
  const Body* content = field(message, "content");
  if (!content) return "";
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) bad("a message's 'content' must be a string or a list of parts");
  std::string joined;
  for (const Body& part : *content) {
    if (!part.is_object()) bad("a content part must be an object");
    const auto type = text(part, "type");
    if (type != "text") bad(fmt::format("content parts of type '{}' are not supported; send text", type.value_or("?")));
    const auto piece = text(part, "text");
    if (!piece) bad("a text part needs 'text'");
    joined += *piece;
  }
  return joined;
}

Ordered read_messages(const Body& body) {
  const Body* v = field(body, "messages");
  if (!v) bad("'messages' is required");
  if (!v->is_array() || v->empty()) bad("'messages' must be a non-empty list");
  if (v->size() > kMaxMessages) bad(fmt::format("'messages' holds {} messages; at most {}", v->size(), kMaxMessages));
  Ordered out = Ordered::array();
  for (const Body& m : *v) {
    if (!m.is_object()) bad("each message must be an object");
    const auto role = text(m, "role");
    if (!role) bad("each message needs a 'role'");
    if (*role != "system" && *role != "user" && *role != "assistant" && *role != "developer" && *role != "tool") {
      bad(fmt::format("a message's role is '{}'; expected system, user, assistant, developer or tool", *role));
    }
    // OpenAI's "developer" messages are its new name for system messages; templates know "system".
    out.push_back({{"role", *role == "developer" ? "system" : *role}, {"content", message_content(m)}});
  }
  return out;
}

// Sampling fields, where each API spells them: OpenAI at the top level, Ollama in "options".
// Omitted fields keep llama.cpp's defaults (SamplingSettings), as `run` does, except where
// the API defines its own (Ollama's documented defaults are the same).
void read_sampling(const Body& from, ApiRequest& r, bool ollama) {
  auto& s = r.generation.sampling;
  s.temperature = number_in(from, "temperature", 0.0, 100.0, s.temperature);
  s.top_p = number_in(from, "top_p", 0.0, 1.0, s.top_p);
  s.top_k = integer_in(from, "top_k", 0, 1 << 20, s.top_k);
  s.min_p = number_in(from, "min_p", 0.0, 1.0, s.min_p);
  s.presence_penalty = number_in(from, "presence_penalty", -2.0, 2.0, s.presence_penalty);
  if (number_in(from, "frequency_penalty", -2.0, 2.0, 0.0) != 0.0) bad("'frequency_penalty' is not supported; use presence_penalty");
  s.repeat_penalty = number_in(from, "repeat_penalty", 0.0, 10.0, s.repeat_penalty);
  s.repeat_last_n = integer_in(from, "repeat_last_n", -1, 1 << 20, s.repeat_last_n);
  if (s.repeat_last_n < 0) s.repeat_last_n = INT64_MAX;  // -1: the whole history, as llama.cpp and Ollama mean it
  if (field(from, "seed")) {
    s.seed = static_cast<uint64_t>(integer_in(from, "seed", INT64_MIN / 2, INT64_MAX / 2, 0));
    r.seed_given = true;
  }
  r.generation.stop_strings = stop_strings(from);
  const char* max_key = ollama ? "num_predict" : "max_tokens";
  // OpenAI's newer name for max_tokens; Ollama's -1 means "until the context is full".
  int64_t max_tokens = integer_in(from, max_key, ollama ? -2 : 0, int64_t{1} << 40, r.generation.max_new_tokens);
  if (!ollama) max_tokens = integer_in(from, "max_completion_tokens", 0, int64_t{1} << 40, max_tokens);
  r.generation.max_new_tokens = max_tokens < 0 ? -1 : max_tokens;
  r.generation.ignore_eos = boolean(from, "ignore_eos", false);
  r.cache_prompt = boolean(from, "cache_prompt", true);
}

void read_openai(const Body& body, ApiRequest& r) {
  r.stream = boolean(body, "stream", false);
  if (const Body* options = field(body, "stream_options")) {
    if (!options->is_object()) bad("'stream_options' must be an object");
    r.include_usage = boolean(*options, "include_usage", false);
  }
  if (integer_in(body, "n", 1, 1 << 20, 1) != 1) bad("'n' must be 1: one completion per request");
  if (const Body* format = field(body, "response_format")) {
    if (!format->is_object() || text(*format, "type").value_or("text") != "text") bad("only the 'text' response_format is supported");
  }
  if (field(body, "tools") && !field(body, "tools")->empty()) bad("tool calls are not supported");
  r.generation.max_new_tokens = -1;  // OpenAI: until the model ends or the context is full
  read_sampling(body, r, false);
  if (r.api == Api::openai_chat) {
    r.messages = read_messages(body);
    r.logprobs = boolean(body, "logprobs", false);
    if (r.logprobs) r.generation.top_logprobs = integer_in(body, "top_logprobs", 0, kMaxTopLogprobs, 0);
  } else {
    const Body* prompt = field(body, "prompt");
    if (!prompt) bad("'prompt' is required");
    if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) prompt = &(*prompt)[0];
    if (!prompt->is_string()) bad("'prompt' must be a string");
    r.prompt = prompt->get<std::string>();
    if (boolean(body, "echo", false)) bad("'echo' is not supported");
    if (const Body* lp = field(body, "logprobs")) {
      r.logprobs = true;
      r.generation.top_logprobs = integer_in(body, "logprobs", 0, kMaxTopLogprobs, 0);
      (void)lp;
    }
  }
  if (r.logprobs && r.stream) bad("log-probabilities are returned by non-streaming requests only");
}

void read_ollama(const Body& body, ApiRequest& r) {
  r.stream = boolean(body, "stream", true);  // Ollama streams unless told not to
  if (const Body* format = field(body, "format")) {
    (void)format;
    bad("'format' (structured output) is not supported");
  }
  Body none = Body::object();
  const Body* options = field(body, "options");
  if (options && !options->is_object()) bad("'options' must be an object");
  r.generation.max_new_tokens = -1;  // Ollama's default num_predict: until the model ends
  read_sampling(options ? *options : none, r, true);
  if (r.api == Api::ollama_chat) {
    r.messages = read_messages(body);
    return;
  }
  const auto prompt = text(body, "prompt");
  if (!prompt) bad("'prompt' is required");
  if (boolean(body, "raw", false)) {
    r.prompt = *prompt;
    return;
  }
  r.messages = Ordered::array();
  if (const auto system = text(body, "system")) r.messages.push_back({{"role", "system"}, {"content", *system}});
  r.messages.push_back({{"role", "user"}, {"content", *prompt}});
}

}  // namespace

ApiRequest parse_api_request(Api api, std::string_view body) {
  Body j;
  try {
    j = parse_untrusted_json(body, "the request body");
  } catch (const InputError& e) {
    bad(e.what());
  }
  if (!j.is_object()) bad("the body must be a JSON object");
  ApiRequest r;
  r.api = api;
  r.model = text(j, "model").value_or("");
  if (api == Api::ollama_chat || api == Api::ollama_generate) {
    read_ollama(j, r);
  } else {
    read_openai(j, r);
  }
  return r;
}

}  // namespace lp::serve
