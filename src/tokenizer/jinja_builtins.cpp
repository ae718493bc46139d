#include "tokenizer/jinja_builtins.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <functional>
#include <unordered_map>

#include "tokenizer/jinja_text.h"

namespace lp::jinja {
namespace {

const std::string& need_string(const Value& v, const char* what) {
  if (!v.is_string()) error(fmt::format("{} expects a string, got {}", what, v.type_name()));
  return v.as_string();
}

int64_t need_int(const Value& v, const char* what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  error(fmt::format("{} expects an integer, got {}", what, v.type_name()));
}

bool arg_bool(const CallArgs& a, size_t index, const std::string& name, bool fallback) {
  const Value* v = a.get(index, name);
  return v == nullptr ? fallback : v->truthy();
}

void check_size(size_t bytes) {
  if (bytes > kMaxStringBytes) error(fmt::format("a string grew past {} bytes", kMaxStringBytes));
}

std::string ascii_map(std::string s, int (*f)(int)) {
  for (char& c : s) c = static_cast<char>(f(static_cast<unsigned char>(c)));
  return s;
}

std::string capitalize(const std::string& s) {
  std::string out = ascii_map(s, [](int c) { return std::tolower(c); });
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string title(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalpha(u)) {
      c = static_cast<char>(prev_cased ? std::tolower(u) : std::toupper(u));
      prev_cased = true;
    } else {
      prev_cased = false;
    }
  }
  return out;
}

// Python str.split(sep, maxsplit).
std::vector<Value> split(const std::string& s, const Value* sep, int64_t maxsplit) {
  std::vector<Value> out;
  if (sep == nullptr || sep->is_none()) {
    const auto cps = decode_utf8(s);
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && is_python_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        size_t e = cps.size();
        while (e > i && is_python_space(cps[e - 1])) --e;
        out.emplace_back(encode_utf8({cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(e)}));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !is_python_space(cps[j])) ++j;
      out.emplace_back(encode_utf8({cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j)}));
      i = j;
    }
    return out;
  }
  const std::string& d = need_string(*sep, "split");
  if (d.empty()) error("split: empty separator");
  size_t start = 0;
  while (true) {
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) break;
    const size_t at = s.find(d, start);
    if (at == std::string::npos) break;
    out.emplace_back(s.substr(start, at - start));
    start = at + d.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::string replace(const std::string& s, const std::string& old, const std::string& with, int64_t count) {
  std::string out;
  if (old.empty()) {  // Python inserts `with` between every character and at both ends
    const auto cps = decode_utf8(s);
    int64_t n = 0;
    for (const uint32_t cp : cps) {
      if (count < 0 || n < count) out += with, ++n;
      append_utf8(out, cp);
      check_size(out.size());
    }
    if (count < 0 || n < count) out += with;
    return out;
  }
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    const size_t at = s.find(old, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += with;
    check_size(out.size());
    start = at + old.size();
    ++n;
  }
  out.append(s, start);
  return out;
}

int64_t code_point_index(const std::string& s, size_t byte_offset) {
  return static_cast<int64_t>(decode_utf8(std::string_view(s).substr(0, byte_offset)).size());
}

bool starts_or_ends(const std::string& s, const Value& what, bool start) {
  auto one = [&](const Value& p) {
    const std::string& x = need_string(p, start ? "startswith" : "endswith");
    return start ? s.starts_with(x) : s.ends_with(x);
  };
  if (what.is_list()) {
    return std::any_of(what.list_data().items.begin(), what.list_data().items.end(), one);
  }
  return one(what);
}

bool all_chars(const std::string& s, int (*pred)(int)) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

Value string_method(const std::string& s, const std::string& name) {
  using Fn = std::function<Value(const std::string&, const CallArgs&)>;
  static const std::unordered_map<std::string, Fn> kMethods = {
      {"strip", [](const std::string& s, const CallArgs& a) {
         const Value* c = a.get(0, "chars");
         return Value(py_strip(s, c && !c->is_none() ? &need_string(*c, "strip") : nullptr, true, true));
       }},
      {"lstrip", [](const std::string& s, const CallArgs& a) {
         const Value* c = a.get(0, "chars");
         return Value(py_strip(s, c && !c->is_none() ? &need_string(*c, "lstrip") : nullptr, true, false));
       }},
      {"rstrip", [](const std::string& s, const CallArgs& a) {
         const Value* c = a.get(0, "chars");
         return Value(py_strip(s, c && !c->is_none() ? &need_string(*c, "rstrip") : nullptr, false, true));
       }},
      {"split", [](const std::string& s, const CallArgs& a) {
         const Value* m = a.get(1, "maxsplit");
         return Value::list(split(s, a.get(0, "sep"), m ? need_int(*m, "split") : -1));
       }},
      {"startswith", [](const std::string& s, const CallArgs& a) {
         if (a.positional.empty()) error("startswith needs a prefix");
         return Value(starts_or_ends(s, a.positional[0], true));
       }},
      {"endswith", [](const std::string& s, const CallArgs& a) {
         if (a.positional.empty()) error("endswith needs a suffix");
         return Value(starts_or_ends(s, a.positional[0], false));
       }},
      {"upper", [](const std::string& s, const CallArgs&) { return Value(ascii_map(s, [](int c) { return std::toupper(c); })); }},
      {"lower", [](const std::string& s, const CallArgs&) { return Value(ascii_map(s, [](int c) { return std::tolower(c); })); }},
      {"title", [](const std::string& s, const CallArgs&) { return Value(title(s)); }},
      {"capitalize", [](const std::string& s, const CallArgs&) { return Value(capitalize(s)); }},
      {"replace", [](const std::string& s, const CallArgs& a) {
         if (a.positional.size() < 2) error("replace needs two arguments");
         const Value* n = a.get(2, "count");
         return Value(replace(s, need_string(a.positional[0], "replace"), need_string(a.positional[1], "replace"),
                              n ? need_int(*n, "replace") : -1));
       }},
      {"find", [](const std::string& s, const CallArgs& a) {
         if (a.positional.empty()) error("find needs a substring");
         const size_t at = s.find(need_string(a.positional[0], "find"));
         return Value(at == std::string::npos ? int64_t{-1} : code_point_index(s, at));
       }},
      {"rfind", [](const std::string& s, const CallArgs& a) {
         if (a.positional.empty()) error("rfind needs a substring");
         const size_t at = s.rfind(need_string(a.positional[0], "rfind"));
         return Value(at == std::string::npos ? int64_t{-1} : code_point_index(s, at));
       }},
      {"count", [](const std::string& s, const CallArgs& a) {
         if (a.positional.empty()) error("count needs a substring");
         const std::string& sub = need_string(a.positional[0], "count");
         if (sub.empty()) return Value(static_cast<int64_t>(decode_utf8(s).size() + 1));
         int64_t n = 0;
         for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
         return Value(n);
       }},
      {"join", [](const std::string& s, const CallArgs& a) {
         if (a.positional.empty()) error("join needs a list");
         std::string out;
         bool first = true;
         for (const Value& v : iterate(a.positional[0])) {
           if (!first) out += s;
           first = false;
           out += need_string(v, "join");
           check_size(out.size());
         }
         return Value(out);
       }},
      {"splitlines", [](const std::string& s, const CallArgs&) {
         std::vector<Value> out;
         size_t start = 0;
         for (size_t i = 0; i < s.size(); ++i) {
           if (s[i] == '\n' || s[i] == '\r') {
             out.emplace_back(s.substr(start, i - start));
             if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
             start = i + 1;
           }
         }
         if (start < s.size()) out.emplace_back(s.substr(start));
         return Value::list(std::move(out));
       }},
      {"isdigit", [](const std::string& s, const CallArgs&) { return Value(all_chars(s, isdigit)); }},
      {"isalpha", [](const std::string& s, const CallArgs&) { return Value(all_chars(s, isalpha)); }},
      {"isalnum", [](const std::string& s, const CallArgs&) { return Value(all_chars(s, isalnum)); }},
      {"isspace", [](const std::string& s, const CallArgs&) { return Value(all_chars(s, isspace)); }},
      {"islower", [](const std::string& s, const CallArgs&) {
         return Value(std::any_of(s.begin(), s.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); }) &&
                      std::none_of(s.begin(), s.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }));
       }},
      {"isupper", [](const std::string& s, const CallArgs&) {
         return Value(std::any_of(s.begin(), s.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }) &&
                      std::none_of(s.begin(), s.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); }));
       }},
  };
  const auto it = kMethods.find(name);
  if (it == kMethods.end()) return Value(Undefined{name});
  const Fn fn = it->second;
  return Value::function("str." + name, [s, fn](const CallArgs& a) { return fn(s, a); });
}

Value dict_method(const Value& d, const std::string& name) {
  if (name == "items") {
    return Value::function("dict.items", [d](const CallArgs&) {
      std::vector<Value> out;
      for (const auto& [k, v] : d.dict_data().items) out.push_back(Value::tuple({Value(k), v}));
      return Value::list(std::move(out));
    });
  }
  if (name == "keys") {
    return Value::function("dict.keys", [d](const CallArgs&) {
      std::vector<Value> out;
      for (const auto& [k, v] : d.dict_data().items) out.emplace_back(k);
      return Value::list(std::move(out));
    });
  }
  if (name == "values") {
    return Value::function("dict.values", [d](const CallArgs&) {
      std::vector<Value> out;
      for (const auto& [k, v] : d.dict_data().items) out.push_back(v);
      return Value::list(std::move(out));
    });
  }
  if (name == "get") {
    return Value::function("dict.get", [d](const CallArgs& a) {
      if (a.positional.empty()) error("get needs a key");
      const Value* fallback = a.get(1, "default");
      if (a.positional[0].is_string()) {
        if (const Value* v = d.dict_data().find(a.positional[0].as_string())) return *v;
      }
      return fallback ? *fallback : Value(None{});
    });
  }
  return Value();
}

// Python's json string encoder.
void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  const auto cps = decode_utf8(s);
  for (const uint32_t cp : cps) {
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20) {
      out += fmt::format("\\u{:04x}", cp);
    } else if (ensure_ascii && cp >= 0x7F && !(cp & 0x80000000u)) {
      if (cp >= 0x10000) {
        const uint32_t v = cp - 0x10000;
        out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        out += fmt::format("\\u{:04x}", cp);
      }
    } else {
      append_utf8(out, cp);
    }
  }
  out += '"';
}

struct JsonWriter {
  bool ensure_ascii;
  int indent;
  std::string item_sep, key_sep;
  bool sort_keys;
  std::string out;

  void newline(int level) {
    out += '\n';
    out.append(static_cast<size_t>(indent * level), ' ');
  }

  void write(const Value& v, int level) {
    if (level > 64) error("tojson: the value nests too deeply");
    check_size(out.size());
    if (v.is_none()) {
      out += "null";
    } else if (v.is_bool()) {
      out += v.as_bool() ? "true" : "false";
    } else if (v.is_int()) {
      out += std::to_string(v.as_int());
    } else if (v.is_float()) {
      const double d = v.as_float();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else out += python_float_repr(d);
    } else if (v.is_string()) {
      json_string(out, v.as_string(), ensure_ascii);
    } else if (v.is_list()) {
      const auto& items = v.list_data().items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        if (indent >= 0) newline(level + 1);
        write(items[i], level + 1);
      }
      if (indent >= 0) newline(level);
      out += ']';
    } else if (v.is_dict() && !v.is_namespace()) {
      auto items = v.dict_data().items;
      if (items.empty()) {
        out += "{}";
        return;
      }
      if (sort_keys) std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        if (indent >= 0) newline(level + 1);
        json_string(out, items[i].first, ensure_ascii);
        out += key_sep;
        write(items[i].second, level + 1);
      }
      if (indent >= 0) newline(level);
      out += '}';
    } else {
      error(fmt::format("Object of type {} is not JSON serializable", v.type_name()));
    }
  }
};

Value attribute_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    cur = numeric ? get_item(cur, Value(static_cast<int64_t>(std::stoll(part)))) : get_item(cur, Value(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

CallArgs tail_args(const CallArgs& a, size_t from) {
  CallArgs out;
  for (size_t i = from; i < a.positional.size(); ++i) out.positional.push_back(a.positional[i]);
  out.keyword = a.keyword;
  return out;
}

// select/reject/selectattr/rejectattr
Value select(const Value& seq, const CallArgs& a, bool by_attribute, bool keep) {
  size_t next = 0;
  std::string attr;
  if (by_attribute) {
    if (a.positional.empty()) error("selectattr needs an attribute name");
    attr = need_string(a.positional[next++], "selectattr");
  }
  std::optional<std::string> test;
  if (next < a.positional.size()) test = need_string(a.positional[next++], "select");
  const CallArgs test_args = tail_args(a, next);
  std::vector<Value> out;
  for (const Value& item : iterate(seq)) {
    const Value subject = by_attribute ? attribute_path(item, attr) : item;
    const bool passed = test ? apply_test(*test, subject, test_args) : subject.truthy();
    if (passed == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

std::string indent_text(const std::string& s, const std::string& pad, bool first, bool blank) {
  std::vector<std::string> lines;
  size_t start = 0;
  const std::string text = s + "\n";
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      lines.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string out;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) out += '\n' + pad;
      out += lines[i];
    }
  } else {
    out = lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      out += '\n';
      if (!lines[i].empty()) out += pad + lines[i];
    }
  }
  return first ? pad + out : out;
}

Value sorted(const Value& v, const CallArgs& a, bool reverse_default) {
  std::vector<Value> items = iterate(v);
  const bool reverse = arg_bool(a, 0, "reverse", reverse_default);
  const bool case_sensitive = arg_bool(a, 1, "case_sensitive", false);
  const Value* attribute = a.get(2, "attribute");
  auto key = [&](const Value& x) {
    Value k = attribute && !attribute->is_none() ? attribute_path(x, attribute->str()) : x;
    if (!case_sensitive && k.is_string()) k = Value(ascii_map(k.as_string(), [](int c) { return std::tolower(c); }));
    return k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    return reverse ? compare(key(y), key(x)) < 0 : compare(key(x), key(y)) < 0;
  });
  return Value::list(std::move(items));
}

}  // namespace

std::vector<Value> iterate(const Value& v) {
  if (v.is_list()) return v.list_data().items;
  if (v.is_dict() && !v.is_namespace()) {
    std::vector<Value> keys;
    for (const auto& [k, x] : v.dict_data().items) keys.emplace_back(k);
    return keys;
  }
  if (v.is_string()) {
    std::vector<Value> chars;
    for (const uint32_t cp : decode_utf8(v.as_string())) {
      std::string c;
      append_utf8(c, cp);
      chars.emplace_back(std::move(c));
    }
    return chars;
  }
  if (v.is_undefined()) return {};
  error(fmt::format("'{}' object is not iterable", v.type_name()));
}

bool contains(const Value& container, const Value& item) {
  if (container.is_string()) return container.as_string().find(need_string(item, "'in <string>'")) != std::string::npos;
  if (container.is_list()) {
    return std::any_of(container.list_data().items.begin(), container.list_data().items.end(),
                       [&](const Value& x) { return equal(x, item); });
  }
  if (container.is_dict() && !container.is_namespace()) return item.is_string() && container.dict_data().find(item.as_string());
  if (container.is_undefined()) return false;
  error(fmt::format("argument of type '{}' is not iterable", container.type_name()));
}

std::string to_json(const Value& v, bool ensure_ascii, int indent, const std::string& item_separator,
                    const std::string& key_separator, bool sort_keys) {
  JsonWriter w{ensure_ascii, indent, item_separator, key_separator, sort_keys, {}};
  w.write(v, 0);
  return w.out;
}

Value get_attribute(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) {
    error(obj.undefined_name().empty() ? "a value is undefined" : fmt::format("'{}' is undefined", obj.undefined_name()));
  }
  if (obj.is_dict()) {
    if (!obj.is_namespace()) {
      if (Value m = dict_method(obj, name); !m.is_undefined()) return m;
    }
    if (const Value* v = obj.dict_data().find(name)) return *v;
    return Value(Undefined{name});
  }
  if (obj.is_string()) return string_method(obj.as_string(), name);
  return Value(Undefined{name});
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) {
    error(obj.undefined_name().empty() ? "a value is undefined" : fmt::format("'{}' is undefined", obj.undefined_name()));
  }
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.dict_data().find(key.as_string())) return *v;
    return get_attribute(obj, key.as_string());
  }
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.is_bool() ? key.as_bool() : key.as_int();
    if (obj.is_list()) {
      const auto& items = obj.list_data().items;
      const auto n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value(Undefined{fmt::format("[{}]", key.str())});
      return items[static_cast<size_t>(i)];
    }
    const auto cps = decode_utf8(obj.as_string());
    const auto n = static_cast<int64_t>(cps.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value(Undefined{fmt::format("[{}]", key.str())});
    std::string c;
    append_utf8(c, cps[static_cast<size_t>(i)]);
    return Value(c);
  }
  if (key.is_string()) return get_attribute(obj, key.as_string());
  return Value(Undefined{key.str()});
}

Value apply_filter(const std::string& name, const Value& v, const CallArgs& a) {
  if (name == "length" || name == "count") return Value(length(v));
  if (name == "trim") {
    const Value* chars = a.get(0, "chars");
    const std::string s = v.str();
    return Value(py_strip(s, chars && !chars->is_none() ? &need_string(*chars, "trim") : nullptr, true, true));
  }
  if (name == "tojson") {
    const Value* indent = a.get(1, "indent");
    const Value* separators = a.get(2, "separators");
    int indent_width = -1;
    if (indent && !indent->is_none()) indent_width = static_cast<int>(std::clamp<int64_t>(need_int(*indent, "tojson indent"), 0, 64));
    std::string item_sep = indent_width >= 0 ? "," : ", ", key_sep = ": ";
    if (separators && !separators->is_none()) {
      if (!separators->is_list() || separators->list_data().items.size() != 2) error("tojson separators must be a pair");
      item_sep = need_string(separators->list_data().items[0], "tojson separators");
      key_sep = need_string(separators->list_data().items[1], "tojson separators");
    }
    return Value(to_json(v, arg_bool(a, 0, "ensure_ascii", false), indent_width, item_sep, key_sep,
                         arg_bool(a, 3, "sort_keys", false)));
  }
  if (name == "join") {
    const Value* sep = a.get(0, "d");
    const Value* attribute = a.get(1, "attribute");
    const std::string d = sep ? sep->str() : "";
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v)) {
      if (!first) out += d;
      first = false;
      out += (attribute && !attribute->is_none() ? attribute_path(item, attribute->str()) : item).str();
      check_size(out.size());
    }
    return Value(out);
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::list();
    if (!v.is_dict() || v.is_namespace()) error(fmt::format("items expects a mapping, got {}", v.type_name()));
    return dict_method(v, "items").function_box().fn(CallArgs{});
  }
  if (name == "first" || name == "last") {
    const auto items = iterate(v);
    if (items.empty()) return Value(Undefined{name});
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::list(iterate(v));
  if (name == "string") return Value(v.str());
  if (name == "lower") return Value(ascii_map(v.str(), [](int c) { return std::tolower(c); }));
  if (name == "upper") return Value(ascii_map(v.str(), [](int c) { return std::toupper(c); }));
  if (name == "capitalize") return Value(capitalize(v.str()));
  if (name == "title") return Value(title(v.str()));
  if (name == "default" || name == "d") {
    const Value* fallback = a.get(0, "default_value");
    const bool boolean = arg_bool(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return fallback ? *fallback : Value("");
    return v;
  }
  if (name == "replace") {
    if (a.positional.size() < 2) error("replace needs two arguments");
    const Value* n = a.get(2, "count");
    return Value(replace(v.str(), a.positional[0].str(), a.positional[1].str(), n && !n->is_none() ? need_int(*n, "replace") : -1));
  }
  if (name == "select") return select(v, a, false, true);
  if (name == "reject") return select(v, a, false, false);
  if (name == "selectattr") return select(v, a, true, true);
  if (name == "rejectattr") return select(v, a, true, false);
  if (name == "map") {
    std::vector<Value> out;
    if (const Value* attribute = a.get(99, "attribute")) {
      const Value* fallback = a.get(99, "default");
      for (const Value& item : iterate(v)) {
        Value x = attribute_path(item, attribute->str());
        out.push_back(x.is_undefined() && fallback ? *fallback : x);
      }
    } else {
      if (a.positional.empty()) error("map needs a filter name or attribute=");
      const std::string filter = need_string(a.positional[0], "map");
      const CallArgs rest = tail_args(a, 1);
      for (const Value& item : iterate(v)) out.push_back(apply_filter(filter, item, rest));
    }
    return Value::list(std::move(out));
  }
  if (name == "int") {
    const Value* fallback = a.get(0, "default");
    if (v.is_int()) return v;
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    if (v.is_float() && std::isfinite(v.as_float())) return Value(static_cast<int64_t>(v.as_float()));
    if (v.is_string()) {
      const std::string s = py_strip(v.as_string(), nullptr, true, true);
      char* end = nullptr;
      errno = 0;
      const long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0' && errno == 0) return Value(static_cast<int64_t>(i));
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0' && std::isfinite(d)) return Value(static_cast<int64_t>(d));
    }
    return fallback ? *fallback : Value(0);
  }
  if (name == "float") {
    const Value* fallback = a.get(0, "default");
    if (v.is_number()) return Value(v.as_number());
    if (v.is_string()) {
      const std::string s = py_strip(v.as_string(), nullptr, true, true);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0') return Value(d);
    }
    return fallback ? *fallback : Value(0.0);
  }
  if (name == "abs") {
    if (v.is_int()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    if (v.is_number()) return Value(std::fabs(v.as_number()));
    error(fmt::format("bad operand type for abs(): '{}'", v.type_name()));
  }
  if (name == "reverse") {
    if (v.is_string()) {
      auto cps = decode_utf8(v.as_string());
      std::reverse(cps.begin(), cps.end());
      return Value(encode_utf8(cps));
    }
    auto items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "sort") return sorted(v, a, false);
  if (name == "unique") {
    std::vector<Value> out;
    for (const Value& item : iterate(v)) {
      if (std::none_of(out.begin(), out.end(), [&](const Value& x) { return equal(x, item); })) out.push_back(item);
    }
    return Value::list(std::move(out));
  }
  if (name == "min" || name == "max") {
    const Value s = sorted(v, CallArgs{{}, a.keyword}, false);
    const auto& items = s.list_data().items;
    if (items.empty()) return Value(Undefined{name});
    return name == "min" ? items.front() : items.back();
  }
  if (name == "sum") {
    const Value* attribute = a.get(0, "attribute");
    const Value* start = a.get(1, "start");
    Value total = start ? *start : Value(0);
    for (const Value& item : iterate(v)) {
      const Value x = attribute && !attribute->is_none() ? attribute_path(item, attribute->str()) : item;
      if (!total.is_number() || !x.is_number()) error("sum needs numbers");
      if ((total.is_int() || total.is_bool()) && (x.is_int() || x.is_bool())) {
        total = Value(static_cast<int64_t>(total.as_number()) + static_cast<int64_t>(x.as_number()));
      } else {
        total = Value(total.as_number() + x.as_number());
      }
    }
    return total;
  }
  if (name == "indent") {
    const Value* width = a.get(0, "width");
    std::string pad = "    ";
    if (width && width->is_string()) pad = width->as_string();
    else if (width) pad = std::string(static_cast<size_t>(std::clamp<int64_t>(need_int(*width, "indent"), 0, 1024)), ' ');
    return Value(indent_text(v.str(), pad, arg_bool(a, 1, "first", false), arg_bool(a, 2, "blank", false)));
  }
  if (name == "safe") return v;
  error(fmt::format("the filter '{}' is not supported by this chat template interpreter", name));
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& a) {
  auto arg = [&]() -> const Value& {
    if (a.positional.empty()) error(fmt::format("the test '{}' needs an argument", name));
    return a.positional[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict() && !v.is_namespace();
  // jinja's Undefined can be iterated (it is empty), so it counts as iterable and a sequence.
  if (name == "iterable") return v.is_list() || v.is_string() || (v.is_dict() && !v.is_namespace()) || v.is_undefined();
  if (name == "sequence") return v.is_list() || v.is_string() || (v.is_dict() && !v.is_namespace()) || v.is_undefined();
  if (name == "callable") return v.is_function();
  if (name == "sameas") {
    const Value& o = arg();
    if (v.is_list() && o.is_list()) return &v.list_data() == &o.list_data();
    if (v.is_dict() && o.is_dict()) return &v.dict_data() == &o.dict_data();
    if (v.is_none() || v.is_bool() || v.is_undefined()) return v.storage().index() == o.storage().index() && equal(v, o);
    return false;
  }
  if (name == "eq" || name == "equalto" || name == "==") return equal(v, arg());
  if (name == "ne" || name == "!=") return !equal(v, arg());
  if (name == "lt" || name == "lessthan" || name == "<") return compare(v, arg()) < 0;
  if (name == "le" || name == "<=") return compare(v, arg()) <= 0;
  if (name == "gt" || name == "greaterthan" || name == ">") return compare(v, arg()) > 0;
  if (name == "ge" || name == ">=") return compare(v, arg()) >= 0;
  if (name == "in") return contains(arg(), v);
  if (name == "odd" || name == "even") {
    const int64_t i = need_int(v, name.c_str());
    return ((i % 2) != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const int64_t d = need_int(arg(), "divisibleby");
    if (d == 0) error("divisibleby 0");
    return need_int(v, "divisibleby") % d == 0;
  }
  if (name == "lower" || name == "upper") {
    const std::string s = v.str();
    const bool lower = name == "lower";
    return std::any_of(s.begin(), s.end(), [&](char c) { return lower ? std::islower(static_cast<unsigned char>(c)) : std::isupper(static_cast<unsigned char>(c)); }) &&
           std::none_of(s.begin(), s.end(), [&](char c) { return lower ? std::isupper(static_cast<unsigned char>(c)) : std::islower(static_cast<unsigned char>(c)); });
  }
  error(fmt::format("the test '{}' is not supported by this chat template interpreter", name));
}

std::optional<Value> builtin_global(const std::string& name) {
  if (name == "range") {
    return Value::function("range", [](const CallArgs& a) {
      if (a.positional.empty() || a.positional.size() > 3) error("range takes 1 to 3 integers");
      int64_t start = 0, stop = 0, step = 1;
      if (a.positional.size() == 1) {
        stop = need_int(a.positional[0], "range");
      } else {
        start = need_int(a.positional[0], "range");
        stop = need_int(a.positional[1], "range");
        if (a.positional.size() == 3) step = need_int(a.positional[2], "range");
      }
      if (step == 0) error("range step must not be zero");
      std::vector<Value> out;
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (out.size() >= kMaxListItems) error(fmt::format("range is longer than {} items", kMaxListItems));
        out.emplace_back(i);
      }
      return Value::list(std::move(out));
    });
  }
  if (name == "namespace" || name == "dict") {
    const bool ns = name == "namespace";
    return Value::function(name, [ns](const CallArgs& a) {
      Value out = ns ? Value::namespace_object() : Value::dict();
      for (const Value& p : a.positional) {
        if (!p.is_dict()) error(fmt::format("{}() takes a mapping as its positional argument", ns ? "namespace" : "dict"));
        for (const auto& [k, v] : p.dict_data().items) out.dict_data().set(k, v);
      }
      for (const auto& [k, v] : a.keyword) {
        // transformers' TemplateNamespace refuses underscore names (sandbox escapes).
        if (ns && k.starts_with("_")) error(fmt::format("namespace attributes may not start with '_': '{}'", k));
        out.dict_data().set(k, v);
      }
      return out;
    });
  }
  if (name == "raise_exception") {
    return Value::function("raise_exception", [](const CallArgs& a) -> Value {
      error("the template raised an error: " + (a.positional.empty() ? std::string() : a.positional[0].str()));
    });
  }
  if (name == "strftime_now") {
    return Value::function("strftime_now", [](const CallArgs& a) {
      if (a.positional.empty()) error("strftime_now needs a format");
      const std::string& format = need_string(a.positional[0], "strftime_now");
      const std::time_t now = std::time(nullptr);
      std::tm local{};
      localtime_r(&now, &local);
      char buf[512];
      const size_t n = format.empty() ? 0 : std::strftime(buf, sizeof buf, format.c_str(), &local);
      if (n == 0 && !format.empty()) error("strftime_now: the formatted date is empty or too long");
      return Value(std::string(buf, n));
    });
  }
  return std::nullopt;
}

}  // namespace lp::jinja
