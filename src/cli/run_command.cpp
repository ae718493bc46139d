// `run`: generate text from a model with its chat template, streaming tokens as they come,
// and report the timings Ollama reports. Flags follow llama.cpp's names.
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "cli/engine_options.h"
#include "core/error.h"
#include "engine/generation.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer_load.h"

namespace lp::cli {
namespace {

struct RunFlags {
  std::string model, prompt, system;
  bool raw = false, interactive = false, json = false, verbose = false;
  GenerationSettings gen;
  int64_t seed = -1;
};

nlohmann::json timings_json(double load_seconds, const GenerationTimings& t) {
  auto rate = [](double n, double s) { return s > 0 ? n / s : 0.0; };
  return {{"load_seconds", load_seconds},
          {"prompt_tokens", t.prompt_tokens},
          {"prompt_seconds", t.prompt_seconds},
          {"prompt_tokens_per_second", rate(static_cast<double>(t.prompt_tokens), t.prompt_seconds)},
          {"generated_tokens", t.generated_tokens},
          {"eval_tokens", t.decoded_tokens},
          {"eval_seconds", t.decode_seconds},
          {"eval_tokens_per_second", rate(static_cast<double>(t.decoded_tokens), t.decode_seconds)},
          {"time_to_first_token_seconds", t.first_token_seconds}};
}

void print_timings(const nlohmann::json& t) {
  fmt::print(stderr,
             "\nload time:         {:9.2f} ms\n"
             "prompt eval:       {:9.2f} ms / {} tokens ({:.2f} tokens/s)\n"
             "eval:              {:9.2f} ms / {} tokens ({:.2f} tokens/s)\n"
             "time to first token: {:7.2f} ms\n",
             t["load_seconds"].get<double>() * 1e3, t["prompt_seconds"].get<double>() * 1e3,
             t["prompt_tokens"].get<int64_t>(), t["prompt_tokens_per_second"].get<double>(),
             t["eval_seconds"].get<double>() * 1e3, t["eval_tokens"].get<int64_t>(),
             t["eval_tokens_per_second"].get<double>(), t["time_to_first_token_seconds"].get<double>() * 1e3);
}

// The prompt as the model was trained to see it: the chat template renders the conversation
// (with BOS where the template puts it, as transformers' apply_chat_template does), or with
// --raw the text itself with the tokenizer's own BOS/EOS.
std::vector<int32_t> prompt_tokens(const Tokenizer& tok, const std::optional<ChatTemplate>& tmpl,
                                   const nlohmann::ordered_json& messages, const std::string& raw_text) {
  if (!tmpl) return tok.encode(raw_text, true);
  ChatRequest request;
  request.messages = messages;
  return tok.encode(render_chat_template(*tmpl, request), false);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate text from a model (chat template applied), streaming tokens as they come");
  auto f = std::make_shared<RunFlags>();
  auto& s = f->gen.sampling;
  add_model_option(cmd, "model,-m,--model", f->model, "GGUF file or Hugging Face directory")->required();
  auto* prompt_opt = cmd->add_option("-p,--prompt", f->prompt, "The prompt (the user's message unless --raw)");
  cmd->add_option("--system", f->system, "A system message put before the prompt");
  cmd->add_flag("--raw", f->raw, "Plain completion: no chat template");
  cmd->add_flag("-i,--interactive", f->interactive, "Chat: read messages from standard input, one per line");
  cmd->add_option("-n,--n-predict", f->gen.max_new_tokens, "Most tokens to generate (-1: until the context is full)")->capture_default_str();
  cmd->add_option("--temp", s.temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", s.top_k, "Keep the k most likely tokens (0: off)")->capture_default_str();
  cmd->add_option("--top-p", s.top_p, "Keep the most likely tokens up to this probability mass (1: off)")->capture_default_str();
  cmd->add_option("--min-p", s.min_p, "Drop tokens below this fraction of the top probability (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", s.repeat_penalty, "Penalize recent tokens (1: off)")->capture_default_str();
  cmd->add_option("--repeat-last-n", s.repeat_last_n, "How many recent tokens are penalized")->capture_default_str();
  cmd->add_option("--presence-penalty", s.presence_penalty, "Subtract from recent tokens' logits (0: off)")->capture_default_str();
  cmd->add_option("--seed", f->seed, "Random seed (-1: a random one)")->capture_default_str();
  cmd->add_option("--stop", f->gen.stop_strings, "Stop when the output contains this text (repeatable)");
  cmd->add_flag("--ignore-eos", f->gen.ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->add_flag("--json", f->json, "Print one JSON object (prompt tokens, tokens, text, timings) instead of streaming");
  cmd->add_flag("--verbose", f->verbose, "Print the prompt's token count and the timings after each answer");
  auto flags = add_engine_flags(cmd, 4096, true);
  cmd->callback([=] {
    if (!f->interactive && prompt_opt->count() == 0) fail("run needs -p/--prompt or --interactive");
    if (f->interactive && f->json) fail("--interactive and --json cannot be combined");
    const auto load_start = std::chrono::steady_clock::now();
    EngineUnderTest e = open_engine(*flags, f->model, 4096, static_cast<uint64_t>(flags->ctx_size > 0 ? flags->ctx_size : 4096));
    const Tokenizer tok = load_tokenizer(f->model);
    std::optional<ChatTemplate> tmpl;
    if (!f->raw) tmpl = load_chat_template(f->model);
    Generator generator(*e.session, tok, end_of_generation_ids(tok, e.hparams.eos_token_ids));
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    GenerationSettings gen = f->gen;
    gen.sampling.seed = f->seed >= 0 ? static_cast<uint64_t>(f->seed) : std::random_device{}();

    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    if (!f->system.empty()) messages.push_back({{"role", "system"}, {"content", f->system}});
    auto stream = [&](const std::string& piece) {
      fmt::print("{}", piece);
      std::fflush(stdout);
    };
    auto turn = [&](const std::string& user_text) {
      messages.push_back({{"role", "user"}, {"content", user_text}});
      const auto prompt = prompt_tokens(tok, tmpl, messages, user_text);
      GenerationResult r = generator.generate(prompt, gen, f->json ? nullptr : std::function(stream));
      messages.push_back({{"role", "assistant"}, {"content", r.text}});
      const nlohmann::json timings = timings_json(load_seconds, r.timings);
      if (f->json) {
        print_json({{"model", f->model}, {"prompt_tokens", prompt}, {"tokens", r.tokens}, {"text", r.text},
                    {"stop_reason", r.stop_reason}, {"timings", timings}});
      } else {
        fmt::print("\n");
        if (!f->interactive || f->verbose) print_timings(timings);
      }
    };
    if (!f->interactive) {
      turn(f->prompt);
      return;
    }
    if (prompt_opt->count()) turn(f->prompt);
    std::string line;
    while (true) {
      fmt::print(stderr, "> ");
      if (!std::getline(std::cin, line)) break;
      if (line.empty()) continue;
      if (f->raw) messages = nlohmann::ordered_json::array();  // plain completion has no conversation
      turn(line);
    }
  });
}

}  // namespace lp::cli
