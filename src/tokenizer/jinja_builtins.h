#pragma once
// The filters, tests, methods and global functions chat templates call, each behaving like
// its jinja2 / Python counterpart in the environment transformers renders with (including
// transformers' own tojson, raise_exception and strftime_now).
#include <optional>
#include <string>

#include "tokenizer/jinja_value.h"

namespace lp::jinja {

// Strings and lists a template builds are bounded, so a hostile template cannot make
// "x" * 10**12 or range(10**12) and take the machine's memory.
constexpr size_t kMaxStringBytes = size_t{16} << 20;
constexpr size_t kMaxListItems = size_t{1} << 20;

Value apply_filter(const std::string& name, const Value& value, const CallArgs& args);
bool apply_test(const std::string& name, const Value& value, const CallArgs& args);

// obj.name the way jinja2 resolves it: Python attributes (str and dict methods, a
// namespace's fields) first, then items; Undefined when neither exists.
Value get_attribute(const Value& obj, const std::string& name);
// obj[key]: items first, then attributes.
Value get_item(const Value& obj, const Value& key);

// range, namespace, dict, raise_exception, strftime_now; nullopt for other names.
std::optional<Value> builtin_global(const std::string& name);

// Python's json.dumps(x, ensure_ascii, indent, separators, sort_keys), which transformers
// installs as the tojson filter. `indent` < 0 means None.
std::string to_json(const Value& v, bool ensure_ascii, int indent, const std::string& item_separator,
                    const std::string& key_separator, bool sort_keys);

// The values a for loop walks: list items, dict keys, string characters.
std::vector<Value> iterate(const Value& v);
bool contains(const Value& container, const Value& item);  // Python `in`

}  // namespace lp::jinja
