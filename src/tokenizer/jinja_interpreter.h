#pragma once
// Renders a parsed chat template with jinja2's semantics: scoping (a for loop's body gets a
// fresh scope each iteration, if does not), the loop object, break/continue, namespaces,
// and Undefined for whatever a template looks up and the caller did not pass.
#include <cstdint>
#include <string>

#include "tokenizer/jinja_ast.h"

namespace lp::jinja {

// Templates come from model files: rendering is bounded so a hostile one cannot loop
// forever or fill memory.
struct RenderLimits {
  size_t max_output_bytes = size_t{16} << 20;
  uint64_t max_steps = 10'000'000;  // statements executed plus loop iterations
};

// `variables` holds the template's inputs (messages, add_generation_prompt, ...).
// Errors are InputErrors that name the template line.
std::string render(const Body& program, const DictData& variables, const RenderLimits& limits = {});

}  // namespace lp::jinja
