// The one list of weight types with a row-interleaved format.
#include "core/ggml_types.h"
#include "kernels/interleaved_q2_q3_k.h"
#include "kernels/interleaved_q4_0_q8_0.h"
#include "kernels/interleaved_q4_q5_k.h"
#include "kernels/interleaved_q6_k.h"

namespace lp {

const InterleavedFormat* interleaved_format(GgmlType weight) {
  switch (weight) {
    case GgmlType::Q4_0: return &kInterleavedQ4_0;
    case GgmlType::Q2_K: return &kInterleavedQ2_K;
    case GgmlType::Q3_K: return &kInterleavedQ3_K;
    case GgmlType::Q4_K: return &kInterleavedQ4_K;
    case GgmlType::Q5_K: return &kInterleavedQ5_K;
    case GgmlType::Q6_K: return &kInterleavedQ6_K;
    case GgmlType::Q8_0: return &kInterleavedQ8_0;
    default: return nullptr;
  }
}

}  // namespace lp
