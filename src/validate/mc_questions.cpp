#include "validate/mc_questions.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text_file.h"

namespace lp::validate {
namespace {

// Python's str.strip() for the ASCII whitespace MMLU questions carry (lm-eval strips the question).
std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// lm-eval's doc_to_text for MMLU.
std::string mmlu_text(const std::vector<std::string>& row) {
  return strip(row[0]) + "\nA. " + row[1] + "\nB. " + row[2] + "\nC. " + row[3] + "\nD. " + row[4] + "\nAnswer:";
}

size_t answer_index(const std::string& letter, const std::filesystem::path& path, size_t row) {
  if (letter.size() != 1 || letter[0] < 'A' || letter[0] > 'D') {
    fail("{}: row {} has answer '{}', not one of A, B, C, D", path.string(), row + 1, letter);
  }
  return static_cast<size_t>(letter[0] - 'A');
}

}  // namespace

std::vector<std::vector<std::string>> read_mmlu_csv(const std::filesystem::path& path) {
  const std::string data = read_text_file(path);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  auto end_row = [&] {
    row.push_back(std::move(field));
    field.clear();
    if (row.size() != 6) fail("{}: row {} has {} fields, MMLU rows have 6", path.string(), rows.size() + 1, row.size());
    rows.push_back(std::move(row));
    row.clear();
    field_started = false;
  };
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (quoted) {
      if (c == '"' && i + 1 < data.size() && data[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;  // commas and line breaks (CRLF included) inside quotes are text
      }
    } else if (c == '"' && field.empty()) {
      quoted = field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = true;
    } else if (c == '\n' || (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n')) {
      if (c == '\r') ++i;
      end_row();
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) fail("{}: a quoted field is not closed", path.string());
  if (field_started || !row.empty()) end_row();  // last row without a line end
  return rows;
}

std::vector<std::string> mmlu_subjects(const std::filesystem::path& mmlu_dir) {
  const auto test = mmlu_dir / "test";
  if (!std::filesystem::is_directory(test)) fail("MMLU data folder {} has no test/ folder", mmlu_dir.string());
  std::vector<std::string> out;
  const std::string suffix = "_test.csv";
  for (const auto& e : std::filesystem::directory_iterator(test)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) out.push_back(name.substr(0, name.size() - suffix.size()));
  }
  if (out.empty()) fail("{} holds no <subject>_test.csv files", test.string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<McQuestion> load_mmlu_subject(const std::filesystem::path& mmlu_dir, const std::string& subject,
                                          int shots) {
  if (shots < 0 || shots > 5) fail("--shots must be 0..5 (MMLU's dev split has 5 questions per subject)");
  std::string spaced = subject;
  std::replace(spaced.begin(), spaced.end(), '_', ' ');
  std::string prefix = "The following are multiple choice questions (with answers) about " + spaced + ".\n\n";
  if (shots > 0) {
    const auto dev_path = mmlu_dir / "dev" / (subject + "_dev.csv");
    const auto dev = read_mmlu_csv(dev_path);
    if (dev.size() < static_cast<size_t>(shots)) fail("{} has {} rows, fewer than --shots {}", dev_path.string(), dev.size(), shots);
    // lm-eval's first_n sampler: the first `shots` dev rows, in file order.
    for (int i = 0; i < shots; ++i) {
      const size_t a = answer_index(dev[i][5], dev_path, i);
      prefix += mmlu_text(dev[i]) + " " + std::string(1, static_cast<char>('A' + a)) + "\n\n";
    }
  }
  const auto test_path = mmlu_dir / "test" / (subject + "_test.csv");
  const auto rows = read_mmlu_csv(test_path);
  std::vector<McQuestion> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    McQuestion q;
    q.task = "mmlu";
    q.subject = subject;
    q.id = subject + "/" + std::to_string(i);
    q.context = prefix + mmlu_text(rows[i]);
    q.continuations = {" A", " B", " C", " D"};
    q.choice_texts = {"A", "B", "C", "D"};
    q.answer = answer_index(rows[i][5], test_path, i);
    q.question = strip(rows[i][0]);
    q.options.assign(rows[i].begin() + 1, rows[i].begin() + 5);
    out.push_back(std::move(q));
  }
  return out;
}

std::vector<McQuestion> load_arc(const std::filesystem::path& jsonl, const std::string& task) {
  const std::string data = read_text_file(jsonl);
  std::vector<McQuestion> out;
  size_t line_no = 0, pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::string line = data.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      McQuestion q;
      q.task = task;
      q.id = j.at("id").get<std::string>();
      q.question = j.at("question").at("stem").get<std::string>();
      q.context = "Question: " + q.question + "\nAnswer:";
      // Labels are A-E or, for the Regents questions, 1-5: the answer is whichever label
      // answerKey names.
      const std::string key = j.at("answerKey").get<std::string>();
      bool found = false;
      for (const auto& c : j.at("question").at("choices")) {
        const std::string text = c.at("text").get<std::string>();
        if (c.at("label").get<std::string>() == key) {
          q.answer = q.choice_texts.size();
          found = true;
        }
        q.choice_texts.push_back(text);
        q.continuations.push_back(" " + text);
      }
      if (!found || q.choice_texts.size() < 2) fail("answerKey '{}' is not one of its choices' labels", key);
      if (q.choice_texts.size() > 26) fail("{} choices: more than the letters A-Z can label", q.choice_texts.size());
      q.options = q.choice_texts;
      out.push_back(std::move(q));
    } catch (const nlohmann::json::exception& e) {
      fail("{}: line {} is not an ARC question: {}", jsonl.string(), line_no, e.what());
    } catch (const InputError& e) {
      fail("{}: line {}: {}", jsonl.string(), line_no, e.what());
    }
  }
  if (out.empty()) fail("{} holds no questions", jsonl.string());
  return out;
}

}  // namespace lp::validate
