"""`quantize` as a user drives it: recipe files, overrides, metadata edits, several outputs,
and clean errors. On a tiny llama-shaped model written by gguf-py."""
import json

import numpy as np
import pytest
from gguf import GGUFReader, GGUFWriter

from conftest import run


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny-f32.gguf"
    rng = np.random.default_rng(3)
    w = GGUFWriter(str(path), arch="llama")
    w.add_block_count(4)
    w.add_embedding_length(256)
    w.add_head_count(4)
    w.add_head_count_kv(1)
    w.add_feed_forward_length(512)
    w.add_tensor("token_embd.weight", rng.standard_normal((1000, 256)).astype(np.float32))
    for l in range(4):
        for name, shape in [("attn_q", (256, 256)), ("attn_k", (64, 256)), ("attn_v", (64, 256)),
                            ("attn_output", (256, 256)), ("ffn_gate", (512, 256)), ("ffn_up", (512, 256)),
                            ("ffn_down", (256, 512))]:
            w.add_tensor(f"blk.{l}.{name}.weight", rng.standard_normal(shape).astype(np.float32))
        w.add_tensor(f"blk.{l}.attn_norm.weight", np.ones(256, dtype=np.float32))
    w.add_tensor("output.weight", rng.standard_normal((1000, 256)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def types(path):
    return {t.name: t.tensor_type.name for t in GGUFReader(str(path)).tensors}


def test_recipe_file_overrides_and_metadata(tmp_path, lp_bin, tiny_model):
    recipe = tmp_path / "mine.json"
    recipe.write_text(json.dumps({"name": "mine", "base": "Q5_K", "rules": [
        {"tensor": "regex:blk\\.0\\.", "type": "Q8_0"},
        {"tensor": "ffn_down", "layers": "first:2", "type": "Q6_K"}]}))
    out = tmp_path / "mine.gguf"
    run([lp_bin, "quantize", str(tiny_model), "-m", "mine", "--recipe", str(recipe), "-o", str(out),
         "--tensor-type", "attn_k=q4_0", "--output-tensor-type", "Q8_0", "--override-kv", "general.name=str:Tiny",
         "--override-kv", "llama.context_length=int:4096"])
    t = types(out)
    assert t["blk.0.attn_q.weight"] == "Q8_0"     # recipe regex rule
    assert t["blk.1.ffn_down.weight"] == "Q6_K"   # second ffn_down: first:2
    assert t["blk.2.ffn_down.weight"] == "Q5_K"   # base
    assert t["blk.3.attn_k.weight"] == "Q4_0"     # --tensor-type beats the recipe
    assert t["output.weight"] == "Q8_0"           # --output-tensor-type
    assert t["blk.0.attn_norm.weight"] == "F32"   # never quantized
    fields = GGUFReader(str(out)).fields
    assert fields["general.name"].contents() == "Tiny"
    assert fields["llama.context_length"].contents() == 4096
    assert "general.file_type" not in fields       # a user recipe is no llama.cpp file type


def test_several_methods_one_call(tmp_path, lp_bin, tiny_model):
    out = tmp_path / "out"
    result = run([lp_bin, "quantize", str(tiny_model), "-m", "Q4_K_M,Q8_0,F16", "-o", str(out)])
    assert "wrote" in result.stdout
    assert types(out / "tiny-f32-Q8_0.gguf")["blk.1.ffn_up.weight"] == "Q8_0"
    assert types(out / "tiny-f32-F16.gguf")["blk.1.ffn_up.weight"] == "F16"
    q4 = types(out / "tiny-f32-Q4_K_M.gguf")
    assert q4["blk.1.ffn_up.weight"] == "Q4_K" and q4["output.weight"] == "Q6_K"
    # Dequantized F16 output equals the source rounded to fp16.
    src = {t.name: t for t in GGUFReader(str(tiny_model)).tensors}
    f16 = {t.name: t for t in GGUFReader(str(out / "tiny-f32-F16.gguf")).tensors}
    np.testing.assert_array_equal(np.asarray(f16["blk.2.attn_q.weight"].data),
                                  np.asarray(src["blk.2.attn_q.weight"].data).astype(np.float16))


def test_dry_run_writes_nothing(tmp_path, lp_bin, tiny_model):
    result = run([lp_bin, "quantize", str(tiny_model), "-m", "Q4_K_M", "--dry-run", "-o", str(tmp_path / "x.gguf")])
    assert "blk.3.ffn_down.weight" in result.stdout and "bits per weight" in result.stdout
    assert not (tmp_path / "x.gguf").exists()


@pytest.mark.parametrize("args, message", [
    (["-m", "Q9_K"], "unknown method"),
    (["-m", "Q4_K_M", "--tensor-type", "attn_v"], "PATTERN=TYPE"),
    (["-m", "Q4_K_M", "--tensor-type", "attn_v=Q7"], "not a type we can quantize to"),
    (["-m", "Q4_K_M", "--tensor-type", "(=Q4_K"], "not a valid regular expression"),
    (["-m", "Q4_K_M", "--override-kv", "a=int:x"], "not a valid int"),
    (["-m", "Q4_K_M", "--format", "mlx"], "--format mlx converts a Hugging Face directory"),
    (["-m", "Q4_K_M", "--format", "onnx"], "must be gguf, mlx or gguf,mlx"),
    (["-m", "Q4_K_M"], "--output is required"),
])
def test_bad_arguments_are_explained(tmp_path, lp_bin, tiny_model, args, message):
    result = run([lp_bin, "quantize", str(tiny_model), *args], check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def write_imatrix(path, model_path, rng):
    """An importance matrix in llama-imatrix's GGUF layout, with heavy-tailed column weights."""
    w = GGUFWriter(str(path), arch="llama")
    w.add_type("imatrix")
    w.add_uint32("imatrix.chunk_count", 10)
    importance = {}
    for t in GGUFReader(str(model_path)).tensors:
        if t.name.startswith("blk.") and len(t.shape) == 2:
            sums = rng.gamma(0.5, 2.0, int(t.shape[0])).astype(np.float32) * 10
            w.add_tensor(t.name + ".in_sum2", sums)
            w.add_tensor(t.name + ".counts", np.array([10.0], dtype=np.float32))
            importance[t.name] = sums / 10
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return importance


def test_imatrix_lowers_importance_weighted_error(tmp_path, lp_bin, tiny_model):
    from gguf.quants import dequantize

    importance = write_imatrix(tmp_path / "imatrix.gguf", tiny_model, np.random.default_rng(9))
    plain, weighted = tmp_path / "plain.gguf", tmp_path / "weighted.gguf"
    run([lp_bin, "quantize", str(tiny_model), "-m", "Q4_K_M", "-o", str(plain)])
    run([lp_bin, "quantize", str(tiny_model), "-m", "Q4_K_M", "-o", str(weighted), "--imatrix", str(tmp_path / "imatrix.gguf")])
    source = {t.name: np.asarray(t.data, dtype=np.float64) for t in GGUFReader(str(tiny_model)).tensors}

    def weighted_error(path, name):
        t = next(t for t in GGUFReader(str(path)).tensors if t.name == name)
        y = dequantize(t.data, t.tensor_type).reshape(source[name].shape)
        return float((((source[name] - y) ** 2) * importance[name]).sum())

    for name in ["blk.0.attn_q.weight", "blk.2.ffn_up.weight", "blk.3.ffn_down.weight"]:
        assert weighted_error(weighted, name) < 0.95 * weighted_error(plain, name), name


def test_bad_imatrix_is_explained(tmp_path, lp_bin, tiny_model):
    result = run([lp_bin, "quantize", str(tiny_model), "-m", "Q4_K_M", "-o", str(tmp_path / "x.gguf"),
                  "--imatrix", str(tiny_model)], check=False)
    assert result.returncode == 2 and "not an importance matrix" in result.stderr
