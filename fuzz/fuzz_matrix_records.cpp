// libFuzzer target: a folder of matrix step records (`matrix --from-records`), each a JSON
// file another machine may have written, turned into the report and its Markdown and CSV.
// The input is the records' texts separated by NUL bytes (at most 16), written as the files
// of a scratch records folder; a report or an InputError are the only acceptable outcomes.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "decide/matrix_report.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path dir = lp::fuzz::scratch_dir() / "records";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto parts = lp::fuzz::split_all_at_nul(lp::fuzz::as_text(data, size), 16);
  for (size_t i = 0; i < parts.size(); ++i) {
    lp::fuzz::write_scratch_file(fmt::format("records/{:02}.json", i), parts[i]);
  }
  try {
    lp::decide::MatrixReportInputs in;
    in.record_dirs = {dir};
    in.tier_rule = size % 2 == 0 ? "tr125" : "benchmark";
    const nlohmann::json report = lp::decide::build_matrix_report(in);
    (void)lp::decide::matrix_report_markdown(report);
    (void)lp::decide::matrix_report_csv(report);
  } catch (const lp::InputError&) {
  }
  return 0;
}
