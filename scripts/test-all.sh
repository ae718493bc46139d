#!/usr/bin/env bash
# The README's test command: installs what is missing (test packages into .venv/), fuzzes every
# parser of untrusted input (25 s each under ASan + UBSan), builds, runs every test
# (GoogleTest + Python reference checks), runs the unit tests and the CLI's end-to-end checks
# again under ASan + UBSan, the threaded code under ThreadSanitizer, then, on x86-64, the ARM
# kernels' tests, cross-compiled and run under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/fuzz.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j2)
bash scripts/test-sanitizers.sh
bash scripts/test-tsan.sh
# On an ARM machine the suite above already ran the NEON kernels natively.
if [ "$(uname -m)" = x86_64 ]; then bash scripts/test-arm.sh; fi
