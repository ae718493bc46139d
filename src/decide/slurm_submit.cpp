#include "decide/slurm_submit.h"

#include <fmt/core.h>

#include <cstdlib>
#include <sstream>

#include "core/atomic_file.h"
#include "core/child_process.h"
#include "core/error.h"
#include "core/sha256.h"
#include "decide/slurm_queue.h"

namespace lp::decide {
namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Every job of one sweep is named lp-TAG-STAGE, TAG from the output folder: how a new
// submission sees that the sweep still has jobs in the queue.
std::string sweep_tag(const fs::path& out_dir) { return sha256_hex(out_dir.string()).substr(0, 8); }

// The #SBATCH lines every job of the sweep shares, then this job's.
std::string batch_header(const SweepFile& sweep, const std::string& stage, int attempt, bool array, bool gpus) {
  const fs::path& out = sweep.matrix.out_dir;
  const SlurmOptions& o = sweep.slurm;
  std::string h = "#!/bin/bash\n";
  h += fmt::format("#SBATCH --job-name=lp-{}-{}\n", sweep_tag(out), stage);
  h += fmt::format("#SBATCH --output={}\n", (out / "slurm" / "logs" / fmt::format("{}-a{}-{}.out", stage, attempt,
                                                                                   array ? "%A_%a" : "%j")).string());
  h += "#SBATCH --requeue\n";  // a preempted job runs again
  if (!o.partition.empty()) h += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (!o.time.empty()) h += fmt::format("#SBATCH --time={}\n", o.time);
  if (gpus && o.gpus_per_job > 0) h += fmt::format("#SBATCH --gpus={}\n", o.gpus_per_job);
  // A job's threads are its CPUs: -t N asks for N.
  if (gpus && sweep.matrix.threads > 0) h += fmt::format("#SBATCH --cpus-per-task={}\n", sweep.matrix.threads);
  return h;
}

// sbatch --parsable's answer: "JOBID" or "JOBID;CLUSTER".
std::string submit(const std::vector<std::string>& args, const fs::path& script, const fs::path& out_dir,
                   const std::string& what) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(script.string());
  const auto answer = run_slurm_tool(argv, out_dir);
  if (!answer || answer->empty()) {
    fail("sbatch refused the {}; its messages are in {}", what, (out_dir / "slurm" / "slurm.log").string());
  }
  return answer->substr(0, answer->find_first_of(";\n"));
}

// This sweep's jobs Slurm still has queued or running, but `self`.
std::vector<std::string> queued_jobs(const fs::path& out_dir, const std::string& self) {
  const auto lines = run_slurm_tool({"squeue", "-h", "-o", "%i %j"}, out_dir);
  if (!lines) fail("squeue failed; its messages are in {}", (out_dir / "slurm" / "slurm.log").string());
  std::vector<std::string> out;
  std::istringstream in(*lines);
  const std::string prefix = "lp-" + sweep_tag(out_dir) + "-";
  for (std::string id, name; in >> id >> name;)
    if (name.rfind(prefix, 0) == 0 && id != self) out.push_back(id);
  return out;
}

}  // namespace

void require_slurm_clients() {
  for (const char* tool : {"sbatch", "squeue", "scontrol"})
    if (!find_slurm_tool(tool)) fail("--scheduler slurm needs Slurm's {} on PATH, and it is not there", tool);
}

SlurmSubmission submit_missing_steps(const SweepFile& sweep, const std::vector<StepState>& states, int attempt,
                                     const std::string& from_job) {
  const fs::path& out = sweep.matrix.out_dir;
  if (const auto queued = queued_jobs(out, from_job); !queued.empty()) {
    fail("this sweep still has {} job(s) in Slurm's queue (job {}): wait for them or cancel them with scancel first",
         queued.size(), queued.front());
  }
  SlurmSubmission result;
  result.attempt = attempt;
  const fs::path dir = out / "slurm" / fmt::format("attempt-{}", attempt);
  fs::create_directories(dir);
  fs::create_directories(out / "slurm" / "logs");
  const std::string binary = self_executable().string(), sweep_path = sweep_file_path(out).string();
  std::string previous;  // the last stage submitted: the next waits for it
  std::vector<std::string> stage_order;
  for (const StepState& s : states)
    if (stage_order.empty() || stage_order.back() != s.stage) stage_order.push_back(s.stage);
  for (const std::string& stage : stage_order) {
    std::vector<std::string> steps;
    for (const StepState& s : states)
      if (s.stage == stage && !s.done) steps.push_back(s.step.id());
    if (steps.empty()) continue;
    // Merging shards reads records: no GPU, one CPU.
    std::string script = batch_header(sweep, stage, attempt, true, stage != "merge");
    script += fmt::format("#SBATCH --array=0-{}{}\n", steps.size() - 1,
                          sweep.slurm.max_parallel > 0 ? fmt::format("%{}", sweep.slurm.max_parallel) : "");
    // A benchmark's speed is its own only on a machine nothing else runs on.
    if (stage == "bench") script += "#SBATCH --exclusive\n";
    script += fmt::format("# The {} stage of the matrix sweep in {} (attempt {}): one step per array task.\n", stage,
                          out.string(), attempt);
    script += "STEPS=(";
    for (size_t i = 0; i < steps.size(); ++i) script += (i ? " " : "") + shell_quote(steps[i]);
    script += ")\n";
    script += fmt::format("exec {} matrix-step {} \"${{STEPS[$SLURM_ARRAY_TASK_ID]}}\"\n", shell_quote(binary),
                          shell_quote(sweep_path));
    const fs::path file = dir / (stage + ".sbatch");
    write_file_atomically(file, script);
    std::vector<std::string> args;
    if (!previous.empty()) args = {"--dependency=afterok:" + previous, "--kill-on-invalid-dep=yes"};
    previous = submit(args, file, out, "the " + stage + " stage's jobs");
    add_slurm_job(out, {attempt, stage, previous, steps});
    result.job_ids.push_back(previous);
    result.steps += steps.size();
  }
  if (result.steps == 0) return result;
  // The finish job waits for every stage however it ended: it retries what is missing or writes the report.
  std::string script = batch_header(sweep, "finish", attempt, false, false);
  script += fmt::format("# Attempt {} of the matrix sweep in {} ends here: the report, or what is missing submitted again.\n",
                        attempt, out.string());
  script += fmt::format("exec {} matrix-step {} finish:{}\n", shell_quote(binary), shell_quote(sweep_path), attempt);
  const fs::path file = dir / "finish.sbatch";
  write_file_atomically(file, script);
  std::string after;
  for (const auto& id : result.job_ids) after += ":" + id;
  const std::string finish = submit({"--dependency=afterany" + after}, file, out, "the sweep's finish job");
  add_slurm_job(out, {attempt, "finish", finish, {}});
  result.job_ids.push_back(finish);
  return result;
}

bool finish_slurm_attempt(const SweepFile& sweep, int attempt) {
  const std::vector<StepState> states = matrix_step_states(sweep.matrix);
  std::vector<std::string> missing;
  for (const StepState& s : states)
    if (!s.done) missing.push_back(s.step.id());
  if (missing.empty()) return true;
  const fs::path& out = sweep.matrix.out_dir;
  if (attempt > sweep.slurm.retries) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail("after {} attempt(s), {} step(s) still have no record ({}); their messages are in {}", attempt, missing.size(),
         list, (out / "slurm" / "logs").string());
  }
  // Every job of this attempt has ended (this one waited for them): what a killed job was
  // writing is a temporary nobody will finish.
  for (const char* sub : {"records", "models", "reference", "samples"}) remove_stale_atomic_temporaries(out / sub);
  const char* self = std::getenv("SLURM_JOB_ID");
  submit_missing_steps(sweep, states, attempt + 1, self ? self : "");
  return false;
}

}  // namespace lp::decide
