// Test helper (not shipped): lets tests/python/test_text_metrics.py compare our generation
// metrics with rouge-score and sacrebleu on the same pairs.
//   stdin:  one JSON object per line, {"candidate": "...", "reference": "..."}
//   stdout: one JSON object per input line, in order, with every metric of
//           validate/text_metrics.h ("repetition" is the candidate's distinct 4-gram ratio)
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "formats/json_guard.h"
#include "validate/text_metrics.h"

int main() {
  try {
    std::string line;
    for (size_t number = 1; std::getline(std::cin, line); ++number) {
      const auto pair = lp::parse_untrusted_json(line, "stdin line " + std::to_string(number));
      if (!pair.is_object() || !pair.contains("candidate") || !pair["candidate"].is_string() ||
          !pair.contains("reference") || !pair["reference"].is_string()) {
        lp::fail("stdin line {} needs string fields \"candidate\" and \"reference\"", number);
      }
      const std::string candidate = pair["candidate"];
      const std::string reference = pair["reference"];
      const nlohmann::json metrics = {
          {"rouge_l", lp::validate::rouge_l_f1(candidate, reference)},
          {"bleu", lp::validate::sentence_bleu(candidate, reference)},
          {"exact_match", lp::validate::exact_match(candidate, reference)},
          {"length_ratio", lp::validate::length_ratio(candidate, reference)},
          {"repetition", lp::validate::distinct_4gram_ratio(candidate)},
      };
      std::cout << metrics.dump() << '\n';
    }
  } catch (const lp::InputError& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  }
  return 0;
}
