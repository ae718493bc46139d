"""`llama-pajamas inspect` as a user runs it: real models, HF directories, and bad input."""
import json
import os
import shutil

import numpy as np
import pytest
from gguf import GGUFReader
from safetensors.numpy import save_file

from conftest import inspect_json, run


def test_smollm2_matches_gguf_py(lp_bin, smollm2_gguf):
    ours = inspect_json(lp_bin, smollm2_gguf)
    reader = GGUFReader(smollm2_gguf)

    assert ours["format"] == "gguf" and ours["gguf_version"] == 3
    h = ours["hparams"]
    assert h["architecture"] == "llama" and h["supported"]
    assert h["block_count"] == 30
    assert h["vocab_size"] == 49152
    assert h["embedding_length"] == 576
    assert h["head_count"] == 9 and h["head_count_kv"] == 3
    assert h["tied_embeddings"] is True

    assert ours["totals"]["tensors"] == len(reader.tensors) == 272
    assert ours["totals"]["bytes"] == sum(int(t.n_bytes) for t in reader.tensors)
    assert ours["totals"]["parameters"] == sum(int(t.n_elements) for t in reader.tensors)
    by_name = {t["name"]: t for t in ours["tensors"]}
    for t in reader.tensors:
        mine = by_name[t.name]
        assert mine["type"] == t.tensor_type.name
        assert mine["shape"] == [int(d) for d in t.shape]
        assert mine["bytes"] == int(t.n_bytes)
    assert ours["file_bytes"] == os.path.getsize(smollm2_gguf)

    tok = ours["tokenizer"]
    assert tok["model"] == reader.fields["tokenizer.ggml.model"].contents() == "gpt2"
    assert tok["vocab_size"] == len(reader.fields["tokenizer.ggml.tokens"].data) == 49152
    assert tok["merges"] == len(reader.fields["tokenizer.ggml.merges"].data)
    assert tok["chat_template"] is True
    specials = {s["role"]: s for s in tok["special_tokens"]}
    assert specials["eos"]["id"] == reader.fields["tokenizer.ggml.eos_token_id"].contents()
    assert specials["eos"]["text"] == "<|im_end|>"


def test_gemma3_matches_gguf_py(lp_bin, gemma3_gguf):
    ours = inspect_json(lp_bin, gemma3_gguf)
    reader = GGUFReader(gemma3_gguf)
    h = ours["hparams"]
    assert h["architecture"] == "gemma3" and h["supported"]
    assert h["block_count"] == reader.fields["gemma3.block_count"].contents() == 18
    assert h["vocab_size"] == len(reader.fields["tokenizer.ggml.tokens"].data) == 262144
    assert h["key_length"] == 256
    assert ours["file_type"] == "Q4_K_M"
    assert ours["totals"]["tensors"] == len(reader.tensors)
    assert ours["totals"]["bytes"] == sum(int(t.n_bytes) for t in reader.tensors)
    assert ours["totals"]["parameters"] == sum(int(t.n_elements) for t in reader.tensors)
    types = {t["type"] for t in ours["tensors"]}
    assert {"Q4_K", "Q6_K"} <= types  # K-quants where rows allow, as llama-quantize chose
    assert ours["tokenizer"]["model"] == "llama"


def test_smollm2_text_report(lp_bin, smollm2_gguf):
    out = run([lp_bin, "inspect", smollm2_gguf]).stdout
    assert "llama (Llama 2/3.x, SmolLM2)" in out
    assert "layers              30" in out
    assert "blk.29.ffn_down.weight" in out
    assert "bits per weight" in out


def make_hf_dir(path, config, tensors):
    path.mkdir()
    (path / "config.json").write_text(json.dumps(config))
    save_file(tensors, str(path / "model.safetensors"))
    return path


TINY_LLAMA = {"model_type": "llama", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 32,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}


def test_hf_directory_written_by_safetensors(tmp_path, lp_bin):
    rng = np.random.default_rng(0)
    tensors = {
        "model.embed_tokens.weight": rng.standard_normal((64, 16)).astype(np.float16),
        "model.layers.0.mlp.up_proj.weight": rng.standard_normal((32, 16)).astype(np.float32),
        "model.norm.weight": np.ones(16, dtype=np.float32),
        "lm_head.weight": rng.standard_normal((64, 16)).astype(np.float16),
    }
    d = make_hf_dir(tmp_path / "tiny", TINY_LLAMA, tensors)
    ours = inspect_json(lp_bin, d)
    assert ours["format"] == "huggingface"
    assert ours["hparams"]["block_count"] == 2 and ours["hparams"]["key_length"] == 4
    got = {t["name"]: t for t in ours["tensors"]}
    assert set(got) == set(tensors)
    for name, arr in tensors.items():
        assert got[name]["shape"] == list(arr.shape)
        assert got[name]["type"] == {"float16": "F16", "float32": "F32"}[arr.dtype.name]
        assert got[name]["bytes"] == arr.nbytes
    assert ours["totals"]["parameters"] == sum(a.size for a in tensors.values())
    assert ours["tokenizer"] is None


def test_sharded_hf_directory(tmp_path, lp_bin):
    d = tmp_path / "sharded"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(TINY_LLAMA))
    a = {"x": np.zeros((2, 3), dtype=np.float32)}
    b = {"y": np.zeros((5,), dtype=np.float16)}
    save_file(a, str(d / "model-00001-of-00002.safetensors"))
    save_file(b, str(d / "model-00002-of-00002.safetensors"))
    (d / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors"}}))
    ours = inspect_json(lp_bin, d)
    assert len(ours["files"]) == 2
    assert ours["totals"]["bytes"] == 24 + 10


def expect_clean_error(lp_bin, path, fragment):
    result = run([lp_bin, "inspect", str(path)], check=False)
    assert result.returncode == 2, result
    assert result.stdout == "", "no partial output on error"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


def test_errors_are_one_sentence_and_exit_2(tmp_path, lp_bin, smollm2_gguf, fixtures_dir):
    expect_clean_error(lp_bin, tmp_path / "missing.gguf", "does not exist")
    expect_clean_error(lp_bin, tmp_path, "no config.json")

    data = open(smollm2_gguf, "rb").read()
    for cut in (0, 3, 10, 24, 1000, 100_000, 2_000_000, len(data) - 1):
        p = tmp_path / f"cut{cut}.gguf"
        p.write_bytes(data[:cut])
        expect_clean_error(lp_bin, p, str(p))

    p = tmp_path / "magic.gguf"
    p.write_bytes(b"GGML" + data[4:4096])
    expect_clean_error(lp_bin, p, "not a GGUF file")

    p = tmp_path / "version.gguf"
    p.write_bytes(data[:4] + (7).to_bytes(4, "little") + data[8:4096])
    expect_clean_error(lp_bin, p, "version 7")

    p = tmp_path / "count.gguf"
    p.write_bytes(data[:8] + (2**62).to_bytes(8, "little") + data[16:])
    expect_clean_error(lp_bin, p, "claims")

    d = tmp_path / "mistral"
    d.mkdir()
    shutil.copy(fixtures_dir / "hf_configs" / "mistral-unsupported.json", d / "config.json")
    expect_clean_error(lp_bin, d, "model_type 'mistral' is not supported")

    p = tmp_path / "bad.safetensors.d"
    p.mkdir()
    (p / "config.json").write_text(json.dumps(TINY_LLAMA))
    (p / "model.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{}")
    expect_clean_error(lp_bin, p, "header claims")


def test_usage_errors_exit_2(lp_bin):
    assert run([lp_bin], check=False).returncode == 2
    assert run([lp_bin, "inspect"], check=False).returncode == 2
    assert run([lp_bin, "no-such-command"], check=False).returncode == 2
    help_text = run([lp_bin, "--help"]).stdout
    assert "inspect" in help_text


def test_importance_matrix_is_inspected_not_refused(tmp_path, lp_bin):
    from gguf import GGUFWriter

    path = tmp_path / "imatrix.gguf"
    w = GGUFWriter(str(path), arch="llama")
    w.kv_data[0].pop("general.architecture", None)
    w.add_type("imatrix")
    w.add_tensor("blk.0.attn_q.weight.in_sum2", np.ones(64, np.float32))
    w.add_tensor("blk.0.attn_q.weight.counts", np.ones(1, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    ours = inspect_json(lp_bin, path)
    assert ours["gguf_type"] == "imatrix" and ours["hparams"]["architecture"] == ""
    assert ours["totals"]["tensors"] == 2 and ours["tokenizer"] is None
    assert "imatrix (not a model)" in run([lp_bin, "inspect", str(path)]).stdout
