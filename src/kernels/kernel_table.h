#pragma once
// The one table of compute kernels: for each weight type we can multiply, the activation
// type it pairs with, the activation quantizer, the scalar reference dot product and the
// tile kernel of each instruction set. matmul and the tests ask this table, nothing else.
#include <cstdint>

#include "core/ggml_types.h"
#include "kernels/activation_quant.h"
#include "kernels/dot_tile.h"
#include "kernels/interleaved_gemm.h"
#include "kernels/panel_gemm.h"

namespace lp {

// Instruction sets with kernels: the scalar reference, then two families in increasing order
// of preference within each (a build has one family's kernels: x86-64's or 64-bit ARM's).
enum class KernelIsa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3, NeonDotprod = 4 };
constexpr int kKernelIsaCount = 5;
const char* kernel_isa_name(KernelIsa isa);

struct WeightKernels {
  GgmlType weight;
  GgmlType activation;              // F32: float weights take the activations as they are
  QuantizeActivationsFn quantize;   // the scalar reference: float rows to activation blocks; nullptr for F32
  VecDotFn vec_dot;                 // the scalar reference dot product
  DotTileFn tiles[kKernelIsaCount]; // per KernelIsa; nullptr where that set has none
  QuantizeActivationsFn quantizers[kKernelIsaCount];  // per KernelIsa, same bytes as `quantize`
  PanelGemmFn panels[kKernelIsaCount];  // per KernelIsa; nullptr where that set has none (batches use the tiles)
  // The quantizers whose rows a panel, and an interleaved product's batches, read where they
  // are not the plain ones (nullptr: the plain quantizer's rows).
  QuantizeActivationsFn panel_quantizers[kKernelIsaCount];
  QuantizeActivationsFn interleaved_batch_quantizers[kKernelIsaCount];
  // Row-interleaved weights (interleaved_gemm.h): the format (nullptr for types without one)
  // and its products per KernelIsa (the scalar one is the format's reference).
  const InterleavedFormat* interleaved;
  InterleavedGemmFn interleaved_gemms[kKernelIsaCount];
};

// nullptr for a type with no kernels (IQ types, integer types, Q8_K...).
const WeightKernels* find_weight_kernels(GgmlType weight);

// Bytes of one activation row of `cols` values for these kernels.
uint64_t activation_row_bytes(const WeightKernels& kernels, int64_t cols);

// The best instruction set this CPU runs (and this build has), and the one matmul uses:
// the best, unless LP_KERNELS=scalar|avx2|avx512|neon|neon-dotprod in the environment or
// set_kernel_isa asked for a lower one. A request for a set this CPU does not run (above the
// best, or of the other family) gives the best.
KernelIsa best_kernel_isa();
KernelIsa active_kernel_isa();
void set_kernel_isa(KernelIsa isa);
// Whether this CPU runs `isa`: the scalar set, and the sets of the best one's family up to it.
bool kernel_isa_runs(KernelIsa isa);

// The tile kernel and activation quantizer for `isa`, falling back to lower sets (the
// scalar ones always exist; the quantizer is nullptr for float weights).
DotTileFn dot_tile_for(const WeightKernels& kernels, KernelIsa isa);
QuantizeActivationsFn quantizer_for(const WeightKernels& kernels, KernelIsa isa);

// Whether weights of this type are worth interleaving for `isa`: it has a format and a SIMD
// product for exactly that set (the scalar product is a reference, slower than the tiles).
bool interleaving_pays(const WeightKernels& kernels, KernelIsa isa);

// The interleaved product for `isa`, falling back to lower sets (the scalar one always exists
// for a type with a format).
InterleavedGemmFn interleaved_gemm_for(const WeightKernels& kernels, KernelIsa isa);

// The panel kernel of exactly `isa` (no fallback: a lower set's tiles beat no panel), or nullptr.
PanelGemmFn panel_for(const WeightKernels& kernels, KernelIsa isa);

// The quantizer whose rows panel_for(kernels, isa) reads, and the one whose rows
// interleaved_gemm_for(kernels, isa) reads for a batch of n_tokens: the plain quantizer's
// (quantizer_for) unless the kernel takes its activations otherwise (panel_gemm.h).
QuantizeActivationsFn panel_quantizer_for(const WeightKernels& kernels, KernelIsa isa);
QuantizeActivationsFn interleaved_quantizer_for(const WeightKernels& kernels, KernelIsa isa, int64_t n_tokens);

}  // namespace lp
