#pragma once
// Requests of the four generation endpoints (OpenAI's chat/completions and completions,
// Ollama's chat and generate), read from their JSON bodies into one form. Every field a
// client sends is checked for its type and range; a bad one is an ApiError naming the field
// (the server answers 400 with it). Fields we do not know are ignored, as both APIs' servers
// do; values we cannot honour (n > 1, a response format) are refused by name.
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/token_stream.h"

namespace lp::serve {

enum class Api { openai_chat, openai_completions, ollama_chat, ollama_generate };

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct ApiRequest {
  Api api = Api::openai_chat;
  std::string model;
  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage: a last chunk with only usage
  // Chat endpoints, and Ollama generate without raw (its system + prompt as a conversation):
  // messages with string contents. Otherwise `prompt`, tokenized as it is.
  nlohmann::ordered_json messages;
  std::optional<std::string> prompt;
  GenerationSettings generation;
  bool seed_given = false;
  bool cache_prompt = true;  // llama-server's field: a slot's cached prefix may be reused
  bool logprobs = false;
};

// The limits of a request, whatever the body holds.
inline constexpr size_t kMaxStopStrings = 16;
inline constexpr size_t kMaxStopLength = 256;
inline constexpr int64_t kMaxTopLogprobs = 20;
inline constexpr size_t kMaxMessages = 4096;

ApiRequest parse_api_request(Api api, std::string_view body);

}  // namespace lp::serve
