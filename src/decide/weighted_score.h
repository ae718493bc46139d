#pragma once
// The weighted deployment score of seed 000 ("Scoring Breakdown (Weights)"): quality 30,
// speed 25, memory 25, size 20 points, each earned by a simple linear rule, so a reader can
// redo the sum by hand. Every component comes back with its working, because a single number
// hides which trade-off won.
//
//   quality = min(weight, accuracy / reference_accuracy * weight)          (MMLU / 70 x 30)
//   speed   = ttft part + decode part, each worth half the speed weight:
//             ttft   = max(0, (ttft_budget - ttft) / ttft_budget * half)   ((200 - TTFT) / 200 x 12.5)
//             decode = min(half, tok_s / reference_tok_s * half)           (tok/s / 40 x 12.5)
//   memory  = min(weight, device points + headroom_pct / headroom_full_pct * headroom_bonus)
//             device points: 4 GB 25, 6 GB 20, 8 GB 15                     (headroom / 50 x 5)
//   size    = max(0, (size_budget - size_gb) / size_budget * weight)       ((2.0 - GB) / 2.0 x 20)
//
// Caps: the seed caps memory at its weight ("30 (capped at 25)") and states no cap for the
// others. We cap quality and the decode half too, at their share: without it Qwen 2.5 0.5B at
// the seed's 40-45 tok/s would earn 13.3 of a 12.5 share and a score could pass 100. No
// number the seed works out reaches either cap, so its totals are unchanged.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace lp::decide {

// Points a model earns for the smallest device class it runs on.
struct DevicePoints {
  double min_device_gb = 0;
  double points = 0;
};

struct ScoreWeights {
  double quality = 30, speed = 25, memory = 25, size = 20;
  double reference_accuracy = 70;  // accuracy (same units as the input) that earns full quality
  double ttft_budget_ms = 200;     // a first token this late or later earns no TTFT points
  double reference_tok_s = 40;     // decode speed that earns the full decode half
  double headroom_full_pct = 50;   // memory headroom that earns the whole bonus
  double headroom_bonus = 5;
  double size_budget_gb = 2.0;  // a file this large or larger earns no size points
  // Ascending by device size. A model whose smallest device is D earns the points of the first
  // row with min_device_gb >= D; beyond the last row it earns none (it needs a bigger device
  // than any class the score knows).
  std::vector<DevicePoints> device_points = {{4, 25}, {6, 20}, {8, 15}};
};

// Reads overrides from a JSON object onto `base`: any of quality, speed, memory, size,
// reference_accuracy, ttft_budget_ms, reference_tok_s, headroom_full_pct, headroom_bonus,
// size_budget_gb (numbers) and device_points ([{"min_device_gb": 4, "points": 25}, ...]).
// InputError for an unknown key (a typo would otherwise be silently ignored), a non-number, a
// negative weight or a reference that is not positive.
ScoreWeights score_weights_from_json(const nlohmann::json& overrides, const ScoreWeights& base = {});

struct ScoreInputs {
  double accuracy = 0;  // e.g. MMLU in points (49.3), same units as reference_accuracy
  double ttft_ms = 0;
  double decode_tok_s = 0;
  double min_device_gb = 0;  // the smallest device class it is supported on
  double headroom_pct = 0;   // memory headroom on that device
  double size_gb = 0;        // download size
};

struct ScoreComponent {
  double points = 0;    // after the cap
  double uncapped = 0;  // what the formula gave
  double weight = 0;    // the most it can earn
  bool capped() const { return uncapped > points; }
  std::string working;  // e.g. "(49.3 / 70) x 30 = 21.1"
};

struct WeightedScore {
  ScoreComponent quality, speed, memory, size;
  double speed_ttft = 0, speed_decode = 0;        // the two speed halves
  double memory_device = 0, memory_headroom = 0;  // device points and headroom bonus
  double total = 0;                               // sum of the capped components, out of the weights' sum
  std::string summary;                            // "21.1 + 16.1 + 25.0 + 11.9 = 74.1"
};

// InputError when an input is negative or not a number.
WeightedScore weighted_score(const ScoreInputs& in, const ScoreWeights& weights = {});

}  // namespace lp::decide
