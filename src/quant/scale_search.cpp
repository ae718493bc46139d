#include "quant/scale_search.h"

#include <cmath>

namespace lp {

void block_weights(const float* importance, int n, float* w) {
  bool any = false;
  if (importance != nullptr) {
    for (int i = 0; i < n; ++i) any |= importance[i] > 0.0f;
  }
  for (int i = 0; i < n; ++i) w[i] = any ? std::fmax(importance[i], 0.0f) : 1.0f;
}

}  // namespace lp
