#include "tokenizer/jinja_value.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja_text.h"

namespace lp::jinja {

void ContainerShape::include(const Value& item) {
  int item_depth = 0;
  bool item_namespace = false;
  if (item.is_list()) {
    item_depth = item.list_data().shape.depth;
    item_namespace = item.list_data().shape.holds_namespace;
  } else if (item.is_dict()) {
    item_depth = item.dict_data().shape.depth;
    item_namespace = item.is_namespace() || item.dict_data().shape.holds_namespace;
  }
  if (item_depth + 1 > kMaxValueDepth) {
    throw TemplateError(fmt::format("a list or dict is nested more than {} levels deep", kMaxValueDepth));
  }
  depth = std::max(depth, item_depth + 1);
  holds_namespace = holds_namespace || item_namespace;
}

Value Value::list(std::vector<Value> items) {
  auto l = std::make_shared<ListData>();
  for (const Value& item : items) l->shape.include(item);
  l->items = std::move(items);
  return Value(std::move(l));
}

Value Value::tuple(std::vector<Value> items) {
  Value t = list(std::move(items));
  t.list_data().tuple = true;
  return t;
}

Value Value::dict() { return Value(std::make_shared<DictData>()); }

Value Value::namespace_object() {
  auto d = std::make_shared<DictData>();
  d->is_namespace = true;
  return Value(std::move(d));
}

Value Value::function(std::string name, Function fn, bool is_macro) {
  Value v;
  v.v_ = std::make_shared<FunctionBox>(FunctionBox{std::move(name), std::move(fn), is_macro});
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value(None{});
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json(x));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = dict();
      for (const auto& [k, x] : j.items()) d.dict_data().set(k, from_json(x));
      return d;
    }
    default: return Value(None{});
  }
}

bool Value::is_list() const { return std::holds_alternative<std::shared_ptr<ListData>>(v_); }
bool Value::is_tuple() const { return is_list() && list_data().tuple; }
bool Value::is_dict() const { return std::holds_alternative<std::shared_ptr<DictData>>(v_); }
bool Value::is_namespace() const { return is_dict() && dict_data().is_namespace; }

double Value::as_number() const {
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  if (is_int()) return static_cast<double>(as_int());
  return as_float();
}

bool Value::truthy() const {
  if (is_undefined() || is_none()) return false;
  if (is_bool()) return as_bool();
  if (is_int()) return as_int() != 0;
  if (is_float()) return as_float() != 0.0;
  if (is_string()) return !as_string().empty();
  if (is_list()) return !list_data().items.empty();
  if (is_namespace()) return true;
  if (is_dict()) return !dict_data().items.empty();
  return true;
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's layout: fixed for 1e-4 <= |d| < 1e16.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  const size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp10 = std::stoi(sci.substr(e_pos + 1));
  std::string out;
  if (exp10 < -4 || exp10 >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out.append(1, '.').append(digits, 1);
    out += fmt::format("e{}{:02d}", exp10 < 0 ? '-' : '+', std::abs(exp10));
  } else if (exp10 < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  } else {
    const auto int_len = static_cast<size_t>(exp10 + 1);
    if (digits.size() <= int_len) {
      out = digits + std::string(int_len - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
  }
  return negative ? "-" + out : out;
}

namespace {

std::string repr_string(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  out += quote;
  return out;
}

}  // namespace

std::string Value::repr() const {
  if (is_string()) return repr_string(as_string());
  if (is_undefined()) return "";
  return str();
}

std::string Value::str() const {
  if (is_undefined()) return "";
  if (is_none()) return "None";
  if (is_bool()) return as_bool() ? "True" : "False";
  if (is_int()) return std::to_string(as_int());
  if (is_float()) return python_float_repr(as_float());
  if (is_string()) return as_string();
  if (is_list()) {
    const auto& l = list_data();
    std::string out = l.tuple ? "(" : "[";
    for (size_t i = 0; i < l.items.size(); ++i) {
      if (i) out += ", ";
      out += l.items[i].repr();
    }
    if (l.tuple && l.items.size() == 1) out += ",";
    out += l.tuple ? ")" : "]";
    return out;
  }
  if (is_dict()) {
    const auto& d = dict_data();
    std::string out = d.is_namespace ? "<Namespace {" : "{";
    for (size_t i = 0; i < d.items.size(); ++i) {
      if (i) out += ", ";
      out += repr_string(d.items[i].first) + ": " + d.items[i].second.repr();
    }
    out += d.is_namespace ? "}>" : "}";
    return out;
  }
  if (function_box().is_macro) return "<Macro " + repr_string(function_box().name) + ">";
  return "<built-in function " + function_box().name + ">";
}

std::string Value::type_name() const {
  if (is_undefined()) return "Undefined";
  if (is_none()) return "NoneType";
  if (is_bool()) return "bool";
  if (is_int()) return "int";
  if (is_float()) return "float";
  if (is_string()) return "str";
  if (is_tuple()) return "tuple";
  if (is_list()) return "list";
  if (is_namespace()) return "Namespace";
  if (is_dict()) return "dict";
  return "function";
}

const Value* DictData::find(const std::string& key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void DictData::set(const std::string& key, Value value) {
  if (is_namespace && (value.is_namespace() || (value.is_list() && value.list_data().shape.holds_namespace) ||
                       (value.is_dict() && value.dict_data().shape.holds_namespace))) {
    throw TemplateError("a namespace cannot hold another namespace");
  }
  shape.include(value);
  for (auto& [k, v] : items) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(key, std::move(value));
}

const Value* CallArgs::get(size_t index, const std::string& name) const {
  if (index < positional.size()) return &positional[index];
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if ((a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool())) {
      const int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
      const int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
      return x == y;
    }
    return a.as_number() == b.as_number();
  }
  if (a.is_undefined() || b.is_undefined()) return a.is_undefined() && b.is_undefined();
  if (a.is_none() || b.is_none()) return a.is_none() && b.is_none();
  if (a.is_string() && b.is_string()) return a.as_string() == b.as_string();
  if (a.is_list() && b.is_list()) {
    const auto& x = a.list_data();
    const auto& y = b.list_data();
    if (x.tuple != y.tuple || x.items.size() != y.items.size()) return false;
    for (size_t i = 0; i < x.items.size(); ++i) {
      if (!equal(x.items[i], y.items[i])) return false;
    }
    return true;
  }
  if (a.is_dict() && b.is_dict()) {
    if (a.is_namespace() || b.is_namespace()) return &a.dict_data() == &b.dict_data();
    const auto& x = a.dict_data();
    const auto& y = b.dict_data();
    if (x.items.size() != y.items.size()) return false;
    for (const auto& [k, v] : x.items) {
      const Value* other = y.find(k);
      if (other == nullptr || !equal(v, *other)) return false;
    }
    return true;
  }
  if (a.is_function() && b.is_function()) return &a.function_box() == &b.function_box();
  return false;
}

int compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if ((a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool())) {
      const int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
      const int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    const double x = a.as_number(), y = b.as_number();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    // UTF-8 byte order is code point order, which is how Python orders str.
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.list_data().items;
    const auto& y = b.list_data().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equal(x[i], y[i])) return compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  throw TemplateError(fmt::format("cannot order a {} and a {}", a.type_name(), b.type_name()));
}

int64_t length(const Value& v) {
  if (v.is_string()) return static_cast<int64_t>(decode_utf8(v.as_string()).size());
  if (v.is_list()) return static_cast<int64_t>(v.list_data().items.size());
  if (v.is_dict()) return static_cast<int64_t>(v.dict_data().items.size());
  if (v.is_undefined()) return 0;  // jinja's Undefined has len() 0
  throw TemplateError(fmt::format("object of type '{}' has no len()", v.type_name()));
}

}  // namespace lp::jinja
