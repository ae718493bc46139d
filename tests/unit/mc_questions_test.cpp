// MMLU CSV reading (the quoting the real files use), the lm-eval prompt formats, the TR125
// subset rule (values from the Python reimplementation in
// tests/fixtures/mmlu_reference/make_reference.py) and lm-eval's tie-breaking.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "temp_dir.h"
#include "validate/mc_questions.h"
#include "validate/mc_scoring.h"
#include "validate/mc_subset.h"

namespace lp::validate {
namespace {

void write(const std::filesystem::path& p, const std::string& s) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

TEST(McQuestions, CsvQuotingAndLineEnds) {
  lp::testing::TempDir dir;
  const auto p = dir.path() / "x.csv";
  // A quoted field with a comma, an escaped quote and a CRLF inside; CRLF and LF row ends; no final newline.
  write(p, "\"a, \"\"b\"\"\r\nc\",1,2,3,4,B\r\nq,,\"\",x,y,D");
  const auto rows = read_mmlu_csv(p);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "a, \"b\"\r\nc");
  EXPECT_EQ(rows[0][5], "B");
  EXPECT_EQ(rows[1][1], "");
  EXPECT_EQ(rows[1][2], "");
  EXPECT_EQ(rows[1][5], "D");
  write(p, "a,b,c\n");
  EXPECT_THROW(read_mmlu_csv(p), InputError);
  write(p, "\"open,1,2,3,4,A\n");
  EXPECT_THROW(read_mmlu_csv(p), InputError);
}

TEST(McQuestions, MmluPromptsAsLmEval) {
  lp::testing::TempDir dir;
  // lm-eval strips the question (here a quoted one with spaces and a line break around it).
  write(dir.path() / "test" / "high_school_x_test.csv", "\" What? \n\",one,two,three,four,C\n");
  write(dir.path() / "dev" / "high_school_x_dev.csv", "Q1,a,b,c,d,A\nQ2,a,b,c,d,D\n");
  const auto zero = load_mmlu_subject(dir.path(), "high_school_x", 0);
  ASSERT_EQ(zero.size(), 1u);
  EXPECT_EQ(zero[0].context,
            "The following are multiple choice questions (with answers) about high school x.\n\n"
            "What?\nA. one\nB. two\nC. three\nD. four\nAnswer:");
  EXPECT_EQ(zero[0].answer, 2u);
  EXPECT_EQ(zero[0].continuations[1], " B");
  EXPECT_EQ(zero[0].id, "high_school_x/0");
  const auto two = load_mmlu_subject(dir.path(), "high_school_x", 2);
  EXPECT_EQ(two[0].context,
            "The following are multiple choice questions (with answers) about high school x.\n\n"
            "Q1\nA. a\nB. b\nC. c\nD. d\nAnswer: A\n\nQ2\nA. a\nB. b\nC. c\nD. d\nAnswer: D\n\n"
            "What?\nA. one\nB. two\nC. three\nD. four\nAnswer:");
  EXPECT_THROW(load_mmlu_subject(dir.path(), "high_school_x", 3), InputError);  // 2 dev rows
}

TEST(McQuestions, ArcLabelsLettersOrDigits) {
  lp::testing::TempDir dir;
  const auto p = dir.path() / "arc.jsonl";
  write(p,
        "{\"id\":\"q1\",\"question\":{\"stem\":\"Why?\",\"choices\":[{\"text\":\"x\",\"label\":\"1\"},"
        "{\"text\":\"y z\",\"label\":\"2\"},{\"text\":\"w\",\"label\":\"3\"}]},\"answerKey\":\"2\"}\r\n");
  const auto qs = load_arc(p, "arc_easy");
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_EQ(qs[0].context, "Question: Why?\nAnswer:");
  EXPECT_EQ(qs[0].answer, 1u);
  EXPECT_EQ(qs[0].continuations[1], " y z");
  EXPECT_EQ(qs[0].choice_texts[1], "y z");
  write(p, "{\"id\":\"q\",\"question\":{\"stem\":\"s\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"},"
           "{\"text\":\"b\",\"label\":\"B\"}]},\"answerKey\":\"E\"}\n");
  EXPECT_THROW(load_arc(p, "arc_easy"), InputError);
}

TEST(McSubset, Tr125RuleMatchesPython) {
  EXPECT_EQ(fnv1a64("abstract_algebra"), 0x58fb65247be18504ull);
  EXPECT_EQ(tr125_pick("abstract_algebra", 100, 5), (std::vector<size_t>{6, 31, 37, 53, 67}));
  const auto arc = tr125_pick("arc_challenge", 1172, 200);
  ASSERT_EQ(arc.size(), 200u);
  EXPECT_EQ(std::vector<size_t>(arc.begin(), arc.begin() + 8), (std::vector<size_t>{9, 13, 19, 22, 26, 37, 41, 44}));
  EXPECT_EQ(tr125_pick("x", 3, 5), (std::vector<size_t>{0, 1, 2}));
}

TEST(McScoring, FirstMaximumWinsAndCharactersCount) {
  EXPECT_EQ(argmax_first({-2.0, -1.0, -1.0}), 1u);
  EXPECT_EQ(utf8_length("caf\xC3\xA9"), 4u);
}

}  // namespace
}  // namespace lp::validate
