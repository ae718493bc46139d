"""Long-context RoPE in our engine against transformers: the tiny Phi-3 with longrope
(tests/fixtures/convert/phi3_longrope: its config and transformers' float32 log-probs over the
80 reference tokens, past the original context of 64, so the long factors and the attention
factor are in use), from the Hugging Face directory and from our converted GGUF, where the
factors travel as rope_factors_* tensors and the type is implied."""
import json
import pathlib
import shutil

import numpy as np
import pytest

from conftest import run


@pytest.fixture(scope="module")
def phi3_longrope(fixtures_dir, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("longrope") / "phi3"
    shutil.copytree(pathlib.Path(fixtures_dir) / "tiny_models" / "phi3", model_dir)
    shutil.copy(pathlib.Path(fixtures_dir) / "convert" / "phi3_longrope" / "config.json", model_dir / "config.json")
    return model_dir


@pytest.mark.parametrize("source", ["hf", "gguf"])
def test_phi3_longrope_logprobs_equal_transformers(lp_bin, fixtures_dir, phi3_longrope, tmp_path, source):
    model = phi3_longrope
    if source == "gguf":
        model = tmp_path / "phi3.gguf"
        run([lp_bin, "quantize", str(phi3_longrope), "-m", "F32", "-o", str(model)])
    out = tmp_path / "lp.npy"
    run([lp_bin, "logits", str(model), "--tokens", str(phi3_longrope / "reference_tokens.txt"), "--decode-from", "64",
         "--kv-type", "f32", "-c", "128", "-t", "2", "--out", str(out)])
    ours = np.load(out).astype(np.float64)
    ref = np.load(pathlib.Path(fixtures_dir) / "convert" / "phi3_longrope" / "reference_logprobs.npy").astype(np.float64)
    plain = np.load(phi3_longrope / "reference_logprobs.npy").astype(np.float64)
    rel = (np.abs(ours - ref).max(-1) / np.abs(ref).max(-1)).max()
    moved = (np.abs(plain - ref).max(-1) / np.abs(ref).max(-1)).max()
    print(f"{source}: relative error {rel:.2e} (plain RoPE is {moved:.2e} away)")
    assert moved > 1e-2  # the scaling matters on these tokens
    assert rel <= 1e-4
