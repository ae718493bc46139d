// The Jinja interpreter on small templates whose jinja2 output was checked by hand with
// jinja2 3.1 under transformers' settings (trim_blocks, lstrip_blocks).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/jinja_interpreter.h"
#include "tokenizer/jinja_parser.h"
#include "tokenizer/jinja_value.h"

namespace lp::jinja {
namespace {

std::string render_text(const std::string& tmpl, const std::string& vars_json = "{}", RenderLimits limits = {}) {
  const Value vars = Value::from_json(nlohmann::ordered_json::parse(vars_json));
  return render(parse_template(tmpl), vars.dict_data(), limits);
}

std::string error_of(const std::string& tmpl, RenderLimits limits = {}) {
  try {
    render_text(tmpl, "{}", limits);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JinjaWhitespace, TrimAndLstripBlocks) {
  EXPECT_EQ(render_text("  {% if true %}\n  a\n  {% endif %}\n  {{ 1 }}  {% if 1 %}x{% endif %}\n"), "  a\n  1  x");
  EXPECT_EQ(render_text("a  {%- if true -%}  b  {%- endif %}\n\nc"), "ab\nc");
  EXPECT_EQ(render_text("x\n    {%+ if true %}y{% endif %}"), "x\n    y");
  EXPECT_EQ(render_text("a\n  {# note #}\nb"), "a\nb");
  EXPECT_EQ(render_text("a {{- ' b ' -}} c"), "a b c");
  EXPECT_EQ(render_text("keeps\r\nCRLF as LF\n"), "keeps\nCRLF as LF");
}

TEST(JinjaValues, PrintLikePython) {
  EXPECT_EQ(render_text("{{ [1, 'a', none, true] }}|{{ (1,) }}|{{ {'k': 1.0} }}|{{ 1/2 }}|{{ 4/2 }}"),
            "[1, 'a', None, True]|(1,)|{'k': 1.0}|0.5|2.0");
  EXPECT_EQ(render_text("{{ 7 // 2 }} {{ -7 % 3 }} {{ -7 // 2 }} {{ 2 ** 10 }} {{ 'ab' * 2 }} {{ 1e16 }} {{ 0.0001 }} {{ 1e-5 }}"),
            "3 2 -4 1024 abab 1e+16 0.0001 1e-05");
  EXPECT_EQ(render_text("{{ \"it's\" ~ [\"it's\"] }}"), "it's[\"it's\"]");
  EXPECT_EQ(render_text("{{ undefined_thing }}|{{ x.y if x is defined else 'none' }}"), "|none");
}

TEST(JinjaValues, StringsCountCodePoints) {
  EXPECT_EQ(render_text("{{ s | length }} {{ s[1] }} {{ s[::-1] }} {{ s[1:3] }}", R"({"s": "héllo"})"), "5 é olléh él");
  EXPECT_EQ(render_text("[{{ s.strip() }}]", R"({"s": "\u00a0 x \u3000"})"), "[x]");
  EXPECT_EQ(render_text("{{ s.split('</think>')[-1].lstrip('\\n') }}", R"({"s": "<think>a</think>\n\nb"})"), "b");
  EXPECT_EQ(render_text("{{ '  a  b '.split() }} {{ 'a,b,,c'.split(',', 2) }}"), "['a', 'b'] ['a', 'b', ',c']");
}

TEST(JinjaScoping, LoopsGetAFreshScopeEachIteration) {
  EXPECT_EQ(render_text("{% set x = 1 %}{% for i in [1,2,3] %}{{ x }}{% set x = x + 10 %}{{ x }},{% endfor %}{{ x }}"),
            "111,111,111,1");
  EXPECT_EQ(render_text("{% for i in [1,2,3] %}{% if i == 1 %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}"), "[5][][]");
  EXPECT_EQ(render_text("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(render_text("{% for i in range(10) if i is odd %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{{ ',' if not loop.last }}"
                        "{% endfor %}"),
            "1,3,5,");
  EXPECT_EQ(render_text("{% for k, v in d | items %}{{ loop.index }}{{ k }}={{ v }};{% else %}empty{% endfor %}",
                        R"({"d": {"b": 1, "a": 2}})"),
            "1b=1;2a=2;");
  EXPECT_EQ(render_text("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
}

TEST(JinjaFilters, ToJsonMatchesPythonJsonDumps) {
  const std::string d = R"({"d": {"name": "f", "n": [1, 2.5, true, null], "s": "é\"\n", "e": {}}})";
  EXPECT_EQ(render_text("{{ d | tojson }}", d), R"({"name": "f", "n": [1, 2.5, true, null], "s": "é\"\n", "e": {}})");
  EXPECT_EQ(render_text("{{ d.n | tojson(indent=2) }}", d), "[\n  1,\n  2.5,\n  true,\n  null\n]");
  EXPECT_EQ(render_text("{{ d | tojson(sort_keys=true, separators=(',', ':')) }}", d),
            R"({"e":{},"n":[1,2.5,true,null],"name":"f","s":"é\"\n"})");
  EXPECT_EQ(render_text("{{ ['a', 'code_interpreter', 'b'] | reject('equalto', 'code_interpreter') | join(', ') }}"), "a, b");
  EXPECT_EQ(render_text("{{ l | selectattr('role', 'equalto', 'user') | map(attribute='c') | list }}",
                        R"({"l": [{"role": "user", "c": 1}, {"role": "x", "c": 2}, {"role": "user", "c": 3}]})"),
            "[1, 3]");
  EXPECT_EQ(render_text("{{ ' x ' | trim }}|{{ none | default('d') }}|{{ u | default('d') }}|{{ '3' | int + 1 }}"), "x|None|d|4");
}

TEST(JinjaErrors, NameTheLine) {
  EXPECT_NE(error_of("a\n{% call m() %}{% endcall %}").find("line 2: the 'call' tag is not supported"), std::string::npos);
  EXPECT_NE(error_of("a\n\n{{ raise_exception('no system role') }}").find("line 3: the template raised an error: no system role"),
            std::string::npos);
  EXPECT_NE(error_of("{{ 1 +\n}}").find("line 2: expected an expression"), std::string::npos);
  EXPECT_NE(error_of("{{ 'a' + 1 }}").find("line 1: unsupported operand types for +: 'str' and 'int'"), std::string::npos);
  EXPECT_NE(error_of("{{ x.y.z }}").find("line 1: 'x' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{{ 'unclosed }}").find("line 1: a string is never closed"), std::string::npos);
}

TEST(JinjaErrors, HostileTemplatesAreBounded) {
  RenderLimits small;
  small.max_steps = 1000;
  small.max_output_bytes = 100;
  EXPECT_NE(error_of("{% for i in range(2000) %}{% endfor %}", small).find("steps"), std::string::npos);
  EXPECT_NE(error_of("{% for i in range(50) %}xxxxx{% endfor %}", small).find("grew past 100 bytes"), std::string::npos);
  EXPECT_NE(error_of("{{ range(10000000) | length }}").find("longer than"), std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(1000, '[') + std::string(1000, ']') + " }}").find("nested more than"),
            std::string::npos);
}

// Loops cannot recurse and macro calls nest a bounded number of levels (JinjaMacros), so the
// only deep recursion left is through values, which are bounded as they are built.
TEST(JinjaErrors, RecursionIsBounded) {
  EXPECT_NE(error_of("{% for m in [1] recursive %}{{ loop(m) }}{% endfor %}").find("recursive loops are not supported"),
            std::string::npos);
  const std::string wrap = "{% set ns = namespace(x=[]) %}{% for i in range(200000) %}{% set ns.x = [ns.x] %}{% endfor %}";
  EXPECT_NE(error_of(wrap + "{{ ns.x }}").find("line 1: a list or dict is nested more than 128 levels deep"), std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace(d={}) %}{% for i in range(200000) %}{% set ns.d = {'a': ns.d} %}{% endfor %}")
                .find("nested more than 128 levels deep"),
            std::string::npos);
  // A namespace that held itself would never be freed and would print forever.
  EXPECT_NE(error_of("{% set ns = namespace() %}{% set ns.me = [ns] %}{{ ns }}").find("cannot hold another namespace"),
            std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace() %}{% set other = namespace(inner=ns) %}").find("cannot hold another namespace"),
            std::string::npos);
  // 100 levels is fine (real templates nest a handful).
  EXPECT_EQ(render_text("{% set ns = namespace(x=[]) %}{% for i in range(100) %}{% set ns.x = [ns.x] %}{% endfor %}"
                        "{{ ns.x | string | length }}"),
            "202");
}

// Expected outputs are jinja2 3.1's (transformers' environment) for the same templates.
TEST(JinjaMacros, DefaultsAndKeywords) {
  const std::string f = "{% macro f(a, b=a ~ 'x', c=2) %}{{ a }}|{{ b }}|{{ c }}{% endmacro %}";
  EXPECT_EQ(render_text(f + "{{ f(1) }} {{ f(1, c=5) }} {{ f(b=1, a=2) }} {{ f() }}"), "1|1x|2 1|1x|5 2|1|2 |x|2");
  EXPECT_EQ(render_text("{% macro f(a=1) %}{{ a }}{% endmacro %}{{ f(none) }}{{ f(a=none) }}"), "NoneNone");
  EXPECT_EQ(render_text("{% macro f(a) %}{{ a is defined }}{{ a }}{% endmacro %}{{ f() }}"), "False");
  EXPECT_EQ(render_text("{% macro f(a) %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, z=3) }}"), "(2,){'z': 3}");
  // jinja2's own rules: a keyword may only fill a parameter no positional argument reached.
  EXPECT_NE(error_of("{% macro f(a) %}{% endmacro %}{{ f(1, a=2) }}").find("macro 'f' takes no keyword argument 'a'"),
            std::string::npos);
  EXPECT_NE(error_of("{% macro f(a) %}{% endmacro %}\n{{ f(1, 2) }}").find("line 2: macro 'f' takes not more than 1 argument(s)"),
            std::string::npos);
  EXPECT_NE(error_of("{% macro f(a=1, b) %}{% endmacro %}").find("non-default argument follows default argument"),
            std::string::npos);
  EXPECT_NE(error_of("{% macro f(a, a) %}{% endmacro %}").find("names the parameter 'a' twice"), std::string::npos);
}

TEST(JinjaMacros, CallsAreValues) {
  EXPECT_EQ(render_text("{% macro f(x) %}<{{ x }}>{% endmacro %}{{ f('a') ~ 'b' + 'c' }}|{{ f }}|{{ [f] }}|{{ f() | length }}"),
            "<a>bc|<Macro 'f'>|[<Macro 'f'>]|2");
  EXPECT_EQ(render_text("{% macro f() %}a{% endmacro %}{% set g = f %}{% set s = g() %}{{ s is string }}{{ s * 2 }}"), "Trueaa");
  EXPECT_EQ(render_text("  {% macro m() %}\n  a\n  {% endmacro %}\n[{{ m() }}]"), "[  a\n]");
  EXPECT_EQ(render_text("{%- macro m(x) -%}\n  <{{ x }}>\n{%- endmacro -%}\n{{ m(1) }}\n{{- m(2) }}"), "<1><2>");
}

TEST(JinjaMacros, Recursion) {
  EXPECT_EQ(render_text("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"), "321");
  // Like gpt-oss's render_typescript_type: a macro walking a nested schema.
  EXPECT_EQ(render_text("{% macro t(s) %}{% if s.type == 'array' %}{{ t(s['items']) + '[]' }}{% else %}{{ s.type }}{% endif %}"
                        "{% endmacro %}{{ t(x) }}",
                        R"({"x": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}})"),
            "string[][]");
  // A macro may call one defined after it: names resolve when it runs.
  EXPECT_EQ(render_text("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}B{% endmacro %}{{ a() }}"), "B");
}

TEST(JinjaMacros, Scoping) {
  // A macro sees the top level as it is when called, not the caller's loop variables or sets.
  EXPECT_EQ(render_text("{% macro m() %}{{ x }}{% endmacro %}{% set x = 1 %}{{ m() }}{% set x = 2 %}{{ m() }}"), "12");
  EXPECT_EQ(render_text("{% macro m() %}[{{ i }}{{ y }}]{% endmacro %}{% for i in [1] %}{% set y = 3 %}{{ m() }}{% endfor %}"),
            "[]");
  EXPECT_EQ(render_text("{% macro f(loop) %}{{ loop }}{% endmacro %}{% for i in [1] %}{{ f(2) }}{% endfor %}"), "2");
  // What a macro sets stays inside it; a namespace is how it changes the caller's state.
  EXPECT_EQ(render_text("{% macro f() %}{% set x = 5 %}{{ x }}{% endmacro %}{% set x = 1 %}{{ f() }}{{ x }}"), "51");
  EXPECT_EQ(render_text("{% macro f() %}{% if m is not defined %}{% set m = 'dflt' %}{% endif %}{{ m }}{% endmacro %}{{ f() }}",
                        R"({"m": "given"})"),
            "given");
  EXPECT_EQ(render_text("{% set ns = namespace(v=0) %}{% macro f() %}{% set ns.v = ns.v + 1 %}{% endmacro %}{{ f() }}{{ f() }}"
                        "{{ ns.v }}"),
            "2");
  EXPECT_EQ(render_text("{% macro f() %}{% set x = 2 %}{% for i in [1] %}{% set x = 3 %}{% endfor %}{{ x }}{% endmacro %}"
                        "{{ f() }}"),
            "2");
  EXPECT_EQ(render_text("{% if true %}{% macro m() %}M{% endmacro %}{% endif %}{{ m() }}"), "M");
  // jinja2 would close over the loop's variables here; refused rather than rendered differently.
  EXPECT_NE(error_of("{% for i in [1] %}{% macro m() %}{{ i }}{% endmacro %}{% endfor %}").find("inside a for loop"),
            std::string::npos);
  EXPECT_NE(error_of("{% macro f() %}{% macro g() %}{% endmacro %}{% endmacro %}{{ f() }}")
                .find("inside a for loop, set block or macro"),
            std::string::npos);
}

TEST(JinjaMacros, DepthIsBounded) {
  EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}\n{{ f() }}").find("line 1: macros nested deeper than 64 calls"),
            std::string::npos);
  EXPECT_NE(error_of("{% macro f(n) %}{{ f(n + 1) if n < 100 }}{% endmacro %}{{ f(0) }}").find("macros nested deeper than 64"),
            std::string::npos);
  EXPECT_EQ(render_text("{% macro f(n) %}{{ f(n + 1) if n < 60 else n }}{% endmacro %}{{ f(0) }}"), "60");
  // Deep bodies run out of levels before macro calls do, so the stack stays small either way.
  std::string deep = "{% macro f() %}";
  for (int i = 0; i < 100; ++i) deep += "{% if true %}";
  deep += "{{ f() }}";
  for (int i = 0; i < 100; ++i) deep += "{% endif %}";
  EXPECT_NE(error_of(deep + "{% endmacro %}{{ f() }}").find("more than 1024 levels deep"), std::string::npos);
  // What nested calls render is all alive at once, so it counts toward the output limit together.
  RenderLimits small;
  small.max_output_bytes = 100;
  EXPECT_NE(error_of("{% macro f(n) %}{{ 'x' * 30 }}{{ f(n - 1) if n > 0 }}{% endmacro %}{{ f(5) }}", small)
                .find("grew past 100"),
            std::string::npos);
}

}  // namespace
}  // namespace lp::jinja
