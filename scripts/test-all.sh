#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, fuzzes the file parsers
# (60 s each under ASan + UBSan), runs every test (GoogleTest + Python reference checks), then
# the ARM kernels' tests, cross-compiled and run under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/fuzz.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j2)
bash scripts/test-arm.sh
