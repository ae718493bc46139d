"""`synth`: full-size models with a real model's shapes and a valid tokenizer, random weights.
Checked against the presets' published shapes and loaded and run by llama.cpp."""
import pytest
from gguf import GGUFReader

from conftest import inspect_json, run

llama_cpp = pytest.importorskip("llama_cpp")

# Published shapes (config.json) of the models the synthetic files imitate.
EXPECTED = {
    "smollm2-135m": {"architecture": "llama", "block_count": 30, "embedding_length": 576, "feed_forward_length": 1536,
                     "head_count": 9, "head_count_kv": 3, "vocab_size": 49152, "tokenizer": "gpt2", "tensors": 272},
    "gemma-3-270m": {"architecture": "gemma3", "block_count": 18, "embedding_length": 640, "feed_forward_length": 2048,
                     "head_count": 4, "head_count_kv": 1, "vocab_size": 262144, "tokenizer": "llama", "tensors": 236},
}


@pytest.mark.parametrize("preset", list(EXPECTED))
def test_synthetic_model_has_real_shapes_and_runs_in_llama_cpp(tmp_path, lp_bin, preset):
    path = tmp_path / f"{preset}.gguf"
    run([lp_bin, "synth", "--like", preset, "-m", "F16", "-o", str(path)])
    expected = EXPECTED[preset]
    info = inspect_json(lp_bin, path)
    for key in ("architecture", "block_count", "embedding_length", "feed_forward_length", "head_count",
                "head_count_kv", "vocab_size"):
        assert info["hparams"][key] == expected[key], key
    assert info["tokenizer"]["model"] == expected["tokenizer"]
    assert info["tokenizer"]["vocab_size"] == expected["vocab_size"]
    assert info["totals"]["tensors"] == expected["tensors"]
    reader = GGUFReader(str(path))
    assert {t.tensor_type.name for t in reader.tensors} == {"F16", "F32"}

    model = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=2, verbose=False)
    text = "Hello world, this is a test."
    tokens = model.tokenize(text.encode())
    assert 0 < len(tokens) <= len(text) + 2
    assert model.detokenize(tokens).decode().strip() == text
    out = model.create_completion("Hello", max_tokens=4, temperature=0.0)
    assert out["usage"]["completion_tokens"] >= 1


def test_same_seed_same_weights(tmp_path, lp_bin):
    a, b, c = tmp_path / "a.gguf", tmp_path / "b.gguf", tmp_path / "c.gguf"
    run([lp_bin, "synth", "--like", "smollm2-135m", "-m", "F16", "-o", str(a), "-t", "1"])
    run([lp_bin, "synth", "--like", "smollm2-135m", "-m", "F16", "-o", str(b), "-t", "2"])
    run([lp_bin, "synth", "--like", "smollm2-135m", "-m", "F16", "-o", str(c), "--seed", "7"])
    assert a.read_bytes() == b.read_bytes(), "the thread count must not change the weights"
    assert a.read_bytes() != c.read_bytes()
    weights = next(t for t in GGUFReader(str(a)).tensors if t.name == "blk.0.ffn_up.weight").data.astype("float32")
    assert abs(float(weights.std()) - 0.02) < 0.001 and abs(float(weights.mean())) < 0.001


def test_unknown_preset_is_explained(lp_bin, tmp_path):
    result = run([lp_bin, "synth", "--like", "gpt-5", "-o", str(tmp_path / "x.gguf")], check=False)
    assert result.returncode == 2 and "unknown model" in result.stderr and "qwen2.5-1.5b" in result.stderr
