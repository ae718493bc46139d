// The split regexes of the byte-level BPE families, by GGUF `tokenizer.ggml.pre` name, as
// transformers' GGUF converter (gguf_tokenizer_mapping.py) and the families' own
// tokenizer.json files define them. Names not listed use GPT-2's split (SmolLM, GPT-2 itself).
#include <array>
#include <utility>

#include "tokenizer/tokenizer_load.h"

namespace lp {
namespace {

constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2, Qwen2.5, Qwen3 and DeepSeek-R1-Distill-Qwen: Llama 3's split with single digits.
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen35 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kGpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr std::array<std::pair<std::string_view, std::string_view>, 23> kPatterns = {{
    {"llama3", kLlama3},       {"llama-v3", kLlama3},   {"llama-bpe", kLlama3},  {"falcon3", kLlama3},
    {"falcon-h1", kLlama3},    {"pixtral", kLlama3},    {"midm-2.0", kLlama3},   {"lfm2", kLlama3},
    {"dbrx", kLlama3},         {"smaug-bpe", kLlama3},  {"tekken", kTekken},     {"qwen2", kQwen2},
    {"deepseek-r1-qwen", kQwen2}, {"kormo", kQwen2},    {"megrez", kQwen2},      {"f2llmv2", kQwen2},
    {"gpt-4o", kGpt4o},        {"llama4", kGpt4o},      {"kanana2", kGpt4o},     {"minimax-m2", kGpt4o},
    {"jina-v5-nano", kLlama3}, {"talkie", kGpt4o},        {"qwen35", kQwen35},
}};

}  // namespace

std::string_view gguf_pre_tokenizer_pattern(std::string_view pre) {
  for (const auto& [name, pattern] : kPatterns)
    if (name == pre) return pattern;
  return {};
}

}  // namespace lp
