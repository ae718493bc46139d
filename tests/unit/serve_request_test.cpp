// Request bodies of the four generation endpoints into one form (src/serve/api_request.h):
// each API's own field names and defaults, hand-checked; bad fields refused by name.
#include <gtest/gtest.h>

#include "serve/api_request.h"
#include "serve/api_response.h"

namespace lp::serve {
namespace {

TEST(ServeRequest, OpenAiChatFields) {
  const ApiRequest r = parse_api_request(Api::openai_chat, R"({
    "model": "m", "stream": true, "stream_options": {"include_usage": true},
    "messages": [{"role": "developer", "content": "Be brief."},
                 {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}],
    "temperature": 0.25, "top_p": 0.5, "max_completion_tokens": 7, "stop": "END", "seed": 42,
    "some_future_field": {"ignored": true}})");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0]["role"], "system");  // OpenAI's "developer" is the templates' "system"
  EXPECT_EQ(r.messages[1]["content"], "Hi there");
  EXPECT_DOUBLE_EQ(r.generation.sampling.temperature, 0.25);
  EXPECT_DOUBLE_EQ(r.generation.sampling.top_p, 0.5);
  EXPECT_EQ(r.generation.sampling.top_k, 40);  // llama.cpp's default where the API has none
  EXPECT_EQ(r.generation.max_new_tokens, 7);
  EXPECT_EQ(r.generation.stop_strings, std::vector<std::string>{"END"});
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.generation.sampling.seed, 42u);
  EXPECT_FALSE(r.prompt.has_value());
}

TEST(ServeRequest, OpenAiDefaultsGenerateUntilTheEnd) {
  const ApiRequest r = parse_api_request(Api::openai_completions, R"({"prompt": ["Once"]})");
  EXPECT_EQ(r.prompt, "Once");
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.generation.max_new_tokens, -1);
  EXPECT_FALSE(r.seed_given);
  EXPECT_TRUE(r.cache_prompt);
  EXPECT_EQ(r.generation.top_logprobs, -1);
  const ApiRequest lp = parse_api_request(Api::openai_completions, R"({"prompt": "x", "logprobs": 3, "cache_prompt": false})");
  EXPECT_TRUE(lp.logprobs);
  EXPECT_EQ(lp.generation.top_logprobs, 3);
  EXPECT_FALSE(lp.cache_prompt);
}

TEST(ServeRequest, OllamaReadsOptionsAndStreamsByDefault) {
  const ApiRequest g = parse_api_request(Api::ollama_generate, R"({
    "model": "m", "prompt": "Hello", "system": "You are kind.",
    "options": {"temperature": 0, "num_predict": 12, "top_k": 5, "repeat_penalty": 1.1, "stop": ["\n"]}})");
  EXPECT_TRUE(g.stream);
  ASSERT_EQ(g.messages.size(), 2u);  // not raw: system + prompt through the chat template
  EXPECT_EQ(g.messages[0]["content"], "You are kind.");
  EXPECT_EQ(g.messages[1]["role"], "user");
  EXPECT_EQ(g.generation.max_new_tokens, 12);
  EXPECT_EQ(g.generation.sampling.top_k, 5);
  EXPECT_DOUBLE_EQ(g.generation.sampling.repeat_penalty, 1.1);
  const ApiRequest raw = parse_api_request(Api::ollama_generate, R"({"prompt": "Hello", "raw": true, "stream": false,
                                                                     "options": {"num_predict": -1}})");
  EXPECT_EQ(raw.prompt, "Hello");
  EXPECT_FALSE(raw.stream);
  EXPECT_EQ(raw.generation.max_new_tokens, -1);
  // Top-level sampling fields are OpenAI's, not Ollama's: ignored there.
  const ApiRequest top = parse_api_request(Api::ollama_chat, R"({"messages": [{"role": "user", "content": "x"}],
                                                                 "temperature": 0})");
  EXPECT_DOUBLE_EQ(top.generation.sampling.temperature, 0.8);
}

TEST(ServeRequest, BadFieldsAreNamed) {
  auto reason = [](Api api, const char* body) {
    try {
      parse_api_request(api, body);
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(reason(Api::openai_chat, R"({"messages": [{"role": "user", "content": "x"}], "seed": 1.5})").find("'seed'"),
            std::string::npos);
  EXPECT_NE(reason(Api::openai_chat, R"({"messages": [{"role": "user"}], "stop": ["a","b","c","d","e","f","g","h","i","j",
            "k","l","m","n","o","p","q"]})").find("at most 16"), std::string::npos);
  EXPECT_NE(reason(Api::openai_chat, R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})").find("image_url"),
            std::string::npos);
  EXPECT_NE(reason(Api::openai_chat, R"({"messages": [{"role": "user", "content": "x"}], "frequency_penalty": 1})")
                .find("frequency_penalty"),
            std::string::npos);
  EXPECT_NE(reason(Api::ollama_generate, R"({"prompt": "x", "format": "json"})").find("'format'"), std::string::npos);
  EXPECT_NE(reason(Api::openai_completions, R"({"prompt": "x", "top_logprobs": 1, "logprobs": 21})").find("'logprobs'"),
            std::string::npos);
  EXPECT_EQ(reason(Api::openai_chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": null})"), "accepted");
}

TEST(ServeResponse, OllamaTimingsAreNanoseconds) {
  ApiRequest r = parse_api_request(Api::ollama_generate, R"({"prompt": "x", "raw": true})");
  JobOutcome o;
  o.tokens = {1, 2, 3};
  o.stop_reason = "length";
  o.prompt_tokens = 10;
  o.cached_tokens = 4;
  o.prompt_seconds = 0.25;
  o.decode_seconds = 0.5;
  o.queue_seconds = 0.001;
  o.total_seconds = 0.8;
  const auto end = stream_end(r, {"id", "m", 0, "t"}, o);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0]["done_reason"], "length");
  EXPECT_EQ(end[0]["prompt_eval_count"], 6);  // what was evaluated: the cached 4 were not
  EXPECT_EQ(end[0]["prompt_eval_duration"], 250'000'000);
  EXPECT_EQ(end[0]["eval_count"], 3);
  EXPECT_EQ(end[0]["eval_duration"], 500'000'000);
  EXPECT_EQ(end[0]["load_duration"], 1'000'000);
  EXPECT_EQ(end[0]["total_duration"], 800'000'000);
  EXPECT_EQ(frame(Api::ollama_generate, end[0]).back(), '\n');
  r = parse_api_request(Api::openai_completions, R"({"prompt": "x", "stream": true, "stream_options": {"include_usage": true}})");
  const auto openai_end = stream_end(r, {"id", "m", 0, "t"}, o);
  ASSERT_EQ(openai_end.size(), 2u);
  EXPECT_EQ(openai_end[0]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(openai_end[1]["usage"]["total_tokens"], 13);
  EXPECT_EQ(openai_end[1]["choices"].size(), 0u);
  EXPECT_EQ(frame(Api::openai_completions, openai_end[1]).substr(0, 6), "data: ");
}

}  // namespace
}  // namespace lp::serve
