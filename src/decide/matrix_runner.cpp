#include "decide/matrix_runner.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.h"
#include "core/child_process.h"
#include "core/error.h"
#include "core/host_info.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "decide/matrix_records.h"
#include "decide/matrix_shards.h"
#include "decide/matrix_suite.h"
#include "formats/gguf_same_model.h"
#include "formats/hub_cache.h"
#include "formats/json_guard.h"
#include "model/model_summary.h"
#include "validate/fidelity_prompts.h"
#include "validate/humaneval_problems.h"
#include "validate/validate_record.h"
#include "version.h"

namespace lp::decide {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The prompt `bench` steps time the first token and the load with (through the chat template).
constexpr const char* kTtftPrompt = "Explain in two sentences why the sky is blue.";

// The lines of a --samples file, as JSON objects.
std::vector<json> jsonl(const fs::path& path) {
  std::ifstream in(path);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line, nullptr, false));
  return out;
}

// Each question's rescored outcome from an mc step's samples: it travels in the record, so the
// report pairs levels on the same questions from records alone (merged from other machines,
// samples not needed).
json rescored_per_question(const fs::path& samples) {
  json per_question = json::array();
  for (const json& q : jsonl(samples))
    if (q.contains("rescored_correct")) per_question.push_back({q["task"], q["id"], q["rescored_correct"].get<bool>() ? 1 : 0});
  return per_question;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// One step of the sweep: what its result depends on (the key), and how to produce it.
struct Step {
  std::string step, level;
  json inputs;
  std::function<json()> run;  // produces the record's "result"
  fs::path covered_by = {};   // a shard: the whole step's record, which stands for every shard while it stands
  json extra = json::object();  // written into the record beside the result (a merge: merged_from)
};

enum class SweepMode { all, one, probe };  // every step here; one step (a job); none (which are done)

class Sweep {
 public:
  Sweep(const MatrixOptions& o, const std::function<void(const StepEvent&)>& progress, SweepMode mode,
        SweepStep selected = {})
      : o_(o), progress_(progress), suite_(matrix_suite(o.suite)), start_(std::chrono::steady_clock::now()),
        mode_(mode), selected_(std::move(selected)) {
    threads_ = o.threads > 0 ? o.threads : default_thread_count();
    if (mode_ == SweepMode::probe) return;
    for (const char* sub : {"records", "models", "reference", "samples", "tmp", "logs"}) fs::create_directories(o.out_dir / sub);
    if (mode_ == SweepMode::one) {
      // Jobs run side by side: each has its own temporaries and log, and leaves the others' alone.
      const std::string name = step_file_stem(selected_.step, selected_.level);
      tmp_dir_ = o.out_dir / "tmp" / name;
      log_ = o.out_dir / "logs" / (name + ".log");
      fs::create_directories(tmp_dir_);
      for (const auto& e : fs::directory_iterator(tmp_dir_)) fs::remove(e.path());
      return;
    }
    tmp_dir_ = o.out_dir / "tmp";
    log_ = o.out_dir / "matrix.log";
    // What a killed child left behind is a temporary file, never a record: clear them.
    for (const auto& e : fs::directory_iterator(tmp_dir_)) fs::remove_all(e.path());
    // A killed sweep's half-written outputs: most are replaced when their step reruns, but not
    // those of a level or setting this run no longer has (a model temporary is 100s of MB).
    for (const char* sub : {"records", "models", "reference", "samples"}) remove_stale_atomic_temporaries(o.out_dir / sub);
    remove_stale_atomic_temporaries(o.out_dir);
  }

  MatrixPlanSummary run() {
    const SweepPlan plan = plan_sweep(o_);
    const ModelSummary source = summarize_model(o_.source);
    source_sha_ = content_sha256(o_.source);
    problems_ = plan.problems;
    MatrixPlanSummary summary{plan.baseline, plan.baseline_why, plan.levels};
    context_ = {{"suite", suite_.name}, {"source", o_.source.string()}, {"baseline", plan.baseline},
                {"baseline_why", plan.baseline_why}, {"levels", plan.levels}};
    total_ = summary.steps = plan.step_count();
    if (mode_ == SweepMode::one) {
      bool found = false;
      for (const auto& stage : plan.stages)
        for (const auto& s : stage.steps) found = found || s.id() == selected_.id();
      if (!found) fail("this sweep has no step {}", selected_.id());
    }
    baseline_ = plan.baseline;
    prompts_text_ = prompts_text();
    for (const auto& stage : plan.stages) {
      if (stage.name == "reference") find_same_models(plan.levels);
      for (const auto& step : stage.steps) {
        stage_ = stage.name;
        if (auto step_def = build(source, step)) {
          run_step(*step_def);
        } else {
          states_.push_back({step, stage_, false, {}});
        }
      }
    }
    summary.ran = ran_;
    summary.reused = reused_;
    summary.copied = copied_;
    return summary;
  }

  const std::vector<StepState>& states() const { return states_; }

 private:
  json base_inputs(const std::string& step, const std::string& level) const {
    return {{"step", step}, {"level", level}, {"tool_version", kVersion}, {"source_sha256", source_sha_}};
  }

  bool is_selected(const SweepStep& step) const {
    return mode_ == SweepMode::all || (mode_ == SweepMode::one && step.id() == selected_.id());
  }

  // Whether a record `step` depends on is there; for the step a job was asked to run, an error naming it when not.
  bool need(const SweepStep& step, bool have, const std::string& what) const {
    if (!have && is_selected(step)) fail("step {} needs the record of {}, which is not there yet", step.id(), what);
    return have;
  }

  // The step, once the records it depends on exist; else nothing (and, for the step a job was
  // asked to run, an error naming what is missing).
  std::optional<Step> build(const ModelSummary& source, const SweepStep& step) {
    const auto need = [&](bool have, const std::string& what) { return this->need(step, have, what); };
    if (step.step == "model") return model_step(source, step.level);
    if (!need(shas_.count(step.level) > 0, "model:" + step.level)) return std::nullopt;
    if (split_shard_step(step.step).step == "mc") return merged_or_shard(mc_step(step), step);
    if (step.step == "code") return code_step(step.level);
    if (step.step == "bench") return bench_step(step.level);
    if (!need(shas_.count(baseline_) > 0, "model:" + baseline_)) return std::nullopt;
    const fs::path base_file = files_.at(baseline_);
    const std::string base_sha = shas_.at(baseline_);
    const fs::path logits = o_.out_dir / "reference" / fmt::format("{}-c{}-n{}.logits", base_sha.substr(0, 16),
                                                                    suite_.ctx_size, suite_.ppl_chunks);
    if (step.step == "reference") return reference_step(baseline_, base_file, base_sha, logits);
    if (step.step == "gen") return gen_step(step.level, base_file, base_sha);
    if (!need(reference_.has_value(), "reference:" + baseline_)) return std::nullopt;
    return merged_or_shard(text_step(step, logits, (*reference_)["key"].get<std::string>()), step);
  }

  // A text or mc step (quality_step): a shard as it is; with --shards N > 1, the whole step is the
  // merge of its N shards' records, which it needs only while its own record does not stand.
  std::optional<Step> merged_or_shard(Step s, const SweepStep& step) {
    if (o_.shards <= 1 || split_shard_step(s.step).count > 0) return s;
    if (standing_record(record_path(o_.out_dir / "records", s.step, s.level, record_key(s.inputs)))) return s;  // reused
    std::vector<ShardRecord> shards;
    for (int i = 1; i <= o_.shards; ++i) {
      const std::string id = SweepStep{shard_step(s.step, i, o_.shards), s.level}.id();
      const auto it = shard_records_.find(id);
      if (!need(step, it != shard_records_.end(), id)) return std::nullopt;
      shards.push_back(it->second);
    }
    s.extra = {{"merged_from", merged_from(shards)}};
    s.run = [shards, samples = samples_file(s), mc = s.step == "mc"] {
      json result = merge_shard_results(shards, samples);
      if (mc) result["per_question"] = rescored_per_question(samples);
      return result;
    };
    return s;
  }

  // A text or mc step's common part: its inputs, and for a shard ("mc#2/3") the shard beside
  // them (the whole step's key stays what an unsharded sweep's is) and the whole step's record.
  Step quality_step(const SweepStep& step, const json& inputs) const {
    const ShardOf shard = split_shard_step(step.step);
    Step s{shard.step, step.level, base_inputs(shard.step, step.level), {}};
    s.inputs.update(inputs);
    if (shard.count == 0) return s;
    s.covered_by = record_path(o_.out_dir / "records", s.step, s.level, record_key(s.inputs));
    s.step = step.step;
    s.inputs["shard"] = fmt::format("{}/{}", shard.index, shard.count);
    return s;
  }

  // validate's arguments for step `s`, with --shard I/N when it is a shard.
  static std::vector<std::string> with_shard(std::vector<std::string> args, const Step& s) {
    if (s.inputs.contains("shard")) args.insert(args.end(), {"--shard", s.inputs["shard"].get<std::string>()});
    return args;
  }

  // "Q4_K_M", or "Q4_K_M (shard 2/3)": what a failure message names.
  static std::string level_of(const Step& s) {
    return s.inputs.contains("shard") ? fmt::format("{} (shard {})", s.level, s.inputs["shard"].get<std::string>()) : s.level;
  }

  // Where a step's samples go: named by the step, the level and the step's key.
  fs::path samples_file(const Step& s) const {
    return o_.out_dir / "samples" / fmt::format("{}-{}.jsonl", step_file_stem(s.step, s.level), record_key(s.inputs).substr(0, 16));
  }

  // A record that is there and stands: a model's while its file does, a merge's while its shards' records do.
  std::optional<json> standing_record(const fs::path& path) const {
    auto record = read_record(path);
    if (!record || !merged_record_stands(*record, o_.out_dir / "records")) return std::nullopt;
    if ((*record)["step"] == "model") {
      std::error_code ec;
      const json& file = (*record)["result"]["file"];
      if (fs::file_size(file["path"].get<std::string>(), ec) != file["bytes"].get<uint64_t>() || ec) return std::nullopt;
    }
    return record;
  }

  fs::path level_file(const std::string& level) const {
    const std::string stem = fs::is_directory(o_.source) ? model_folder_name(o_.source) : o_.source.stem().string();
    return o_.out_dir / "models" / fmt::format("{}-{}.gguf", stem, level);
  }

  // Runs a child; a failure names the step and the log.
  void child(const std::vector<std::string>& args, const fs::path& stdout_file, const std::string& what) const {
    std::vector<std::string> argv = {self_executable().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const ChildResult r = run_child(argv, stdout_file, log_);
    if (r.exit_code != 0) fail("{} failed (exit {}); its messages are in {}", what, r.exit_code, log_.string());
  }

  fs::path tmp(const std::string& name) const { return tmp_dir_ / name; }

  Step model_step(const ModelSummary& source, const std::string& level) {
    Step s{"model", level, base_inputs("model", level), {}};
    s.inputs["recipe"] = "builtin";
    const bool same = source.format == "gguf" && source.file_type == level;
    s.inputs["source_is_level"] = same;
    s.run = [this, level, same] {
      const fs::path out = same ? o_.source : level_file(level);
      if (!same) child({"quantize", o_.source.string(), "-m", level, "-o", out.string(), "-t", std::to_string(threads_)}, {},
                       "quantize " + level);
      return json{{"file", validate::describe_file(out)}, {"source_is_level", same}};
    };
    return s;
  }

  Step reference_step(const std::string& level, const fs::path& file, const std::string& sha, const fs::path& logits) {
    Step s{"reference", level, base_inputs("reference", level), {}};
    s.inputs.update({{"model_sha256", sha}, {"ctx", suite_.ctx_size}, {"chunks", suite_.ppl_chunks}, {"text", text_id()}});
    s.run = [=, this] {
      std::vector<std::string> args = {"validate", file.string(), "--metrics", "perplexity", "--save-reference-logits",
                                       logits.string()};
      return validate(args, "reference logits of " + level, true);
    };
    return s;
  }

  Step text_step(const SweepStep& step, const fs::path& logits, const std::string& reference_key) {
    Step s = quality_step(step, {{"model_sha256", shas_.at(step.level)}, {"reference_key", reference_key}});
    s.run = [=, this] {
      return validate(with_shard({"validate", files_.at(s.level).string(), "--metrics", "perplexity,kld", "--reference-logits",
                                  logits.string()}, s),
                      "perplexity and KL-divergence of " + level_of(s), true);
    };
    return s;
  }

  Step mc_step(const SweepStep& step) {
    Step s = quality_step(step, {{"model_sha256", shas_.at(step.level)}, {"subset", suite_.mc_subset}, {"scoring", suite_.mc_scoring},
                                 {"data_dir", o_.data_dir.empty() ? "default" : o_.data_dir.string()}});
    s.run = [=, this] {
      const fs::path samples = samples_file(s);
      std::vector<std::string> args = {"validate", files_.at(s.level).string(), "--metrics", "mmlu,arc_challenge", "--subset",
                                       std::string(suite_.mc_subset), "--mc-scoring", std::string(suite_.mc_scoring),
                                       "--samples", samples.string()};
      if (!o_.data_dir.empty()) args.insert(args.end(), {"--data-dir", o_.data_dir.string()});
      json result = validate(with_shard(args, s), "MMLU and ARC of " + level_of(s), false);
      result["per_question"] = rescored_per_question(samples);
      return result;
    };
    return s;
  }

  Step gen_step(const std::string& level, const fs::path& base_file, const std::string& base_sha) {
    const fs::path prompts = prompts_path();
    Step s{"gen", level, base_inputs("gen", level), {}};
    s.inputs.update({{"model_sha256", shas_.at(level)}, {"baseline_sha256", base_sha}, {"prompts_sha256", sha256_hex(prompts_text_)}});
    const fs::path samples = samples_file(s);
    // Greedy answers are deterministic, so the baseline's are the same for every level: the
    // first gen step generates them, the others read them back from its samples (complete
    // whenever they exist: samples are written atomically). The record is the same either way.
    if (baseline_answers_.empty() && fs::exists(samples)) baseline_answers_ = samples;
    s.run = [=, this] {
      write_file_atomically(prompts, prompts_text_);
      std::vector<std::string> args = {"validate", files_.at(level).string(), "--metrics", "gen", "--reference",
                                       base_file.string(), "--prompts", prompts.string(), "--samples", samples.string()};
      if (!baseline_answers_.empty() && fs::exists(baseline_answers_)) {
        args.insert(args.end(), {"--reference-answers", baseline_answers_.string()});
      }
      json result = validate(args, "generation fidelity of " + level, false);
      if (baseline_answers_.empty()) baseline_answers_ = samples;
      json per_prompt = json::array();
      for (const json& p : jsonl(samples))
        if (p.value("task", "") == "gen") per_prompt.push_back({p["id"], p["rouge_l"], p["bleu"], p["length_ratio"]});
      result["per_prompt"] = per_prompt;
      return result;
    };
    return s;
  }

  // HumanEval, greedy, every problem; each problem's outcome travels in the record so the
  // report pairs levels on the same problems from records alone.
  Step code_step(const std::string& level) {
    Step s{"code", level, base_inputs("code", level), {}};
    s.inputs.update({{"model_sha256", shas_.at(level)},
                     {"problems_sha256", content_sha256(problems_)},
                     {"prompt_format", "completion"}});
    s.run = [=, this] {
      const fs::path samples = samples_file(s);
      const std::vector<std::string> args = {"validate", files_.at(level).string(), "--metrics", "humaneval",
                                             "--problems", problems_.string(), "--samples", samples.string()};
      json result = validate(args, "HumanEval of " + level, false);
      json per_problem = json::array();
      for (const json& p : jsonl(samples))
        if (p.value("task", "") == "humaneval") per_problem.push_back({p["id"], p["passed"].get<int64_t>() > 0 ? 1 : 0});
      result["per_problem"] = per_problem;
      return result;
    };
    return s;
  }

  Step bench_step(const std::string& level) {
    Step s{"bench", level, base_inputs("bench", level), {}};
    const HostInfo host = host_info();
    s.inputs.update({{"model_sha256", shas_.at(level)}, {"n_prompt", suite_.bench_prompt}, {"n_gen", suite_.bench_gen},
                     {"repetitions", suite_.bench_repetitions}, {"threads", threads_}, {"ttft_prompt", kTtftPrompt},
                     {"machine", {{"cpu_model", host.cpu_model}, {"logical_cores", host.logical_cores}}}});
    s.run = [=, this] {
      const std::string file = files_.at(level).string();
      const fs::path bench_out = tmp("bench.json"), run_out = tmp("run.json");
      child({"bench", file, "-p", std::to_string(suite_.bench_prompt), "-n", std::to_string(suite_.bench_gen), "-r",
             std::to_string(suite_.bench_repetitions), "-o", "json", "-t", std::to_string(threads_)},
            bench_out, "bench of " + level);
      child({"run", file, "-p", kTtftPrompt, "-n", "16", "--temp", "0", "--json", "-t", std::to_string(threads_)}, run_out,
            "time to first token of " + level);
      json result = {{"bench", read_json_file(bench_out.string())}, {"run", read_json_file(run_out.string())}, {"hardware", host_info_json(host)}};
      result["run"].erase("prompt_tokens");
      return result;
    };
    return s;
  }

  // A validate child writing its record to a temporary file; text steps pass the suite's windows.
  json validate(std::vector<std::string> args, const std::string& what, bool text) {
    const fs::path out = tmp("validate.json");
    if (text) {
      args.insert(args.end(), {"-c", std::to_string(suite_.ctx_size)});
      if (suite_.ppl_chunks > 0) args.insert(args.end(), {"--chunks", std::to_string(suite_.ppl_chunks)});
      if (!o_.text.empty()) args.insert(args.end(), {"-f", o_.text.string()});
    }
    args.insert(args.end(), {"-o", out.string(), "-t", std::to_string(threads_)});
    child(args, {}, what);
    json j = read_json_file(out.string());
    fs::remove(out);
    return j;
  }

  std::string text_id() const { return o_.text.empty() ? "default (WikiText-2 test)" : content_sha256(o_.text); }

  // The suite's generation prompts: the first N of each built-in family, as JSON lines.
  std::string prompts_text() const {
    std::map<validate::PromptFamily, size_t> taken;
    std::string lines;
    for (const auto& p : validate::builtin_fidelity_prompts()) {
      if (taken[p.family]++ >= suite_.gen_prompts_per_family) continue;
      lines += json{{"id", p.id}, {"family", validate::family_info(p.family).name}, {"prompt", p.prompt}}.dump() + "\n";
    }
    return lines;
  }
  fs::path prompts_path() const { return o_.out_dir / fmt::format("prompts-{}.jsonl", suite_.name); }

  // A step's record: reused when there, copied from a level with the same tensors, else run
  // (when this sweep runs the step). Steps it does not run are only looked up.
  void run_step(const Step& s) {
    const std::string key = record_key(s.inputs);
    fs::path path = record_path(o_.out_dir / "records", s.step, s.level, key);
    auto record = standing_record(path);
    // A shard whose whole step's record stands (an unsharded sweep's, say) is not needed.
    bool covered = false;
    if (!record && !s.covered_by.empty() && (record = standing_record(s.covered_by))) covered = true, path = s.covered_by;
    // Two levels can be one model (a narrow model's Q3_K_S and Q2_K fall back to the same
    // tensors): it is measured once and the second level's records copy the first's.
    const std::string model_key =
        s.step == "model" || covered || !model_of_.count(s.level) ? std::string() : record_key(same_model_inputs(s));
    if (is_selected({s.step, s.level})) {
      ++index_;
      StepEvent e{index_, total_, s.step, s.level, true, false, 0, seconds_since(start_), eta(), {}};
      if (!record && !model_key.empty()) {
        if (auto same = by_model_.find(model_key); same != by_model_.end()) {
          record = json{{"schema", kMatrixStepSchema}, {"step", s.step}, {"level", s.level}, {"key", key}, {"inputs", s.inputs},
                        {"context", context_}, {"finished_utc", validate::utc_timestamp_now()}, {"seconds", 0.0},
                        {"same_model_as", same->second["level"]}, {"result", same->second["result"]}};
          write_record(path, *record);
          ++copied_;
          e.same_model_as = same->second["level"].get<std::string>();
        }
      }
      if (record) {
        if (e.same_model_as.empty()) ++reused_;
        e.started = false;
        e.reused = true;
        e.eta_seconds = eta();
        progress_(e);
      } else {
        progress_(e);
        const auto t0 = std::chrono::steady_clock::now();
        json result = s.run();
        const double seconds = seconds_since(t0);
        record = json{{"schema", kMatrixStepSchema}, {"step", s.step}, {"level", s.level}, {"key", key}, {"inputs", s.inputs},
                      {"context", context_},
                      {"finished_utc", validate::utc_timestamp_now()}, {"seconds", seconds}, {"result", std::move(result)}};
        record->update(s.extra);
        write_record(path, *record);
        ++ran_;
        durations_[s.step].push_back(seconds);
        e.started = false;
        e.seconds = seconds;
        e.elapsed = seconds_since(start_);
        e.eta_seconds = eta();
        progress_(e);
      }
    }
    states_.push_back({{s.step, s.level}, stage_, record.has_value(), path});
    if (!record || covered) return;
    if (split_shard_step(s.step).count > 0) shard_records_[SweepStep{s.step, s.level}.id()] = {path, *record};
    if (!model_key.empty() && !by_model_.count(model_key)) by_model_[model_key] = *record;
    if (s.step == "model") {
      const json& file = (*record)["result"]["file"];
      files_[s.level] = file["path"].get<std::string>();
      shas_[s.level] = file["sha256"].get<std::string>();
    }
    if (s.step == "reference") reference_ = *record;
  }

  // Levels whose files hold the same model as a more precise level's (gguf_same_model.h):
  // their steps' results are that level's. Levels without a model yet are left out.
  void find_same_models(const std::vector<std::string>& all_levels) {
    std::vector<std::string> levels;
    for (const auto& l : all_levels)
      if (files_.count(l)) levels.push_back(l);
    for (size_t i = 0; i < levels.size(); ++i) {
      model_of_[levels[i]] = shas_.at(levels[i]);
      for (size_t j = 0; j < i; ++j) {
        std::error_code ea, eb;
        if (fs::file_size(files_.at(levels[i]), ea) != fs::file_size(files_.at(levels[j]), eb) || ea || eb) continue;
        if (same_model_but_file_type(files_.at(levels[i]), files_.at(levels[j]))) {
          model_of_[levels[i]] = model_of_.at(levels[j]);
          break;
        }
      }
    }
  }

  // A step's inputs without its level, naming its model by content: equal for two levels of one model.
  json same_model_inputs(const Step& s) const {
    json inputs = s.inputs;
    inputs.erase("level");
    if (inputs.contains("model_sha256")) inputs["model_sha256"] = model_of_.at(s.level);
    return inputs;
  }

  // The rest of the sweep at the mean time of the steps that ran; unknown before any ran.
  double eta() const {
    double sum = 0;
    size_t n = 0;
    for (const auto& [step, d] : durations_)
      for (double x : d) sum += x, ++n;
    if (n == 0) return -1;
    return sum / static_cast<double>(n) * static_cast<double>(total_ - index_);
  }

  const MatrixOptions& o_;
  std::function<void(const StepEvent&)> progress_;
  const MatrixSuite& suite_;
  std::chrono::steady_clock::time_point start_;
  SweepMode mode_;
  SweepStep selected_;        // SweepMode::one: the step this process runs
  std::string stage_;         // of the step being looked at
  std::string baseline_;
  std::string prompts_text_;  // the gen steps' prompts
  std::optional<json> reference_;  // the reference step's record, once there
  std::vector<StepState> states_;
  unsigned threads_ = 1;
  fs::path log_, tmp_dir_;
  std::string source_sha_;
  json context_;  // what the sweep was, carried in every record (not part of any key)
  std::map<std::string, fs::path> files_;
  std::map<std::string, std::string> shas_;
  std::map<std::string, std::vector<double>> durations_;
  std::map<std::string, std::string> model_of_;  // level -> sha256 of the first level holding its model
  std::map<std::string, json> by_model_;  // records by their inputs apart from the level
  std::map<std::string, ShardRecord> shard_records_;  // by step id ("mc#2/3:Q4_K_M"): the shards' records there
  fs::path baseline_answers_;  // a gen step's samples: the baseline's answers to the prompts
  fs::path problems_;          // HumanEval's, when the sweep runs code steps
  size_t index_ = 0, total_ = 0, ran_ = 0, reused_ = 0, copied_ = 0;
};

}  // namespace

MatrixPlanSummary run_matrix(const MatrixOptions& options, const std::function<void(const StepEvent&)>& progress) {
  return Sweep(options, progress, SweepMode::all).run();
}

void run_matrix_step(const MatrixOptions& options, const SweepStep& step,
                     const std::function<void(const StepEvent&)>& progress) {
  Sweep(options, progress, SweepMode::one, step).run();
}

std::vector<StepState> matrix_step_states(const MatrixOptions& options) {
  Sweep sweep(options, [](const StepEvent&) {}, SweepMode::probe);
  sweep.run();
  return sweep.states();
}

}  // namespace lp::decide
