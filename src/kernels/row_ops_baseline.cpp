// The engine's row loops (row_ops_body.h) built for the build's own baseline flags (x86-64's SSE2, or 64-bit ARM's Advanced SIMD).
#include "kernels/row_ops_body.h"

namespace lp {

const RowOps& row_ops_baseline() { return kRowOps; }

}  // namespace lp
