"""An independent NumPy forward pass of a quantized GGUF model: weights dequantized by gguf-py,
everything else in float32 with no activation quantization (llama.cpp and our engine round
activations to 8 bits before quantized dot products). This is the model the file describes,
computed as exactly as float32 allows (float64 agrees to a KL of 1e-10 on SmolLM2), and so the
judge of how closely each engine reproduces it.

Architectures: llama (SmolLM2, Llama 2/3), gemma3 and qwen3moe, laid out as llama.cpp's converter writes
them (llama: Q/K rows permuted for llama.cpp's adjacent-pair RoPE; gemma3: rotate-half RoPE,
norm weights stored with their +1; qwen3moe: rotate-half RoPE, QK-norm, experts stacked
[expert][row][column] with the router in ffn_gate_inp)."""
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

DT = np.float32


class GgufModel:
    def __init__(self, path):
        reader = GGUFReader(str(path))
        self.meta = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("tokenizer.")}
        self.arch = self.meta["general.architecture"]
        self.w = {}
        for t in reader.tensors:
            shape = [int(x) for x in reversed(t.shape)]
            self.w[t.name] = dequantize(t.data, t.tensor_type).reshape(shape).astype(DT, copy=False)

    def key(self, name, default=None):
        return self.meta.get(f"{self.arch}.{name}", default)


def _rms(x, g, eps):
    x64 = x.astype(np.float64)
    return (x64 / np.sqrt((x64 * x64).mean(-1, keepdims=True) + eps)).astype(DT) * g


def _softmax_rows(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def _rope_tables(n, dim, theta):
    inv = theta ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    ang = np.arange(n, dtype=np.float64)[:, None] * inv
    return np.cos(ang).astype(DT)[:, None, :], np.sin(ang).astype(DT)[:, None, :]


def _rope_pairs(x, cos, sin):  # llama.cpp's "normal" RoPE: dimensions (2i, 2i+1)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y = np.empty_like(x)
    y[..., 0::2] = x0 * cos - x1 * sin
    y[..., 1::2] = x0 * sin + x1 * cos
    return y


def _rope_halves(x, cos, sin):  # NeoX / Hugging Face rotate-half: dimensions (i, i + d/2)
    h = x.shape[-1] // 2
    x0, x1 = x[..., :h], x[..., h:]
    return np.concatenate([x0 * cos - x1 * sin, x0 * sin + x1 * cos], axis=-1)


def _attention(q, k, v, scale, window=None):
    n, heads, hd = q.shape
    group = heads // k.shape[1]
    k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    masked = j > i
    if window:
        masked |= (i - j) >= window
    s = np.einsum("qhd,khd->hqk", q, k) * DT(scale)
    s[:, masked] = -np.inf
    return np.einsum("hqk,khd->qhd", _softmax_rows(s), v).reshape(n, heads * v.shape[-1])


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def _moe(x, probs, used, gate, up, down):
    """Qwen3-MoE's feed-forward: each token's `used` most probable experts (stable order on
    ties), their probabilities renormalized, the weighted sum of their SwiGLU outputs."""
    out = np.zeros_like(x)
    for t in range(len(x)):
        chosen = np.argsort(-probs[t], kind="stable")[:used]
        weights = probs[t, chosen] / probs[t, chosen].sum()
        for e, wt in zip(chosen, weights):
            g = gate[e] @ x[t]
            out[t] += DT(wt) * (down[e] @ ((g / (1 + np.exp(-g))) * (up[e] @ x[t])))
    return out


def log_probs(path, tokens, chunk=64):
    """float32 [len(tokens), vocab] log-softmax of the next-token logits at every position."""
    m = GgufModel(path)
    ids = np.asarray(tokens)
    n = len(ids)
    w = m.w
    layers, heads, kv_heads = m.key("block_count"), m.key("attention.head_count"), m.key("attention.head_count_kv")
    eps = m.key("attention.layer_norm_rms_epsilon")
    emb = m.key("embedding_length")
    hd = m.key("attention.key_length", emb // heads)
    h = w["token_embd.weight"][ids].copy()
    if m.arch == "llama":
        cos, sin = _rope_tables(n, m.key("rope.dimension_count", hd), m.key("rope.freq_base", 10000.0))
        for l in range(layers):
            p = f"blk.{l}."
            x = _rms(h, w[p + "attn_norm.weight"], eps)
            q = _rope_pairs((x @ w[p + "attn_q.weight"].T).reshape(n, heads, hd), cos, sin)
            k = _rope_pairs((x @ w[p + "attn_k.weight"].T).reshape(n, kv_heads, hd), cos, sin)
            v = (x @ w[p + "attn_v.weight"].T).reshape(n, kv_heads, hd)
            h = h + _attention(q, k, v, 1 / np.sqrt(hd)) @ w[p + "attn_output.weight"].T
            x = _rms(h, w[p + "ffn_norm.weight"], eps)
            g = x @ w[p + "ffn_gate.weight"].T
            h = h + ((g / (1 + np.exp(-g))) * (x @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
    elif m.arch == "gemma3":
        assert m.key("final_logit_softcapping") is None, "soft-capping is not implemented here"
        h = h * DT(np.sqrt(emb))
        window, period = m.key("attention.sliding_window"), m.key("attention.sliding_window_pattern", 6)
        glob = _rope_tables(n, hd, m.key("rope.freq_base", 1000000.0))
        local = _rope_tables(n, hd, m.key("rope.freq_base_swa", 10000.0))
        for l in range(layers):
            p = f"blk.{l}."
            swa = bool(window) and l % period < period - 1
            cos, sin = local if swa else glob
            x = _rms(h, w[p + "attn_norm.weight"], eps)
            q = _rms((x @ w[p + "attn_q.weight"].T).reshape(n, heads, hd), w[p + "attn_q_norm.weight"], eps)
            k = _rms((x @ w[p + "attn_k.weight"].T).reshape(n, kv_heads, hd), w[p + "attn_k_norm.weight"], eps)
            v = (x @ w[p + "attn_v.weight"].T).reshape(n, kv_heads, hd)
            q, k = _rope_halves(q, cos, sin), _rope_halves(k, cos, sin)
            a = _attention(q, k, v, 1 / np.sqrt(hd), window if swa else None) @ w[p + "attn_output.weight"].T
            h = h + _rms(a, w[p + "post_attention_norm.weight"], eps)
            x = _rms(h, w[p + "ffn_norm.weight"], eps)
            f = (_gelu_tanh(x @ w[p + "ffn_gate.weight"].T) * (x @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
            h = h + _rms(f, w[p + "post_ffw_norm.weight"], eps)
    elif m.arch == "qwen3moe":
        cos, sin = _rope_tables(n, hd, m.key("rope.freq_base", 10000.0))
        used = m.key("expert_used_count")
        for l in range(layers):
            p = f"blk.{l}."
            x = _rms(h, w[p + "attn_norm.weight"], eps)
            q = _rms((x @ w[p + "attn_q.weight"].T).reshape(n, heads, hd), w[p + "attn_q_norm.weight"], eps)
            k = _rms((x @ w[p + "attn_k.weight"].T).reshape(n, kv_heads, hd), w[p + "attn_k_norm.weight"], eps)
            v = (x @ w[p + "attn_v.weight"].T).reshape(n, kv_heads, hd)
            q, k = _rope_halves(q, cos, sin), _rope_halves(k, cos, sin)
            h = h + _attention(q, k, v, 1 / np.sqrt(hd)) @ w[p + "attn_output.weight"].T
            x = _rms(h, w[p + "ffn_norm.weight"], eps)
            h = h + _moe(x, _softmax_rows(x @ w[p + "ffn_gate_inp.weight"].T), used, w[p + "ffn_gate_exps.weight"],
                         w[p + "ffn_up_exps.weight"], w[p + "ffn_down_exps.weight"])
    else:
        raise NotImplementedError(f"no NumPy forward pass for {m.arch}")
    h = _rms(h, w["output_norm.weight"], eps)
    out = w.get("output.weight", w["token_embd.weight"])
    result = np.empty((n, out.shape[0]), dtype=np.float32)
    for s in range(0, n, chunk):
        logits = (h[s:s + chunk] @ out.T).astype(np.float64)
        logits -= logits.max(-1, keepdims=True)
        result[s:s + chunk] = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return result
