#pragma once
// The syntax tree of a chat template. Every node keeps the template line it came from, so
// a runtime error can name it.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace lp::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  Literal,    // value
  Name,       // name
  List,       // args: items
  Tuple,      // args: items
  Dict,       // args: key0, value0, key1, value1, ...
  Attribute,  // args[0].name
  Item,       // args[0][args[1]]
  Slice,      // args[0][args[1]:args[2]:args[3]], absent parts are null
  Call,       // args[0](args[1..], keywords)
  Filter,     // args[0] | name(args[1..], keywords)
  Test,       // args[0] is [not] name(args[1..])
  Not,        // not args[0]
  Negate,     // -args[0]
  Plus,       // +args[0]
  Binary,     // args[0] name args[1]: + - * / // % ** ~
  And,
  Or,
  Compare,    // args[0] ops[0] args[1] ops[1] args[2] ...
  Condition,  // args[0] if args[1] else args[2] (args[2] may be null)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  std::string name;
  Value value;
  bool negated = false;  // for Test
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> keywords;
  std::vector<std::string> ops;  // for Compare
};

enum class StmtKind {
  Text,      // text
  Output,    // {{ expr }}
  If,        // branches: (condition, body)...; else_body
  For,       // targets in expr [if filter]: body; else_body
  Set,       // targets (or namespace_attr on targets[0]) = expr
  SetBlock,  // targets[0] = rendered body
  Break,
  Continue,
  Scope,     // a body rendered in place ({% generation %} of transformers' extension)
  Macro,     // text(targets...) = body; defaults[i] belongs to targets[i] (null: no default)
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::string namespace_attr;  // set ns.attr = ...: targets[0] is ns
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  // Macro only. jinja2 gives a macro the extra `varargs` / `kwargs` arguments only when its
  // body names them; otherwise surplus arguments are an error.
  std::vector<ExprPtr> defaults;
  bool catch_varargs = false;
  bool catch_kwargs = false;
};

}  // namespace lp::jinja
