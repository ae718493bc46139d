"""An independent NumPy forward pass of a quantized GGUF model: weights dequantized by gguf-py,
everything else in float32 with no activation quantization (llama.cpp and our engine round
activations to 8 bits before quantized dot products). This is the model the file describes,
computed as exactly as float32 allows (float64 agrees to a KL of 1e-10 on SmolLM2), and so the
judge of how closely each engine reproduces it.

Architectures: llama (SmolLM2, Llama 2/3), gemma3, qwen3moe and gpt-oss, laid out as llama.cpp's converter writes
them (llama: Q/K rows permuted for llama.cpp's adjacent-pair RoPE; gemma3: rotate-half RoPE,
norm weights stored with their +1; qwen3moe: rotate-half RoPE, QK-norm, experts stacked
[expert][row][column] with the router in ffn_gate_inp; gpt-oss: biases, attention sinks, sliding
window on even layers, YaRN, clamped SwiGLU)."""
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


def _rope_tables(n, dim, theta, factors=None):
    """factors: Llama 3.1's rope_freqs (each pair's frequency divided by its factor)."""
    inv = theta ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    if factors is not None:
        inv = inv / factors.astype(np.float64)
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


def _attention(q, k, v, scale, window=None, sinks=None):
    """Causal attention; `sinks` (one logit per head, gpt-oss) join each softmax's denominator."""
    n, heads, hd = q.shape
    group = heads // k.shape[1]
    k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    masked = j > i
    if window:
        masked |= (i - j) >= window
    s = np.einsum("qhd,khd->hqk", q, k) * DT(scale)
    s[:, masked] = -np.inf
    if sinks is None:
        p = _softmax_rows(s)
    else:
        s = np.concatenate([s, np.broadcast_to(sinks[:, None, None], (heads, n, 1))], axis=-1)
        p = _softmax_rows(s)[..., :-1]
    return np.einsum("hqk,khd->qhd", p, v).reshape(n, heads * v.shape[-1])


def _yarn_tables(n, dim, m, truncate):
    """YaRN's cos/sin (rotate-half pairs), transformers' formula; truncate rounds the ramp's
    ends out to whole dimensions, as llama.cpp always does."""
    base, factor = m.key("rope.freq_base"), m.key("rope.scaling.factor", 1.0)
    original = m.key("rope.scaling.original_context_length")
    beta_fast, beta_slow = m.key("rope.scaling.yarn_beta_fast", 32.0), m.key("rope.scaling.yarn_beta_slow", 1.0)
    pos = base ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    if m.key("rope.scaling.type") != "yarn":
        ang = np.arange(n, dtype=np.float64)[:, None] / pos
        return np.cos(ang).astype(DT)[:, None, :], np.sin(ang).astype(DT)[:, None, :]
    corr = lambda rot: dim * np.log(original / (rot * 2 * np.pi)) / (2 * np.log(base))  # noqa: E731
    low, high = corr(beta_fast), corr(beta_slow)
    if truncate:
        low, high = np.floor(low), np.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    ramp = np.clip((np.arange(dim // 2) - low) / (high - low if high != low else 0.001), 0, 1)
    inv = (1 / (factor * pos)) * ramp + (1 / pos) * (1 - ramp)
    ang = np.arange(n, dtype=np.float64)[:, None] * inv
    mscale = 0.1 * np.log(factor) + 1.0
    return (np.cos(ang) * mscale).astype(DT)[:, None, :], (np.sin(ang) * mscale).astype(DT)[:, None, :]


def _gpt_oss_moe(x, logits, used, w, p, seen, alpha=1.702, limit=7.0):
    """gpt-oss's feed-forward: the `used` largest router logits, softmax over them, each chosen
    expert's biased gate/up, SwiGLU clamped at `limit`, biased down projection."""
    gate, up, down = w[p + "ffn_gate_exps.weight"], w[p + "ffn_up_exps.weight"], w[p + "ffn_down_exps.weight"]
    gb, ub, db = w[p + "ffn_gate_exps.bias"], w[p + "ffn_up_exps.bias"], w[p + "ffn_down_exps.bias"]
    out = np.zeros_like(x)
    for t in range(len(x)):
        chosen = np.argsort(-logits[t], kind="stable")[:used]
        weights = _softmax_rows(logits[t, chosen][None])[0]
        for e, wt in zip(chosen, weights):
            seen("ffn_gate_exps.weight", x[t][None], e)
            seen("ffn_up_exps.weight", x[t][None], e)
            g = np.minimum(gate[e] @ x[t] + gb[e], DT(limit))
            u = np.clip(up[e] @ x[t] + ub[e], DT(-limit), DT(limit))
            f = g / (1 + np.exp(-alpha * g)) * (u + 1)
            seen("ffn_down_exps.weight", f[None], e)
            out[t] += DT(wt) * (down[e] @ f + db[e])
    return out


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def _seen_all(seen, prefix, kinds, x):
    for kind in kinds:
        seen(f"{prefix}{kind}.weight", x)


def _moe(x, probs, used, gate, up, down, seen):
    """Qwen3-MoE's feed-forward: each token's `used` most probable experts (stable order on
    ties), their probabilities renormalized, the weighted sum of their SwiGLU outputs."""
    out = np.zeros_like(x)
    for t in range(len(x)):
        chosen = np.argsort(-probs[t], kind="stable")[:used]
        weights = probs[t, chosen] / probs[t, chosen].sum()
        for e, wt in zip(chosen, weights):
            seen("ffn_gate_exps.weight", x[t][None], e)
            seen("ffn_up_exps.weight", x[t][None], e)
            g = gate[e] @ x[t]
            f = (g / (1 + np.exp(-g))) * (up[e] @ x[t])
            seen("ffn_down_exps.weight", f[None], e)
            out[t] += DT(wt) * (down[e] @ f)
    return out


def log_probs(path, tokens, chunk=64, yarn_truncate=False, observe=None):
    """float32 [len(tokens), vocab] log-softmax of the next-token logits at every position.
    yarn_truncate: compute gpt-oss's YaRN ramp as llama.cpp does (rounded out), not as the model
    defines it. observe(name, rows, expert): called with every layer matrix's input rows (the
    importance matrix's data; expert is None for a plain matrix)."""
    seen = observe or (lambda name, rows, expert=None: None)
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
        cos, sin = _rope_tables(n, m.key("rope.dimension_count", hd), m.key("rope.freq_base", 10000.0),
                                w.get("rope_freqs.weight"))
        for l in range(layers):
            p = f"blk.{l}."
            x = _rms(h, w[p + "attn_norm.weight"], eps)
            _seen_all(seen, p, ["attn_q", "attn_k", "attn_v"], x)
            q = _rope_pairs((x @ w[p + "attn_q.weight"].T).reshape(n, heads, hd), cos, sin)
            k = _rope_pairs((x @ w[p + "attn_k.weight"].T).reshape(n, kv_heads, hd), cos, sin)
            v = (x @ w[p + "attn_v.weight"].T).reshape(n, kv_heads, hd)
            a = _attention(q, k, v, 1 / np.sqrt(hd))
            seen(p + "attn_output.weight", a)
            h = h + a @ w[p + "attn_output.weight"].T
            x = _rms(h, w[p + "ffn_norm.weight"], eps)
            _seen_all(seen, p, ["ffn_gate", "ffn_up"], x)
            g = x @ w[p + "ffn_gate.weight"].T
            f = (g / (1 + np.exp(-g))) * (x @ w[p + "ffn_up.weight"].T)
            seen(p + "ffn_down.weight", f)
            h = h + f @ w[p + "ffn_down.weight"].T
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
            _seen_all(seen, p, ["attn_q", "attn_k", "attn_v"], x)
            q = _rms((x @ w[p + "attn_q.weight"].T).reshape(n, heads, hd), w[p + "attn_q_norm.weight"], eps)
            k = _rms((x @ w[p + "attn_k.weight"].T).reshape(n, kv_heads, hd), w[p + "attn_k_norm.weight"], eps)
            v = (x @ w[p + "attn_v.weight"].T).reshape(n, kv_heads, hd)
            q, k = _rope_halves(q, cos, sin), _rope_halves(k, cos, sin)
            a = _attention(q, k, v, 1 / np.sqrt(hd))
            seen(p + "attn_output.weight", a)
            h = h + a @ w[p + "attn_output.weight"].T
            x = _rms(h, w[p + "ffn_norm.weight"], eps)
            seen(p + "ffn_gate_inp.weight", x)
            h = h + _moe(x, _softmax_rows(x @ w[p + "ffn_gate_inp.weight"].T), used, w[p + "ffn_gate_exps.weight"],
                         w[p + "ffn_up_exps.weight"], w[p + "ffn_down_exps.weight"], lambda kind, r, e: seen(p + kind, r, e))
    elif m.arch == "gpt-oss":
        cos, sin = _yarn_tables(n, hd, m, truncate=yarn_truncate)
        window, used = m.key("attention.sliding_window"), m.key("expert_used_count")
        for l in range(layers):
            p = f"blk.{l}."
            x = _rms(h, w[p + "attn_norm.weight"], eps)
            _seen_all(seen, p, ["attn_q", "attn_k", "attn_v"], x)
            q = (x @ w[p + "attn_q.weight"].T + w[p + "attn_q.bias"]).reshape(n, heads, hd)
            k = (x @ w[p + "attn_k.weight"].T + w[p + "attn_k.bias"]).reshape(n, kv_heads, hd)
            v = (x @ w[p + "attn_v.weight"].T + w[p + "attn_v.bias"]).reshape(n, kv_heads, hd)
            q, k = _rope_halves(q, cos, sin), _rope_halves(k, cos, sin)
            a = _attention(q, k, v, 1 / np.sqrt(hd), window if l % 2 == 0 else None, w[p + "attn_sinks.weight"])
            seen(p + "attn_output.weight", a)
            h = h + a @ w[p + "attn_output.weight"].T + w[p + "attn_output.bias"]
            x = _rms(h, w[p + "post_attention_norm.weight"], eps)
            seen(p + "ffn_gate_inp.weight", x)
            h = h + _gpt_oss_moe(x, x @ w[p + "ffn_gate_inp.weight"].T + w[p + "ffn_gate_inp.bias"], used, w, p,
                                 lambda kind, r, e: seen(p + kind, r, e))
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
