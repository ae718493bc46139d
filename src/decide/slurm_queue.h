#pragma once
// What Slurm knows of a sweep's jobs. Every job the sweep submitted is listed in
// OUT/slurm/jobs.json (its stage's steps in array-task order); a step's state is its latest
// job's: pending or running from squeue, else how it ended from sacct, or from scontrol where
// the cluster keeps no accounting (scontrol forgets a job minutes after it ends: MinJobAge).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lp::decide {

// A Slurm client (sbatch, squeue, ...) on PATH; nullopt when there is none.
std::optional<std::filesystem::path> find_slurm_tool(const std::string& name);

// Runs a Slurm client; its standard output, or nullopt when it is absent or exits non-zero
// (its messages appended to OUT/slurm/slurm.log).
std::optional<std::string> run_slurm_tool(const std::vector<std::string>& args, const std::filesystem::path& out_dir);

struct SlurmJob {
  int attempt = 1;
  std::string stage, job_id;          // stage "finish": the job that retries or builds the report
  std::vector<std::string> steps;     // array task i runs steps[i]
};
std::vector<SlurmJob> read_slurm_jobs(const std::filesystem::path& out_dir);
void add_slurm_job(const std::filesystem::path& out_dir, const SlurmJob& job);

struct SlurmStepState {
  std::string state;  // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, PREEMPTED, ...
  std::string job;    // JOBID_TASK
};
// By step id, for the steps whose latest job Slurm still knows.
std::map<std::string, SlurmStepState> slurm_step_states(const std::filesystem::path& out_dir);

}  // namespace lp::decide
