#!/usr/bin/env bash
# Our bench against llama-bench on one (large) GGUF, interleaved: per round, our `bench
# --bandwidth` (tokens/s, and decode against the read-bandwidth ceiling probed around the
# run), then llama-bench with its default mmap loading, then with `-lm none` (its weights read
# into its own buffers). Used for the mixture-of-experts files of bench/RESULTS.md.
#
#   bash bench/moe_vs_llama_bench.sh /path/to/llama-bench MODEL.gguf [PROMPT=256] [GEN=32] [ROUNDS=2]
#
# llama-bench is built by the user from llama.cpp's source (never by this repository).
set -euo pipefail
LLAMA_BENCH=$1 MODEL=$2 P=${3:-256} N=${4:-32} ROUNDS=${5:-2}
LP=${LP_BIN:-$(dirname "$0")/../build/src/llama-pajamas}
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round"
  "$LP" bench "$MODEL" -p "$P" -n "$N" -r 2 -t 2 --bandwidth 2>&1 | grep -E "pp|tg"
  "$LLAMA_BENCH" -m "$MODEL" -p "$P" -n "$N" -r 2 -t 2 2>&1 | grep -E " pp| tg"
  "$LLAMA_BENCH" -m "$MODEL" -p "$P" -n "$N" -r 2 -t 2 -lm none 2>&1 | grep -E " pp| tg"
done
