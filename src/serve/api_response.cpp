#include "serve/api_response.h"

#include <cmath>

namespace lp::serve {
namespace {

using Event = nlohmann::ordered_json;

int64_t nanoseconds(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1e9)); }

// OpenAI's finish_reason / Ollama's done_reason.
std::string finish_reason(const JobOutcome& o) {
  if (o.stop_reason == "length" || o.stop_reason == "context") return "length";
  if (o.stop_reason == "cancelled") return "cancelled";
  return "stop";
}

Event usage(const JobOutcome& o) {
  const auto completion = static_cast<int64_t>(o.tokens.size());
  return {{"prompt_tokens", o.prompt_tokens},
          {"completion_tokens", completion},
          {"total_tokens", o.prompt_tokens + completion},
          {"prompt_tokens_details", {{"cached_tokens", o.cached_tokens}}}};
}

// llama-server's timings object, for clients that read it.
Event llama_server_timings(const JobOutcome& o) {
  const auto prompt_n = o.prompt_tokens - o.cached_tokens;
  const auto predicted_n = static_cast<int64_t>(o.tokens.size());
  auto per_second = [](double n, double s) { return s > 0 ? n / s : 0.0; };
  return {{"cache_n", o.cached_tokens},
          {"prompt_n", prompt_n},
          {"prompt_ms", o.prompt_seconds * 1e3},
          {"prompt_per_second", per_second(static_cast<double>(prompt_n), o.prompt_seconds)},
          {"predicted_n", predicted_n},
          {"predicted_ms", o.decode_seconds * 1e3},
          {"predicted_per_second", per_second(static_cast<double>(o.decoded_tokens), o.decode_seconds)},
          {"time_to_first_token_ms", o.first_token_seconds * 1e3}};
}

// Ollama's timings. The model stays loaded, so load_duration is the time the request waited
// for a slot: what stood between it and the model, as a load does in Ollama.
void add_ollama_timings(Event& j, const JobOutcome& o) {
  j["done_reason"] = finish_reason(o);
  j["total_duration"] = nanoseconds(o.total_seconds);
  j["load_duration"] = nanoseconds(o.queue_seconds);
  j["prompt_eval_count"] = o.prompt_tokens - o.cached_tokens;
  j["prompt_eval_duration"] = nanoseconds(o.prompt_seconds);
  j["eval_count"] = static_cast<int64_t>(o.tokens.size());
  j["eval_duration"] = nanoseconds(o.decode_seconds);
}

std::vector<int> byte_values(const std::string& s) {
  std::vector<int> out;
  for (unsigned char c : s) out.push_back(c);
  return out;
}

Event chat_logprobs(const JobOutcome& o, const Tokenizer& tok) {
  Event content = Event::array();
  for (const TokenLogprob& lp : o.logprobs) {
    const std::string piece = tok.decode(std::span(&lp.token, 1));
    Event top = Event::array();
    for (const auto& [id, value] : lp.top) {
      const std::string alt = tok.decode(std::span(&id, 1));
      top.push_back({{"token", alt}, {"logprob", value}, {"bytes", byte_values(alt)}});
    }
    content.push_back({{"token", piece}, {"logprob", lp.logprob}, {"bytes", byte_values(piece)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

Event completion_logprobs(const JobOutcome& o, const Tokenizer& tok) {
  Event tokens = Event::array(), values = Event::array(), tops = Event::array(), offsets = Event::array();
  size_t offset = 0;
  for (const TokenLogprob& lp : o.logprobs) {
    const std::string piece = tok.decode(std::span(&lp.token, 1));
    tokens.push_back(piece);
    values.push_back(lp.logprob);
    offsets.push_back(offset);
    offset += piece.size();
    Event top = Event::object();
    for (const auto& [id, value] : lp.top) top[tok.decode(std::span(&id, 1))] = value;
    tops.push_back(top);
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

Event openai_head(const ApiRequest& r, const ResponseContext& c, bool chunk) {
  const bool chat = r.api == Api::openai_chat;
  return {{"id", c.id},
          {"object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"},
          {"created", c.created},
          {"model", c.model},
          {"system_fingerprint", "llama-pajamas"}};
}

Event ollama_head(const ResponseContext& c) { return {{"model", c.model}, {"created_at", c.created_at}}; }

}  // namespace

bool is_ollama(Api api) { return api == Api::ollama_chat || api == Api::ollama_generate; }

Event complete_response(const ApiRequest& r, const ResponseContext& c, const JobOutcome& o, const Tokenizer& tok) {
  if (is_ollama(r.api)) {
    Event j = ollama_head(c);
    if (r.api == Api::ollama_chat) {
      j["message"] = {{"role", "assistant"}, {"content", o.text}};
    } else {
      j["response"] = o.text;
    }
    j["done"] = true;
    add_ollama_timings(j, o);
    return j;
  }
  Event j = openai_head(r, c, false);
  Event choice = {{"index", 0}};
  if (r.api == Api::openai_chat) {
    choice["message"] = {{"role", "assistant"}, {"content", o.text}};
    choice["logprobs"] = r.logprobs ? chat_logprobs(o, tok) : Event(nullptr);
  } else {
    choice["text"] = o.text;
    choice["logprobs"] = r.logprobs ? completion_logprobs(o, tok) : Event(nullptr);
  }
  choice["finish_reason"] = finish_reason(o);
  j["choices"] = Event::array({choice});
  j["usage"] = usage(o);
  j["timings"] = llama_server_timings(o);
  return j;
}

Event stream_chunk(const ApiRequest& r, const ResponseContext& c, const std::string& text, bool first) {
  if (is_ollama(r.api)) {
    Event j = ollama_head(c);
    if (r.api == Api::ollama_chat) {
      j["message"] = {{"role", "assistant"}, {"content", text}};
    } else {
      j["response"] = text;
    }
    j["done"] = false;
    return j;
  }
  Event j = openai_head(r, c, true);
  Event choice = {{"index", 0}};
  if (r.api == Api::openai_chat) {
    Event delta = Event::object();
    if (first) delta["role"] = "assistant";
    delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = nullptr;
  j["choices"] = Event::array({choice});
  return j;
}

std::vector<Event> stream_end(const ApiRequest& r, const ResponseContext& c, const JobOutcome& o) {
  if (is_ollama(r.api)) {
    Event j = stream_chunk(r, c, "", false);
    j["done"] = true;
    add_ollama_timings(j, o);
    return {j};
  }
  Event last = openai_head(r, c, true);
  Event choice = {{"index", 0}};
  if (r.api == Api::openai_chat) {
    choice["delta"] = Event::object();
  } else {
    choice["text"] = "";
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason(o);
  last["choices"] = Event::array({choice});
  // Usage on the finishing chunk too: counts in every response, whatever the client asked.
  last["usage"] = usage(o);
  last["timings"] = llama_server_timings(o);
  std::vector<Event> out = {last};
  if (r.include_usage) {
    Event only = openai_head(r, c, true);
    only["choices"] = Event::array();
    only["usage"] = usage(o);
    out.push_back(only);
  }
  return out;
}

std::string frame(Api api, const Event& event) {
  const std::string body = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return is_ollama(api) ? body + "\n" : "data: " + body + "\n\n";
}

std::string stream_done(Api api) { return is_ollama(api) ? std::string() : std::string("data: [DONE]\n\n"); }

}  // namespace lp::serve
