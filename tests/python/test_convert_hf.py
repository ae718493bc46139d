"""`quantize` straight from a Hugging Face directory: tensors renamed, Q/K permuted for
llama.cpp's RoPE, hyperparameters and the tokenizer carried into GGUF metadata. Checked by
running the converted file in llama.cpp: its logits must equal an independent NumPy
forward pass of the Hugging Face model (Hugging Face's rotate-half RoPE, unpermuted
weights), and its tokens must equal Hugging Face tokenizers'."""
import json
import pathlib
import shutil
import sys

import numpy as np
import pytest
from gguf import GGUFReader
from safetensors.numpy import save_file

from conftest import ROOT, inspect_json, run

llama_cpp = pytest.importorskip("llama_cpp")
tokenizers = pytest.importorskip("tokenizers")
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "tokenizer"))
import hf_reference  # noqa: E402
import llama_cpp_vocabs  # noqa: E402

CONFIG = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 512,
          "tie_word_embeddings": False}


def make_hf_model(directory, model_type, vocab_gguf, rng, bias=False):
    directory.mkdir()
    hf_reference.gguf_to_tokenizer_json(vocab_gguf, directory / "tokenizer.json")
    fields = GGUFReader(str(vocab_gguf)).fields
    tokens = fields["tokenizer.ggml.tokens"]
    bos_id = fields["tokenizer.ggml.bos_token_id"].contents()
    eos_id = fields["tokenizer.ggml.eos_token_id"].contents()
    text = lambda i: bytes(tokens.parts[tokens.data[i]]).decode()  # noqa: E731
    # The embedding covers every id the tokenizer can produce (transformers' converter may add one).
    tok_json = json.loads((directory / "tokenizer.json").read_text())
    vocab = 1 + max([len(tokens.data) - 1, *tok_json["model"]["vocab"].values(), *(a["id"] for a in tok_json["added_tokens"])])
    (directory / "tokenizer_config.json").write_text(json.dumps(
        {"bos_token": text(bos_id), "eos_token": text(eos_id), "add_bos_token": model_type == "llama"}))
    config = dict(CONFIG, model_type=model_type, vocab_size=vocab, bos_token_id=bos_id, eos_token_id=eos_id)
    (directory / "config.json").write_text(json.dumps(config))
    e, f, hd = CONFIG["hidden_size"], CONFIG["intermediate_size"], CONFIG["hidden_size"] // CONFIG["num_attention_heads"]
    kv = CONFIG["num_key_value_heads"] * hd
    w = lambda *s: (rng.standard_normal(s) * 0.1).astype(np.float32)  # noqa: E731
    t = {"model.embed_tokens.weight": w(vocab, e), "model.norm.weight": 1 + w(e), "lm_head.weight": w(vocab, e)}
    for l in range(CONFIG["num_hidden_layers"]):
        p = f"model.layers.{l}."
        t |= {p + "input_layernorm.weight": 1 + w(e), p + "post_attention_layernorm.weight": 1 + w(e),
              p + "self_attn.q_proj.weight": w(e, e), p + "self_attn.k_proj.weight": w(kv, e),
              p + "self_attn.v_proj.weight": w(kv, e), p + "self_attn.o_proj.weight": w(e, e),
              p + "mlp.gate_proj.weight": w(f, e), p + "mlp.up_proj.weight": w(f, e), p + "mlp.down_proj.weight": w(e, f)}
        if bias:
            t |= {p + "self_attn.q_proj.bias": w(e), p + "self_attn.k_proj.bias": w(kv), p + "self_attn.v_proj.bias": w(kv)}
    save_file(t, str(directory / "model.safetensors"))
    return {k: v.astype(np.float64) for k, v in t.items()}, config


def reference_logits(t, config, ids):
    """Hugging Face's Llama/Qwen2 forward pass, in float64."""
    e, heads, kv_heads = config["hidden_size"], config["num_attention_heads"], config["num_key_value_heads"]
    hd, eps = e // heads, config["rms_norm_eps"]
    rms = lambda x, g: x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g  # noqa: E731
    pos = np.arange(len(ids))
    inv = 1.0 / config["rope_theta"] ** (np.arange(0, hd, 2) / hd)
    ang = np.concatenate([pos[:, None] * inv] * 2, axis=-1)[:, None, :]

    def rope(x):
        rot = np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], axis=-1)
        return x * np.cos(ang) + rot * np.sin(ang)

    def proj(x, name):
        y = x @ t[name + ".weight"].T
        return y + t[name + ".bias"] if name + ".bias" in t else y

    h = t["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((len(ids), len(ids)), -np.inf), 1)
    for l in range(config["num_hidden_layers"]):
        p = f"model.layers.{l}."
        a = rms(h, t[p + "input_layernorm.weight"])
        q = rope(proj(a, p + "self_attn.q_proj").reshape(len(ids), heads, hd))
        k = rope(proj(a, p + "self_attn.k_proj").reshape(len(ids), kv_heads, hd))
        v = proj(a, p + "self_attn.v_proj").reshape(len(ids), kv_heads, hd)
        k, v = np.repeat(k, heads // kv_heads, axis=1), np.repeat(v, heads // kv_heads, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(hd) + mask
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        h = h + proj(np.einsum("hqk,khd->qhd", probs, v).reshape(len(ids), e), p + "self_attn.o_proj")
        m = rms(h, t[p + "post_attention_layernorm.weight"])
        gate = proj(m, p + "mlp.gate_proj")
        h = h + proj(gate / (1 + np.exp(-gate)) * proj(m, p + "mlp.up_proj"), p + "mlp.down_proj")
    return rms(h, t["model.norm.weight"]) @ t["lm_head.weight"].T


@pytest.mark.parametrize("model_type, vocab, pre, bias", [("llama", "llama-bpe", "llama-bpe", False),
                                                           ("qwen2", "qwen2", "qwen2", True)])
def test_converted_model_runs_in_llama_cpp_like_transformers(tmp_path, lp_bin, model_type, vocab, pre, bias):
    vocab_gguf = llama_cpp_vocabs.vocab_dir() / f"ggml-vocab-{vocab}.gguf"
    weights, config = make_hf_model(tmp_path / "hf", model_type, vocab_gguf, np.random.default_rng(1), bias)
    out = tmp_path / "model-f32.gguf"
    run([lp_bin, "quantize", str(tmp_path / "hf"), "-m", "F32", "-o", str(out)])

    info = inspect_json(lp_bin, out)
    assert info["hparams"]["architecture"] == model_type and info["hparams"]["block_count"] == 2
    assert info["tokenizer"]["model"] == "gpt2" and info["tokenizer"]["pre_tokenizer"] == pre

    hf_tok = tokenizers.Tokenizer.from_file(str(tmp_path / "hf" / "tokenizer.json"))
    model = llama_cpp.Llama(model_path=str(out), n_ctx=64, logits_all=True, n_threads=2, verbose=False)
    for text in ["Hello world! 12345 numbers", "  spaces\tand\nnewlines", "naïve café — 東京 🙂"]:
        assert model.tokenize(text.encode(), add_bos=False, special=False) == hf_tok.encode(text, add_special_tokens=False).ids

    ids = hf_tok.encode("The quick brown fox jumps over the lazy dog", add_special_tokens=False).ids
    model.reset()
    model.eval(ids)
    ours = np.array(model.scores[: len(ids)], dtype=np.float64)
    expected = reference_logits(weights, config, np.array(ids))
    assert np.abs(ours - expected).max() < 1e-3 * np.abs(expected).max()
    assert (ours.argmax(-1) == expected.argmax(-1)).all()


def test_unsupported_checkpoints_are_explained(tmp_path, lp_bin):
    d = tmp_path / "gemma"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "gemma3_text", "vocab_size": 8, "hidden_size": 4,
                                               "intermediate_size": 8, "num_hidden_layers": 1,
                                               "num_attention_heads": 1, "num_key_value_heads": 1, "head_dim": 4}))
    save_file({"model.embed_tokens.weight": np.zeros((8, 4), np.float32)}, str(d / "model.safetensors"))
    result = run([lp_bin, "quantize", str(d), "-m", "Q8_0", "-o", str(tmp_path / "x.gguf")], check=False)
    assert result.returncode == 2 and "gemma3" in result.stderr and "not supported yet" in result.stderr
