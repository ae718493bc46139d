// `bench` (also `benchmark`): prompt-processing and generation throughput the way llama-bench
// measures them (pp = a batch of N tokens, tg = N tokens one at a time, each after `-d` tokens
// already in the cache, llama-bench's depth; random token ids; a warm-up run; mean ± standard
// deviation over repetitions), so our figures and llama-bench's for the same file and thread
// count can be put side by side. The depth's tokens are evaluated once per depth, untimed, and
// every run starts from them again (the cache is cut back to the depth, which keeps them). Besides
// llama-bench's columns: the process's peak resident memory, and with --bandwidth decode speed
// as a share of the ceiling the memory sets (read bandwidth / bytes per token). The machine's
// bandwidth can move by half within a minute (other tenants), so it is probed before and after
// every generation run, by reading the model's own weights on the session's threads, and each
// run is judged against the mean of its two neighbouring probes.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <sys/resource.h>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "cli/engine_options.h"
#include "core/error.h"
#include "core/memory_bandwidth.h"
#include "core/units.h"
#include "engine/decode_traffic.h"
#include "stats/descriptive.h"
#include "version.h"

namespace lp::cli {
namespace {

struct BenchResult {
  std::string test;
  int64_t n_prompt = 0, n_gen = 0, n_depth = 0;
  std::vector<double> seconds;
  std::vector<double> probes_bps;  // --bandwidth, tg: read bandwidth before the first run and after each
  double mean_tps() const {
    double s = 0;
    for (double t : seconds) s += static_cast<double>(n_prompt + n_gen) / t;
    return s / static_cast<double>(seconds.size());
  }
  double stddev_tps() const {
    if (seconds.size() < 2) return 0.0;
    const double m = mean_tps();
    double s = 0;
    for (double t : seconds) s += std::pow(static_cast<double>(n_prompt + n_gen) / t - m, 2);
    return std::sqrt(s / static_cast<double>(seconds.size() - 1));
  }
};

std::vector<int32_t> random_tokens(const SequenceEvaluator& session, int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(session.vocab_size() - 1));
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (auto& t : tokens) t = token(rng);
  return tokens;
}

// One run of a test: the cache cut back to the `depth` positions it holds, then `n_prompt`
// tokens in batches, then `n_gen` tokens one at a time. Token ids are random, as llama-bench's are.
double run_once(SequenceEvaluator& session, int64_t depth, int64_t n_prompt, int64_t n_gen, std::mt19937& rng,
                std::vector<float>& logits) {
  // Drawn before the clock starts, in the order they are fed (the same ids as drawing each in turn).
  const std::vector<int32_t> prompt = random_tokens(session, n_prompt, rng);
  const std::vector<int32_t> generated = random_tokens(session, n_gen, rng);
  session.rewind(depth);
  const auto start = std::chrono::steady_clock::now();
  if (n_prompt > 0) session.eval(prompt, logits, false);
  for (const int32_t& t : generated) session.eval(std::span(&t, 1), logits, false);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The most memory the process has had resident (weights' mapped pages included): VmHWM, the
// high-water mark of this program's own address space. Not getrusage's ru_maxrss, which Linux
// carries across fork and exec: a bench started by a 4 GB parent (a test runner) would report
// the parent's 4 GB.
uint64_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      try {
        return std::stoull(line.substr(6)) * 1024;  // "VmHWM:   123456 kB"
      } catch (const std::exception&) {
        break;
      }
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// Decode against the memory-bandwidth ceiling, for a tg test with probes.
struct Ceiling {
  double bytes_per_token = 0;
  double read_bps = 0;            // mean of the probes
  double tokens_per_second = 0;   // read_bps / bytes_per_token
  std::vector<double> percents;   // per run: its speed against the mean of the probes before and after it
  double median_percent = 0;
};

Ceiling ceiling_of(const BenchResult& r, double bytes_per_token) {
  Ceiling c;
  if (r.probes_bps.size() != r.seconds.size() + 1 || bytes_per_token <= 0) return c;
  c.bytes_per_token = bytes_per_token;
  for (double p : r.probes_bps) c.read_bps += p / static_cast<double>(r.probes_bps.size());
  c.tokens_per_second = c.read_bps / bytes_per_token;
  for (size_t i = 0; i < r.seconds.size(); ++i) {
    const double tps = static_cast<double>(r.n_gen) / r.seconds[i];
    const double ceiling_tps = 0.5 * (r.probes_bps[i] + r.probes_bps[i + 1]) / bytes_per_token;
    c.percents.push_back(100.0 * tps / ceiling_tps);
  }
  c.median_percent = stats::percentile(c.percents, 0.5);
  return c;
}

std::string human_params(uint64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
  return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Prompt (pp) and generation (tg) tokens per second, as llama-bench measures them");
  cmd->alias("benchmark");  // seed 004's name for it
  auto model_path = std::make_shared<std::string>();
  auto n_prompt = std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{512});
  auto n_gen = std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{128});
  auto n_depth = std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{0});
  auto reps = std::make_shared<int>(5);
  auto output = std::make_shared<std::string>("md");
  auto bandwidth = std::make_shared<bool>(false);
  add_model_option(cmd, "model,-m,--model", *model_path, "GGUF file or Hugging Face directory")->required();
  cmd->add_option("-p,--n-prompt", *n_prompt, "Prompt lengths to test (0: none)")->delimiter(',')->capture_default_str();
  cmd->add_option("-n,--n-gen", *n_gen, "Generation lengths to test (0: none)")->delimiter(',')->capture_default_str();
  cmd->add_option("-d,--n-depth,--context-lengths", *n_depth,
                  "Tokens already in the KV cache before each test (llama-bench's depth), e.g. 0,2048,8192,32768")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", *reps, "Runs per test (after one warm-up run)")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("-o,--output", *output, "md or json")->check(CLI::IsMember({"md", "json"}))->capture_default_str();
  cmd->add_flag("--bandwidth", *bandwidth,
                 "Also probe the memory read bandwidth (reading the model's weights with the same threads, before and after "
                 "every generation run) and report decode as a share of the ceiling it sets");
  auto flags = add_engine_flags(cmd, 0, true);
  cmd->callback([=] {
    int64_t longest_test = 1, deepest = 0;
    for (int64_t p : *n_prompt) longest_test = std::max(longest_test, p);
    for (int64_t g : *n_gen) longest_test = std::max(longest_test, g);
    for (int64_t d : *n_depth) deepest = std::max(deepest, d);
    for (int64_t v : *n_prompt) if (v < 0) fail("--n-prompt must not be negative");
    for (int64_t v : *n_gen) if (v < 0) fail("--n-gen must not be negative");
    for (int64_t v : *n_depth) if (v < 0) fail("--n-depth must not be negative");
    const int64_t longest = deepest + longest_test;
    const bool mlx = flags->backend == "mlx";
    if (mlx && *bandwidth) fail("--bandwidth measures our engine's reads; it does not apply to --backend mlx");
    EngineFlags engine = *flags;
    if (engine.ctx_size <= 0) engine.ctx_size = longest;
    EngineUnderTest e = open_engine(engine, *model_path, longest, static_cast<uint64_t>(longest));
    const SessionOptions& options = e.options;
    std::vector<BenchResult> results;
    uint64_t kv_bytes = 0;
    {
      SequenceEvaluator& session = *e.session;
      std::vector<float> logits(static_cast<size_t>(session.vocab_size()));
      std::mt19937 rng(1234);
      const auto regions = mlx ? std::vector<std::span<const uint8_t>>{} : decode_weight_regions(*e.model);
      auto probe = [&] { return measure_read_bandwidth(static_cast<InferenceSession&>(session).pool(), regions); };
      auto measure = [&](int64_t d, int64_t p, int64_t g) {
        std::string test = p > 0 ? fmt::format("pp{}", p) : fmt::format("tg{}", g);
        if (d > 0) test += fmt::format(" @ d{}", d);  // llama-bench's name for a test at depth
        BenchResult r{test, p, g, d, {}, {}};
        const bool probed = *bandwidth && p == 0;
        run_once(session, d, p, g, rng, logits);  // warm-up: page in the weights, grow scratch
        if (probed) r.probes_bps.push_back(probe());
        for (int i = 0; i < *reps; ++i) {
          r.seconds.push_back(run_once(session, d, p, g, rng, logits));
          if (probed) r.probes_bps.push_back(probe());
        }
        results.push_back(r);
      };
      for (int64_t d : *n_depth) {
        session.rewind(0);
        if (d > 0) {
          if (*output != "json") fmt::print(stderr, "bench: filling the cache to depth {}\n", d);
          session.eval(random_tokens(session, d, rng), logits, false);
        }
        for (int64_t p : *n_prompt) if (p > 0) measure(d, p, 0);
        for (int64_t g : *n_gen) if (g > 0) measure(d, 0, g);
      }
      kv_bytes = session.kv_cache_bytes();  // MLX's cache grows with use: its size after the longest run
    }
    const uint64_t peak_rss = peak_resident_bytes();  // the probes read the weights in place: no buffer of their own
    auto ceiling = [&](const BenchResult& r) {
      return ceiling_of(r, r.probes_bps.empty() ? 0.0 : decode_traffic(*e.model, r.n_depth, r.n_gen, options.kv_type).total());
    };

    const uint64_t params = e.parameters;
    const uint64_t size = e.weight_bytes;
    const std::string desc = fmt::format("{} {} {}", e.architecture, human_params(params), e.quant_type);
    const std::string backend = mlx ? "MLX (libmlx)" : "CPU (llama-pajamas)";
    if (*output == "json") {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& r : results) {
        rows.push_back({{"model_filename", *model_path}, {"model_type", desc}, {"model_size", size}, {"model_n_params", params},
                        {"n_threads", options.threads}, {"n_batch", options.batch_size}, {"type_k", flags->kv_type},
                        {"type_v", flags->kv_type}, {"n_prompt", r.n_prompt}, {"n_gen", r.n_gen}, {"n_depth", r.n_depth}, {"test", r.test}, {"avg_ts", r.mean_tps()},
                        {"stddev_ts", r.stddev_tps()}, {"samples_s", r.seconds}, {"build", kVersion},
                        {"peak_rss_bytes", peak_rss}, {"kv_cache_bytes", kv_bytes}, {"backend", backend}});
        if (const Ceiling c = ceiling(r); c.bytes_per_token > 0) {
          std::vector<double> probes_gbs;
          for (double p : r.probes_bps) probes_gbs.push_back(p / 1e9);
          rows.back()["read_bandwidth_gbs"] = c.read_bps / 1e9;
          rows.back()["bandwidth_probes_gbs"] = probes_gbs;
          rows.back()["decode_bytes_per_token"] = c.bytes_per_token;
          rows.back()["ceiling_ts"] = c.tokens_per_second;
          rows.back()["pct_of_ceiling_samples"] = c.percents;
          rows.back()["pct_of_ceiling"] = c.median_percent;
        }
      }
      print_json(rows);
      return;
    }
    fmt::print("| model | size | params | backend | threads | test | t/s |\n");
    fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
    for (const auto& r : results) {
      fmt::print("| {} | {:.2f} MiB | {} | {} | {} | {} | {:.2f} ± {:.2f} |\n", desc,
                 static_cast<double>(size) / kMiB, human_params(params), backend, options.threads, r.test, r.mean_tps(),
                 r.stddev_tps());
    }
    fmt::print("\npeak resident memory: {:.1f} MiB (weights {:.1f} MiB, KV cache {:.1f} MiB of {})\n",
               static_cast<double>(peak_rss) / kMiB, static_cast<double>(size) / kMiB, static_cast<double>(kv_bytes) / kMiB,
               flags->kv_type);
    for (const auto& r : results) {
      if (const Ceiling c = ceiling(r); c.bytes_per_token > 0) {
        const auto [low, high] = std::minmax_element(r.probes_bps.begin(), r.probes_bps.end());
        fmt::print("{}: {:.1f} MB read per token; read bandwidth {:.1f} GB/s with {} threads (probes {:.1f}-{:.1f}), "
                   "ceiling {:.2f} t/s\n",
                   r.test, c.bytes_per_token / 1e6, c.read_bps / 1e9, options.threads, *low / 1e9, *high / 1e9,
                   c.tokens_per_second);
        std::string runs;
        for (double pct : c.percents) runs += fmt::format("{}{:.0f}%", runs.empty() ? "" : ", ", pct);
        fmt::print("{}: each run against the probes before and after it: {} (median {:.0f}%)\n", r.test, runs,
                   c.median_percent);
      }
    }
    fmt::print("\nbuild: llama-pajamas {}\n", kVersion);
  });
}

}  // namespace lp::cli
