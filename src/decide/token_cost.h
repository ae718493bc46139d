#pragma once
// What a million generated tokens cost on hardware rented by the hour (TR125 §12): the rate
// divided by the tokens that hour produces. Throughput is the only thing quantization changes
// here, so a faster level is a cheaper one, which is why the matrix shows savings next to tiers.
namespace lp::decide {

// hourly_rate_usd / (tokens_per_second * 3600) * 1e6. InputError when the rate is negative or
// not a number, or the throughput is not a positive number (a level that generated nothing has
// no cost per token).
double cost_per_million_tokens(double hourly_rate_usd, double tokens_per_second);

// Percent saved against the baseline's cost: 100 * (1 - cost / baseline_cost), positive when
// cheaper (TR125 prints "+35% vs Q8_0"). InputError when the baseline cost is not positive or
// the cost is negative.
double savings_pct(double cost, double baseline_cost);

}  // namespace lp::decide
