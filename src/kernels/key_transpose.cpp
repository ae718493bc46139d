#include "kernels/key_transpose.h"

#include "core/float_convert.h"
#include "kernels/kernel_table.h"

namespace lp {

namespace key_transpose_scalar {

void transpose_keys_f32(const float* keys, int64_t stride, int64_t n, int64_t width, float* keys_t) {
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t d = 0; d < width; ++d) keys_t[d * kKeyTile + j] = keys[j * stride + d];
  }
}

void transpose_keys_f16(const uint16_t* keys, int64_t stride, int64_t n, int64_t width, float* keys_t) {
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t d = 0; d < width; ++d) keys_t[d * kKeyTile + j] = f16_to_f32(keys[j * stride + d]);
  }
}

}  // namespace key_transpose_scalar

// Chosen per call from the active instruction set, so LP_KERNELS=scalar also forces these.
void transpose_keys_f32(const float* keys, int64_t stride, int64_t n, int64_t width, float* keys_t) {
#if defined(LP_X86_KERNELS)
  if (active_kernel_isa() >= KernelIsa::Avx2) return key_transpose_avx2::transpose_keys_f32(keys, stride, n, width, keys_t);
#endif
  key_transpose_scalar::transpose_keys_f32(keys, stride, n, width, keys_t);
}

void transpose_keys_f16(const uint16_t* keys, int64_t stride, int64_t n, int64_t width, float* keys_t) {
#if defined(LP_X86_KERNELS)
  if (active_kernel_isa() >= KernelIsa::Avx2) return key_transpose_avx2::transpose_keys_f16(keys, stride, n, width, keys_t);
#endif
  key_transpose_scalar::transpose_keys_f16(keys, stride, n, width, keys_t);
}

}  // namespace lp
