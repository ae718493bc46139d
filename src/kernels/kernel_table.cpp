#include "kernels/kernel_table.h"

#ifdef LP_X86_KERNELS
#include <cpuid.h>
#endif
#ifdef LP_ARM_KERNELS
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <string_view>

#include "kernels/simd_kernels.h"
#include "kernels/vec_dot_scalar.h"

namespace lp {
namespace {

template <VecDotFn dot>
constexpr WeightKernels row(GgmlType weight, GgmlType activation, QuantizeActivationsFn quantize) {
  const InterleavedFormat* format = interleaved_format(weight);
  return WeightKernels{weight,
                       activation,
                       quantize,
                       dot,
                       {tile_of_vec_dots<dot>},
                       {quantize},
                       {},
                       {},
                       {},
                       format,
                       {format ? format->scalar : nullptr}};
}

// The scalar columns; the SIMD columns are filled in from the SIMD units' own lists.
constexpr size_t kWeightTypes = 15;
std::array<WeightKernels, kWeightTypes> scalar_table() {
  using T = GgmlType;
  return {
      row<vec_dot_f32_f32>(T::F32, T::F32, nullptr),
      row<vec_dot_f16_f32>(T::F16, T::F32, nullptr),
      row<vec_dot_bf16_f32>(T::BF16, T::F32, nullptr),
      row<vec_dot_q4_0_q8_0>(T::Q4_0, T::Q8_0, quantize_activations_q8_0),
      row<vec_dot_q4_1_q8_1>(T::Q4_1, T::Q8_1, quantize_activations_q8_1),
      row<vec_dot_q5_0_q8_0>(T::Q5_0, T::Q8_0, quantize_activations_q8_0),
      row<vec_dot_q5_1_q8_1>(T::Q5_1, T::Q8_1, quantize_activations_q8_1),
      row<vec_dot_q8_0_q8_0>(T::Q8_0, T::Q8_0, quantize_activations_q8_0),
      row<vec_dot_mxfp4_q8_0>(T::MXFP4, T::Q8_0, quantize_activations_q8_0),
      row<vec_dot_q2_k_q8_k>(T::Q2_K, T::Q8_K, quantize_activations_q8_k),
      row<vec_dot_q3_k_q8_k>(T::Q3_K, T::Q8_K, quantize_activations_q8_k),
      row<vec_dot_q4_k_q8_k>(T::Q4_K, T::Q8_K, quantize_activations_q8_k),
      row<vec_dot_q5_k_q8_k>(T::Q5_K, T::Q8_K, quantize_activations_q8_k),
      row<vec_dot_q6_k_q8_k>(T::Q6_K, T::Q8_K, quantize_activations_q8_k),
      row<vec_dot_mlx_u8_q8_1>(T::MLX_U8, T::Q8_1, quantize_activations_q8_1),
  };
}

void add_simd_column(std::array<WeightKernels, kWeightTypes>& table, KernelIsa isa, std::span<const SimdTile> tiles,
                     std::span<const SimdQuantizer> quantizers) {
  for (const SimdTile& simd : tiles) {
    auto it = std::ranges::find_if(table, [&](const WeightKernels& k) { return k.weight == simd.weight; });
    if (it != table.end()) it->tiles[static_cast<int>(isa)] = simd.tile;
  }
  for (const SimdQuantizer& simd : quantizers)
    for (WeightKernels& k : table)
      if (k.activation == simd.activation) k.quantizers[static_cast<int>(isa)] = simd.quantize;
}

void add_panel_column(std::array<WeightKernels, kWeightTypes>& table, KernelIsa isa, std::span<const SimdPanel> panels,
                      std::span<const SimdInterleaved> interleaved) {
  for (const SimdPanel& simd : panels)
    for (WeightKernels& k : table)
      if (k.weight == simd.weight) {
        k.panels[static_cast<int>(isa)] = simd.panel;
        k.panel_quantizers[static_cast<int>(isa)] = simd.batch_quantize;
      }
  for (const SimdInterleaved& simd : interleaved)
    for (WeightKernels& k : table)
      if (k.weight == simd.weight) {
        k.interleaved_gemms[static_cast<int>(isa)] = simd.gemm;
        k.interleaved_batch_quantizers[static_cast<int>(isa)] = simd.batch_quantize;
      }
}

const std::array<WeightKernels, kWeightTypes>& table() {
  static const std::array<WeightKernels, kWeightTypes> kernels = [] {
    auto t = scalar_table();
#ifdef LP_X86_KERNELS
    add_simd_column(t, KernelIsa::Avx2, avx2_tiles(), avx2_quantizers());
    add_simd_column(t, KernelIsa::Avx512, avx512_tiles(), avx512_quantizers());
    add_panel_column(t, KernelIsa::Avx2, avx2_panels(), avx2_interleaved());
    add_panel_column(t, KernelIsa::Avx512, avx512_panels(), avx512_interleaved());
#endif
#ifdef LP_ARM_KERNELS
    add_simd_column(t, KernelIsa::Neon, neon_tiles(), neon_quantizers());
    add_simd_column(t, KernelIsa::NeonDotprod, neon_dotprod_tiles(), {});
#endif
    return t;
  }();
  return kernels;
}

#ifdef LP_X86_KERNELS
// F16C (CPUID leaf 1, ECX bit 29), AVX512-DQ (leaf 7, EBX bit 17) and AVX512-VNNI (leaf 7, ECX
// bit 11) read directly: clang 14's __builtin_cpu_supports does not know these names. The OS's
// support for the AVX and AVX-512 register state is covered by the avx2/avx512f checks beside them.
bool cpuid_bit(unsigned leaf, int reg, unsigned bit) {
  unsigned r[4] = {0, 0, 0, 0};  // eax, ebx, ecx, edx
  if (__get_cpuid_count(leaf, 0, &r[0], &r[1], &r[2], &r[3]) == 0) return false;
  return (r[reg] & (1u << bit)) != 0;
}
constexpr int kEbx = 1, kEcx = 2;
#endif

KernelIsa detect_best_isa() {
#ifdef LP_X86_KERNELS
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpuid_bit(1, kEcx, 29);
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && cpuid_bit(7, kEbx, 17) && cpuid_bit(7, kEcx, 11);
  if (avx512) return KernelIsa::Avx512;
  if (avx2) return KernelIsa::Avx2;
#endif
#ifdef LP_ARM_KERNELS
  // Advanced SIMD is part of every aarch64 CPU; the dot product instructions are optional.
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0 ? KernelIsa::NeonDotprod : KernelIsa::Neon;
#endif
  return KernelIsa::Scalar;
}

bool is_arm(KernelIsa isa) { return isa == KernelIsa::Neon || isa == KernelIsa::NeonDotprod; }

KernelIsa isa_from_environment(KernelIsa best) {
  const char* value = std::getenv("LP_KERNELS");
  if (value == nullptr) return best;
  const std::string_view name = value;
  KernelIsa wanted = best;
  if (name == "scalar") wanted = KernelIsa::Scalar;
  else if (name == "avx2") wanted = KernelIsa::Avx2;
  else if (name == "avx512") wanted = KernelIsa::Avx512;
  else if (name == "neon") wanted = KernelIsa::Neon;
  else if (name == "neon-dotprod") wanted = KernelIsa::NeonDotprod;
  return kernel_isa_runs(wanted) ? wanted : best;
}

std::atomic<int>& active_isa_slot() {
  static std::atomic<int> slot{static_cast<int>(isa_from_environment(best_kernel_isa()))};
  return slot;
}

}  // namespace

const char* kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::Scalar: return "scalar";
    case KernelIsa::Avx2: return "avx2";
    case KernelIsa::Avx512: return "avx512";
    case KernelIsa::Neon: return "neon";
    case KernelIsa::NeonDotprod: return "neon-dotprod";
  }
  return "?";
}

const WeightKernels* find_weight_kernels(GgmlType weight) {
  const auto& t = table();
  auto it = std::ranges::find_if(t, [&](const WeightKernels& k) { return k.weight == weight; });
  return it == t.end() ? nullptr : &*it;
}

uint64_t activation_row_bytes(const WeightKernels& kernels, int64_t cols) {
  const auto& traits = ggml_type_traits(kernels.activation);
  return static_cast<uint64_t>(cols) / traits.block_size * traits.block_bytes;
}

KernelIsa best_kernel_isa() {
  static const KernelIsa best = detect_best_isa();
  return best;
}

KernelIsa active_kernel_isa() { return static_cast<KernelIsa>(active_isa_slot().load(std::memory_order_relaxed)); }

bool kernel_isa_runs(KernelIsa isa) {
  const KernelIsa best = best_kernel_isa();
  return isa == KernelIsa::Scalar || (is_arm(isa) == is_arm(best) && isa <= best);
}

void set_kernel_isa(KernelIsa isa) {
  active_isa_slot().store(static_cast<int>(kernel_isa_runs(isa) ? isa : best_kernel_isa()), std::memory_order_relaxed);
}

QuantizeActivationsFn quantizer_for(const WeightKernels& kernels, KernelIsa isa) {
  for (int i = static_cast<int>(isa); i > 0; --i)
    if (kernels.quantizers[i] != nullptr) return kernels.quantizers[i];
  return kernels.quantizers[0];
}

PanelGemmFn panel_for(const WeightKernels& kernels, KernelIsa isa) { return kernels.panels[static_cast<int>(isa)]; }

bool interleaving_pays(const WeightKernels& kernels, KernelIsa isa) {
  return kernels.interleaved != nullptr && isa != KernelIsa::Scalar && kernels.interleaved_gemms[static_cast<int>(isa)] != nullptr;
}

namespace {
// The set whose interleaved product interleaved_gemm_for gives (0, the scalar reference, last).
int interleaved_isa(const WeightKernels& kernels, KernelIsa isa) {
  for (int i = static_cast<int>(isa); i > 0; --i)
    if (kernels.interleaved_gemms[i] != nullptr) return i;
  return 0;
}
}  // namespace

InterleavedGemmFn interleaved_gemm_for(const WeightKernels& kernels, KernelIsa isa) {
  return kernels.interleaved_gemms[interleaved_isa(kernels, isa)];
}

QuantizeActivationsFn panel_quantizer_for(const WeightKernels& kernels, KernelIsa isa) {
  const QuantizeActivationsFn own = kernels.panel_quantizers[static_cast<int>(isa)];
  return own != nullptr ? own : quantizer_for(kernels, isa);
}

QuantizeActivationsFn interleaved_quantizer_for(const WeightKernels& kernels, KernelIsa isa, int64_t n_tokens) {
  const QuantizeActivationsFn own = kernels.interleaved_batch_quantizers[interleaved_isa(kernels, isa)];
  return n_tokens >= kPanelMinTokens && own != nullptr ? own : quantizer_for(kernels, isa);
}

DotTileFn dot_tile_for(const WeightKernels& kernels, KernelIsa isa) {
  for (int i = static_cast<int>(isa); i > 0; --i)
    if (kernels.tiles[i] != nullptr) return kernels.tiles[i];
  return kernels.tiles[0];
}

}  // namespace lp
