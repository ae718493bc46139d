// `matrix-step SWEEP STEP` (hidden): what one Slurm job of a sweep does (decide/slurm_submit.h).
// STEP is a step of the graph, "mc:Q4_K_M", run as the local loop runs it; or "finish:N", the
// job that ends attempt N: the report when every record is there, else what is missing
// submitted again.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "decide/matrix_runner.h"
#include "decide/slurm_submit.h"
#include "decide/sweep_file.h"

namespace lp::cli {

void add_matrix_step_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("matrix-step", "One step of a matrix sweep submitted to Slurm (run by its jobs)");
  cmd->group("");  // not for people: `matrix --scheduler slurm` writes the jobs that call it
  auto sweep_path = std::make_shared<std::string>();
  auto step = std::make_shared<std::string>();
  cmd->add_option("sweep", *sweep_path, "The sweep's sweep.json")->required();
  cmd->add_option("step", *step, "STEP:LEVEL, or finish:ATTEMPT")->required();
  cmd->callback([sweep_path, step] {
    const decide::SweepFile sweep = decide::read_sweep_file(*sweep_path);
    if (step->rfind("finish:", 0) == 0) {
      int attempt = 0;
      try {
        attempt = std::stoi(step->substr(7));
      } catch (const std::exception&) {
        fail("\"{}\" is not finish:ATTEMPT", *step);
      }
      if (decide::finish_slurm_attempt(sweep, attempt)) {
        decide::write_matrix_report_files(sweep.report, sweep.matrix.out_dir);
        fmt::print("report: {}\n", (sweep.matrix.out_dir / "report.html").string());
      } else {
        fmt::print("attempt {} left steps without records: attempt {} submitted\n", attempt, attempt + 1);
      }
      return;
    }
    decide::run_matrix_step(sweep.matrix, decide::parse_sweep_step(*step), [](const decide::StepEvent& e) {
      if (!e.started) {
        fmt::print(stderr, "{}\n", nlohmann::json{{"step", e.step}, {"level", e.level}, {"reused", e.reused},
                                                  {"same_model_as", e.same_model_as}, {"seconds", e.seconds}}
                                       .dump());
      }
    });
  });
}

}  // namespace lp::cli
