#include "decide/sweep_status.h"

#include <fmt/core.h>

#include "decide/matrix_runner.h"
#include "decide/slurm_queue.h"
#include "decide/sweep_file.h"

namespace lp::decide {

nlohmann::json sweep_status(const std::filesystem::path& out_dir) {
  const SweepFile sweep = read_sweep_file(sweep_file_path(out_dir));
  const bool slurm = !read_slurm_jobs(sweep.matrix.out_dir).empty();
  const auto queue = slurm ? slurm_step_states(sweep.matrix.out_dir) : std::map<std::string, SlurmStepState>{};
  nlohmann::json steps = nlohmann::json::array(), counts = nlohmann::json::object();
  for (const StepState& s : matrix_step_states(sweep.matrix)) {
    std::string state = s.done ? "done" : "missing";
    nlohmann::json job = nullptr;
    if (const auto q = queue.find(s.step.id()); q != queue.end()) {
      job = q->second.job;
      // A finished job whose record is absent did not finish its step (and the reverse is a record kept).
      if (!s.done && q->second.state != "COMPLETED") state = q->second.state;
    }
    for (char& c : state) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    counts[state] = counts.value(state, 0) + 1;
    steps.push_back({{"step", s.step.id()}, {"stage", s.stage}, {"state", state}, {"job", job},
                     {"record", s.record.empty() || !s.done ? nlohmann::json(nullptr) : nlohmann::json(s.record.string())}});
  }
  const auto report = sweep.matrix.out_dir / "report.json";
  return {{"out", sweep.matrix.out_dir.string()}, {"scheduler", slurm ? "slurm" : "local"}, {"steps", steps},
          {"counts", counts}, {"report", std::filesystem::exists(report) ? nlohmann::json(report.string()) : nlohmann::json(nullptr)}};
}

std::string sweep_status_text(const nlohmann::json& status) {
  std::string out = fmt::format("{:<16} {:<10} {:<11} {}\n", "step", "stage", "state", "job");
  for (const auto& s : status["steps"]) {
    out += fmt::format("{:<16} {:<10} {:<11} {}\n", s["step"].get<std::string>(), s["stage"].get<std::string>(),
                       s["state"].get<std::string>(), s["job"].is_null() ? "" : s["job"].get<std::string>());
  }
  std::string counts;
  for (const auto& [state, n] : status["counts"].items()) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n.get<int>(), state);
  out += fmt::format("{} steps: {}; report: {}\n", status["steps"].size(), counts,
                     status["report"].is_null() ? "not yet" : status["report"].get<std::string>());
  return out;
}

}  // namespace lp::decide
