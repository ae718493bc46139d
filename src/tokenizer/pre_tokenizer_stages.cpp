// The pre-tokenizers of the byte-level BPE families, by GGUF `tokenizer.ggml.pre` name: the
// stage sequence of each family's own tokenizer.json, which tokenizers applies one stage at a
// time (a merged single regex backtracks differently: "  3" would leave a space behind).
// Names not listed use GPT-2's split (ByteLevel with its regex), as transformers does.
#include <array>
#include <utility>

#include "tokenizer/tokenizer_load.h"

namespace lp {
namespace {

using K = PreTokenizerStage::Kind;

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
// deepseek-ai/deepseek-llm-7b-base and deepseek-coder-6.7b-base: letters, punctuation,
// trailing spaces and CJK split off in turn, then digits.
constexpr std::string_view kDeepSeekLetters =
    R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)";
constexpr std::string_view kDeepSeekPunctuation = R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)";
constexpr std::string_view kDeepSeekCjk = R"([一-龥ࠀ-一가-퟿]+)";
// deepseek-ai/DeepSeek-V3
constexpr std::string_view kDeepSeek3Cjk = R"([一-龥぀-ゟ゠-ヿ]+)";
constexpr std::string_view kDeepSeek3 =
    R"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

template <size_t N>
using Stages = std::array<PreTokenizerStage, N>;
constexpr Stages<2> kLlama3Stages = {{{K::Split, kLlama3}, {K::ByteLevel}}};
constexpr Stages<2> kQwen2Stages = {{{K::Split, kQwen2}, {K::ByteLevel}}};
constexpr Stages<2> kQwen35Stages = {{{K::Split, kQwen35}, {K::ByteLevel}}};
constexpr Stages<2> kTekkenStages = {{{K::Split, kTekken}, {K::ByteLevel}}};
constexpr Stages<2> kGpt4oStages = {{{K::Split, kGpt4o}, {K::ByteLevel}}};
// bigcode/starcoder, HuggingFaceTB/SmolLM2, CohereForAI/c4ai-command-r, Refact, ...: single
// digits, then GPT-2's split on what is left.
constexpr Stages<2> kStarCoderStages = {{{K::Digits}, {K::ByteLevelSplit}}};
constexpr Stages<7> kDeepSeekLlmStages = {{{K::Split, R"([\r\n])"}, {K::Split, kDeepSeekLetters},
                                           {K::Split, kDeepSeekPunctuation}, {K::Split, R"(\s+$)"},
                                           {K::Split, kDeepSeekCjk}, {K::Digits}, {K::ByteLevel}}};
constexpr Stages<6> kDeepSeekCoderStages = {{{K::Split, R"([\r\n])"}, {K::Split, R"(\s?\p{L}+)"},
                                             {K::Split, R"(\s?\p{P}+)"}, {K::Split, kDeepSeekCjk},
                                             {K::Digits}, {K::ByteLevel}}};
constexpr Stages<4> kDeepSeek3Stages = {{{K::Split, R"(\p{N}{1,3})"}, {K::Split, kDeepSeek3Cjk},
                                         {K::Split, kDeepSeek3}, {K::ByteLevel}}};
// tiiuae/falcon-7b: the digit stages come after ByteLevel, so they see the byte alphabet.
constexpr Stages<4> kFalconStages = {{{K::PunctuationRuns}, {K::ByteLevelSplit}, {K::DigitRuns},
                                      {K::Split, "[0-9][0-9][0-9]"}}};

// Llama 3's and Tekken's tokenizer.json also set the BPE model's ignore_merges: a word that is a
// token is taken whole (llama.cpp does the same for these names).
constexpr std::array<GgufPreTokenizer, 34> kFamilies = {{
    {"llama3", kLlama3Stages, true},        {"llama-v3", kLlama3Stages, true},   {"llama-bpe", kLlama3Stages, true},
    {"falcon3", kLlama3Stages, true},       {"falcon-h1", kLlama3Stages, true},  {"pixtral", kLlama3Stages, true},
    {"midm-2.0", kLlama3Stages, true},      {"lfm2", kLlama3Stages, true},       {"jina-v5-nano", kLlama3Stages, true},
    {"dbrx", kLlama3Stages},                {"smaug-bpe", kLlama3Stages},        {"tekken", kTekkenStages, true},
    {"qwen2", kQwen2Stages},                {"deepseek-r1-qwen", kQwen2Stages},  {"kormo", kQwen2Stages},
    {"megrez", kQwen2Stages},               {"f2llmv2", kQwen2Stages},           {"qwen35", kQwen35Stages},
    {"gpt-4o", kGpt4oStages},               {"llama4", kGpt4oStages},            {"kanana2", kGpt4oStages},
    {"minimax-m2", kGpt4oStages},           {"talkie", kGpt4oStages},            {"starcoder", kStarCoderStages},
    {"smollm", kStarCoderStages},           {"refact", kStarCoderStages},        {"command-r", kStarCoderStages},
    {"codeshell", kStarCoderStages},        {"exaone", kStarCoderStages},        {"minerva-7b", kStarCoderStages},
    {"deepseek-llm", kDeepSeekLlmStages},   {"deepseek-coder", kDeepSeekCoderStages},
    {"deepseek-v3", kDeepSeek3Stages},      {"falcon", kFalconStages},
}};

// tokenizers' is_punc: ASCII punctuation (which counts $+<=>^`|~ in) or Unicode's P classes.
constexpr std::string_view kPunctuation = R"([\p{P}!-/:-@\[-`{-~])";

}  // namespace

const GgufPreTokenizer* gguf_pre_tokenizer(std::string_view pre) {
  for (const GgufPreTokenizer& family : kFamilies)
    if (family.name == pre) return &family;
  return nullptr;
}

PreTokenizerStep split_step(std::string_view pattern, SplitBehavior behavior, bool invert, const std::string& source) {
  PreTokenizerStep s{.kind = PreTokenizerStep::Kind::Split, .behavior = behavior, .invert = invert};
  s.regex = std::make_shared<const Regex>(pattern, source);
  return s;
}

// Digits matches one char::is_numeric character (\p{N}) at a time: alone, or joined in runs.
PreTokenizerStep digits_step(bool individual, const std::string& source) {
  return split_step("\\p{N}", individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false, source);
}

PreTokenizerStep punctuation_step(SplitBehavior behavior, const std::string& source) {
  return split_step(kPunctuation, behavior, false, source);
}

PreTokenizerStep byte_level_step(bool add_prefix_space, bool use_regex, const std::string& source) {
  PreTokenizerStep s{.kind = PreTokenizerStep::Kind::ByteLevel, .add_prefix_space = add_prefix_space};
  if (use_regex) s.regex = std::make_shared<const Regex>(kGpt2SplitPattern, source);
  return s;
}

std::vector<PreTokenizerStep> pre_tokenizer_steps(std::span<const PreTokenizerStage> stages, const std::string& source) {
  std::vector<PreTokenizerStep> out;
  for (const PreTokenizerStage& stage : stages) {
    switch (stage.kind) {
      case K::Split: out.push_back(split_step(stage.pattern, SplitBehavior::Isolated, false, source)); break;
      case K::Digits: out.push_back(digits_step(true, source)); break;
      case K::DigitRuns: out.push_back(digits_step(false, source)); break;
      case K::PunctuationRuns: out.push_back(punctuation_step(SplitBehavior::Contiguous, source)); break;
      case K::ByteLevel: out.push_back(byte_level_step(false, false, source)); break;
      case K::ByteLevelSplit: out.push_back(byte_level_step(false, true, source)); break;
    }
  }
  return out;
}

}  // namespace lp
