#include "kernels/row_ops.h"

namespace lp {

const RowOps& row_ops_for(KernelIsa isa) {
#if defined(LP_X86_KERNELS)
  if (isa == KernelIsa::Avx512) return row_ops_avx512();
  if (isa == KernelIsa::Avx2) return row_ops_avx2();
#else
  (void)isa;
#endif
  return row_ops_baseline();
}

}  // namespace lp
