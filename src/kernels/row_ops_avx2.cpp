// The engine's row loops (row_ops_body.h) built for AVX2 + FMA + F16C (per-file flags in src/CMakeLists.txt).
#include "kernels/row_ops_body.h"

namespace lp {

const RowOps& row_ops_avx2() { return kRowOps; }

}  // namespace lp
