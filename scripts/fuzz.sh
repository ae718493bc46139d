#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan + UBSan into fuzz-build/, replays every
# kept crash input (fuzz/regressions), then fuzzes each parser for FUZZ_SECONDS (60).
# A finding is written to fuzz-build/artifacts/; copy it into fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-60}"

CC=clang CXX=clang++ cmake -S . -B fuzz-build -G Ninja -DLP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build fuzz-build
mkdir -p fuzz-build/artifacts

for target in gguf safetensors; do
  binary="fuzz-build/fuzz/fuzz_${target}"
  regressions=(fuzz/regressions/${target}/*)
  if [ -e "${regressions[0]}" ]; then
    echo "==> replaying ${#regressions[@]} kept inputs through fuzz_${target}"
    "$binary" -runs=0 "${regressions[@]}" 2>&1 | tail -n 1
  fi
  work="fuzz-build/corpus/${target}"
  mkdir -p "$work"
  echo "==> fuzzing ${target} for ${SECONDS_EACH}s"
  "$binary" "$work" "fuzz/corpus/${target}" \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="fuzz-build/artifacts/${target}-" -print_final_stats=1 2>fuzz-build/${target}.log \
    || { tail -n 40 "fuzz-build/${target}.log"; echo "fuzz_${target} found a problem: see fuzz-build/artifacts/"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "fuzz-build/${target}.log" | sed 's/^/    /'
done
echo "==> fuzzing found nothing"
