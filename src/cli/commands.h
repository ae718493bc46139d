#pragma once
// Each subcommand lives in its own file and registers itself on the root app. A command's
// callback may throw InputError; main turns that into one line on stderr and exit code 2.
#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

namespace lp::cli {

void add_bench_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_fit_command(CLI::App& app);
void add_humaneval_command(CLI::App& app);
void add_imatrix_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_logits_command(CLI::App& app);
void add_matrix_command(CLI::App& app);
void add_matrix_step_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_template_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_validate_command(CLI::App& app);
void add_validate_merge_command(CLI::App& app);

// Prints JSON the way every command does: indented, invalid UTF-8 from a damaged file replaced.
void print_json(const nlohmann::json& j);

}  // namespace lp::cli
