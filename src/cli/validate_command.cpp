// `validate`: how much quality a model keeps, as numbers other tools agree with. Perplexity
// over a text with llama-perplexity's method, and KL-divergence against a reference model
// (typically the F16/F32 the quantization came from) with every statistic llama-perplexity
// reports; MMLU and ARC by log-likelihood as lm-evaluation-harness scores them
// (src/validate/mc_scoring.h). One JSON record per run holds every metric asked for
// (src/validate/validate_record.h).
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/engine_options.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"
#include "core/host_info.h"
#include "tokenizer/tokenizer_load.h"
#include "validate/mc_report.h"
#include "validate/mc_runner.h"
#include "validate/mc_subset.h"
#include "validate/perplexity_runner.h"
#include "validate/validate_record.h"
#include "version.h"

#ifndef LP_DEFAULT_DATA_DIR
#define LP_DEFAULT_DATA_DIR ""
#endif

namespace lp::cli {
namespace {

const std::set<std::string> kMetrics = {"perplexity", "kld", "mmlu", "arc", "arc_challenge", "arc_easy"};
constexpr const char* kMetricList = "perplexity, kld, mmlu, arc (= arc_challenge + arc_easy), arc_challenge, arc_easy";

struct ValidateArgs {
  std::string model, reference, reference_logits, save_reference_logits, text, metrics, out;
  std::string subset, samples, data_dir;
  int shots = 0;
  int64_t chunks = 0;
  bool json = false;
};

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

// The BOS the tokenizer puts before a text, if any (llama.cpp's add_bos). llama-perplexity
// refuses a vocabulary that appends EOS; so do we.
std::optional<int32_t> bos_of(const Tokenizer& tok, const std::string& path) {
  const std::vector<int32_t> with = tok.encode("a", true), without = tok.encode("a", false);
  if (with.size() > without.size() && with.back() != without.back()) {
    fail("{}: its tokenizer appends an end-of-sequence token; perplexity windows need one that does not", path);
  }
  if (with.size() > without.size() && with.front() != without.front()) return with.front();
  return std::nullopt;
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

void run_validate(const ValidateArgs& a, const EngineFlags& flags) {
  const auto started = std::chrono::steady_clock::now();
  const std::string started_utc = validate::utc_timestamp_now();
  if (!a.reference.empty() && !a.reference_logits.empty()) fail("give --reference or --reference-logits, not both");
  if (!a.save_reference_logits.empty() && !a.reference_logits.empty()) {
    fail("--save-reference-logits writes a file --reference-logits would read: give one of them");
  }
  const bool have_reference = !a.reference.empty() || !a.reference_logits.empty();
  const std::vector<std::string> metrics = parse_metrics(a.metrics, have_reference);
  const bool want_ppl = std::find(metrics.begin(), metrics.end(), "perplexity") != metrics.end();
  const bool want_kld = std::find(metrics.begin(), metrics.end(), "kld") != metrics.end();
  if (want_kld && !have_reference) fail("--metrics kld needs --reference MODEL or --reference-logits FILE");
  const bool want_text = want_ppl || want_kld;
  std::vector<std::string> mc_tasks;
  for (const auto& m : metrics) {
    if (m != "perplexity" && m != "kld") mc_tasks.push_back(m);
  }
  if (!want_text && (have_reference || !a.text.empty() || a.chunks > 0 || !a.save_reference_logits.empty())) {
    fail("--reference, --reference-logits, --save-reference-logits, --text and --chunks apply to perplexity and kld, "
         "which --metrics does not ask for");
  }
  if (mc_tasks.empty() && (!a.subset.empty() || a.shots != 0 || !a.samples.empty())) {
    fail("--subset, --shots and --samples apply to mmlu and arc, which --metrics does not ask for");
  }
  if (!a.subset.empty() && a.subset != "tr125" && a.subset != "full") fail("--subset must be tr125 or full");
  if (a.shots < 0 || a.shots > 5) fail("--shots must be 0..5 (MMLU's dev split has 5 questions per subject)");
  const bool tr125 = a.subset == "tr125";
  if (a.chunks < 0) fail("--chunks must be positive");
  require_exists(a.model, "model");
  require_exists(a.reference, "reference model");
  require_exists(a.reference_logits, "reference-logits file");
  require_exists(a.text, "text file");
  for (const std::string& out : {a.out, a.save_reference_logits, a.samples}) {
    if (out.empty()) continue;
    const auto dir = std::filesystem::absolute(out).parent_path();
    if (!std::filesystem::is_directory(dir)) fail("cannot write {}: folder {} does not exist", out, dir.string());
  }

  // Every question is read (and every data error reported) before the model is loaded.
  std::vector<validate::McTask> tasks;
  std::filesystem::path data_dir;
  if (!mc_tasks.empty()) data_dir = mc_data_dir(a.data_dir);
  for (const auto& t : mc_tasks) tasks.push_back(validate::load_mc_task(t, data_dir, tr125, a.shots));

  std::optional<validate::ReferenceLogitsReader> ref_file;
  if (!a.reference_logits.empty()) ref_file.emplace(a.reference_logits);
  if (ref_file && flags.ctx_size > 0 && flags.ctx_size != ref_file->n_ctx()) {
    fail("{} was computed with a context of {}, not {} (--ctx-size)", a.reference_logits, ref_file->n_ctx(),
         flags.ctx_size);
  }
  // 512 for perplexity (llama-perplexity's default); a multiple-choice-only run needs room for
  // 5-shot prompts: 2048, at most the model's (session_options).
  const int64_t n_ctx = ref_file ? ref_file->n_ctx() : (flags.ctx_size > 0 ? flags.ctx_size : want_text ? 512 : 2048);

  const auto model = LoadedModel::open(a.model, static_cast<uint64_t>(n_ctx));
  const Tokenizer tokenizer = load_tokenizer(a.model);
  std::unique_ptr<LoadedModel> reference;
  if (!a.reference.empty()) {
    check_same_vocabulary(tokenizer, load_tokenizer(a.reference), a.model, a.reference);
    reference = LoadedModel::open(a.reference, static_cast<uint64_t>(n_ctx));
  }
  nlohmann::json metrics_json = nlohmann::json::object();
  nlohmann::json settings = {{"metrics", metrics}};
  nlohmann::json reference_json = nullptr;
  std::string text;
  unsigned threads = 0;
  if (want_text) {
    const std::optional<int32_t> bos = bos_of(tokenizer, a.model);

    // The tokens: the text's (llama-perplexity tokenizes it whole, BOS as the model adds it,
    // special-token text not parsed — WikiText has none), or the ones stored with the
    // reference rows, which must then match a text given with them.
    std::vector<int32_t> tokens;
    std::optional<std::filesystem::path> text_path;
    if (!a.text.empty() || !ref_file) text_path = a.text.empty() ? default_text() : std::filesystem::path(a.text);
    if (text_path) tokens = tokenizer.encode(read_text_file(*text_path), true);
    validate::ChunkPlan plan;
    if (ref_file) {
      const auto stored = ref_file->tokens();
      if (text_path && (tokens.size() < stored.size() || !std::equal(stored.begin(), stored.end(), tokens.begin()))) {
        fail("{} does not tokenize to the tokens stored in {}: it was made from another text or tokenizer",
             text_path->string(), a.reference_logits);
      }
      tokens.assign(stored.begin(), stored.end());
      plan.n_ctx = n_ctx;
      plan.first = n_ctx / 2;
      plan.bos = bos;
      plan.n_chunks = a.chunks > 0 ? std::min(a.chunks, ref_file->n_chunks()) : ref_file->n_chunks();
    } else {
      plan = validate::plan_chunks(static_cast<int64_t>(tokens.size()), n_ctx, a.chunks, bos);
    }

    EngineFlags engine = flags;
    engine.ctx_size = n_ctx;
    validate::PerplexityRun run;
    run.model = model.get();
    run.reference = reference.get();
    run.reference_file = ref_file ? &*ref_file : nullptr;
    run.options = session_options(engine, *model, n_ctx);
    run.tokens = tokens;
    run.plan = plan;
    std::optional<validate::ReferenceLogitsWriter> save;
    if (!a.save_reference_logits.empty()) {
      save.emplace(a.save_reference_logits, plan.n_ctx, model->weights().output.rows, plan.n_chunks, tokens);
      run.save = &*save;
    }
    fmt::print(stderr, "validate: {} windows of {} tokens, {} scored each ({} tokens), {} threads\n", plan.n_chunks,
               plan.n_ctx, plan.scored_per_chunk(), plan.scored_tokens(), run.options.threads);
    if (have_reference) {
      fmt::print(stderr, "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p\n");
    }
    run.on_chunk = [&](int64_t chunk, const validate::ScoreAccumulator& acc) {
      if (acc.with_reference()) {
        fmt::print(stderr, "{}\n", acc.kld_progress_line(chunk));
      } else {
        fmt::print(stderr, "[{}]{:.4f},", chunk, acc.perplexity().ppl.value);
        if (chunk == plan.n_chunks) fmt::print(stderr, "\n");
      }
      std::fflush(stderr);
    };
    const validate::ScoreAccumulator acc = validate::run_perplexity(run);
    if (save) save->commit();

    if (want_ppl) {
      const auto p = acc.perplexity();
      metrics_json["perplexity"] = validate::perplexity_json(p);
      text += validate::perplexity_text(p);
    }
    if (want_kld) {
      const auto k = acc.kld();
      metrics_json["kld"] = validate::kld_json(k);
      text += (text.empty() ? "" : "\n") + validate::kld_text(k);
    }

    threads = run.options.threads;
    settings.update({
          {"ctx_size", plan.n_ctx},
          {"chunks", plan.n_chunks},
          {"chunks_requested", a.chunks > 0 ? nlohmann::json(a.chunks) : nlohmann::json(nullptr)},
          {"threads", threads},
          {"batch_size", std::min(run.options.batch_size, plan.n_ctx)},
          {"kv_type", run.options.kv_f32 ? "f32" : "f16"},
          {"text", text_path ? validate::describe_file(*text_path) : nlohmann::json(nullptr)},
          {"text_tokens", tokens.size()},
          {"bos_substituted", plan.bos.has_value()},
          {"scored_tokens_per_chunk", plan.scored_per_chunk()},
          {"saved_reference_logits",
           save ? validate::describe_file(a.save_reference_logits) : nlohmann::json(nullptr)}});
    reference_json = reference ? validate::describe_model(*reference)
                     : ref_file ? nlohmann::json{{"logits_file", validate::describe_file(a.reference_logits)}}
                                : nlohmann::json(nullptr);
  }

  if (!tasks.empty()) {
    const SessionOptions options = session_options(flags, *model, n_ctx);
    threads = options.threads;
    validate::McScorer scorer(*model, tokenizer, options);
    std::optional<AtomicFile> samples;
    if (!a.samples.empty()) samples.emplace(a.samples);
    nlohmann::json task_names = nlohmann::json::array();
    for (const auto& t : tasks) {
      fmt::print(stderr, "validate: {} ({} questions, {}-shot), log-likelihood of each choice, {} threads\n", t.name,
                 t.questions.size(), t.name == "mmlu" ? a.shots : 0, options.threads);
      nlohmann::json m = validate::run_mc_task(t, scorer, [&](const nlohmann::json& line) {
        if (samples) samples->write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      });
      m["shots"] = t.name == "mmlu" ? a.shots : 0;
      m["subset"] = tr125 ? "tr125" : "full";
      m["data"] = t.data;
      text += (text.empty() ? "" : "\n") + validate::mc_task_text(t.name, m);
      metrics_json[t.name] = m;
      task_names.push_back(t.name);
    }
    if (samples) samples->commit();
    settings["multiple_choice"] = {
        {"tasks", task_names},
        {"shots", a.shots},
        {"subset", tr125 ? "tr125" : "full"},
        {"subset_seed", tr125 ? nlohmann::json(validate::kTr125Seed) : nlohmann::json(nullptr)},
        {"scoring", "lm-evaluation-harness loglikelihood: acc = argmax sum log p, acc_norm = argmax sum log p / len(choice)"},
        {"ctx_size", options.ctx_size},
        {"batch_size", options.batch_size},
        {"data_dir", data_dir.string()},
        {"samples", a.samples.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.samples)}};
  }
  settings["threads"] = threads;
  settings["kv_type"] = flags.kv_type;
  settings["activations"] = flags.activations;

  nlohmann::json record = {
      {"schema", validate::kRecordSchema},
      {"tool", {{"name", "llama-pajamas"}, {"version", kVersion}}},
      {"started_utc", started_utc},
      {"model", validate::describe_model(*model)},
      {"reference", reference_json},
      {"settings", settings},
      {"metrics", metrics_json},
      {"hardware", host_info_json(host_info())},
  };
  record["elapsed_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (!a.out.empty()) {
    AtomicFile f(a.out);
    f.write(record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    f.commit();
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
      "by log-likelihood");
  auto a = std::make_shared<ValidateArgs>();
  cmd->add_option("model,-m,--model", a->model, "GGUF file or Hugging Face directory")->required();
  cmd->add_option("--metrics", a->metrics,
                  "Comma-separated: perplexity, kld, mmlu, arc (arc_challenge + arc_easy), arc_challenge, arc_easy "
                  "(default: perplexity, and kld when a reference is given)");
  cmd->add_option("--subset", a->subset,
                  "mmlu/arc questions: full (default) or tr125 (5 per MMLU subject, 200 per ARC set, seed 42)");
  cmd->add_option("--shots", a->shots, "MMLU examples from the dev split before each question (0..5, default 0)");
  cmd->add_option("--samples", a->samples, "Write one JSON line per mmlu/arc question to this file (atomically)");
  cmd->add_option("--data-dir", a->data_dir,
                  "Folder holding mmlu/ and arc/ (default: $LP_SHARED_DATA, else the build's shared data folder)");
  cmd->add_option("--reference", a->reference, "Reference model (same tokenizer) for kld, evaluated in the same pass");
  cmd->add_option("--reference-logits", a->reference_logits,
                  "Reference distributions saved by --save-reference-logits (or llama-perplexity --kl-divergence-base)");
  cmd->add_option("--save-reference-logits", a->save_reference_logits,
                  "Write the reference's scored distributions (the model's without --reference) in "
                  "llama-perplexity's base-logits format");
  cmd->add_option("-f,--text", a->text, "Text file (default: WikiText-2 raw test split from the shared data)");
  cmd->add_option("--chunks", a->chunks, "Score at most this many windows (default: all)");
  cmd->add_flag("--json", a->json, "Print the JSON record instead of the text report");
  cmd->add_option("-o,--out", a->out, "Write the JSON record to this file (atomically)");
  auto flags = add_engine_flags(cmd, 512);
  cmd->callback([a, flags] { run_validate(*a, *flags); });
}

}  // namespace lp::cli
