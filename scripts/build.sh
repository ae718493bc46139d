#!/usr/bin/env bash
# Configures and builds Llama-Pajamas (release) into build/.
#   scripts/build.sh           with the tests and benchmarks
#   scripts/build.sh product   the tool alone (what scripts/setup.sh product installs is enough)
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TESTS=ON
if [ "${1:-}" = product ]; then WITH_TESTS=OFF; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLP_BUILD_TESTS=$WITH_TESTS -DLP_BUILD_BENCH=$WITH_TESTS >/dev/null
cmake --build build
