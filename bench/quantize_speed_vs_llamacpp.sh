#!/usr/bin/env bash
# Quantization speed against llama.cpp's llama-quantize (issue 3): a synthetic
# Qwen2.5-1.5B-shaped F16 model (random weights, 3.1 GB) quantized by both tools to the same
# file types with 2 threads, runs interleaved (ours, theirs, ours, theirs, ...) so that a
# machine whose speed drifts slows both alike. Prints wall, CPU (user + system) and peak
# memory of every run, then the median of the per-pair ratios ours / llama.cpp (< 1: ours
# is faster).
#
#   bench/quantize_speed_vs_llamacpp.sh PATH/TO/llama-quantize [RUNS] [TYPE ...]
#
# llama-quantize comes from a build of llama.cpp's source outside this repository. Defaults:
# 3 runs of Q4_K_M, Q6_K and Q8_0. LP_BIN overrides our binary (default build/src/llama-pajamas),
# WORK the folder for the 3 GB source and the outputs (default /tmp; deleted at the end).
set -euo pipefail
theirs_bin=${1:?usage: $0 PATH/TO/llama-quantize [RUNS] [TYPE ...]}
runs=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(Q4_K_M Q6_K Q8_0)
root=$(cd "$(dirname "$0")/.." && pwd)
ours_bin=${LP_BIN:-$root/build/src/llama-pajamas}
work=${WORK:-/tmp}
src=$work/lp-bench-qwen2.5-1.5b-f16.gguf
trap 'rm -f "$src" "$work/lp-bench-ours.gguf" "$work/lp-bench-theirs.gguf"' EXIT

"$ours_bin" synth --like qwen2.5-1.5b --method F16 -o "$src" >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# One run: prints "wall cpu peak_MiB".
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$work/lp-bench-time" "$@" >/dev/null 2>&1
  awk '{printf "%.2f %.2f %.0f\n", $1, $2 + $3, $4 / 1024}' "$work/lp-bench-time"
}

for type in "${types[@]}"; do
  echo "== $type"
  wall_ratios=() cpu_ratios=()
  for ((i = 1; i <= runs; ++i)); do
    read -r ow oc om < <(measure "$ours_bin" quantize "$src" -m "$type" -t 2 -o "$work/lp-bench-ours.gguf")
    read -r tw tc tm < <(measure "$theirs_bin" "$src" "$work/lp-bench-theirs.gguf" "$type" 2)
    echo "run $i: ours ${ow} s wall, ${oc} s CPU, ${om} MiB; llama.cpp ${tw} s wall, ${tc} s CPU, ${tm} MiB"
    wall_ratios+=("$(awk -v a="$ow" -v b="$tw" 'BEGIN{printf "%.3f", a / b}')")
    cpu_ratios+=("$(awk -v a="$oc" -v b="$tc" 'BEGIN{printf "%.3f", a / b}')")
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
  echo "$type ours/llama.cpp: wall $(median "${wall_ratios[@]}") (pairs: ${wall_ratios[*]}), CPU $(median "${cpu_ratios[@]}") (pairs: ${cpu_ratios[*]})"
done
rm -f "$work/lp-bench-time"
