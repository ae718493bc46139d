#include "decide/weighted_score.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.h"

namespace lp::decide {
namespace {

void check_input(double value, std::string_view what) {
  if (!(value >= 0) || !std::isfinite(value))
    lp::fail("the weighted score needs a {} that is a finite number, zero or more, and {} is not", what, value);
}

ScoreComponent capped(double uncapped, double weight, std::string working) {
  ScoreComponent c;
  c.uncapped = uncapped;
  c.weight = weight;
  c.points = std::min(uncapped, weight);
  c.working = c.capped() ? fmt::format("{} (capped at {:g})", working, weight) : std::move(working);
  return c;
}

double device_points(const ScoreWeights& w, double min_device_gb) {
  for (const DevicePoints& row : w.device_points)
    if (row.min_device_gb >= min_device_gb) return row.points;
  return 0.0;
}

double number(const nlohmann::json& j, std::string_view key) {
  if (!j.is_number()) lp::fail("the score weight '{}' must be a number, not {}", key, j.dump());
  return j.get<double>();
}

}  // namespace

ScoreWeights score_weights_from_json(const nlohmann::json& overrides, const ScoreWeights& base) {
  if (!overrides.is_object()) lp::fail("score weights must be a JSON object, not {}", overrides.dump());
  ScoreWeights w = base;
  // Weights may be 0 (switch a component off); references divide, so they must be positive.
  struct Field {
    std::string_view key;
    double ScoreWeights::*member;
    bool positive;
  };
  static constexpr Field kFields[] = {
      {"quality", &ScoreWeights::quality, false},
      {"speed", &ScoreWeights::speed, false},
      {"memory", &ScoreWeights::memory, false},
      {"size", &ScoreWeights::size, false},
      {"reference_accuracy", &ScoreWeights::reference_accuracy, true},
      {"ttft_budget_ms", &ScoreWeights::ttft_budget_ms, true},
      {"reference_tok_s", &ScoreWeights::reference_tok_s, true},
      {"headroom_full_pct", &ScoreWeights::headroom_full_pct, true},
      {"headroom_bonus", &ScoreWeights::headroom_bonus, false},
      {"size_budget_gb", &ScoreWeights::size_budget_gb, true},
  };
  for (const auto& item : overrides.items()) {
    // Named copies, not structured bindings: lambdas below capture the key (clang 14 cannot
    // capture a binding).
    const std::string key = item.key();
    const nlohmann::json& value = item.value();
    if (key == "device_points") {
      if (!value.is_array()) lp::fail("the score weight 'device_points' must be an array of {{min_device_gb, points}}");
      w.device_points.clear();
      for (const auto& row : value) {
        if (!row.is_object() || !row.contains("min_device_gb") || !row.contains("points") || row.size() != 2)
          lp::fail("each device_points entry must be {{\"min_device_gb\": N, \"points\": N}}, not {}", row.dump());
        const DevicePoints p{number(row["min_device_gb"], "min_device_gb"), number(row["points"], "points")};
        if (!(p.min_device_gb > 0) || !(p.points >= 0))
          lp::fail("device_points entry {} needs a positive device size and points of zero or more", row.dump());
        if (!w.device_points.empty() && p.min_device_gb <= w.device_points.back().min_device_gb)
          lp::fail("device_points must be in ascending device size, and {} GB follows {} GB", p.min_device_gb,
                   w.device_points.back().min_device_gb);
        w.device_points.push_back(p);
      }
      continue;
    }
    const auto* field =
        std::find_if(std::begin(kFields), std::end(kFields), [&](const Field& f) { return f.key == key; });
    if (field == std::end(kFields)) lp::fail("'{}' is not a score weight (see ScoreWeights for the names)", key);
    const double v = number(value, key);
    if (field->positive ? !(v > 0) : !(v >= 0))
      lp::fail("the score weight '{}' must be {}, and {} is not", key, field->positive ? "positive" : "zero or more",
               v);
    w.*(field->member) = v;
  }
  return w;
}

WeightedScore weighted_score(const ScoreInputs& in, const ScoreWeights& w) {
  check_input(in.accuracy, "accuracy");
  check_input(in.ttft_ms, "time to first token");
  check_input(in.decode_tok_s, "decode speed");
  check_input(in.min_device_gb, "minimum device size");
  check_input(in.headroom_pct, "memory headroom");
  check_input(in.size_gb, "download size");

  WeightedScore s;
  s.quality = capped(in.accuracy / w.reference_accuracy * w.quality, w.quality,
                     fmt::format("({:g} / {:g}) x {:g} = {:.1f}", in.accuracy, w.reference_accuracy, w.quality,
                                 in.accuracy / w.reference_accuracy * w.quality));

  const double half = w.speed / 2;
  s.speed_ttft = std::max(0.0, (w.ttft_budget_ms - in.ttft_ms) / w.ttft_budget_ms * half);
  const double decode_raw = in.decode_tok_s / w.reference_tok_s * half;
  s.speed_decode = std::min(decode_raw, half);
  s.speed.weight = w.speed;
  s.speed.uncapped = s.speed_ttft + decode_raw;
  s.speed.points = s.speed_ttft + s.speed_decode;
  s.speed.working = fmt::format(
      "max(0, ({:g} - {:g}) / {:g} x {:g}) + ({:g} / {:g}) x {:g} = {:.1f} + {:.1f}{} = {:.1f}", w.ttft_budget_ms,
      in.ttft_ms, w.ttft_budget_ms, half, in.decode_tok_s, w.reference_tok_s, half, s.speed_ttft, decode_raw,
      decode_raw > half ? fmt::format(" (capped at {:g})", half) : "", s.speed.points);

  s.memory_device = device_points(w, in.min_device_gb);
  s.memory_headroom = in.headroom_pct / w.headroom_full_pct * w.headroom_bonus;
  s.memory =
      capped(s.memory_device + s.memory_headroom, w.memory,
             fmt::format("{:g} ({:g} GB device) + ({:g} / {:g}) x {:g} = {:.1f}", s.memory_device, in.min_device_gb,
                         in.headroom_pct, w.headroom_full_pct, w.headroom_bonus, s.memory_device + s.memory_headroom));

  const double size_raw = std::max(0.0, (w.size_budget_gb - in.size_gb) / w.size_budget_gb * w.size);
  s.size = capped(size_raw, w.size,
                  fmt::format("max(0, ({:g} - {:g}) / {:g} x {:g}) = {:.1f}", w.size_budget_gb, in.size_gb,
                              w.size_budget_gb, w.size, size_raw));

  s.total = s.quality.points + s.speed.points + s.memory.points + s.size.points;
  s.summary = fmt::format("{:.1f} + {:.1f} + {:.1f} + {:.1f} = {:.1f}", s.quality.points, s.speed.points,
                          s.memory.points, s.size.points, s.total);
  return s;
}

}  // namespace lp::decide
