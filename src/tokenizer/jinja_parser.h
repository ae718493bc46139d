#pragma once
// Parses a chat template into a syntax tree with jinja2's grammar and operator precedence.
// Only the constructs that real chat templates use are accepted; anything else (call
// blocks, includes, recursive loops, ...) is an InputError naming the line, never a wrong prompt.
#include <string_view>

#include "tokenizer/jinja_ast.h"

namespace lp::jinja {

Body parse_template(std::string_view source);

}  // namespace lp::jinja
