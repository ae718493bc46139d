#!/usr/bin/env bash
# Expert-aware quantization against the plain mixtures at equal (or smaller) file size, on a
# random-weight Qwen3-MoE of 8 layers (hidden 256, 8 experts of width 256, 2 used; the
# generator of tests/python/test_moe_llamacpp.py): the importance matrix from the first half of
# WikiText-2's test text, the KL-divergence against the F16 file on windows from the second
# half (so calibration and evaluation texts do not overlap).
#
#   bash bench/moe_expert_aware.sh [OUT_DIR]      (about 5 minutes on 2 cores)
#
# Prints one line per level: file size, mean KL-divergence ± its standard error, top-1 agreement.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/moe-expert-aware}
LP=${LP_BIN:-build/src/llama-pajamas}
PY=${PYTHON:-.venv/bin/python}
TEXT=${LP_SHARED_DATA:-../shared/data}/wikitext-2-raw/wiki.test.raw
LAYERS=${LAYERS:-8}
rm -rf "$OUT" && mkdir -p "$OUT"

"$PY" - "$OUT" "$LAYERS" <<'PY'
import pathlib, sys
sys.path.insert(0, "tests/python")
from test_moe_llamacpp import write_small_model
write_small_model(pathlib.Path(sys.argv[1]), "qwen3_moe", pathlib.Path("tests/fixtures"), layers=int(sys.argv[2]))
PY
half=$(( $(wc -c < "$TEXT") / 2 ))
head -c "$half" "$TEXT" > "$OUT/calibration.txt"
tail -c +"$((half + 1))" "$TEXT" > "$OUT/evaluation.txt"

"$LP" quantize "$OUT/hf" -m F16 -o "$OUT/F16.gguf" > /dev/null
"$LP" imatrix "$OUT/F16.gguf" -f "$OUT/calibration.txt" -c 512 -o "$OUT/imatrix.gguf" --chunks 100
for method in Q4_K_M Q3_K_M; do
  "$LP" quantize "$OUT/F16.gguf" -m "$method" --imatrix "$OUT/imatrix.gguf" -o "$OUT/$method.gguf" > /dev/null
  "$LP" quantize "$OUT/F16.gguf" -m "$method" --imatrix "$OUT/imatrix.gguf" --architecture-aware \
    -o "$OUT/$method-EA.gguf" 2> "$OUT/$method-EA.plan" > /dev/null
  "$LP" quantize "$OUT/F16.gguf" -m "$method" --imatrix "$OUT/imatrix.gguf" --architecture-aware --expert-balanced \
    -o "$OUT/$method-EA-balanced.gguf" 2> "$OUT/$method-EA-balanced.plan" > /dev/null
done
for level in Q4_K_M Q4_K_M-EA Q4_K_M-EA-balanced Q3_K_M Q3_K_M-EA Q3_K_M-EA-balanced; do
  "$LP" validate "$OUT/$level.gguf" --reference "$OUT/F16.gguf" --metrics kld -f "$OUT/evaluation.txt" --chunks 60 \
    --json > "$OUT/$level.json"
  "$PY" - "$OUT/$level.json" "$OUT/$level.gguf" "$level" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
k = r["metrics"]["kld"]
kld, top = k["kl_divergence"]["mean"], k["same_top_p"]
top = top["value"] if isinstance(top, dict) else top
print(f"{sys.argv[3]:<20} {os.path.getsize(sys.argv[2]) / 2**20:7.3f} MiB  KLD {kld['value']:.5f} ± {kld['se']:.5f}  "
      f"top-1 {top:.4f}")
PY
done
echo "expert types chosen: $OUT/*-EA*.plan"
