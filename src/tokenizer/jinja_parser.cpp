#include "tokenizer/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "core/error.h"
#include "tokenizer/jinja_lexer.h"

namespace lp::jinja {
namespace {

// Templates come from model files; a hostile one could nest deeply enough to exhaust
// the stack of a recursive-descent parser.
constexpr int kMaxNesting = 128;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Body parse() {
    std::string end_tag;
    Body body = statements({}, end_tag);
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) fail("chat template line {}: nested more than {} levels deep", p_.cur().line, kMaxNesting);
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool is_op(const char* op) const { return cur().kind == TokenKind::Operator && cur().text == op; }
  bool is_name(const char* name) const { return cur().kind == TokenKind::Name && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }

  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TokenKind::BlockEnd: return "the end of the tag '%}'";
      case TokenKind::VariableEnd: return "the end of the expression '}}'";
      case TokenKind::End: return "the end of the template";
      case TokenKind::Data: return "template text";
      case TokenKind::String: return "a string";
      default: return "'" + t.text + "'";
    }
  }
  [[noreturn]] void unexpected(const std::string& wanted) const {
    fail("chat template line {}: expected {}, found {}", cur().line, wanted, describe(cur()));
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) unexpected(std::string("'") + op + "'");
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::Name) unexpected("a name");
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::BlockEnd) unexpected("'%}'");
    advance();
  }

  static ExprPtr node(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ----

  // Parses until a {% tag %} named in `ends` (left unconsumed after its name; the name is
  // stored in `found`) or the end of the template.
  // `opener` and `open_line` name the tag whose body this is, for the error when it is never closed.
  Body statements(std::initializer_list<const char*> ends, std::string& found, const std::string& opener = "",
                  int open_line = 0) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokenKind::End) {
        if (ends.size() != 0) {
          fail("chat template line {}: the '{}' tag is never closed with {{% {} %}}", open_line, opener, *(ends.end() - 1));
        }
        return body;
      }
      if (t.kind == TokenKind::Data) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == TokenKind::VariableBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->line = t.line;
        advance();
        s->expr = tuple(true);
        if (cur().kind != TokenKind::VariableEnd) unexpected("'}}'");
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == TokenKind::BlockBegin) {
        const Token& name = peek();
        if (name.kind == TokenKind::Name &&
            std::any_of(ends.begin(), ends.end(), [&](const char* e) { return name.text == e; })) {
          found = name.text;
          advance();
          advance();
          return body;
        }
        advance();
        body.push_back(statement());
      } else {
        unexpected("template text or a tag");
      }
    }
  }

  StmtPtr statement() {
    if (cur().kind != TokenKind::Name) unexpected("a tag name");
    const std::string tag = cur().text;
    const int line = cur().line;
    advance();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (tag == "if") {
      s->kind = StmtKind::If;
      std::string found;
      ExprPtr cond = tuple(false);
      expect_block_end();
      while (true) {
        Body body = statements({"elif", "else", "endif"}, found, tag, line);
        s->branches.emplace_back(std::move(cond), std::move(body));
        if (found == "elif") {
          cond = tuple(false);
          expect_block_end();
          continue;
        }
        if (found == "else") {
          expect_block_end();
          s->else_body = statements({"endif"}, found, tag, line);
        }
        break;
      }
      expect_block_end();
    } else if (tag == "for") {
      s->kind = StmtKind::For;
      s->targets = assign_names();
      if (!skip_name("in")) unexpected("'in'");
      s->expr = tuple(false, {"if", "recursive"});
      if (skip_name("if")) s->filter = expression(true);
      if (is_name("recursive")) fail("chat template line {}: recursive loops are not supported", line);
      expect_block_end();
      std::string found;
      s->body = statements({"else", "endfor"}, found, tag, line);
      if (found == "else") {
        expect_block_end();
        s->else_body = statements({"endfor"}, found, tag, line);
      }
      expect_block_end();
    } else if (tag == "set") {
      if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator && peek().text == ".") {
        s->targets.push_back(expect_name());
        advance();
        s->namespace_attr = expect_name();
      } else {
        s->targets = assign_names();
      }
      if (skip_op("=")) {
        s->kind = StmtKind::Set;
        s->expr = tuple(true);
        expect_block_end();
      } else {
        if (s->targets.size() != 1 || !s->namespace_attr.empty()) unexpected("'='");
        if (is_op("|")) fail("chat template line {}: filters on a set block are not supported", line);
        s->kind = StmtKind::SetBlock;
        expect_block_end();
        std::string found;
        s->body = statements({"endset"}, found, tag, line);
        expect_block_end();
      }
    } else if (tag == "break" || tag == "continue") {
      s->kind = tag == "break" ? StmtKind::Break : StmtKind::Continue;
      expect_block_end();
    } else if (tag == "generation") {
      // transformers' AssistantTracker extension: marks assistant text, renders its body as is.
      s->kind = StmtKind::Scope;
      expect_block_end();
      std::string found;
      s->body = statements({"endgeneration"}, found, tag, line);
      expect_block_end();
    } else if (tag == "macro") {
      macro(*s);
    } else {
      fail("chat template line {}: the '{}' tag is not supported by this chat template interpreter", line, tag);
    }
    return s;
  }

  // {% macro name(a, b=default) %}body{% endmacro %}, with jinja2's parse_signature rules.
  void macro(Stmt& s) {
    s.kind = StmtKind::Macro;
    const int line = s.line;
    s.text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s.targets.empty()) expect_op(",");
      std::string param = expect_name();
      if (std::find(s.targets.begin(), s.targets.end(), param) != s.targets.end()) {
        fail("chat template line {}: the macro '{}' names the parameter '{}' twice", line, s.text, param);
      }
      if (skip_op("=")) {
        s.defaults.push_back(expression(true));
      } else {
        if (std::any_of(s.defaults.begin(), s.defaults.end(), [](const ExprPtr& d) { return d != nullptr; })) {
          fail("chat template line {}: non-default argument follows default argument", cur().line);
        }
        s.defaults.push_back(nullptr);
      }
      s.targets.push_back(std::move(param));
    }
    advance();
    expect_block_end();
    open_macros_.push_back(&s);
    std::string found;
    s.body = statements({"endmacro"}, found, "macro", line);
    open_macros_.pop_back();
    expect_block_end();
  }

  // A name or a tuple of names: `for k, v in ...`, `set a, b = ...`.
  std::vector<std::string> assign_names() {
    std::vector<std::string> names;
    const bool paren = skip_op("(");
    do {
      names.push_back(expect_name());
    } while (skip_op(","));
    if (paren) expect_op(")");
    return names;
  }

  // ---- expressions ----

  // jinja2's parse_tuple: an expression, or a tuple when commas follow.
  ExprPtr tuple(bool with_condition, std::initializer_list<const char*> extra_ends = {}) {
    const int line = cur().line;
    std::vector<ExprPtr> items;
    bool saw_comma = false;
    while (true) {
      if (!items.empty()) {
        if (!skip_op(",")) break;
        saw_comma = true;
      }
      if (cur().kind == TokenKind::BlockEnd || cur().kind == TokenKind::VariableEnd || is_op(")") ||
          (cur().kind == TokenKind::Name &&
           std::any_of(extra_ends.begin(), extra_ends.end(), [&](const char* e) { return cur().text == e; }))) {
        if (items.empty()) unexpected("an expression");
        break;
      }
      items.push_back(expression(with_condition));
    }
    if (!saw_comma) return std::move(items[0]);
    auto t = node(ExprKind::Tuple, line);
    t->args = std::move(items);
    return t;
  }

  ExprPtr expression(bool with_condition) {
    DepthGuard guard(*this);
    ExprPtr e = or_expr();
    if (!with_condition) return e;
    while (is_name("if")) {
      const int line = cur().line;
      advance();
      auto c = node(ExprKind::Condition, line);
      c->args.push_back(std::move(e));
      c->args.push_back(or_expr());
      c->args.push_back(skip_name("else") ? expression(true) : nullptr);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary_chain(ExprKind kind, const char* word, ExprPtr (Parser::*next)()) {
    ExprPtr left = (this->*next)();
    while (is_name(word)) {
      const int line = cur().line;
      advance();
      auto b = node(kind, line);
      b->args.push_back(std::move(left));
      b->args.push_back((this->*next)());
      left = std::move(b);
    }
    return left;
  }
  ExprPtr or_expr() { return binary_chain(ExprKind::Or, "or", &Parser::and_expr); }
  ExprPtr and_expr() { return binary_chain(ExprKind::And, "and", &Parser::not_expr); }

  ExprPtr not_expr() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      const int line = cur().line;
      advance();
      auto n = node(ExprKind::Not, line);
      n->args.push_back(not_expr());
      return n;
    }
    return compare();
  }

  ExprPtr compare() {
    const int line = cur().line;
    ExprPtr first = math_operators(0);
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    while (true) {
      std::string op;
      if (cur().kind == TokenKind::Operator &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == ">" || cur().text == "<=" ||
           cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().kind == TokenKind::Name && peek().text == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        break;
      }
      ops.push_back(op);
      operands.push_back(math_operators(0));
    }
    if (ops.empty()) return first;
    auto c = node(ExprKind::Compare, line);
    c->args.push_back(std::move(first));
    for (auto& o : operands) c->args.push_back(std::move(o));
    c->ops = std::move(ops);
    return c;
  }

  // jinja2's precedence, loosest first: + -, then ~, then * / // %, then **.
  ExprPtr math_operators(int level) {
    static const std::vector<std::vector<std::string>> kLevels = {{"+", "-"}, {"~"}, {"*", "/", "//", "%"}, {"**"}};
    if (level == static_cast<int>(kLevels.size())) return unary(true);
    ExprPtr left = math_operators(level + 1);
    while (cur().kind == TokenKind::Operator &&
           std::find(kLevels[level].begin(), kLevels[level].end(), cur().text) != kLevels[level].end()) {
      auto b = node(ExprKind::Binary, cur().line);
      b->name = cur().text;
      advance();
      b->args.push_back(std::move(left));
      b->args.push_back(math_operators(level + 1));
      left = std::move(b);
    }
    return left;
  }

  ExprPtr unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = node(is_op("-") ? ExprKind::Negate : ExprKind::Plus, cur().line);
      advance();
      e->args.push_back(unary(false));
    } else {
      e = postfix(primary());
    }
    return with_filter ? filters_and_tests(std::move(e)) : std::move(e);
  }

  ExprPtr primary() {
    const Token& t = cur();
    auto lit = [&](Value v) {
      auto e = node(ExprKind::Literal, t.line);
      e->value = std::move(v);
      return e;
    };
    switch (t.kind) {
      case TokenKind::Name: {
        const std::string n = t.text;
        if (n == "true" || n == "True") return advance(), lit(Value(true));
        if (n == "false" || n == "False") return advance(), lit(Value(false));
        if (n == "none" || n == "None") return advance(), lit(Value(None{}));
        for (Stmt* m : open_macros_) {  // jinja2 looks for these names anywhere in the body
          if (n == "varargs") m->catch_varargs = true;
          if (n == "kwargs") m->catch_kwargs = true;
        }
        auto e = node(ExprKind::Name, t.line);
        e->name = n;
        advance();
        return e;
      }
      case TokenKind::String: {
        std::string s;
        const int line = t.line;
        while (cur().kind == TokenKind::String) {  // adjacent literals concatenate
          s += cur().text;
          advance();
        }
        auto e = node(ExprKind::Literal, line);
        e->value = Value(std::move(s));
        return e;
      }
      case TokenKind::Integer: {
        auto e = lit(Value(t.integer));
        advance();
        return e;
      }
      case TokenKind::Float: {
        auto e = lit(Value(t.number));
        advance();
        return e;
      }
      default: break;
    }
    if (skip_op("(")) {
      if (skip_op(")")) {
        auto e = node(ExprKind::Tuple, t.line);
        return e;
      }
      ExprPtr e = tuple(true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      auto e = node(ExprKind::List, t.line);
      advance();
      while (!is_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("]")) break;
        e->args.push_back(expression(true));
      }
      advance();
      return e;
    }
    if (is_op("{")) {
      auto e = node(ExprKind::Dict, t.line);
      advance();
      while (!is_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("}")) break;
        e->args.push_back(expression(true));
        expect_op(":");
        e->args.push_back(expression(true));
      }
      advance();
      return e;
    }
    unexpected("an expression");
  }

  ExprPtr postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        advance();
        if (cur().kind == TokenKind::Integer) {  // x.0 is x[0]
          auto item = node(ExprKind::Item, cur().line);
          item->args.push_back(std::move(e));
          auto index = node(ExprKind::Literal, cur().line);
          index->value = Value(cur().integer);
          item->args.push_back(std::move(index));
          advance();
          e = std::move(item);
          continue;
        }
        auto a = node(ExprKind::Attribute, cur().line);
        a->name = expect_name();
        a->args.push_back(std::move(e));
        e = std::move(a);
      } else if (is_op("[")) {
        e = subscript(std::move(e));
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr subscript(ExprPtr target) {
    const int line = cur().line;
    advance();
    std::vector<ExprPtr> parts;  // start, stop, step
    bool is_slice = false;
    parts.push_back(is_op(":") ? nullptr : expression(true));
    while (skip_op(":")) {
      is_slice = true;
      if (parts.size() == 3) unexpected("']'");
      parts.push_back(is_op(":") || is_op("]") ? nullptr : expression(true));
    }
    expect_op("]");
    auto e = node(is_slice ? ExprKind::Slice : ExprKind::Item, line);
    e->args.push_back(std::move(target));
    for (auto& p : parts) e->args.push_back(std::move(p));
    while (is_slice && e->args.size() < 4) e->args.push_back(nullptr);
    return e;
  }

  // Reads "(args, name=value)" into e's args (after those already there) and keywords.
  void arguments(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) fail("chat template line {}: *args and **kwargs are not supported", cur().line);
      if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        e.keywords.emplace_back(std::move(key), expression(true));
      } else {
        if (!e.keywords.empty()) fail("chat template line {}: a positional argument follows a keyword argument", cur().line);
        e.args.push_back(expression(true));
      }
    }
    advance();
  }

  ExprPtr call(ExprPtr callee) {
    auto e = node(ExprKind::Call, cur().line);
    e->args.push_back(std::move(callee));
    arguments(*e);
    return e;
  }

  ExprPtr filters_and_tests(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        advance();
        auto f = node(ExprKind::Filter, cur().line);
        f->name = expect_name();
        while (is_op(".")) {
          advance();
          f->name += '.';
          f->name += expect_name();
        }
        f->args.push_back(std::move(e));
        if (is_op("(")) arguments(*f);
        e = std::move(f);
      } else if (is_name("is")) {
        advance();
        auto t = node(ExprKind::Test, cur().line);
        t->negated = skip_name("not");
        t->name = expect_name();
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          arguments(*t);
        } else if ((cur().kind == TokenKind::Name || cur().kind == TokenKind::String || cur().kind == TokenKind::Integer ||
                    cur().kind == TokenKind::Float || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and") && !is_name("is")) {
          t->args.push_back(postfix(primary()));  // `x is divisibleby 3`
        }
        e = std::move(t);
      } else if (is_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
  std::vector<Stmt*> open_macros_;  // the macros whose bodies are being parsed, outermost first
};

}  // namespace

Body parse_template(std::string_view source) { return Parser(tokenize(source)).parse(); }

}  // namespace lp::jinja
