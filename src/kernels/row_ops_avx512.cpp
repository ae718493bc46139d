// The engine's row loops (row_ops_body.h) built for AVX-512 F/BW/VL/DQ with FMA (per-file flags in src/CMakeLists.txt).
#include "kernels/row_ops_body.h"

namespace lp {

const RowOps& row_ops_avx512() { return kRowOps; }

}  // namespace lp
