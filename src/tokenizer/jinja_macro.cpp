#include "tokenizer/jinja_macro.h"

#include <fmt/format.h>

namespace lp::jinja {

MacroArguments bind_macro_arguments(const Stmt& macro, const CallArgs& args) {
  const std::vector<std::string>& names = macro.targets;
  MacroArguments out;
  out.params.resize(names.size());
  const size_t positional = std::min(args.positional.size(), names.size());
  for (size_t i = 0; i < positional; ++i) out.params[i] = args.positional[i];

  // Keywords may fill the parameters after the positional ones; any other keyword is surplus.
  std::vector<bool> used(args.keyword.size(), false);
  for (size_t i = positional; i < names.size(); ++i) {
    for (size_t k = 0; k < args.keyword.size(); ++k) {
      if (!used[k] && args.keyword[k].first == names[i]) {
        out.params[i] = args.keyword[k].second;
        used[k] = true;  // a repeated keyword (f(a=1, a=2)) is Python's error; the first one wins here
        break;
      }
    }
  }
  out.kwargs = Value::dict();
  for (size_t k = 0; k < args.keyword.size(); ++k) {
    if (used[k]) continue;
    const std::string& key = args.keyword[k].first;
    if (!macro.catch_kwargs) {
      if (key == "caller") {
        error(fmt::format("macro '{}' was invoked with two values for the special caller argument. This is most likely a bug.",
                          macro.text));
      }
      error(fmt::format("macro '{}' takes no keyword argument '{}'", macro.text, key));
    }
    out.kwargs.dict_data().set(key, args.keyword[k].second);
  }

  std::vector<Value> surplus(args.positional.begin() + static_cast<std::ptrdiff_t>(positional), args.positional.end());
  if (!surplus.empty() && !macro.catch_varargs) {
    error(fmt::format("macro '{}' takes not more than {} argument(s)", macro.text, names.size()));
  }
  out.varargs = Value::tuple(std::move(surplus));
  return out;
}

}  // namespace lp::jinja
