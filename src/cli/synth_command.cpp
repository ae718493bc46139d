#include <fmt/core.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/parallel.h"
#include "model/synthetic_model.h"

namespace lp::cli {
namespace {

struct SynthArgs {
  std::string like;
  std::string method = "F16";
  std::string output;
  uint64_t seed = 1;
  unsigned threads = default_thread_count();
  bool list = false;
};

std::string preset_list() {
  std::string s;
  for (const auto& p : all_model_presets()) s += (s.empty() ? "" : ", ") + std::string(p.id);
  return s;
}

void run_synth(const SynthArgs& a) {
  if (a.list) {
    for (const auto& p : all_model_presets()) {
      fmt::print("{:<30} {:<9} {:>2} layers  hidden {:>5}  ff {:>5}  heads {:>2}/{:<2}  vocab {}{}\n", p.id,
                 p.architecture, p.layers, p.embd, p.ff, p.heads, p.kv_heads, p.vocab,
                 p.experts ? fmt::format("  experts {}x{}", p.experts, p.experts_used) : "");
    }
    return;
  }
  const ModelPreset* preset = find_model_preset(a.like);
  if (preset == nullptr) fail("--like {}: unknown model (known: {})", a.like, preset_list());
  const Recipe* recipe = find_builtin_recipe(a.method);
  if (recipe == nullptr) fail("--method {}: unknown method (Q2_K ... Q8_0, F16, BF16, F32)", a.method);
  if (a.output.empty()) fail("-o FILE is required");
  const auto source = make_synthetic_source(*preset, a.seed);
  QuantizeSettings settings;
  settings.threads = std::max(1u, a.threads);
  quantize_model(*source, {{recipe, a.output}}, settings);
  fmt::print("wrote {} ({} shape, {}, random weights)\n", a.output, preset->id, recipe->name);
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto a = std::make_shared<SynthArgs>();
  auto* cmd = app.add_subcommand(
      "synth", "Write a model with a real model's shapes and tokenizer layout and random weights, for measuring speed and memory");
  cmd->add_option("--like", a->like, "Model to imitate (see --list)");
  cmd->add_option("--method,-m", a->method, "File type: Q2_K ... Q8_0, F16, BF16, F32")->default_val("F16");
  cmd->add_option("--output,-o", a->output, "Output .gguf");
  cmd->add_option("--seed", a->seed, "Seed of the random weights")->default_val(1);
  cmd->add_option("-t,--threads", a->threads, "Threads")->default_val(default_thread_count());
  cmd->add_flag("--list", a->list, "List the models --like knows");
  cmd->callback([a] { run_synth(*a); });
}

}  // namespace lp::cli
