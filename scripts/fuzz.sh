#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan + UBSan into fuzz-build/, replays every
# kept crash input (fuzz/regressions), then fuzzes each parser for FUZZ_SECONDS (25) and
# prints its executions and final coverage. FUZZ_TARGETS picks a subset ("recipe imatrix");
# the default is every target in fuzz/CMakeLists.txt.
# A finding is written to fuzz-build/artifacts/; copy it into fuzz/regressions/<target>/.
# FUZZ_SEED (1) fixes libFuzzer's random seed, so the test command explores the same inputs on
# every run and a longer run with the same seed explores a superset of a shorter one: a seeded
# local run that executed more inputs than CI's has already met whatever CI's will. FUZZ_SEED=0
# picks a fresh seed and keeps the growing corpus, for long exploratory runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-25}"
SEED="${FUZZ_SEED:-1}"
ALL_TARGETS="gguf safetensors tokenizer_json chat_template hf_config recipe imatrix reference_logits gguf_tokenizer device_catalog matrix_records humaneval_problems api_request hub_listing"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
# The same build holds the test suite under the same sanitizers (scripts/test-sanitizers.sh).
CC=clang CXX=clang++ cmake -S . -B fuzz-build -G Ninja -DLP_FUZZ=ON -DLP_MLX=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DPython3_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
cmake --build fuzz-build
mkdir -p fuzz-build/artifacts

for target in $TARGETS; do
  binary="fuzz-build/fuzz/fuzz_${target}"
  [ -x "$binary" ] || { echo "no fuzz target '${target}' (known: ${ALL_TARGETS})"; exit 2; }
  regressions=(fuzz/regressions/${target}/*)
  if [ -e "${regressions[0]}" ]; then
    echo "==> replaying ${#regressions[@]} kept inputs through fuzz_${target}"
    replayed=$("$binary" -runs=0 "${regressions[@]}" 2>&1 | grep -c '^Executed ') || true
    echo "    ${replayed} of ${#regressions[@]} ran cleanly"
    [ "$replayed" -eq "${#regressions[@]}" ] || { echo "fuzz_${target} crashes on a kept input again"; exit 1; }
  fi
  work="fuzz-build/corpus/${target}"
  # With a fixed seed the run starts from the committed seeds alone, as on a clean clone.
  if [ "$SEED" != 0 ]; then rm -rf "$work"; fi
  mkdir -p "$work"
  echo "==> fuzzing ${target} for ${SECONDS_EACH}s"
  "$binary" "$work" "fuzz/corpus/${target}" \
    -max_total_time="$SECONDS_EACH" -seed="$SEED" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="fuzz-build/artifacts/${target}-" -print_final_stats=1 2>fuzz-build/${target}.log \
    || { tail -n 40 "fuzz-build/${target}.log"; echo "fuzz_${target} found a problem: see fuzz-build/artifacts/"; exit 1; }
  # libFuzzer's last status line ("#N DONE cov: C ft: F ...") holds the final coverage.
  last=$(grep -E '^#[0-9]+' "fuzz-build/${target}.log" | tail -n 1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "fuzz-build/${target}.log")
  rss=$(sed -nE 's/^stat::peak_rss_mb: *([0-9]+)/\1/p' "fuzz-build/${target}.log")
  echo "    ${target}: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, peak rss ${rss:-?} MB"
done
echo "==> fuzzing found nothing"
