#!/usr/bin/env bash
# Configures and builds Llama-Pajamas (release) into build/.
#   scripts/build.sh           with the tests and benchmarks (the Python checks run with .venv/)
#   scripts/build.sh product   the tool alone (what scripts/setup.sh product installs is enough)
set -euo pipefail
cd "$(dirname "$0")/.."
ARGS=(-DLP_BUILD_TESTS=ON -DLP_BUILD_BENCH=ON -DPython3_EXECUTABLE="$PWD/.venv/bin/python")
if [ "${1:-}" = product ]; then ARGS=(-DLP_BUILD_TESTS=OFF -DLP_BUILD_BENCH=OFF); fi
# ccache, where installed, makes a rebuild after a small change take seconds.
if command -v ccache >/dev/null; then ARGS+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${ARGS[@]}" >/dev/null
cmake --build build
