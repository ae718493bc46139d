#!/usr/bin/env bash
# HumanEval pass@1 of a model at several levels, with the wall time of each run: the levels
# are quantized from MODEL into OUT/, then `validate --metrics humaneval` scores each on all 164
# problems (greedy, completion prompts, each program in the sandbox).
#   bash bench/humaneval_levels.sh MODEL OUT [LEVELS]      (LEVELS default F16,Q8_0,Q4_K_M,Q2_K)
# Prints one line per level: level, pass@1, Wilson interval, seconds; records in OUT/*.json.
set -euo pipefail
MODEL="$1"; OUT="$2"; LEVELS="${3:-F16,Q8_0,Q4_K_M,Q2_K}"
BIN="${LP_BIN:-$(dirname "$0")/../build/src/llama-pajamas}"
mkdir -p "$OUT"
stem=$(basename "${MODEL%.gguf}")
"$BIN" quantize "$MODEL" -m "$LEVELS" -o "$OUT/" >/dev/null
for level in ${LEVELS//,/ }; do
  file="$OUT/${stem}-${level}.gguf"
  start=$(date +%s.%N)
  "$BIN" validate "$file" --metrics humaneval --samples "$OUT/${level}.samples.jsonl" --out "$OUT/${level}.json" 2>/dev/null >/dev/null
  end=$(date +%s.%N)
  python3 - "$OUT/${level}.json" "$level" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["metrics"]["humaneval"]
p = r["pass@1"]
print(f"{sys.argv[2]:8s} pass@1 {100*p['value']:5.1f}% ({p['correct']}/{r['problems']})  "
      f"Wilson95 [{100*p['wilson95'][0]:.1f}, {100*p['wilson95'][1]:.1f}]  timed out {r['outcomes']['timed out']}  "
      f"mean tokens {r['mean_tokens']:.1f}  wall {float(sys.argv[4]) - float(sys.argv[3]):.0f} s")
PY
done
