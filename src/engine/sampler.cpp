#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace lp {

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Sampler::Sampler(const SamplingSettings& settings) : s_(settings), rng_(settings.seed) {}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  candidates_.clear();
  for (size_t i = 0; i < logits.size(); ++i) candidates_.emplace_back(logits[i], static_cast<int32_t>(i));

  if (s_.repeat_penalty != 1.0 || s_.presence_penalty != 0.0) {
    const size_t n = std::min(history.size(), static_cast<size_t>(std::max<int64_t>(s_.repeat_last_n, 0)));
    // Each distinct recent token is penalized once, however often it occurred.
    seen_.assign(logits.size(), 0);
    for (auto it = history.end() - static_cast<std::ptrdiff_t>(n); it != history.end(); ++it) {
      const int32_t id = *it;
      if (id < 0 || static_cast<size_t>(id) >= candidates_.size() || seen_[static_cast<size_t>(id)]) continue;
      seen_[static_cast<size_t>(id)] = 1;
      float& l = candidates_[static_cast<size_t>(id)].first;
      l = l > 0 ? static_cast<float>(l / s_.repeat_penalty) : static_cast<float>(l * s_.repeat_penalty);
      l -= static_cast<float>(s_.presence_penalty);
    }
  }
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  if (s_.temperature <= 0.0) return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->second;

  size_t keep = candidates_.size();
  if (s_.top_k > 0) keep = std::min(keep, static_cast<size_t>(s_.top_k));
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep), candidates_.end(), by_logit);
  candidates_.resize(keep);

  // Probabilities at temperature 1 decide top-p and min-p, as llama.cpp's chain does.
  std::vector<double>& p = probs_;
  p.resize(keep);
  const double max = candidates_.front().first;
  double sum = 0.0;
  for (size_t i = 0; i < keep; ++i) sum += p[i] = std::exp(candidates_[i].first - max);
  if (s_.top_p < 1.0) {
    double cumulative = 0.0;
    size_t i = 0;
    while (i < keep && cumulative < s_.top_p) cumulative += p[i++] / sum;
    keep = std::max<size_t>(i, 1);
  }
  if (s_.min_p > 0.0) {
    size_t i = 1;
    while (i < keep && p[i] >= s_.min_p * p[0]) ++i;
    keep = i;
  }
  std::vector<double>& weights = weights_;
  weights.resize(keep);
  for (size_t i = 0; i < keep; ++i) weights[i] = std::exp((candidates_[i].first - max) / s_.temperature);
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) total += weights[i];
  double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    if ((u -= weights[i]) < 0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace lp
