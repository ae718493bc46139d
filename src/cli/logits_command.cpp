// `logits`: next-token log-probabilities at every position of a text, as a .npy array, so
// our engine can be compared with any other (transformers, llama.cpp) outside this tool.
#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <iterator>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "cli/engine_options.h"
#include "core/error.h"
#include "core/text_file.h"
#include "engine/ops.h"
#include "formats/npy_writer.h"
#include "tokenizer/tokenizer_load.h"

namespace lp::cli {
namespace {

std::vector<int32_t> parse_token_ids(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == ',') {
      ++i;
      continue;
    }
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(text.substr(i, 20), &used);
    } catch (const std::exception&) {
      fail("{}: '{}' is not a token id", path, text.substr(i, 20));
    }
    if (v < 0 || v > INT32_MAX) fail("{}: token id {} is out of range", path, v);
    ids.push_back(static_cast<int32_t>(v));
    i += used;
  }
  if (ids.empty()) fail("{} holds no token ids", path);
  return ids;
}

}  // namespace

void add_logits_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("logits", "Write the next-token log-probabilities at every position of a text as a .npy array");
  auto model_path = std::make_shared<std::string>();
  auto text_file = std::make_shared<std::string>();
  auto tokens_file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto decode_from = std::make_shared<int64_t>(-1);
  add_model_option(cmd, "model,-m,--model", *model_path, "GGUF file or Hugging Face directory")->required();
  auto* file_opt = cmd->add_option("-f,--file", *text_file, "Text file, tokenized by the model's tokenizer (BOS as it adds it)");
  auto* tokens_opt = cmd->add_option("--tokens", *tokens_file, "File of token ids (whitespace or comma separated) instead of text");
  file_opt->excludes(tokens_opt);
  cmd->add_option("--decode-from", *decode_from,
                  "Positions from this one on are evaluated one token at a time through the KV cache, as in generation");
  cmd->add_option("-o,--out", *out, "Output .npy: float32 [positions, vocabulary]; row i predicts token i+1")->required();
  auto flags = add_engine_flags(cmd, 512, true);
  cmd->callback([=] {
    if (file_opt->count() == 0 && tokens_opt->count() == 0) fail("logits needs --file or --tokens");
    const auto start = std::chrono::steady_clock::now();
    EngineUnderTest e = open_engine(*flags, *model_path, 512, static_cast<uint64_t>(flags->ctx_size > 0 ? flags->ctx_size : 512));
    std::vector<int32_t> tokens = tokens_opt->count() ? parse_token_ids(*tokens_file)
                                                      : load_tokenizer(*model_path).encode(read_text_file(*text_file), true);
    const SessionOptions& options = e.options;
    if (static_cast<int64_t>(tokens.size()) > options.ctx_size) {
      fmt::print(stderr, "note: {} tokens, evaluating the first {} (--ctx-size)\n", tokens.size(), options.ctx_size);
      tokens.resize(static_cast<size_t>(options.ctx_size));
    }
    if (tokens.empty()) fail("the text has no tokens");
    SequenceEvaluator& session = *e.session;
    const int64_t vocab = session.vocab_size(), n = static_cast<int64_t>(tokens.size());
    const int64_t batched = *decode_from >= 0 ? std::min(*decode_from, n) : n;
    NpyWriter writer(*out, {static_cast<uint64_t>(n), static_cast<uint64_t>(vocab)});
    std::vector<float> logits(static_cast<size_t>(options.batch_size * vocab)), row(static_cast<size_t>(vocab));
    int64_t pos = 0;
    while (pos < n) {
      const int64_t count = pos < batched ? std::min(options.batch_size, batched - pos) : 1;
      session.eval(std::span(tokens).subspan(static_cast<size_t>(pos), static_cast<size_t>(count)), logits, true);
      for (int64_t t = 0; t < count; ++t) {
        log_softmax(logits.data() + t * vocab, row.data(), vocab);
        writer.append(row);
      }
      pos += count;
    }
    writer.commit();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "{} positions x {} tokens written to {} in {:.2f} s\n", n, vocab, *out, seconds);
  });
}

}  // namespace lp::cli
