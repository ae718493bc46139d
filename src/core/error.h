#pragma once
// Errors caused by what the user gave us: a damaged file, a wrong path, an unsupported model.
// The message is one sentence for a person; the CLI prints it and exits with code 2.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace lp {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw InputError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace lp
