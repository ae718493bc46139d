#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, fuzzes the file parsers
# (60 s each under ASan + UBSan), then runs every test (GoogleTest + Python reference checks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/fuzz.sh
bash scripts/build.sh
cd build && ctest --output-on-failure -j2
