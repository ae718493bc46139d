#include "decide/token_cost.h"

#include <cmath>

#include "core/error.h"

namespace lp::decide {

double cost_per_million_tokens(double hourly_rate_usd, double tokens_per_second) {
  // Written as !(x > 0) so NaN is refused along with zero and negatives.
  if (!(hourly_rate_usd >= 0) || !std::isfinite(hourly_rate_usd))
    lp::fail("the hourly rate must be a finite number of dollars, zero or more, and {} is not", hourly_rate_usd);
  if (!(tokens_per_second > 0) || !std::isfinite(tokens_per_second))
    lp::fail("the throughput must be a positive number of tokens per second to price a token, and {} is not",
             tokens_per_second);
  return hourly_rate_usd / (tokens_per_second * 3600.0) * 1e6;
}

double savings_pct(double cost, double baseline_cost) {
  if (!(baseline_cost > 0) || !std::isfinite(baseline_cost))
    lp::fail("savings need a positive baseline cost per token, and {} is not", baseline_cost);
  if (!(cost >= 0) || !std::isfinite(cost))
    lp::fail("a cost per token must be a finite number, zero or more, and {} is not", cost);
  return 100.0 * (1.0 - cost / baseline_cost);
}

}  // namespace lp::decide
