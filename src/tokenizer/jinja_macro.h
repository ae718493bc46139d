#pragma once
// How a call's arguments meet a macro's parameters. jinja2's Macro.__call__ has its own
// rules, not Python's: keywords fill only the parameters that positional arguments left
// open (f(1, a=2) is "no keyword argument 'a'", not "multiple values"), and surplus
// arguments are an error unless the body names `varargs` / `kwargs`.
#include <optional>
#include <vector>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_value.h"

namespace lp::jinja {

struct MacroArguments {
  std::vector<std::optional<Value>> params;  // one per parameter; nullopt: not passed (its default applies)
  Value varargs;                             // tuple of surplus positionals, when the macro catches them
  Value kwargs;                              // dict of surplus keywords, when the macro catches them
};

// `macro` is a StmtKind::Macro. TemplateError with jinja2's message for a call it refuses.
MacroArguments bind_macro_arguments(const Stmt& macro, const CallArgs& args);

}  // namespace lp::jinja
