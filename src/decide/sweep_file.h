#pragma once
// OUT/sweep.json: what a `matrix` sweep is (its options, its report's settings and, when it
// runs on Slurm, the scheduler's), written by the command that starts it. Jobs on other
// machines read it to run their step as the local loop would, the last job to build the
// report, and `matrix --status` to list the steps. Paths in it are absolute.
#include <filesystem>
#include <string>

#include "decide/matrix_report.h"
#include "decide/sweep_graph.h"

namespace lp::decide {

struct SlurmOptions {
  std::string partition;   // empty: the cluster's default
  std::string time;        // each job's limit, HH:MM:SS; empty: the partition's
  int gpus_per_job = 0;
  int max_parallel = 0;    // tasks of one array running at once (sbatch --array=...%K); 0: no cap
  int retries = 2;         // resubmissions of what failed or was cancelled, before the sweep gives up
};

struct SweepFile {
  MatrixOptions matrix;        // baseline and baseline_why fixed, so every machine agrees
  MatrixReportInputs report;   // record_dirs unused: the report reads OUT/records
  SlurmOptions slurm;
};

std::filesystem::path sweep_file_path(const std::filesystem::path& out_dir);
void write_sweep_file(const SweepFile& sweep);  // to sweep_file_path(sweep.matrix.out_dir), atomically
// InputError when the file is missing or is not a sweep file.
SweepFile read_sweep_file(const std::filesystem::path& path);

// The report of OUT/records as report.{json,md,csv,html} in OUT; returns report.json's content.
nlohmann::json write_matrix_report_files(MatrixReportInputs in, const std::filesystem::path& out_dir);

}  // namespace lp::decide
