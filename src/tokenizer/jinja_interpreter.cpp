#include "tokenizer/jinja_interpreter.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_macro.h"
#include "tokenizer/jinja_text.h"

namespace lp::jinja {
namespace {

enum class Flow { Normal, Break, Continue };

// A macro that calls itself recurses through the renderer's C++ stack (jinja2 stops only at
// Python's recursion limit). Real templates recurse as deep as a tool's JSON schema nests.
constexpr int kMaxMacroDepth = 64;
// Each of those calls may also nest its body's blocks and expressions up to the parser's
// limit. Every recursion of the renderer passes through exec() or eval(), so bounding their
// combined depth keeps the stack small (under half a MiB in a release build) whatever a
// template nests.
constexpr int kMaxRenderDepth = 1024;

[[noreturn]] void bad_operands(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined() || b.is_undefined()) {
    const Value& u = a.is_undefined() ? a : b;
    error(u.undefined_name().empty() ? "a value is undefined" : fmt::format("'{}' is undefined", u.undefined_name()));
  }
  error(fmt::format("unsupported operand types for {}: '{}' and '{}'", op, a.type_name(), b.type_name()));
}

bool both_ints(const Value& a, const Value& b) { return (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool()); }
int64_t to_int(const Value& v) { return v.is_bool() ? v.as_bool() : v.as_int(); }

Value repeat(const Value& seq, int64_t times) {
  if (times <= 0) return seq.is_string() ? Value("") : Value::list();
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(times) > kMaxStringBytes / s.size()) error("a repeated string is too long");
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value(out);
  }
  const auto& items = seq.list_data().items;
  if (!items.empty() && static_cast<uint64_t>(times) > kMaxListItems / items.size()) error("a repeated list is too long");
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = a.str() + b.str();
    if (s.size() > kMaxStringBytes) error("a concatenated string is too long");
    return Value(std::move(s));
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      if (a.as_string().size() + b.as_string().size() > kMaxStringBytes) error("a concatenated string is too long");
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      std::vector<Value> items = a.list_data().items;
      const auto& more = b.list_data().items;
      if (items.size() + more.size() > kMaxListItems) error("a concatenated list is too long");
      items.insert(items.end(), more.begin(), more.end());
      return a.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, to_int(b));
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, to_int(a));
  }
  if (!a.is_number() || !b.is_number()) bad_operands(op, a, b);
  if (both_ints(a, b)) {
    const int64_t x = to_int(a), y = to_int(b);
    int64_t r = 0;
    if (op == "+" && !__builtin_add_overflow(x, y, &r)) return Value(r);
    if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return Value(r);
    if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return Value(r);
    if (op == "//" || op == "%") {
      if (y == 0) error("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) error("integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) --q, m += y;  // Python floors toward negative infinity
      return Value(op == "//" ? q : m);
    }
    if (op == "**" && y >= 0) {
      int64_t result = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(result, x, &result)) error("integer overflow in **");
        if (result == 0 || result == 1) break;
      }
      return Value(result);
    }
    if (op == "+" || op == "-" || op == "*") error("integer overflow");
  }
  const double x = a.as_number(), y = b.as_number();
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "/") {
    if (y == 0) error("division by zero");
    return Value(x / y);
  }
  if (op == "//" || op == "%") {
    if (y == 0) error("float division or modulo by zero");
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    return Value(op == "//" ? std::floor(x / y) : m);
  }
  if (op == "**") return Value(std::pow(x, y));
  bad_operands(op, a, b);
}

Value slice(const Value& target, const Value& start_v, const Value& stop_v, const Value& step_v) {
  auto opt = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int() && !v.is_bool()) error(fmt::format("slice {} must be an integer", what));
    return to_int(v);
  };
  const int64_t step = opt(step_v, "step").value_or(1);
  if (step == 0) error("slice step cannot be zero");
  std::vector<uint32_t> cps;
  const std::vector<Value>* items = nullptr;
  int64_t n = 0;
  if (target.is_string()) {
    cps = decode_utf8(target.as_string());
    n = static_cast<int64_t>(cps.size());
  } else if (target.is_list()) {
    items = &target.list_data().items;
    n = static_cast<int64_t>(items->size());
  } else {
    error(fmt::format("'{}' object cannot be sliced", target.type_name()));
  }
  // Python's slice.indices().
  auto clamp = [&](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t i = *v;
    if (i < 0) i += n;
    if (step > 0) return std::clamp<int64_t>(i, 0, n);
    return std::clamp<int64_t>(i, -1, n - 1);
  };
  const int64_t start = clamp(opt(start_v, "start"), step > 0 ? 0 : n - 1);
  const int64_t stop = clamp(opt(stop_v, "stop"), step > 0 ? n : -1);
  std::vector<Value> out_items;
  std::vector<uint32_t> out_cps;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (items) out_items.push_back((*items)[static_cast<size_t>(i)]);
    else out_cps.push_back(cps[static_cast<size_t>(i)]);
  }
  if (!items) return Value(encode_utf8(out_cps));
  return target.is_tuple() ? Value::tuple(std::move(out_items)) : Value::list(std::move(out_items));
}

class Interpreter {
 public:
  Interpreter(const DictData& variables, const RenderLimits& limits) : variables_(variables), limits_(limits) {}

  std::string run(const Body& program) {
    scopes_.emplace_back();
    std::string out;
    innermost_ = &out;
    exec_body(program, out);
    return out;
  }

 private:
  void step() {
    if (++steps_ > limits_.max_steps) error(fmt::format("the template ran more than {} steps", limits_.max_steps));
  }

  void append(std::string& out, const std::string& text) {
    out += text;
    if (out.size() + outer_bytes_ > limits_.max_output_bytes) {
      error(fmt::format("the prompt grew past {} bytes", limits_.max_output_bytes));
    }
  }

  // Renders `body` into a string of its own (a set block, a macro call). The buffers it is
  // nested in are all still alive, so they count toward the output limit together.
  std::string capture(const Body& body) {
    std::string captured;
    const size_t saved_outer = outer_bytes_;
    std::string* saved_innermost = innermost_;
    outer_bytes_ += innermost_->size();
    innermost_ = &captured;
    try {
      exec_body(body, captured);
    } catch (...) {
      outer_bytes_ = saved_outer;
      innermost_ = saved_innermost;
      throw;
    }
    outer_bytes_ = saved_outer;
    innermost_ = saved_innermost;
    return captured;
  }

  // Inside a macro call the scopes below frame_base_ are the caller's and stay hidden, except
  // the template's top level: like jinja2, a macro sees its arguments, its own sets, the
  // top-level variables as they are when it is called (itself included, so it can recurse)
  // and the render's inputs.
  Value lookup(const std::string& name) const {
    for (size_t i = scopes_.size(); i-- > frame_base_;) {
      if (const auto f = scopes_[i].find(name); f != scopes_[i].end()) return f->second;
    }
    if (frame_base_ > 0) {
      if (const auto f = scopes_[0].find(name); f != scopes_[0].end()) return f->second;
    }
    if (const Value* v = variables_.find(name)) return *v;
    if (auto g = builtin_global(name)) return *g;
    return Value(Undefined{name});
  }

  void assign(const std::string& name, Value v) { scopes_.back()[name] = std::move(v); }

  void bind(const std::vector<std::string>& names, const Value& v) {
    if (names.size() == 1) {
      assign(names[0], v);
      return;
    }
    if (!v.is_list()) error(fmt::format("cannot unpack a {} into {} names", v.type_name(), names.size()));
    const auto& items = v.list_data().items;
    if (items.size() != names.size()) error(fmt::format("expected {} values to unpack, got {}", names.size(), items.size()));
    for (size_t i = 0; i < names.size(); ++i) assign(names[i], items[i]);
  }

  Flow exec_body(const Body& body, std::string& out) {
    for (const auto& s : body) {
      const Flow f = exec(*s, out);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

  struct RenderDepth {
    explicit RenderDepth(int& depth) : depth_(depth) {
      if (++depth_ > kMaxRenderDepth) {
        --depth_;
        error(fmt::format("the template nests blocks, expressions and macro calls more than {} levels deep", kMaxRenderDepth));
      }
    }
    ~RenderDepth() { --depth_; }
    RenderDepth(const RenderDepth&) = delete;
    RenderDepth& operator=(const RenderDepth&) = delete;
    int& depth_;
  };

  Flow exec(const Stmt& s, std::string& out) {
    try {
      RenderDepth depth(render_depth_);
      return exec_unchecked(s, out);
    } catch (const TemplateError& e) {
      fail("chat template line {}: {}", s.line, e.what());
    }
  }

  Flow exec_unchecked(const Stmt& s, std::string& out) {
    step();
    switch (s.kind) {
      case StmtKind::Text: append(out, s.text); return Flow::Normal;
      case StmtKind::Output: append(out, eval(*s.expr).str()); return Flow::Normal;
      case StmtKind::If:
        for (const auto& [cond, body] : s.branches) {
          if (eval(*cond).truthy()) return exec_body(body, out);
        }
        return exec_body(s.else_body, out);
      case StmtKind::For: return exec_for(s, out);
      case StmtKind::Set: {
        Value v = eval(*s.expr);
        if (!s.namespace_attr.empty()) {
          Value ns = lookup(s.targets[0]);
          if (!ns.is_namespace()) error(fmt::format("'{}' is not a namespace, so '{}.{}' cannot be set", s.targets[0], s.targets[0], s.namespace_attr));
          if (s.namespace_attr.starts_with("_")) error("namespace attributes may not start with '_'");
          ns.dict_data().set(s.namespace_attr, std::move(v));
        } else {
          bind(s.targets, v);
        }
        return Flow::Normal;
      }
      case StmtKind::SetBlock: {
        ++set_blocks_open_;
        std::string captured;
        try {
          captured = capture(s.body);
        } catch (...) {
          --set_blocks_open_;
          throw;
        }
        --set_blocks_open_;
        assign(s.targets[0], Value(std::move(captured)));
        return Flow::Normal;
      }
      case StmtKind::Macro: define_macro(s); return Flow::Normal;
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
      case StmtKind::Scope: return exec_body(s.body, out);
    }
    return Flow::Normal;
  }

  // A macro defined in a loop, a set block or another macro would close over that block's
  // variables in jinja2; none of the real templates do it, so it is refused rather than
  // rendered with different scoping.
  void define_macro(const Stmt& s) {
    if (scopes_.size() > 1 || set_blocks_open_ > 0) {
      error(fmt::format("the macro '{}' is defined inside a for loop, set block or macro, which this chat template "
                        "interpreter does not support",
                        s.text));
    }
    // The interpreter outlives every value it makes (render() returns only text), so the
    // macro may point back at it and at its syntax tree.
    assign(s.text, Value::function(s.text, [this, &s](const CallArgs& a) { return call_macro(s, a); }, true));
  }

  // Restores the caller's view of the scopes however the macro call ends.
  struct MacroFrame {
    explicit MacroFrame(Interpreter& in) : in_(in), saved_base_(in.frame_base_), saved_size_(in.scopes_.size()) {
      in_.frame_base_ = saved_size_;
      in_.scopes_.emplace_back();
      ++in_.macro_depth_;
    }
    ~MacroFrame() {
      in_.scopes_.resize(saved_size_);
      in_.frame_base_ = saved_base_;
      --in_.macro_depth_;
    }
    MacroFrame(const MacroFrame&) = delete;
    MacroFrame& operator=(const MacroFrame&) = delete;
    Interpreter& in_;
    size_t saved_base_;
    size_t saved_size_;
  };

  Value call_macro(const Stmt& m, const CallArgs& args) {
    step();
    if (macro_depth_ >= kMaxMacroDepth) error(fmt::format("macros nested deeper than {} calls", kMaxMacroDepth));
    MacroArguments bound = bind_macro_arguments(m, args);
    MacroFrame frame(*this);
    // Defaults are evaluated at call time inside the macro, so one may use an earlier parameter.
    for (size_t i = 0; i < m.targets.size(); ++i) {
      if (bound.params[i]) assign(m.targets[i], std::move(*bound.params[i]));
      else if (m.defaults[i]) assign(m.targets[i], eval(*m.defaults[i]));
      else assign(m.targets[i], Value(Undefined{m.targets[i]}));
    }
    if (m.catch_varargs) assign("varargs", bound.varargs);
    if (m.catch_kwargs) assign("kwargs", bound.kwargs);
    return Value(capture(m.body));
  }

  Flow exec_for(const Stmt& s, std::string& out) {
    std::vector<Value> items = iterate(eval(*s.expr));
    if (s.filter) {
      std::vector<Value> kept;
      for (const Value& item : items) {
        step();
        scopes_.emplace_back();
        bind(s.targets, item);
        const bool keep = eval(*s.filter).truthy();
        scopes_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec_body(s.else_body, out);
    const auto n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      step();
      Value loop = Value::dict();
      auto& d = loop.dict_data();
      d.set("index0", Value(i));
      d.set("index", Value(i + 1));
      d.set("revindex0", Value(n - i - 1));
      d.set("revindex", Value(n - i));
      d.set("first", Value(i == 0));
      d.set("last", Value(i == n - 1));
      d.set("length", Value(n));
      d.set("depth", Value(1));
      d.set("depth0", Value(0));
      d.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value(Undefined{"previtem"}));
      d.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value(Undefined{"nextitem"}));
      d.set("cycle", Value::function("loop.cycle", [i](const CallArgs& a) {
              if (a.positional.empty()) error("loop.cycle needs at least one value");
              return a.positional[static_cast<size_t>(i) % a.positional.size()];
            }));
      // Each iteration starts from a fresh scope: what the body sets does not survive it.
      scopes_.emplace_back();
      assign("loop", loop);
      bind(s.targets, items[static_cast<size_t>(i)]);
      Flow f;
      try {
        f = exec_body(s.body, out);
      } catch (...) {
        scopes_.pop_back();
        throw;
      }
      scopes_.pop_back();
      if (f == Flow::Break) break;
    }
    return Flow::Normal;
  }

  Value eval(const Expr& e) {
    try {
      RenderDepth depth(render_depth_);
      return eval_unchecked(e);
    } catch (const TemplateError& err) {
      fail("chat template line {}: {}", e.line, err.what());
    }
  }

  CallArgs call_args(const Expr& e, size_t first) {
    CallArgs a;
    for (size_t i = first; i < e.args.size(); ++i) a.positional.push_back(eval(*e.args[i]));
    for (const auto& [k, v] : e.keywords) a.keyword.emplace_back(k, eval(*v));
    return a;
  }

  Value eval_unchecked(const Expr& e) {
    switch (e.kind) {
      case ExprKind::Literal: return e.value;
      case ExprKind::Name: return lookup(e.name);
      case ExprKind::List:
      case ExprKind::Tuple: {
        std::vector<Value> items;
        for (const auto& x : e.args) items.push_back(eval(*x));
        return e.kind == ExprKind::Tuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
      }
      case ExprKind::Dict: {
        Value d = Value::dict();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          const Value k = eval(*e.args[i]);
          if (!k.is_string()) error("dictionary keys must be strings in a chat template");
          d.dict_data().set(k.as_string(), eval(*e.args[i + 1]));
        }
        return d;
      }
      case ExprKind::Attribute: return get_attribute(eval(*e.args[0]), e.name);
      case ExprKind::Item: return get_item(eval(*e.args[0]), eval(*e.args[1]));
      case ExprKind::Slice: {
        const Value target = eval(*e.args[0]);
        auto part = [&](size_t i) { return e.args[i] ? eval(*e.args[i]) : Value(None{}); };
        return slice(target, part(1), part(2), part(3));
      }
      case ExprKind::Call: {
        const Value callee = eval(*e.args[0]);
        if (!callee.is_function()) {
          if (callee.is_undefined()) error(fmt::format("'{}' is undefined, so it cannot be called", callee.undefined_name()));
          error(fmt::format("a {} cannot be called", callee.type_name()));
        }
        return callee.function_box().fn(call_args(e, 1));
      }
      case ExprKind::Filter: return apply_filter(e.name, eval(*e.args[0]), call_args(e, 1));
      case ExprKind::Test: {
        const bool r = apply_test(e.name, eval(*e.args[0]), call_args(e, 1));
        return Value(e.negated ? !r : r);
      }
      case ExprKind::Not: return Value(!eval(*e.args[0]).truthy());
      case ExprKind::Negate:
      case ExprKind::Plus: {
        const Value v = eval(*e.args[0]);
        if (v.is_int() || v.is_bool()) return Value(e.kind == ExprKind::Negate ? -to_int(v) : to_int(v));
        if (v.is_float()) return Value(e.kind == ExprKind::Negate ? -v.as_float() : v.as_float());
        error(fmt::format("bad operand type for unary {}: '{}'", e.kind == ExprKind::Negate ? "-" : "+", v.type_name()));
      }
      case ExprKind::Binary: return arithmetic(e.name, eval(*e.args[0]), eval(*e.args[1]));
      case ExprKind::And: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? eval(*e.args[1]) : a;
      }
      case ExprKind::Or: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? a : eval(*e.args[1]);
      }
      case ExprKind::Compare: {
        Value left = eval(*e.args[0]);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.args[i + 1]);
          const std::string& op = e.ops[i];
          bool r = false;
          if (op == "==") r = equal(left, right);
          else if (op == "!=") r = !equal(left, right);
          else if (op == "in") r = contains(right, left);
          else if (op == "not in") r = !contains(right, left);
          else {
            const int c = compare(left, right);
            r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
          }
          if (!r) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case ExprKind::Condition:
        if (eval(*e.args[1]).truthy()) return eval(*e.args[0]);
        return e.args[2] ? eval(*e.args[2]) : Value(Undefined{});
    }
    return Value();
  }

  const DictData& variables_;
  const RenderLimits& limits_;
  std::vector<std::unordered_map<std::string, Value>> scopes_;
  size_t frame_base_ = 0;  // the first scope of the running macro call; 0 outside macros
  int macro_depth_ = 0;
  int render_depth_ = 0;
  int set_blocks_open_ = 0;
  std::string* innermost_ = nullptr;  // the buffer output goes to now
  size_t outer_bytes_ = 0;            // what the buffers around it hold
  uint64_t steps_ = 0;
};

}  // namespace

std::string render(const Body& program, const DictData& variables, const RenderLimits& limits) {
  return Interpreter(variables, limits).run(program);
}

}  // namespace lp::jinja
