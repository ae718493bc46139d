#include "decide/slurm_queue.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/child_process.h"
#include "core/text_file.h"
#include "formats/json_guard.h"

namespace lp::decide {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path jobs_path(const fs::path& out_dir) { return out_dir / "slurm" / "jobs.json"; }

// "123_4 RUNNING" lines (squeue -r, sacct -P) into states by array job and task.
void read_task_states(const std::string& lines, std::map<std::string, std::string>& by_task) {
  std::istringstream in(lines);
  std::string task, state;
  while (in >> task >> state) by_task[task] = state;
}

}  // namespace

std::optional<fs::path> find_slurm_tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path p = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

std::optional<std::string> run_slurm_tool(const std::vector<std::string>& args, const fs::path& out_dir) {
  const auto tool = find_slurm_tool(args.at(0));
  if (!tool) return std::nullopt;
  fs::create_directories(out_dir / "slurm" / "tmp");
  // One output file per process and call: the finish job and a user's --status may run at once.
  static int calls = 0;
  const fs::path out = out_dir / "slurm" / "tmp" / fmt::format("{}-{}-{}.out", args[0], ::getpid(), ++calls);
  std::vector<std::string> argv = args;
  argv[0] = tool->string();
  const ChildResult r = run_child(argv, out, out_dir / "slurm" / "slurm.log");
  std::string text = read_text_file(out);
  fs::remove(out);
  if (r.exit_code != 0) return std::nullopt;
  return text;
}

std::vector<SlurmJob> read_slurm_jobs(const fs::path& out_dir) {
  std::vector<SlurmJob> jobs;
  std::error_code ec;
  if (!fs::is_regular_file(jobs_path(out_dir), ec)) return jobs;
  for (const json& j : read_json_file(jobs_path(out_dir).string())) {
    jobs.push_back({j.at("attempt").get<int>(), j.at("stage").get<std::string>(), j.at("job_id").get<std::string>(),
                    j.at("steps").get<std::vector<std::string>>()});
  }
  return jobs;
}

void add_slurm_job(const fs::path& out_dir, const SlurmJob& job) {
  json all = json::array();
  for (const SlurmJob& j : read_slurm_jobs(out_dir))
    all.push_back({{"attempt", j.attempt}, {"stage", j.stage}, {"job_id", j.job_id}, {"steps", j.steps}});
  all.push_back({{"attempt", job.attempt}, {"stage", job.stage}, {"job_id", job.job_id}, {"steps", job.steps}});
  fs::create_directories(out_dir / "slurm");
  write_file_atomically(jobs_path(out_dir), all.dump(2) + "\n");
}

std::map<std::string, SlurmStepState> slurm_step_states(const fs::path& out_dir) {
  const std::vector<SlurmJob> jobs = read_slurm_jobs(out_dir);
  std::map<std::string, SlurmStepState> out;
  if (jobs.empty()) return out;
  std::string ids;
  for (const SlurmJob& j : jobs) ids += (ids.empty() ? "" : ",") + j.job_id;
  std::map<std::string, std::string> by_task;  // "JOB_TASK" -> state
  // Ended jobs first, so a requeued task's queue state wins.
  if (auto acct = run_slurm_tool({"sacct", "-n", "-P", "-X", "--delimiter= ", "-j", ids, "-o", "JobID,State"}, out_dir)) {
    read_task_states(*acct, by_task);
  } else {
    for (const SlurmJob& j : jobs) {
      const auto shown = run_slurm_tool({"scontrol", "-o", "show", "job", j.job_id}, out_dir);
      if (!shown) continue;
      std::istringstream lines(*shown);
      for (std::string line; std::getline(lines, line);) {
        std::string task = "N/A", state;
        std::istringstream words(line);
        for (std::string w; words >> w;) {
          if (w.rfind("ArrayTaskId=", 0) == 0) task = w.substr(12);
          if (w.rfind("JobState=", 0) == 0) state = w.substr(9);
        }
        if (!state.empty()) by_task[j.job_id + "_" + task] = state;
      }
    }
  }
  if (auto queue = run_slurm_tool({"squeue", "-h", "-r", "-o", "%A_%a %T"}, out_dir)) read_task_states(*queue, by_task);
  for (const SlurmJob& j : jobs) {
    for (size_t i = 0; i < j.steps.size(); ++i) {
      const std::string task = fmt::format("{}_{}", j.job_id, i);
      const auto it = by_task.find(task);
      if (it == by_task.end()) continue;
      // sacct may say "CANCELLED by 0": the first word is the state.
      out[j.steps[i]] = {it->second, task};
    }
  }
  return out;
}

}  // namespace lp::decide
