#!/usr/bin/env bash
# The test suite under sanitizers (part of the README's test command):
#   1. ASan + UBSan (fuzz-build/, the build scripts/fuzz.sh makes): the whole GoogleTest suite,
#      then the Python end-to-end checks of the CLI with every command run by the instrumented
#      binary (less the checks of measured memory: ASan's shadow memory is not the product's).
#   2. ThreadSanitizer (tsan-build/): the GoogleTest suite (thread pool, parallel loops, matmul
#      kernels, quantization lanes), then the multi-threaded commands on a tiny model: quantize,
#      run, validate and bench with 4 threads on this 2-core machine so the threads interleave.
# Any report fails the run (halt_on_error / -fno-sanitize-recover).
set -euo pipefail
cd "$(dirname "$0")/.."
LAUNCHER=(); if command -v ccache >/dev/null; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
PYTHON="$PWD/.venv/bin/python"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "==> ASan + UBSan: building the test suite in fuzz-build/"
CC=clang CXX=clang++ cmake -S . -B fuzz-build -G Ninja -DLP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "${LAUNCHER[@]}" \
  -DPython3_EXECUTABLE="$PYTHON" >/dev/null
cmake --build fuzz-build --target lp_unit_tests llama-pajamas lp_gguf_tool lp_text_metrics report_html_driver
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
echo "==> ASan + UBSan: GoogleTest suite"
fuzz-build/tests/lp_unit_tests --gtest_brief=1
echo "==> ASan + UBSan: the CLI's end-to-end checks"
LP_BIN="$PWD/fuzz-build/src/llama-pajamas" LP_GGUF_TOOL="$PWD/fuzz-build/tests/lp_gguf_tool" \
LP_TEXT_METRICS="$PWD/fuzz-build/tests/lp_text_metrics" LP_REPORT_HTML="$PWD/fuzz-build/tests/report_html_driver" \
LP_FIXTURES="$PWD/tests/fixtures" "$PYTHON" -m pytest -q -p no:cacheprovider \
  tests/python/test_inspect_cli.py tests/python/test_quantize_cli.py tests/python/test_run_cli.py \
  tests/python/test_fit_cli.py tests/python/test_validate.py tests/python/test_crash_safety.py \
  -k "not within_ten_percent"
unset ASAN_OPTIONS

echo "==> ThreadSanitizer: building tsan-build/"
CC=clang CXX=clang++ cmake -S . -B tsan-build -G Ninja -DLP_TSAN=ON -DLP_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "${LAUNCHER[@]}" -DPython3_EXECUTABLE="$PYTHON" >/dev/null
cmake --build tsan-build --target lp_unit_tests llama-pajamas
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
echo "==> ThreadSanitizer: GoogleTest suite"
tsan-build/tests/lp_unit_tests --gtest_brief=1
echo "==> ThreadSanitizer: quantize, run, validate, bench with 4 threads"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lp=tsan-build/src/llama-pajamas
"$lp" quantize tests/fixtures/tiny_models/llama -m Q4_K_M,Q8_0 -t 4 -o "$work" >/dev/null
for model in "$work"/*.gguf; do
  "$lp" run "$model" -p "The quick brown fox" -n 24 -t 4 >/dev/null
  "$lp" bench "$model" -p 64 -n 16 -r 1 -t 4 >/dev/null
done
head -c 20000 tests/fixtures/tokenizer/stress_corpus.txt >"$work/text.txt"
"$lp" validate "$work"/*Q8_0.gguf --text "$work/text.txt" -c 64 --chunks 4 --metrics perplexity -t 4 >/dev/null
echo "==> sanitizers found nothing"
