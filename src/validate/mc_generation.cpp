#include "validate/mc_generation.h"

namespace lp::validate {

std::string mc_generation_prompt(const McQuestion& q) {
  std::string p = q.question + "\n\n";
  for (size_t i = 0; i < q.options.size(); ++i) {
    p += std::string(1, static_cast<char>('A' + i)) + ". " + q.options[i] + "\n";
  }
  return p + "\nAnswer with the letter of the correct option.";
}

McGenerated generate_mc_answer(GreedyChat& chat, const McQuestion& q) {
  const GenerationResult r = chat.answer(mc_generation_prompt(q), kMcAnswerTokens);
  McGenerated g;
  g.text = r.text;
  g.tokens = static_cast<int64_t>(r.tokens.size());
  g.extracted = extract_answer_letter(r.text, q.options.size());
  g.raw_correct = raw_exact_match(r.text, q.answer);
  g.rescored_correct = g.extracted.option == q.answer;
  return g;
}

}  // namespace lp::validate
