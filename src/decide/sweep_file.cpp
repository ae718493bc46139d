#include "decide/sweep_file.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "decide/report_html.h"
#include "formats/json_guard.h"

namespace lp::decide {
namespace {

using nlohmann::json;
constexpr const char* kSweepSchema = "llama-pajamas/matrix-sweep/1";

std::string absolute_or_empty(const std::filesystem::path& p) {
  return p.empty() ? std::string() : std::filesystem::absolute(p).lexically_normal().string();
}

}  // namespace

std::filesystem::path sweep_file_path(const std::filesystem::path& out_dir) { return out_dir / "sweep.json"; }

void write_sweep_file(const SweepFile& s) {
  const MatrixOptions& m = s.matrix;
  json j = {{"schema", kSweepSchema},
            {"matrix",
             {{"source", absolute_or_empty(m.source)}, {"out_dir", absolute_or_empty(m.out_dir)}, {"levels", m.levels},
              {"baseline", m.baseline}, {"baseline_why", m.baseline_why}, {"suite", m.suite}, {"threads", m.threads},
              {"data_dir", absolute_or_empty(m.data_dir)}, {"text", absolute_or_empty(m.text)},
              {"code", m.code ? json(*m.code) : json(nullptr)}, {"problems", absolute_or_empty(m.problems)},
              {"shards", m.shards}}},
            {"report",
             {{"usd_per_hour", s.report.usd_per_hour}, {"cost_source", s.report.cost_source},
              {"deploy_ctx", s.report.deploy_ctx}, {"score_weights", s.report.score_weights},
              {"tier_rule", s.report.tier_rule}}},
            {"slurm",
             {{"partition", s.slurm.partition}, {"time", s.slurm.time}, {"gpus_per_job", s.slurm.gpus_per_job},
              {"max_parallel", s.slurm.max_parallel}, {"retries", s.slurm.retries}}}};
  write_file_atomically(sweep_file_path(m.out_dir), j.dump(2) + "\n");
}

SweepFile read_sweep_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail("{} is missing: it is written by the matrix command that started the sweep in that folder", path.string());
  }
  const json j = read_json_file(path.string());
  if (!j.is_object() || j.value("schema", "") != kSweepSchema) fail("{} is not a matrix sweep file", path.string());
  SweepFile s;
  try {
    const json& m = j.at("matrix");
    s.matrix.source = m.at("source").get<std::string>();
    s.matrix.out_dir = m.at("out_dir").get<std::string>();
    s.matrix.levels = m.at("levels").get<std::vector<std::string>>();
    s.matrix.baseline = m.at("baseline").get<std::string>();
    s.matrix.baseline_why = m.at("baseline_why").get<std::string>();
    s.matrix.suite = m.at("suite").get<std::string>();
    s.matrix.threads = m.at("threads").get<unsigned>();
    s.matrix.data_dir = m.at("data_dir").get<std::string>();
    s.matrix.text = m.at("text").get<std::string>();
    if (!m.at("code").is_null()) s.matrix.code = m.at("code").get<bool>();
    s.matrix.problems = m.at("problems").get<std::string>();
    s.matrix.shards = m.value("shards", 1);  // absent from a sweep started before --shards: unsharded
    const json& r = j.at("report");
    s.report.usd_per_hour = r.at("usd_per_hour").get<double>();
    s.report.cost_source = r.at("cost_source").get<std::string>();
    s.report.deploy_ctx = r.at("deploy_ctx").get<int64_t>();
    s.report.score_weights = r.at("score_weights");
    s.report.tier_rule = r.at("tier_rule").get<std::string>();
    const json& q = j.at("slurm");
    s.slurm.partition = q.at("partition").get<std::string>();
    s.slurm.time = q.at("time").get<std::string>();
    s.slurm.gpus_per_job = q.at("gpus_per_job").get<int>();
    s.slurm.max_parallel = q.at("max_parallel").get<int>();
    s.slurm.retries = q.at("retries").get<int>();
  } catch (const json::exception&) {
    fail("{} is a matrix sweep file with a missing or mistyped field", path.string());
  }
  return s;
}

json write_matrix_report_files(MatrixReportInputs in, const std::filesystem::path& out_dir) {
  if (in.record_dirs.empty()) in.record_dirs = {out_dir / "records"};
  std::filesystem::create_directories(out_dir);
  const json report = build_matrix_report(in);
  write_file_atomically(out_dir / "report.json", report.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  write_file_atomically(out_dir / "report.md", matrix_report_markdown(report));
  write_file_atomically(out_dir / "report.csv", matrix_report_csv(report));
  write_file_atomically(out_dir / "report.html", matrix_report_html(report));
  return report;
}

}  // namespace lp::decide
