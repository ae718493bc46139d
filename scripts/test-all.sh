#!/usr/bin/env bash
# The README's test command: installs what is missing (test packages into .venv/), fuzzes every
# parser of untrusted input (10 s each under ASan + UBSan: the seeded runs explore what a longer
# local run explored first, bench/RESULTS.md), builds, runs every test
# (GoogleTest + Python reference checks), runs the unit tests and the CLI's end-to-end checks
# again under ASan + UBSan, the threaded code under ThreadSanitizer, then, on x86-64, the ARM
# kernels' tests, cross-compiled and run under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash scripts/fuzz.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j2)
bash scripts/test-sanitizers.sh
bash scripts/test-tsan.sh
# On an ARM machine the suite above already ran the NEON kernels natively.
if [ "$(uname -m)" = x86_64 ]; then bash scripts/test-arm.sh; fi
