// The built-in generation-fidelity prompt set and the loader for a user's JSONL prompt file.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "temp_dir.h"
#include "validate/fidelity_prompts.h"

namespace lp::validate {
namespace {

void write(const std::filesystem::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

std::string error_of(const std::filesystem::path& p) {
  try {
    load_fidelity_prompts(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FidelityPrompts, BuiltinSetHasTenPromptsPerFamilyInOrder) {
  const auto prompts = builtin_fidelity_prompts();
  ASSERT_EQ(prompts.size(), 50u);
  std::set<std::string> ids;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& p = prompts[i];
    const auto& family = family_info(p.family);
    EXPECT_EQ(p.family, prompt_families()[i / 10].family) << p.id;  // grouped, TR125's order
    EXPECT_TRUE(p.id.starts_with(std::string(family.name) + "-")) << p.id;
    EXPECT_TRUE(ids.insert(p.id).second) << p.id;
    EXPECT_FALSE(p.prompt.empty());
    EXPECT_LE(p.prompt.size(), kMaxPromptBytes);
    if (p.family == PromptFamily::classification) {
      EXPECT_NE(p.prompt.find("Answer with one word."), std::string::npos) << p.id;
    }
  }
}

TEST(FidelityPrompts, FamilyBudgets) {
  ASSERT_EQ(prompt_families().size(), 5u);
  for (const auto& f : prompt_families()) {
    EXPECT_EQ(&family_info(f.family), &f);
    EXPECT_GT(f.max_new_tokens, 0);
    EXPECT_LE(f.max_new_tokens, f.family == PromptFamily::classification ? 8 : 96) << f.name;
  }
  EXPECT_EQ(family_info(PromptFamily::code_generation).name, "code_generation");
}

TEST(FidelityPrompts, BuiltinSetRoundTripsThroughAFile) {
  lp::testing::TempDir dir;
  std::string jsonl;
  for (const auto& p : builtin_fidelity_prompts()) {
    jsonl += nlohmann::json{{"id", p.id}, {"family", family_info(p.family).name}, {"prompt", p.prompt}}.dump() + "\r\n";
    jsonl += "\n  \n";  // blank lines are skipped
  }
  write(dir / "set.jsonl", jsonl);
  const auto loaded = load_fidelity_prompts(dir / "set.jsonl");
  const auto builtin = builtin_fidelity_prompts();
  ASSERT_EQ(loaded.size(), builtin.size());
  for (size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(loaded[i].id, builtin[i].id);
    EXPECT_EQ(loaded[i].family, builtin[i].family);
    EXPECT_EQ(loaded[i].prompt, builtin[i].prompt);
  }
}

TEST(FidelityPrompts, BadFilesGetOneSentenceNamingTheLine) {
  lp::testing::TempDir dir;
  const auto p = dir / "bad.jsonl";
  const std::string ok = R"({"id": "a", "family": "qa", "prompt": "Why?"})";
  const std::map<std::string, std::string> cases = {
      {ok + "\n{\"id\": \"b\", \"family\": \"qa\"}", "line 2 needs a string field \"prompt\""},
      {R"({"id": "a", "family": "poetry", "prompt": "x"})",
       "has the family \"poetry\"; the families are summarization, qa"},
      {R"({"id": "a", "family": "qa", "prompt": "x", "answer": "y"})", "has the field \"answer\""},
      {ok + "\n" + ok, "line 2 repeats the id \"a\""},
      {"{\"id\": \"a\",", "line 1 is not valid JSON"},
      {"[1, 2]", "line 1 is not a JSON object"},
      {R"({"id": 7, "family": "qa", "prompt": "x"})", "needs a string field \"id\""},
      {R"({"id": "", "family": "qa", "prompt": "x"})", "has an id of 0 bytes"},
      {R"({"id": "a", "family": "qa", "prompt": ""})", "has a prompt of 0 bytes"},
      {"\n\n", "holds no prompts"},
  };
  for (const auto& [text, expected] : cases) {
    write(p, text);
    const std::string error = error_of(p);
    EXPECT_NE(error.find(expected), std::string::npos) << "got: " << error;
    EXPECT_NE(error.find(p.string()), std::string::npos) << error;
  }
  write(p, R"({"id": "a", "family": "qa", "prompt": ")" + std::string(kMaxPromptBytes + 1, 'x') + "\"}");
  EXPECT_NE(error_of(p).find("prompts are 1 to"), std::string::npos);
  EXPECT_NE(error_of(dir / "missing.jsonl").find("cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace lp::validate
