#pragma once
// `compare A B`: two models (GGUF against MLX, or two levels) side by side on speed, memory
// and quality. Each measurement runs as a child process of our own binary (bench, validate),
// so each model's peak resident memory is its own and a measurement is the same record the
// single-model commands write; this module runs them, reads their records and lays out one
// table: pp and tg throughput, time to first token, peak RSS, size, perplexity and
// KL-divergence against a common reference, and the accuracy on a small fixed question set
// with the paired difference, its interval and McNemar's test.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lp::decide {

struct CompareOptions {
  std::filesystem::path a, b;
  std::filesystem::path reference;  // empty: A is the reference for KL-divergence
  bool speed = true, memory = true, quality = true;
  int prompt_tokens = 512, gen_tokens = 128, repetitions = 3;
  int chunks = 20;                 // perplexity / KL windows (0: all)
  std::string questions = "arc_easy";  // validate's metric name for the question set
  std::string subset = "quick";
  std::filesystem::path text;      // empty: validate's default (WikiText-2 test)
  std::filesystem::path data_dir;  // empty: validate's default
  unsigned threads = 0;
  // The backend each model's speed and memory are measured with (cpu: our engine; mlx: MLX's
  // library). Quality is always our engine's, which equals mlx-lm's on the same weights.
  std::string backend_a = "cpu", backend_b = "cpu";
  std::filesystem::path work_dir;  // records and logs of the children
};

// One row of the table: a metric, each model's value (null when not measured), and how B
// stands against A (a ratio, a difference, a test), as text and as numbers.
struct CompareRow {
  std::string metric;
  nlohmann::json a, b;       // numbers (or null)
  std::string a_text, b_text, delta_text;
  nlohmann::json delta;      // numbers describing B against A
};

struct Comparison {
  std::vector<CompareRow> rows;
  nlohmann::json records;  // the children's records, by step
};

// InputError for a missing model; a child that fails names its log.
Comparison compare_models(const CompareOptions& options, const std::function<void(const std::string&)>& progress);

std::string comparison_table(const Comparison& c, const CompareOptions& options);  // markdown
nlohmann::json comparison_json(const Comparison& c, const CompareOptions& options);

}  // namespace lp::decide
