#include "validate/fidelity_prompts.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <system_error>

#include "core/error.h"
#include "core/text_file.h"
#include "formats/json_guard.h"

namespace lp::validate {
namespace {

constexpr std::array kFamilies = {
    PromptFamilyInfo{PromptFamily::summarization, "summarization", 96},
    PromptFamilyInfo{PromptFamily::qa, "qa", 48},
    PromptFamilyInfo{PromptFamily::code_generation, "code_generation", 96},
    PromptFamilyInfo{PromptFamily::creative_writing, "creative_writing", 96},
    PromptFamilyInfo{PromptFamily::classification, "classification", 8},
};

// Every text below was written for this project. Summaries are asked for in one sentence and
// answers kept short so that the reference's output fits the generation budget and the
// metrics compare content rather than where a long answer was cut off.
const std::vector<FidelityPrompt>& builtin_table() {
  static const std::vector<FidelityPrompt> table = {
      // --- summarization: a paragraph to condense into one sentence -----------------------
      {"summarization-01", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "The town library extended its opening hours this spring after a survey showed that many "
       "residents could only visit in the evening. The change was paid for by moving two staff "
       "positions from the morning shift, when the building was often nearly empty. Early numbers "
       "show evening visits have doubled, and the library plans to review the schedule again in "
       "the autumn."},
      {"summarization-02", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "Honeybees communicate the location of food through a movement known as the waggle dance. "
       "The angle of the dance relative to vertical tells other bees the direction of the food "
       "relative to the sun, and the length of the waggle tells them how far away it is. Bees that "
       "watch the dance can then fly almost directly to flowers they have never visited."},
      {"summarization-03", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "A small bakery switched from paper order slips to a tablet app last year. The owner says "
       "mistakes in custom cake orders fell sharply because customers now confirm every detail "
       "on screen before paying. The staff needed two weeks to get used to the new system, and "
       "the bakery kept a paper backup for days when the internet connection failed."},
      {"summarization-04", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "Regular stretching before exercise was long recommended to prevent injuries, but several "
       "studies have found little evidence that it does so. A short warm-up of light activity, "
       "such as easy jogging, appears to prepare muscles better than holding static stretches. "
       "Many coaches now save longer stretches for after training, when the goal is flexibility."},
      {"summarization-05", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "The city council approved a plan to plant three thousand trees along its busiest streets "
       "over the next five years. Supporters argue that the trees will lower summer temperatures "
       "and reduce flooding by absorbing rainwater. Some shop owners worry about falling leaves "
       "and blocked signs, so the plan includes a yearly pruning budget."},
      {"summarization-06", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "Compound interest means that interest is earned not only on the money originally saved "
       "but also on the interest already added. Over short periods the difference from simple "
       "interest is small, but over decades it becomes large. This is why financial advisers "
       "often encourage people to start saving early, even if the amounts are modest."},
      {"summarization-07", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "A team of volunteers cleaned a stretch of river bank over three weekends and removed more "
       "than two tonnes of rubbish, most of it plastic bottles and bags. They sorted what they "
       "collected so that glass and metal could be recycled. The group now hopes to install nets "
       "at two storm drains that carry much of the litter into the river."},
      {"summarization-08", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "Sleep researchers recommend keeping a regular schedule, going to bed and waking at about "
       "the same time every day, including weekends. Bright screens late in the evening can delay "
       "the body's release of the hormone that makes people feel sleepy. A cool, dark and quiet "
       "bedroom also helps most people fall asleep faster."},
      {"summarization-09", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "The school replaced its old heating boiler with heat pumps during the summer holidays. "
       "The project cost more than a new boiler would have, but the school expects lower energy "
       "bills to cover the difference within about eight years. Teachers also report that the "
       "classrooms now stay at a more even temperature through the day."},
      {"summarization-10", PromptFamily::summarization,
       "Summarize the following paragraph in one sentence.\n\n"
       "Octopuses can change the colour and texture of their skin in a fraction of a second. "
       "They do this with thousands of small pigment sacs that expand or shrink under the control "
       "of their nerves. The ability helps them hide from predators, sneak up on prey, and "
       "possibly signal to other octopuses."},

      // --- qa: short factual questions ------------------------------------------------------
      {"qa-01", PromptFamily::qa, "Answer in one short sentence: What is the capital city of Japan?"},
      {"qa-02", PromptFamily::qa,
       "Answer in one short sentence: At what temperature in degrees Celsius does water boil at "
       "sea level?"},
      {"qa-03", PromptFamily::qa, "Answer in one short sentence: How many days are there in a leap year?"},
      {"qa-04", PromptFamily::qa, "Answer in one short sentence: Which planet is closest to the Sun?"},
      {"qa-05", PromptFamily::qa,
       "Answer in one short sentence: What gas do plants take in from the air to make their food?"},
      {"qa-06", PromptFamily::qa, "Answer in one short sentence: What is the largest ocean on Earth?"},
      {"qa-07", PromptFamily::qa, "Answer in one short sentence: How many sides does a hexagon have?"},
      {"qa-08", PromptFamily::qa,
       "Answer in one short sentence: What is the chemical symbol for the element gold?"},
      {"qa-09", PromptFamily::qa, "Answer in one short sentence: What is the square root of 81?"},
      {"qa-10", PromptFamily::qa,
       "Answer in one short sentence: Which organ in the human body pumps blood around it?"},

      // --- code_generation: small functions -------------------------------------------------
      {"code_generation-01", PromptFamily::code_generation,
       "Write a Python function is_palindrome(s) that returns True when the string s reads the "
       "same forwards and backwards, and False otherwise. Reply with the code only."},
      {"code_generation-02", PromptFamily::code_generation,
       "Write a Python function factorial(n) that returns the factorial of a non-negative "
       "integer n without using recursion. Reply with the code only."},
      {"code_generation-03", PromptFamily::code_generation,
       "Write a Python function count_vowels(text) that returns how many of the letters a, e, i, "
       "o and u (either case) the string text contains. Reply with the code only."},
      {"code_generation-04", PromptFamily::code_generation,
       "Write a Python function fizzbuzz(n) that returns a list of strings for the numbers 1 to n: "
       "\"Fizz\" for multiples of 3, \"Buzz\" for multiples of 5, \"FizzBuzz\" for multiples of "
       "both, and the number itself otherwise. Reply with the code only."},
      {"code_generation-05", PromptFamily::code_generation,
       "Write a C function int max_of(const int *values, int count) that returns the largest of "
       "count integers (count is at least 1). Reply with the code only."},
      {"code_generation-06", PromptFamily::code_generation,
       "Write a Python function celsius_to_fahrenheit(c) that converts a temperature in degrees "
       "Celsius to degrees Fahrenheit. Reply with the code only."},
      {"code_generation-07", PromptFamily::code_generation,
       "Write a JavaScript function reverseWords(sentence) that returns the words of the sentence "
       "in reverse order, separated by single spaces. Reply with the code only."},
      {"code_generation-08", PromptFamily::code_generation,
       "Write a Python function unique_sorted(items) that returns the distinct elements of the "
       "list items in ascending order. Reply with the code only."},
      {"code_generation-09", PromptFamily::code_generation,
       "Write a Python function is_prime(n) that returns True when the integer n is a prime "
       "number and False otherwise. Reply with the code only."},
      {"code_generation-10", PromptFamily::code_generation,
       "Write a SQL query that returns the name and salary of every row in a table named "
       "employees whose salary is greater than 50000, highest salary first. Reply with the query "
       "only."},

      // --- creative_writing: short poems and story openings ---------------------------------
      {"creative_writing-01", PromptFamily::creative_writing,
       "Write a four-line poem about a lighthouse on a winter night."},
      {"creative_writing-02", PromptFamily::creative_writing,
       "Write the first two sentences of a story about a robot that learns to grow tomatoes."},
      {"creative_writing-03", PromptFamily::creative_writing, "Write a haiku about the first rain of autumn."},
      {"creative_writing-04", PromptFamily::creative_writing,
       "Write the opening paragraph of a mystery story set on an overnight train, in no more than "
       "three sentences."},
      {"creative_writing-05", PromptFamily::creative_writing,
       "Write a short rhyming poem of four lines about a cat who refuses to get out of bed."},
      {"creative_writing-06", PromptFamily::creative_writing,
       "Write two sentences describing a busy market at dawn, using at least three of the five "
       "senses."},
      {"creative_writing-07", PromptFamily::creative_writing,
       "Write the first two sentences of a fairy tale about a bridge that can talk."},
      {"creative_writing-08", PromptFamily::creative_writing,
       "Write a four-line poem about a child flying a kite on a windy hill."},
      {"creative_writing-09", PromptFamily::creative_writing,
       "Write the opening two sentences of a science fiction story in which the Moon has "
       "suddenly disappeared."},
      {"creative_writing-10", PromptFamily::creative_writing,
       "Write a short letter of three sentences from an old oak tree to the birds that nest in it."},

      // --- classification: one-word labels from a given set ---------------------------------
      {"classification-01", PromptFamily::classification,
       "Classify the sentiment of this review as positive, negative or neutral. Answer with one "
       "word.\n\nReview: The battery lasts all day and the screen is bright and sharp."},
      {"classification-02", PromptFamily::classification,
       "Classify the sentiment of this review as positive, negative or neutral. Answer with one "
       "word.\n\nReview: The soup was cold when it arrived and the waiter ignored us for twenty minutes."},
      {"classification-03", PromptFamily::classification,
       "Classify the sentiment of this review as positive, negative or neutral. Answer with one "
       "word.\n\nReview: The package arrived on Tuesday and contained the two items I ordered."},
      {"classification-04", PromptFamily::classification,
       "Classify the sentiment of this review as positive, negative or neutral. Answer with one "
       "word.\n\nReview: I have read this book three times and I still find something new to love in it."},
      {"classification-05", PromptFamily::classification,
       "Classify the sentiment of this review as positive, negative or neutral. Answer with one "
       "word.\n\nReview: The chair broke after a week and the company never answered my emails."},
      {"classification-06", PromptFamily::classification,
       "Classify the topic of this headline as sports, politics, science or business. Answer with "
       "one word.\n\nHeadline: Local team wins the regional football final after a penalty shootout"},
      {"classification-07", PromptFamily::classification,
       "Classify the topic of this headline as sports, politics, science or business. Answer with "
       "one word.\n\nHeadline: Astronomers detect water vapour in the atmosphere of a distant planet"},
      {"classification-08", PromptFamily::classification,
       "Classify the topic of this headline as sports, politics, science or business. Answer with "
       "one word.\n\nHeadline: Parliament votes to lower the voting age to sixteen"},
      {"classification-09", PromptFamily::classification,
       "Classify the topic of this headline as sports, politics, science or business. Answer with "
       "one word.\n\nHeadline: Coffee chain reports record profits and plans two hundred new stores"},
      {"classification-10", PromptFamily::classification,
       "Classify the topic of this headline as sports, politics, science or business. Answer with "
       "one word.\n\nHeadline: New study finds that sleep helps the brain clear out waste proteins"},
  };
  return table;
}

const PromptFamilyInfo* family_by_name(std::string_view name) {
  const auto it = std::ranges::find(kFamilies, name, &PromptFamilyInfo::name);
  return it == kFamilies.end() ? nullptr : &*it;
}

std::string family_names() {
  std::string names;
  for (const auto& f : kFamilies) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

// One JSONL line to a prompt; `where` is "<file> line <n>" for the error sentences.
FidelityPrompt parse_prompt_line(std::string_view line, const std::string& where) {
  const nlohmann::json row = parse_untrusted_json(line, where, /*max_depth=*/2);
  if (!row.is_object()) fail("{} is not a JSON object", where);
  for (const auto& [key, value] : row.items()) {
    if (key != "id" && key != "family" && key != "prompt") {
      fail("{} has the field \"{}\"; a prompt has only \"id\", \"family\" and \"prompt\"", where, key);
    }
  }
  const auto text_field = [&](const char* key) {
    if (!row.contains(key) || !row[key].is_string()) fail("{} needs a string field \"{}\"", where, key);
    return row[key].get<std::string>();
  };
  FidelityPrompt prompt{text_field("id"), PromptFamily::summarization, text_field("prompt")};
  const std::string family = text_field("family");
  const PromptFamilyInfo* info = family_by_name(family);
  if (info == nullptr) fail("{} has the family \"{}\"; the families are {}", where, family, family_names());
  prompt.family = info->family;
  if (prompt.id.empty() || prompt.id.size() > kMaxPromptIdBytes) {
    fail("{} has an id of {} bytes; ids are 1 to {} bytes", where, prompt.id.size(), kMaxPromptIdBytes);
  }
  if (prompt.prompt.empty() || prompt.prompt.size() > kMaxPromptBytes) {
    fail("{} has a prompt of {} bytes; prompts are 1 to {} bytes", where, prompt.prompt.size(), kMaxPromptBytes);
  }
  return prompt;
}

}  // namespace

std::span<const PromptFamilyInfo> prompt_families() { return kFamilies; }

const PromptFamilyInfo& family_info(PromptFamily family) {
  return *std::ranges::find(kFamilies, family, &PromptFamilyInfo::family);
}

std::span<const FidelityPrompt> builtin_fidelity_prompts() { return builtin_table(); }

std::vector<FidelityPrompt> load_fidelity_prompts(const std::filesystem::path& jsonl_path) {
  const std::string path = jsonl_path.string();
  std::error_code size_error;
  const auto size = std::filesystem::file_size(jsonl_path, size_error);
  // An unreadable path is left to read_text_file, which names the problem.
  if (!size_error && size > kMaxPromptFileBytes) {
    fail("{} is {} bytes; a prompt file may be at most {} bytes", path, size, kMaxPromptFileBytes);
  }
  const std::string text = read_text_file(jsonl_path);
  std::vector<FidelityPrompt> prompts;
  std::set<std::string, std::less<>> ids;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = fmt::format("{} line {}", path, line_number);
    if (prompts.size() == kMaxPromptsInFile) fail("{} has more than {} prompts", path, kMaxPromptsInFile);
    FidelityPrompt prompt = parse_prompt_line(line, where);
    if (!ids.insert(prompt.id).second) fail("{} repeats the id \"{}\"", where, prompt.id);
    prompts.push_back(std::move(prompt));
  }
  if (prompts.empty()) fail("{} holds no prompts", path);
  return prompts;
}

}  // namespace lp::validate
