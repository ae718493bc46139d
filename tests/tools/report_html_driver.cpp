// Test helper (not shipped): renders a report.json as `matrix` would write report.html, so
// tests/python/test_report_html.py can check the page in a real browser before (and apart
// from) the matrix command.
//   usage:  report_html_driver REPORT.json   (the page goes to stdout)
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text_file.h"
#include "decide/report_html.h"
#include "formats/json_guard.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: report_html_driver REPORT.json\n";
    return 2;
  }
  try {
    const auto report = lp::parse_untrusted_json(lp::read_text_file(argv[1]), argv[1]);
    std::cout << lp::decide::matrix_report_html(report);
  } catch (const lp::InputError& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  }
  return 0;
}
