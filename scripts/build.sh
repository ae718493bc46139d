#!/usr/bin/env bash
# Configures and builds Llama-Pajamas (release, with tests and benchmarks) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
