#pragma once
// The prompts generation fidelity is measured on: each is generated greedily by the model
// under test and by the reference model, and the two outputs are compared with the metrics
// of text_metrics.h. The families are TR125's five generation tasks; the built-in set is the
// project's own (10 prompts a family, written for this project), and a user may bring their
// own as JSONL.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lp::validate {

enum class PromptFamily { summarization, qa, code_generation, creative_writing, classification };

struct PromptFamilyInfo {
  PromptFamily family;
  std::string_view name;  // TR125's task name, also the "family" field of a prompt file
  // Generation budget. TR125 generates up to 256 tokens; we stop earlier because two models
  // generate every prompt on a CPU, and the first ~100 tokens already show whether the outputs
  // agree. Classification asks for one word, so 8 tokens hold the label and little else.
  int max_new_tokens;
};

// The five families, in TR125's order.
std::span<const PromptFamilyInfo> prompt_families();
const PromptFamilyInfo& family_info(PromptFamily family);

struct FidelityPrompt {
  std::string id;  // unique within a set, e.g. "qa-03"
  PromptFamily family;
  std::string prompt;  // the user message; the runner applies the model's chat template
};

// The built-in set: 10 prompts of each family, grouped by family in TR125's order.
std::span<const FidelityPrompt> builtin_fidelity_prompts();

// Bounds on a user's prompt file: generous for a hand-written set, small enough that a wrong
// file (a data dump, a binary) is refused before it is parsed or generated from.
inline constexpr size_t kMaxPromptFileBytes = 16u << 20;
inline constexpr size_t kMaxPromptsInFile = 10000;
inline constexpr size_t kMaxPromptIdBytes = 128;
inline constexpr size_t kMaxPromptBytes = 32u << 10;

// A user's prompt set: one JSON object per line, {"id": "...", "family": "<family name>",
// "prompt": "..."}, and no other fields; blank lines are skipped. Ids are non-empty and
// unique, prompts non-empty, sizes within the bounds above. InputError naming the file (and
// line) on anything else.
std::vector<FidelityPrompt> load_fidelity_prompts(const std::filesystem::path& jsonl_path);

}  // namespace lp::validate
