#pragma once
// The JSON record one `validate` run writes (--out, atomically) and prints (--json). The
// decision matrix and reports read only these records, so runs can be resumed, sharded
// across machines and merged. Schema "llama-pajamas/validate-record/1":
//
// {
//   "schema": "llama-pajamas/validate-record/1",
//   "tool": {"name": "llama-pajamas", "version": "0.1.0"},
//   "started_utc": "2025-01-31T12:00:00Z",
//   "elapsed_seconds": 12.3,
//   "model": MODEL,                      // the model measured
//   "reference": MODEL | {"logits_file": FILE} | null,
//   "settings": {
//     "metrics": ["perplexity", "kld"],
//     "ctx_size": 512, "chunks": 4,      // windows scored (after --chunks and the text length)
//     "chunks_requested": 4 | null,      // --chunks; null: every window
//     "threads": 2, "batch_size": 512, "kv_type": "f16",
//     "text": FILE | null,               // null when the tokens came from a reference-logits file
//     "text_tokens": 300000,             // tokens of the whole text (with BOS when added)
//     "bos_substituted": false,          // each window's first token replaced by BOS
//     "scored_tokens_per_chunk": 255,
//     "saved_reference_logits": FILE | null,
//                                        // (the keys above only when perplexity or kld ran)
//     "activations": "q8" | "f32",
//     "multiple_choice": {               // only when mmlu / arc_* ran
//       "tasks": ["mmlu", "arc_challenge", "arc_easy"], "shots": 0, "subset": "tr125" | "full",
//       "subset_seed": 42 | null, "scoring": "loglikelihood" | "generate" | "both",
//       "loglikelihood": "...", "generation": {"prompt_format", "max_new_tokens", ...} | null,
//       "ctx_size": 2048, "batch_size": 512, "data_dir": "...",
//       "samples": "path.jsonl" | null
//     },
//     "generation_fidelity": {           // only when gen ran
//       "prompts": "built-in" | FILE, "prompt_format", "reference_prompt_format",
//       "decoding": "greedy", "max_new_tokens": {"<family>": n}, "ctx_size": 2048
//     },
//     "code": {                          // only when humaneval ran
//       "prompt_format": "completion" | "chat", "samples_per_problem", "decoding": "greedy" | "sampled",
//       "temperature", "top_p", "seed", "max_new_tokens", "stop_sequences": [...], "problems_limit": n | null,
//       "sandbox": {"python", "isolation", "timeout_seconds", "memory_bytes", ...}, "ctx_size"
//     }
//   },
//   "metrics": {
//     "perplexity": {                    // present when requested
//       "tokens": 1020,                  // scored tokens
//       "ppl": EST,                      // ci95 is exp(mean NLL ± 1.96 se): log-normal
//       "mean_nll": EST                  // nats
//     },
//     "kld": {                           // present when requested; every value as llama-perplexity
//       "tokens": 1020,
//       "kl_divergence": {"mean": EST, "median": x, "max": x, "min": x,
//                         "percentiles": {"99.9": x, "99": x, "95": x, "90": x, "10": x, "5": x, "1": x, "0.1": x}},
//       "same_top_p": EST + {"wilson95": [low, high]},    // fraction of tokens with the same argmax
//       "delta_p": {"mean": EST, "rms": EST, "median": x, "max": x, "min": x,    // fractions, not percent
//                   "percentiles": {"99.9", "99", "95", "90", "75", "25", "10", "5", "1", "0.1"}},
//       "perplexity": {"ppl_q": EST, "ppl_base": EST, "ln_ppl_correlation": x,
//                      "ln_ppl_ratio": EST, "ppl_ratio": EST, "ppl_diff": EST}
//     },
//     "mmlu" | "arc_challenge" | "arc_easy": {   // present when requested; see mc_report.h
//       "questions": 285, "shots": 0, "subset": "tr125", "acc": ACC, "acc_norm": ACC,
//       "truncated_questions": 0, "data": {"path", "files", "sha256"},
//       "generation": {"raw_exact_match": ACC, "rescored_acc": ACC, ...},   // generate scoring
//       "subjects": {"<subject>": {"questions", "acc": ACC, "acc_norm": ACC}},  // MMLU only
//       "reference": {...}, "comparison": {...}   // with --reference (McNemar, paired t)
//     },
//     "gen": {...},                      // generation fidelity: see fidelity_runner.h
//     "humaneval": {...}                 // HumanEval pass@k: see humaneval_runner.h
//   },
//   "hardware": {"cpu_model": "...", "logical_cores": 2, "memory_bytes": 25000000000, "os": "Linux 6.1 x86_64"}
// }
// EST = {"value": x, "se": standard error, "ci95": [value - 1.96 se, value + 1.96 se]}.
// MODEL = {"path", "name", "architecture", "format": "gguf"|"huggingface", "sha256",
//          "files": [{"path", "bytes", "sha256"}], "quant_type", "parameters", "tensor_bytes",
//          "bits_per_weight"}; "sha256" is the file's own hash for a single file, else the hash of
//          the lines "<sha256>  <file name>\n" of its files in order.
// FILE = {"path", "bytes", "sha256"}.
// ACC = {"value": fraction correct, "correct": k, "wilson95": [low, high]}.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/model_weights.h"

namespace lp::validate {

inline constexpr const char* kRecordSchema = "llama-pajamas/validate-record/1";

nlohmann::json describe_file(const std::filesystem::path& path);
nlohmann::json describe_model(const LoadedModel& model);
std::string utc_timestamp_now();

}  // namespace lp::validate
