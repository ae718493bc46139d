#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text.h"
#include "decide/model_comparison.h"

namespace lp::cli {
namespace {

struct CompareArgs {
  decide::CompareOptions options;
  std::string a, b, reference, metrics = "speed,memory,quality", text, data_dir, work_dir, out;
  bool json = false;
};

void run_compare(CompareArgs& a) {
  auto& o = a.options;
  o.a = a.a;
  o.b = a.b;
  o.reference = a.reference;
  o.text = a.text;
  o.data_dir = a.data_dir;
  o.speed = o.memory = o.quality = false;
  for (const auto& m : split_commas(a.metrics)) {
    if (m == "speed") o.speed = true;
    else if (m == "memory") o.memory = true;
    else if (m == "quality") o.quality = true;
    else fail("--metrics {}: each must be speed, memory or quality", m);
  }
  if (!o.speed && !o.memory && !o.quality) fail("--metrics names nothing to compare (speed, memory, quality)");
  if (o.questions != "arc_easy" && o.questions != "arc_challenge" && o.questions != "mmlu") {
    fail("--questions {}: must be arc_easy, arc_challenge or mmlu", o.questions);
  }
  // The children's records go to --work-dir, or to a scratch folder removed once they are read
  // (kept when a step fails: the error names a log in it).
  o.work_dir = a.work_dir.empty() ? make_temporary_directory("lp-compare", "compare's records") : std::filesystem::path(a.work_dir);
  const bool quiet = a.json || !isatty(STDERR_FILENO);
  std::error_code ignored;
  decide::Comparison c;
  try {
    c = decide::compare_models(o, [&](const std::string& step) {
      if (!quiet) fmt::print(stderr, "compare: {}\n", step);
    });
  } catch (...) {
    if (a.work_dir.empty() && std::filesystem::is_empty(o.work_dir, ignored)) std::filesystem::remove(o.work_dir, ignored);
    throw;
  }
  if (a.work_dir.empty()) std::filesystem::remove_all(o.work_dir, ignored);
  const std::string text = a.json ? decide::comparison_json(c, o).dump(2) + "\n" : decide::comparison_table(c, o);
  if (!a.out.empty()) write_file_atomically(a.out, text);
  fmt::print("{}", text);
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand(
      "compare", "Two models side by side (GGUF against MLX, or two levels): speed, memory and quality in one table");
  add_model_option(cmd, "a", a->a, "Model A: GGUF file, Hugging Face or MLX directory")->required();
  add_model_option(cmd, "b", a->b, "Model B")->required();
  add_model_option(cmd, "--reference", a->reference, "Common reference for KL-divergence (default: A)");
  cmd->add_option("--backend1", a->options.backend_a, "Backend A's speed and memory are measured with: cpu or mlx")
      ->check(CLI::IsMember({"cpu", "mlx"}))
      ->default_val("cpu");
  cmd->add_option("--backend2", a->options.backend_b, "Backend for B: cpu or mlx")->check(CLI::IsMember({"cpu", "mlx"}))->default_val("cpu");
  cmd->add_option("--metrics", a->metrics, "Comma-separated: speed, memory, quality")->default_val("speed,memory,quality");
  cmd->add_option("-p,--n-prompt", a->options.prompt_tokens, "Prompt length for pp and TTFT")->default_val(512);
  cmd->add_option("-n,--n-gen", a->options.gen_tokens, "Generation length for tg")->default_val(128);
  cmd->add_option("-r,--repetitions", a->options.repetitions, "Runs per speed test")->default_val(3)->check(CLI::Range(1, 100));
  cmd->add_option("--chunks", a->options.chunks, "Perplexity/KL windows (0: the whole text)")->default_val(20);
  cmd->add_option("--questions", a->options.questions, "Question set: arc_easy, arc_challenge or mmlu")->default_val("arc_easy");
  cmd->add_option("--subset", a->options.subset, "Questions: quick (default), tr125 or full")->default_val("quick");
  cmd->add_option("-f,--text", a->text, "Perplexity text (default: WikiText-2 test)");
  cmd->add_option("--data-dir", a->data_dir, "Folder holding mmlu/ and arc/ (default: validate's)");
  cmd->add_option("--work-dir", a->work_dir, "Keep the records and logs of each step here (default: a scratch folder, removed)");
  cmd->add_option("-o,--out", a->out, "Also write the table (or JSON) to this file");
  cmd->add_flag("--json", a->json, "Print JSON: every row as numbers, and the records it came from");
  cmd->add_option("-t,--threads", a->options.threads, "Threads for every step (default: every core)");
  cmd->callback([a] { run_compare(*a); });
}

}  // namespace lp::cli
