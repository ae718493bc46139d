// llama-pajamas: pick the quantization of a model to deploy, with measurements to prove it.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <new>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "core/error.h"
#include "version.h"

namespace lp::cli {

void print_json(const nlohmann::json& j) {
  fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace lp::cli

int main(int argc, char** argv) {
  CLI::App app{"Llama-Pajamas: which quantization of which model to deploy on which device, with measurements"};
  app.set_version_flag("--version", std::string("llama-pajamas ") + lp::kVersion);
  app.require_subcommand(1);
  lp::cli::add_bench_command(app);
  lp::cli::add_compare_command(app);
  lp::cli::add_fit_command(app);
  lp::cli::add_humaneval_command(app);
  lp::cli::add_imatrix_command(app);
  lp::cli::add_inspect_command(app);
  lp::cli::add_logits_command(app);
  lp::cli::add_matrix_command(app);
  lp::cli::add_matrix_step_command(app);
  lp::cli::add_quantize_command(app);
  lp::cli::add_run_command(app);
  lp::cli::add_serve_command(app);
  lp::cli::add_synth_command(app);
  lp::cli::add_template_command(app);
  lp::cli::add_tokenize_command(app);
  lp::cli::add_validate_command(app);
  lp::cli::add_validate_merge_command(app);
  // Hub ids become local paths once the command line is known to be complete and valid.
  app.parse_complete_callback(lp::cli::resolve_model_arguments);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A wrong flag is bad input like any other: one error line, exit 2.
    fmt::print(stderr, "error: {} (see --help)\n", e.what());
    return 2;
  } catch (const lp::InputError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be made or listed (full disk, read-only mount) is the user's
    // environment, not a bug: one line and exit 2 like any other input error, never an abort.
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "error: out of memory\n");
    return 1;
  }
  return 0;
}
