// Several sequences advanced in one forward pass (the server's continuous batching) give the
// logits each sequence gets alone: the rows share matrix products but not caches or positions.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/inference_session.h"

namespace lp {
namespace {

std::vector<float> alone(const LoadedModel& model, const SessionOptions& base, const std::vector<int32_t>& prompt,
                         const std::vector<int32_t>& then) {
  SessionOptions o = base;
  o.sequences = 1;
  InferenceSession s(model, o);
  std::vector<float> logits(static_cast<size_t>(s.vocab_size()));
  s.eval(prompt, logits, false);
  for (int32_t t : then) s.eval(std::span(&t, 1), logits, false);
  return logits;
}

void expect_close(const std::vector<float>& a, const float* b, size_t n, const std::string& what) {
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  EXPECT_LT(worst, 2e-3) << what;
}

class SequencesTest : public testing::TestWithParam<std::string> {};

TEST_P(SequencesTest, BatchedRunsEqualEachSequenceAlone) {
  const auto model = LoadedModel::open(std::string(LP_FIXTURES_DIR) + "/tiny_models/" + GetParam(), 256);
  SessionOptions o;
  o.ctx_size = 64;
  o.batch_size = 32;
  o.threads = 2;
  o.sequences = 3;
  o.activations = ActivationPrecision::float32;  // exact arithmetic: rows batched differently must agree closely
  InferenceSession batched(*model, o);
  const auto vocab = static_cast<size_t>(batched.vocab_size());
  const std::vector<std::vector<int32_t>> prompts = {{1, 5, 9, 14, 3}, {2, 7}, {11, 4, 6, 8, 10, 12, 13}};
  std::vector<float> logits(3 * vocab);

  // Sequences 0 and 2 prefill together; sequence 1 joins in the next pass, as a server's slots do.
  std::vector<int32_t> tokens = prompts[0];
  tokens.insert(tokens.end(), prompts[2].begin(), prompts[2].end());
  const SequenceRun first[] = {{0, 5}, {2, 7}};
  batched.eval_sequences(first, tokens, logits);
  expect_close(alone(*model, o, prompts[0], {}), logits.data(), vocab, "sequence 0 after its prompt");
  expect_close(alone(*model, o, prompts[2], {}), logits.data() + vocab, vocab, "sequence 2 after its prompt");

  // One pass: sequence 1's prompt beside one decoded token of each other sequence.
  const std::vector<int32_t> step = {20, 2, 7, 21};
  const SequenceRun second[] = {{0, 1}, {1, 2}, {2, 1}};
  batched.eval_sequences(second, step, logits);
  expect_close(alone(*model, o, prompts[0], {20}), logits.data(), vocab, "sequence 0 decoding");
  expect_close(alone(*model, o, prompts[1], {}), logits.data() + vocab, vocab, "sequence 1 joining");
  expect_close(alone(*model, o, prompts[2], {21}), logits.data() + 2 * vocab, vocab, "sequence 2 decoding");
  EXPECT_EQ(batched.n_past(0), 6);
  EXPECT_EQ(batched.n_past(1), 2);
  EXPECT_EQ(batched.n_past(2), 8);

  // A rewound sequence starts over without touching the others.
  batched.rewind(1, 0);
  const std::vector<int32_t> again = {22, 11, 4};
  const SequenceRun third[] = {{0, 1}, {1, 2}};
  batched.eval_sequences(third, again, logits);
  expect_close(alone(*model, o, prompts[0], {20, 22}), logits.data(), vocab, "sequence 0 after a neighbour's rewind");
  expect_close(alone(*model, o, {11, 4}, {}), logits.data() + vocab, vocab, "sequence 1 reused");
}

INSTANTIATE_TEST_SUITE_P(TinyModels, SequencesTest, testing::Values("llama", "gemma3", "qwen3_moe", "gpt_oss"));

TEST(Sequences, BadRunsAreRefused) {
  const auto model = LoadedModel::open(std::string(LP_FIXTURES_DIR) + "/tiny_models/llama", 256);
  SessionOptions o;
  o.ctx_size = 8;
  o.batch_size = 8;
  o.sequences = 2;
  InferenceSession s(*model, o);
  std::vector<float> logits(2 * static_cast<size_t>(s.vocab_size()));
  const std::vector<int32_t> two = {1, 2};
  const SequenceRun twice[] = {{0, 1}, {0, 1}};
  EXPECT_THROW(s.eval_sequences(twice, two, logits), std::exception);
  const SequenceRun outside[] = {{2, 2}};
  EXPECT_THROW(s.eval_sequences(outside, two, logits), std::exception);
  const std::vector<int32_t> nine(9, 1);
  const SequenceRun too_long[] = {{1, 9}};
  EXPECT_THROW(s.eval_sequences(too_long, nine, logits), std::exception);
}

}  // namespace
}  // namespace lp
