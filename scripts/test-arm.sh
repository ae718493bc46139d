#!/usr/bin/env bash
# The 64-bit ARM kernels on this x86-64 machine: cross-compiles the unit tests for aarch64
# (cmake/aarch64-linux-gnu.cmake) and runs the kernel tests (and those of the engine's row loops
# and attention's F16 vector operations) under qemu-user twice: as a CPU with the dot product extension (-cpu
# max: the scalar, NEON and NEON dot-product sets are all tested against the scalar
# reference) and as one without it (-cpu cortex-a53: run-time detection must fall back to
# plain NEON).
#
# Only tests that start no threads run here: qemu-user 7.2 (Debian 12) hangs creating a
# thread in a dynamically linked aarch64 program (a ten-line program with our ThreadPool
# reproduces it; the same program linked statically runs). The threaded matmul tests are
# architecture-independent code and run natively in the main suite.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build-arm
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DLP_BUILD_BENCH=OFF > /dev/null
cmake --build "$BUILD" --target lp_unit_tests -j"$(nproc)"
# The dot-product unit must define nothing but its table: an inline helper shared with other
# units (an f16 conversion, a scale unpacker) compiled there and kept by the linker could run
# ARMv8.2 instructions on a CPU without them.
shared=$(aarch64-linux-gnu-nm -C --defined-only --extern-only \
  "$BUILD/src/CMakeFiles/lp_core.dir/kernels/kernels_neon_dotprod.cpp.o" | grep -v 'neon_dotprod_tiles()' || true)
[ -z "$shared" ] || { echo "kernels_neon_dotprod.cpp defines shared code: $shared"; exit 1; }
FILTER='KernelSimd.*:KernelScalar.*:KernelActivations.*:KernelScales.*:QuantLanes.*:KernelMatmul.TypesWithoutKernelsAreRefused:EngineOps.HalfVector*:EngineOps.Row*:EngineOps.SoftmaxRowSteps*:EngineOps.AttentionTileKernels*'
for cpu_and_isa in "max neon-dotprod" "cortex-a53 neon"; do
  read -r cpu isa <<< "$cpu_and_isa"
  echo "==> aarch64 kernel tests under qemu-aarch64 -cpu $cpu"
  log=$(mktemp)
  qemu-aarch64 -cpu "$cpu" -L /usr/aarch64-linux-gnu "$BUILD/tests/lp_unit_tests" --gtest_filter="$FILTER" | tee "$log"
  # The run-time detection: the best set must be the one this CPU model has.
  grep -q "kernels: best $isa," "$log" || { echo "expected the $isa kernels on -cpu $cpu"; exit 1; }
  rm -f "$log"
done
