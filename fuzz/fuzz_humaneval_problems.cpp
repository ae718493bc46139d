// libFuzzer target: a HumanEval problem file (JSON lines, plain or gzip, as --problems and
// `humaneval --problems` read it), decompressed with the same bound, parsed, and each
// problem's program built around a completion, as the sandbox would receive it.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/gzip_text.h"
#include "fuzz_input.h"
#include "validate/humaneval_problems.h"
#include "validate/humaneval_runner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::string text = lp::maybe_gunzip(lp::fuzz::as_text(data, size), "problems.jsonl", 1 << 20);
    for (const auto& p : lp::validate::parse_humaneval_problems(text, "problems.jsonl")) {
      (void)lp::validate::humaneval_program(p, p.canonical_solution);
      (void)lp::validate::completion_from_chat_answer(p.prompt, p);
    }
  } catch (const lp::InputError&) {
  }
  return 0;
}
