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
  EXPECT_NE(error_of("a\n{% macro m() %}{% endmacro %}").find("line 2: the 'macro' tag is not supported"), std::string::npos);
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

// Macros are refused at parse time and loops cannot recurse, so a template cannot call itself;
// the only deep recursion left is through values, which are bounded as they are built.
TEST(JinjaErrors, RecursionIsBounded) {
  EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("line 1: the 'macro' tag is not supported"),
            std::string::npos);
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

}  // namespace
}  // namespace lp::jinja
