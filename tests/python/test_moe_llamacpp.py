"""Mixture-of-experts models against llama.cpp (llama-cpp-python): random-weight Qwen3-MoE and
gpt-oss models big enough for K-quants (hidden 256, 8 experts of width 256, 2 used), written
here as Hugging Face directories with NumPy, converted and quantized by our tool and by
llama.cpp's llama_model_quantize.

- The quantization plan of every level equals llama-quantize's on the same F16 file (tensor
  types and sizes, experts' stacked tensors included).
- Log-probabilities over 512 WikiText-2 tokens: ours against llama.cpp and against an exact
  NumPy forward pass, with the bounds of test_engine_llamacpp.compare (llama.cpp's own f16-KV vs
  f32-KV spread), on our Q4_K_M, Q8_0 and MXFP4_MOE files and on the Q4_K_M and MXFP4_MOE files
  llama.cpp wrote (experts in MXFP4: gpt-oss's own format).

The gpt-oss model has gpt-oss's sliding window of 128 on even layers, head 64 and theta 150000,
attention sinks of a few units and expert weights whose gate and up values sometimes pass the
SwiGLU clamp at 7. Its RoPE is plain here: gpt-oss's YaRN ramp is not rounded and llama.cpp
rounds it out to whole dimensions (ggml_rope_yarn_corr_dims), so with YaRN the two compute
different models (KL 2.6e-3 on this one, about the noise of 8-bit activations). The YaRN test
shows that: with gpt-oss's real settings ours equals the exact forward pass, and llama.cpp equals
the exact pass of the rounded ramp."""
import json
import shutil

import numpy as np
import pytest
from gguf import GGUFReader
from safetensors.numpy import save_file

from conftest import run

llama_cpp = pytest.importorskip("llama_cpp")
import gguf_numpy_forward  # noqa: E402
from test_engine_llamacpp import compare, compare_rows  # noqa: E402
from test_quantize_llamacpp import llama_cpp_quantize  # noqa: E402

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, LAYERS = 256, 4, 2, 64, 2
EXPERTS, USED, EXPERT_WIDTH = 8, 2, 256
PLAN_METHODS = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_K_S", "Q3_K_M", "Q3_K_S", "Q2_K", "Q4_0", "MXFP4_MOE"]
FAMILIES = ["qwen3_moe", "gpt_oss"]


class Weights:
    """Seeded normal weights scaled by 1/sqrt(fan-in) (embeddings and output wider, so the logits
    spread a few nats), norm weights near 1."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, *shape, std):
        return (std * self.rng.standard_normal(shape)).astype(np.float32)

    def norm(self, n):
        return (1.0 + 0.1 * self.rng.standard_normal(n)).astype(np.float32)

    def embeddings(self, vocab):
        return {"model.embed_tokens.weight": self.normal(vocab, HIDDEN, std=1.0),
                "lm_head.weight": self.normal(vocab, HIDDEN, std=0.12), "model.norm.weight": self.norm(HIDDEN)}

    def attention(self, p):
        """A layer's norms and attention projections (both families name them alike)."""
        fan = HIDDEN ** -0.5
        return {p + "input_layernorm.weight": self.norm(HIDDEN), p + "post_attention_layernorm.weight": self.norm(HIDDEN),
                p + "self_attn.q_proj.weight": self.normal(HEADS * HEAD_DIM, HIDDEN, std=fan),
                p + "self_attn.k_proj.weight": self.normal(KV_HEADS * HEAD_DIM, HIDDEN, std=fan),
                p + "self_attn.v_proj.weight": self.normal(KV_HEADS * HEAD_DIM, HIDDEN, std=fan),
                p + "self_attn.o_proj.weight": self.normal(HIDDEN, HEADS * HEAD_DIM, std=(HEADS * HEAD_DIM) ** -0.5)}


def qwen3_moe_weights(vocab, seed=7, layers=LAYERS):
    r, fan = Weights(seed), HIDDEN ** -0.5
    w = r.embeddings(vocab)
    for layer in range(layers):
        p = f"model.layers.{layer}."
        w |= r.attention(p)
        w |= {p + "self_attn.q_norm.weight": r.norm(HEAD_DIM), p + "self_attn.k_norm.weight": r.norm(HEAD_DIM),
              p + "mlp.gate.weight": r.normal(EXPERTS, HIDDEN, std=2 * fan)}
        for e in range(EXPERTS):
            q = f"{p}mlp.experts.{e}."
            w |= {q + "gate_proj.weight": r.normal(EXPERT_WIDTH, HIDDEN, std=fan),
                  q + "up_proj.weight": r.normal(EXPERT_WIDTH, HIDDEN, std=fan),
                  q + "down_proj.weight": r.normal(HIDDEN, EXPERT_WIDTH, std=EXPERT_WIDTH ** -0.5)}
    return w


def gpt_oss_weights(vocab, seed=8, layers=LAYERS):
    """As transformers saves GptOssForCausalLM: experts as [expert][in][out], gate and up alternating."""
    r, fan = Weights(seed), HIDDEN ** -0.5
    w = r.embeddings(vocab)
    for layer in range(layers):
        p = f"model.layers.{layer}."
        w |= r.attention(p)
        w |= {p + "self_attn.q_proj.bias": r.normal(HEADS * HEAD_DIM, std=0.1),
              p + "self_attn.k_proj.bias": r.normal(KV_HEADS * HEAD_DIM, std=0.1),
              p + "self_attn.v_proj.bias": r.normal(KV_HEADS * HEAD_DIM, std=0.1),
              p + "self_attn.o_proj.bias": r.normal(HIDDEN, std=0.1),
              p + "self_attn.sinks": r.normal(HEADS, std=2.0),
              p + "mlp.router.weight": r.normal(EXPERTS, HIDDEN, std=2 * fan),
              p + "mlp.router.bias": r.normal(EXPERTS, std=0.5),
              # gate/up values of a few units: SwiGLU's clamp at 7 bites now and then
              p + "mlp.experts.gate_up_proj": r.normal(EXPERTS, HIDDEN, 2 * EXPERT_WIDTH, std=3 * fan),
              p + "mlp.experts.gate_up_proj_bias": r.normal(EXPERTS, 2 * EXPERT_WIDTH, std=0.1),
              p + "mlp.experts.down_proj": r.normal(EXPERTS, EXPERT_WIDTH, HIDDEN, std=0.3 * EXPERT_WIDTH ** -0.5),
              p + "mlp.experts.down_proj_bias": r.normal(EXPERTS, HIDDEN, std=0.1)}
    return w


GPT_OSS_YARN = {"rope_type": "yarn", "rope_theta": 150000.0, "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
                "truncate": False, "original_max_position_embeddings": 4096}


def small_config(family, tiny_config, yarn=False, layers=LAYERS):
    config = dict(tiny_config, hidden_size=HIDDEN, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS,
                  head_dim=HEAD_DIM, num_hidden_layers=layers, num_experts_per_tok=USED, max_position_embeddings=131072)
    if family == "qwen3_moe":
        return config | dict(num_experts=EXPERTS, moe_intermediate_size=EXPERT_WIDTH, intermediate_size=2 * EXPERT_WIDTH)
    return config | dict(num_local_experts=EXPERTS, intermediate_size=EXPERT_WIDTH, sliding_window=128,
                         layer_types=["sliding_attention", "full_attention"] * (layers // 2),
                         rope_parameters=GPT_OSS_YARN if yarn else {"rope_type": "default", "rope_theta": 150000.0})


def write_small_model(base, family, fixtures_dir, yarn=False, layers=LAYERS):
    """A Hugging Face directory of the family, sized as above, with the tiny fixture's tokenizer."""
    hf = base / "hf"
    tiny = fixtures_dir / "tiny_models" / family
    shutil.copytree(tiny, hf, ignore=shutil.ignore_patterns("model.safetensors", "reference_*"))
    config = small_config(family, json.loads((tiny / "config.json").read_text()), yarn, layers)
    (hf / "config.json").write_text(json.dumps(config, indent=2))
    weights = qwen3_moe_weights if family == "qwen3_moe" else gpt_oss_weights
    save_file(weights(config["vocab_size"], layers=layers), str(hf / "model.safetensors"))
    return hf


@pytest.fixture(scope="module", params=FAMILIES)
def small_moe(request, tmp_path_factory, lp_bin, fixtures_dir):
    """{name: path}: the HF directory, our F16, Q8_0, Q4_K_M and MXFP4_MOE files, llama.cpp's Q4_K_M and MXFP4_MOE."""
    family = request.param
    base = tmp_path_factory.mktemp(f"small-{family}")
    hf = write_small_model(base, family, fixtures_dir)
    files = {"family": family, "hf": hf}
    for method in ["F16", "Q8_0", "Q4_K_M", "MXFP4_MOE"]:
        files[method] = base / f"{family}-{method}.gguf"
        run([lp_bin, "quantize", str(hf), "-m", method, "-o", str(files[method])])
    for method in ["Q4_K_M", "MXFP4_MOE"]:
        files[f"llama.cpp {method}"] = llama_cpp_quantize(files["F16"], method, base / f"{family}-{method}-llamacpp.gguf")
    return files


def test_expert_plan_equals_llama_quantize(tmp_path, lp_bin, small_moe):
    plans = json.loads(run([lp_bin, "quantize", str(small_moe["F16"]), "-m", ",".join(PLAN_METHODS), "--dry-run",
                            "--json"]).stdout)
    for method in PLAN_METHODS:
        reference = GGUFReader(str(llama_cpp_quantize(small_moe["F16"], method, tmp_path / f"{method}.gguf")))
        ours = plans[method]["tensors"]
        assert [t["name"] for t in ours] == [t.name for t in reference.tensors], f"{method}: tensor order"
        for mine, theirs in zip(ours, reference.tensors):
            assert (mine["type"], mine["bytes"]) == (theirs.tensor_type.name, int(theirs.n_bytes)), f"{method} {mine['name']}"
        assert any(t["name"].endswith("ffn_down_exps.weight") for t in ours)


@pytest.mark.parametrize("name", ["Q8_0", "Q4_K_M", "llama.cpp Q4_K_M", "MXFP4_MOE", "llama.cpp MXFP4_MOE"])
def test_moe_logprobs_equal_llama_cpp(tmp_path, lp_bin, small_moe, name):
    compare(lp_bin, small_moe[name], tmp_path, f"random {small_moe['family']} {name}")


def test_gpt_oss_yarn_ours_exact_llama_cpp_rounded(tmp_path, lp_bin, fixtures_dir):
    """gpt-oss's YaRN (factor 32 over 4096 positions) on the small model as F16: ours, with float32
    activations and KV cache, equals the exact forward pass of the model as gpt-oss defines it;
    llama.cpp is close to the exact pass with its rounded ramp and farther from gpt-oss's."""
    hf = write_small_model(tmp_path, "gpt_oss", fixtures_dir, yarn=True)
    gguf = tmp_path / "yarn-F16.gguf"
    run([lp_bin, "quantize", str(hf), "-m", "F16", "-o", str(gguf)])
    tokens = [1 + (i * 37) % 380 for i in range(256)]
    ids = tmp_path / "tokens.txt"
    ids.write_text(" ".join(map(str, tokens)))
    exact = gguf_numpy_forward.log_probs(gguf, tokens)
    rounded = gguf_numpy_forward.log_probs(gguf, tokens, yarn_truncate=True)
    run([lp_bin, "logits", str(gguf), "--tokens", str(ids), "-c", "256", "-t", "2", "--activations", "f32", "--kv-type",
         "f32", "--out", str(tmp_path / "ours.npy")])
    ours_kl, ours_same = compare_rows(exact, np.load(tmp_path / "ours.npy"))
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=256, n_batch=256, logits_all=True, n_threads=2, verbose=False,
                          type_k=0, type_v=0)
    llm.eval(tokens)
    theirs = np.array(llm.scores[:len(tokens)], dtype=np.float64)
    theirs -= theirs.max(-1, keepdims=True)
    theirs -= np.log(np.exp(theirs).sum(-1, keepdims=True))
    rounded_kl, _ = compare_rows(rounded, theirs)
    unrounded_kl, _ = compare_rows(exact, theirs)
    gap, _ = compare_rows(exact, rounded)
    print(f"\ngpt-oss YaRN: ours vs exact KL {ours_kl.mean():.2e} (top-1 {ours_same.mean():.4f}); llama.cpp vs exact with "
          f"its rounded ramp KL {rounded_kl.mean():.2e}, vs gpt-oss's ramp {unrounded_kl.mean():.2e}; the two ramps differ "
          f"by KL {gap.mean():.2e}")
    assert ours_kl.mean() <= 1e-5 and ours_same.mean() >= 0.99
    assert rounded_kl.mean() * 5 < unrounded_kl.mean()
