#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan + UBSan into fuzz-build/, replays every seed
# and every kept crash input (fuzz/corpus, fuzz/regressions), then fuzzes each parser for
# FUZZ_SECONDS (25) and prints its executions and coverage. FUZZ_TARGETS picks some
# ("chat_template recipe"); the default is all of them (the names of fuzz/CMakeLists.txt).
# A finding is written to fuzz-build/artifacts/; fix it, then copy it into
# fuzz/regressions/<target>/ so every later run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-25}"
ALL_TARGETS="gguf safetensors tokenizer_json gguf_tokenizer chat_template hf_config recipe imatrix
             reference_logits device_catalog matrix_records"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"

LAUNCHER=(); if command -v ccache >/dev/null; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# The same build holds the test suite under the same sanitizers (scripts/test-sanitizers.sh).
CC=clang CXX=clang++ cmake -S . -B fuzz-build -G Ninja -DLP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "${LAUNCHER[@]}" \
  -DPython3_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
cmake --build fuzz-build
mkdir -p fuzz-build/artifacts

for target in $TARGETS; do
  binary="fuzz-build/fuzz/fuzz_${target}"
  [ -x "$binary" ] || { echo "no fuzz target '${target}' (known: ${ALL_TARGETS//$'\n'/})"; exit 2; }
  kept=(fuzz/corpus/${target}/* fuzz/regressions/${target}/*)
  kept=("${kept[@]/*\/\*/}")  # drop an unmatched glob
  echo "==> replaying ${#kept[@]} kept inputs through fuzz_${target}"
  "$binary" -runs=0 $(printf '%s ' "${kept[@]}") >fuzz-build/${target}-replay.log 2>&1 \
    || { tail -n 40 "fuzz-build/${target}-replay.log"; echo "fuzz_${target} fails on a kept input"; exit 1; }
  work="fuzz-build/corpus/${target}"
  mkdir -p "$work"
  echo "==> fuzzing ${target} for ${SECONDS_EACH}s"
  # No -max_len: libFuzzer takes the largest seed's size (at least 4096).
  "$binary" "$work" "fuzz/corpus/${target}" \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz-build/artifacts/${target}-" -print_final_stats=1 2>fuzz-build/${target}.log \
    || { tail -n 40 "fuzz-build/${target}.log"; echo "fuzz_${target} found a problem: see fuzz-build/artifacts/"; exit 1; }
  # The last status line: cov (edges), ft (features), corp (corpus size), exec/s.
  status="$(grep -E '^#[0-9]+' "fuzz-build/${target}.log" | tail -n 1)"
  execs="$(grep -oP 'stat::number_of_executed_units: \K[0-9]+' "fuzz-build/${target}.log")"
  echo "    ${execs} executions; ${status#* }"
done
echo "==> fuzzing found nothing"
