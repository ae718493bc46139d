#pragma once
// A sweep as Slurm jobs, with no scheduler of our own: each stage of the graph (sweep_graph.h;
// with --shards, the shards are quality tasks and their merges a stage of their own) with steps
// still missing a record becomes one job array (sbatch --array=0-N%K) that starts
// when the stage before it ended well (--dependency=afterok, --kill-on-invalid-dep so a failure
// does not leave it waiting forever); each task runs `llama-pajamas matrix-step SWEEP STEP`,
// which does what the local loop does for that step and writes its record into the shared
// OUT/records atomically. A last job (afterany) runs `matrix-step SWEEP finish:ATTEMPT`: when
// every record is there it writes the report; else, within the retry limit, it submits what is
// missing again (a cancelled, failed or timed-out step and what waited on it); preempted jobs
// are requeued by Slurm (--requeue). Nothing lives only on a node: every output is in OUT,
// which must be on a file system every node shares.
#include <filesystem>
#include <string>
#include <vector>

#include "decide/matrix_runner.h"
#include "decide/sweep_file.h"

namespace lp::decide {

// InputError naming what is missing when sbatch, squeue or scontrol is not on PATH.
void require_slurm_clients();

struct SlurmSubmission {
  int attempt = 1;
  size_t steps = 0;                   // submitted (0: every record was there, nothing submitted)
  std::vector<std::string> job_ids;   // one per stage submitted, then the finish job
};

// Submits the steps of `states` that have no record. InputError when sbatch refuses a job;
// when jobs of this sweep are still queued (and `from_job` is empty: not the sweep's own finish job).
SlurmSubmission submit_missing_steps(const SweepFile& sweep, const std::vector<StepState>& states, int attempt,
                                     const std::string& from_job = "");

// The finish job's work: true when every record is there (the caller writes the report);
// false after submitting what is missing again. InputError when the retries are spent.
bool finish_slurm_attempt(const SweepFile& sweep, int attempt);

}  // namespace lp::decide
