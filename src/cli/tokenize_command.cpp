#include <fmt/core.h>
#include <fmt/ranges.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "core/error.h"
#include "core/text_file.h"
#include "tokenizer/tokenizer_load.h"

namespace lp::cli {
namespace {

// The inputs of a file, each ended by `separator` (the last one may lack it).
std::vector<std::string> input_lines(const std::string& file, char separator) {
  const std::string all = read_text_file(file);
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < all.size()) {
    size_t end = all.find(separator, begin);
    if (end == std::string::npos) end = all.size();
    lines.push_back(all.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

nlohmann::json describe(const Tokenizer& tok, std::string_view text, const std::vector<int32_t>& ids) {
  nlohmann::json pieces = nlohmann::json::array(), stream = nlohmann::json::array();
  StreamDecoder decoder(tok);
  for (const int32_t id : ids) {
    pieces.push_back(std::string(tok.token_text(id).value_or("")));
    stream.push_back(decoder.step(id));
  }
  if (std::string rest = decoder.finish(); !rest.empty()) stream.push_back(rest);
  return {{"text", std::string(text)}, {"ids", ids}, {"pieces", pieces}, {"decoded", tok.decode(ids)}, {"stream", stream}};
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of text as the model's tokenizer encodes it");
  auto model = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto no_special = std::make_shared<bool>(false);
  auto nul = std::make_shared<bool>(false);
  add_model_option(cmd, "model", *model, "GGUF file, tokenizer.json, or Hugging Face directory")->required();
  auto* text_opt = cmd->add_option("--text", *text, "Text to tokenize (one input, newlines included)");
  auto* file_opt = cmd->add_option("--file", *file, "File whose lines are tokenized one by one");
  text_opt->excludes(file_opt);
  cmd->add_flag("--nul", *nul, "With --file: inputs end with a NUL byte instead of a newline, so they may hold newlines")
      ->needs(file_opt);
  cmd->add_flag("--json", *json, "Print JSON: ids, pieces, the decoded text and the streamed decoding of each input");
  cmd->add_flag("--no-special", *no_special, "Do not add the BOS/EOS tokens the model adds around a text");
  cmd->callback([=] {
    if (text_opt->count() == 0 && file_opt->count() == 0) fail("tokenize needs --text or --file");
    const Tokenizer tok = load_tokenizer(*model);
    const std::vector<std::string> inputs = file_opt->count() ? input_lines(*file, *nul ? '\0' : '\n') : std::vector<std::string>{*text};
    nlohmann::json out = nlohmann::json::array();
    std::string plain;
    for (const std::string& input : inputs) {
      const std::vector<int32_t> ids = tok.encode(input, !*no_special);
      if (*json) {
        out.push_back(describe(tok, input, ids));
      } else {
        plain += fmt::format("{}\n", fmt::join(ids, " "));
      }
    }
    if (*json) print_json(out);
    else fmt::print("{}", plain);
  });
}

}  // namespace lp::cli
