// libFuzzer target: the records of a matrix sweep, as `matrix --from-records` reads them from
// another machine (untrusted input): the input is split at NUL bytes into up to 16 record
// files, and the whole report is built from them and rendered as Markdown, CSV and HTML, so
// a record that is valid JSON of the wrong shape is caught where it is used.
#include "decide/matrix_report.h"
#include "decide/report_html.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest = lp::fuzz::as_text(data, size);
  const std::filesystem::path dir = lp::fuzz::input_file("", "records/.keep").parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) std::filesystem::remove(entry.path());
  for (int i = 0; i < 16 && !rest.empty(); ++i) {
    const auto [record, after] = lp::fuzz::split_at_nul(rest);
    lp::fuzz::input_file(record, "records/" + std::to_string(i) + ".json");
    rest = after;
  }
  return lp::fuzz::accept_input_errors([&] {
    lp::decide::MatrixReportInputs in;
    in.record_dirs = {dir};
    const nlohmann::json report = lp::decide::build_matrix_report(in);
    (void)lp::decide::matrix_report_markdown(report);
    (void)lp::decide::matrix_report_csv(report);
    (void)lp::decide::matrix_report_html(report);
  });
}
