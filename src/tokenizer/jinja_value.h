#pragma once
// The values a chat template computes with. They mirror the Python objects that jinja2
// hands a template (str, int, float, bool, None, list, tuple, dict, jinja's Undefined and
// Namespace), because a prompt must match transformers' rendering character for character:
// truthiness, equality, str() and repr() all follow Python here, not C++.
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lp::jinja {

// A problem found while rendering. The interpreter adds the template line and turns it
// into an InputError; builtins throw it without knowing where they were called from.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] inline void error(const std::string& message) { throw TemplateError(message); }

class Value;
struct ListData;
struct DictData;
struct CallArgs;
using Function = std::function<Value(const CallArgs&)>;

struct Undefined {
  std::string name;  // what was looked up, for "'x' is undefined"
};
struct None {};

class Value {
 public:
  struct FunctionBox {
    std::string name;
    Function fn;
    bool is_macro = false;  // a template's own {% macro %}: prints as <Macro 'name'>
  };
  using Storage = std::variant<Undefined, None, bool, int64_t, double, std::string, std::shared_ptr<ListData>,
                               std::shared_ptr<DictData>, std::shared_ptr<FunctionBox>>;

  Value() : v_(Undefined{}) {}
  Value(None) : v_(None{}) {}
  Value(Undefined u) : v_(std::move(u)) {}
  Value(bool b) : v_(b) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::shared_ptr<ListData> l) : v_(std::move(l)) {}
  Value(std::shared_ptr<DictData> d) : v_(std::move(d)) {}

  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items);
  static Value dict();
  static Value namespace_object();
  static Value function(std::string name, Function fn, bool is_macro = false);
  static Value from_json(const nlohmann::ordered_json& j);

  bool is_undefined() const { return std::holds_alternative<Undefined>(v_); }
  bool is_none() const { return std::holds_alternative<None>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_list() const;   // list or tuple
  bool is_tuple() const;  // tuple only
  bool is_dict() const;   // dict or namespace
  bool is_namespace() const;
  bool is_function() const { return std::holds_alternative<std::shared_ptr<FunctionBox>>(v_); }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  double as_number() const;  // bool, int or float as a double
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const std::string& undefined_name() const { return std::get<Undefined>(v_).name; }
  ListData& list_data() const { return *std::get<std::shared_ptr<ListData>>(v_); }
  DictData& dict_data() const { return *std::get<std::shared_ptr<DictData>>(v_); }
  const FunctionBox& function_box() const { return *std::get<std::shared_ptr<FunctionBox>>(v_); }

  bool truthy() const;           // Python's bool()
  std::string str() const;       // Python's str(); Undefined prints as ""
  std::string repr() const;      // Python's repr(), used inside containers
  std::string type_name() const; // Python's type name, for error messages

  const Storage& storage() const { return v_; }

 private:
  Storage v_;
};

// How deep lists, tuples and dicts may nest. str(), tojson, ==, sorting and even freeing a
// value recurse through it, so a template that wraps a list in a list 100k times would
// overflow the stack; past this depth building the value is a TemplateError. Containers are
// immutable once built except namespaces, and a namespace may not hold a namespace, so no
// value contains itself and a depth recorded at construction can only be stale by what one
// namespace holds (at most kMaxValueDepth): the true depth stays under twice the limit.
inline constexpr int kMaxValueDepth = 128;

// The nesting of a container (1 for [] or {}, plus the deepest item) and whether a namespace
// is anywhere inside it, worked out as it is built.
struct ContainerShape {
  int depth = 1;
  bool holds_namespace = false;
  void include(const Value& item);  // TemplateError past kMaxValueDepth
};

struct ListData {
  std::vector<Value> items;
  bool tuple = false;
  ContainerShape shape;
};

// Python dicts keep insertion order, and templates iterate them (tool parameters, tojson),
// so this is an ordered list of pairs. Keys are strings: JSON keys always are, and the
// templates we render only build dicts with string keys.
struct DictData {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;
  ContainerShape shape;

  const Value* find(const std::string& key) const;
  // TemplateError when the value is nested too deep, or is (or holds) a namespace being
  // stored in a namespace (that is how a value could come to contain itself).
  void set(const std::string& key, Value value);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument at `index`, or the keyword `name`, or nullptr.
  const Value* get(size_t index, const std::string& name) const;
};

bool equal(const Value& a, const Value& b);       // Python ==
int compare(const Value& a, const Value& b);      // Python <, as -1/0/1; TemplateError if not ordered
int64_t length(const Value& v);                   // Python len(); code points for strings

// Python's repr() of a float: the shortest text that reads back to the same double.
std::string python_float_repr(double d);

}  // namespace lp::jinja
