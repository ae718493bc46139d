// `validate`: how much quality a model keeps, as numbers other tools agree with. Perplexity
// over a text with llama-perplexity's method, and KL-divergence against a reference model
// (typically the F16/F32 the quantization came from) with every statistic llama-perplexity
// reports. One JSON record per run (src/validate/validate_record.h).
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
#include "core/host_info.h"
#include "tokenizer/tokenizer_load.h"
#include "validate/perplexity_runner.h"
#include "validate/validate_record.h"
#include "version.h"

#ifndef LP_DEFAULT_DATA_DIR
#define LP_DEFAULT_DATA_DIR ""
#endif

namespace lp::cli {
namespace {

const std::set<std::string> kMetrics = {"perplexity", "kld"};

struct ValidateArgs {
  std::string model, reference, reference_logits, save_reference_logits, text, metrics, out;
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
    if (!kMetrics.contains(m)) fail("unknown metric '{}' in --metrics (supported: perplexity, kld)", m);
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  if (out.empty()) fail("--metrics is empty (supported: perplexity, kld)");
  return out;
}

// WikiText-2's test split where the project keeps its data (LP_SHARED_DATA, else the
// shared/data folder next to the source tree this binary was built from).
std::filesystem::path default_text() {
  std::vector<std::filesystem::path> roots;
  if (const char* env = std::getenv("LP_SHARED_DATA")) roots.emplace_back(env);
  if (*LP_DEFAULT_DATA_DIR) roots.emplace_back(LP_DEFAULT_DATA_DIR);
  for (const auto& r : roots) {
    const auto p = r / "wikitext-2-raw" / "wiki.test.raw";
    if (std::filesystem::exists(p)) return p;
  }
  fail("no --text given and WikiText-2 (wikitext-2-raw/wiki.test.raw) is not under $LP_SHARED_DATA or {}; "
       "pass --text FILE",
       *LP_DEFAULT_DATA_DIR ? LP_DEFAULT_DATA_DIR : "the build's data folder");
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) fail("{} cannot be read", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
  if (a.chunks < 0) fail("--chunks must be positive");
  require_exists(a.model, "model");
  require_exists(a.reference, "reference model");
  require_exists(a.reference_logits, "reference-logits file");
  require_exists(a.text, "text file");
  for (const std::string& out : {a.out, a.save_reference_logits}) {
    if (out.empty()) continue;
    const auto dir = std::filesystem::absolute(out).parent_path();
    if (!std::filesystem::is_directory(dir)) fail("cannot write {}: folder {} does not exist", out, dir.string());
  }

  std::optional<validate::ReferenceLogitsReader> ref_file;
  if (!a.reference_logits.empty()) ref_file.emplace(a.reference_logits);
  if (ref_file && flags.ctx_size > 0 && flags.ctx_size != ref_file->n_ctx()) {
    fail("{} was computed with a context of {}, not {} (--ctx-size)", a.reference_logits, ref_file->n_ctx(),
         flags.ctx_size);
  }
  const int64_t n_ctx = ref_file ? ref_file->n_ctx() : (flags.ctx_size > 0 ? flags.ctx_size : 512);

  const auto model = LoadedModel::open(a.model, static_cast<uint64_t>(n_ctx));
  const Tokenizer tokenizer = load_tokenizer(a.model);
  std::unique_ptr<LoadedModel> reference;
  if (!a.reference.empty()) {
    check_same_vocabulary(tokenizer, load_tokenizer(a.reference), a.model, a.reference);
    reference = LoadedModel::open(a.reference, static_cast<uint64_t>(n_ctx));
  }
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

  nlohmann::json metrics_json = nlohmann::json::object();
  std::string text;
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

  const unsigned threads = run.options.threads;
  nlohmann::json record = {
      {"schema", validate::kRecordSchema},
      {"tool", {{"name", "llama-pajamas"}, {"version", kVersion}}},
      {"started_utc", started_utc},
      {"model", validate::describe_model(*model)},
      {"reference", reference ? validate::describe_model(*reference)
                    : ref_file ? nlohmann::json{{"logits_file", validate::describe_file(a.reference_logits)}}
                               : nlohmann::json(nullptr)},
      {"settings",
       {{"metrics", metrics},
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
         save ? validate::describe_file(a.save_reference_logits) : nlohmann::json(nullptr)}}},
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
      "validate", "Measure a model's quality: perplexity over a text and KL-divergence against a reference model");
  auto a = std::make_shared<ValidateArgs>();
  cmd->add_option("model,-m,--model", a->model, "GGUF file or Hugging Face directory")->required();
  cmd->add_option("--metrics", a->metrics,
                  "Comma-separated: perplexity, kld (default: perplexity, and kld when a reference is given)");
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
