"""Mixture-of-experts models against llama.cpp (llama-cpp-python): a random-weight Qwen3-MoE big
enough for K-quants (hidden 256, 8 experts of width 256, 2 used), written here as a Hugging Face
directory with NumPy, converted and quantized by our tool and by llama.cpp's llama_model_quantize.

- The quantization plan of every level equals llama-quantize's on the same F16 file (tensor
  types and sizes, experts' stacked tensors included).
- Log-probabilities over 512 WikiText-2 tokens: ours against llama.cpp and against an exact
  NumPy forward pass, with the bounds of test_engine_llamacpp.compare (llama.cpp's own f16-KV vs
  f32-KV spread), on our Q4_K_M and Q8_0 files and on the Q4_K_M that llama.cpp wrote."""
import json
import shutil

import numpy as np
import pytest
from gguf import GGUFReader
from safetensors.numpy import save_file

from conftest import run

llama_cpp = pytest.importorskip("llama_cpp")
from test_engine_llamacpp import compare  # noqa: E402
from test_quantize_llamacpp import FILE_TYPES, llama_cpp_quantize  # noqa: E402

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, LAYERS = 256, 4, 2, 64, 2
EXPERTS, USED, EXPERT_WIDTH = 8, 2, 256
PLAN_METHODS = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_K_S", "Q3_K_M", "Q3_K_S", "Q2_K", "Q4_0"]


def small_moe_weights(vocab, seed=7):
    """Normal weights scaled by 1/sqrt(fan-in) (embeddings and output wider, so the logits spread a
    few nats), norm weights near 1, a router with spread enough that the choice of experts varies."""
    rng = np.random.default_rng(seed)

    def normal(*shape, std):
        return (std * rng.standard_normal(shape)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    w = {"model.embed_tokens.weight": normal(vocab, HIDDEN, std=1.0), "lm_head.weight": normal(vocab, HIDDEN, std=0.12),
         "model.norm.weight": norm(HIDDEN)}
    fan = HIDDEN ** -0.5
    for layer in range(LAYERS):
        p = f"model.layers.{layer}."
        w |= {p + "input_layernorm.weight": norm(HIDDEN), p + "post_attention_layernorm.weight": norm(HIDDEN),
              p + "self_attn.q_proj.weight": normal(HEADS * HEAD_DIM, HIDDEN, std=fan),
              p + "self_attn.k_proj.weight": normal(KV_HEADS * HEAD_DIM, HIDDEN, std=fan),
              p + "self_attn.v_proj.weight": normal(KV_HEADS * HEAD_DIM, HIDDEN, std=fan),
              p + "self_attn.o_proj.weight": normal(HIDDEN, HEADS * HEAD_DIM, std=(HEADS * HEAD_DIM) ** -0.5),
              p + "self_attn.q_norm.weight": norm(HEAD_DIM), p + "self_attn.k_norm.weight": norm(HEAD_DIM),
              p + "mlp.gate.weight": normal(EXPERTS, HIDDEN, std=2 * fan)}
        for e in range(EXPERTS):
            q = f"{p}mlp.experts.{e}."
            w |= {q + "gate_proj.weight": normal(EXPERT_WIDTH, HIDDEN, std=fan),
                  q + "up_proj.weight": normal(EXPERT_WIDTH, HIDDEN, std=fan),
                  q + "down_proj.weight": normal(HIDDEN, EXPERT_WIDTH, std=EXPERT_WIDTH ** -0.5)}
    return w


@pytest.fixture(scope="module")
def small_moe(tmp_path_factory, lp_bin, fixtures_dir):
    """{name: path}: the HF directory, our F16, Q8_0 and Q4_K_M files, llama.cpp's Q4_K_M."""
    base = tmp_path_factory.mktemp("small-moe")
    hf = base / "hf"
    tiny = fixtures_dir / "tiny_models" / "qwen3_moe"
    shutil.copytree(tiny, hf, ignore=shutil.ignore_patterns("model.safetensors", "reference_*"))
    config = json.loads((tiny / "config.json").read_text())
    config.update(hidden_size=HIDDEN, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM,
                  num_hidden_layers=LAYERS, num_experts=EXPERTS, num_experts_per_tok=USED,
                  moe_intermediate_size=EXPERT_WIDTH, intermediate_size=2 * EXPERT_WIDTH)
    (hf / "config.json").write_text(json.dumps(config, indent=2))
    save_file(small_moe_weights(config["vocab_size"]), str(hf / "model.safetensors"))
    files = {"hf": hf}
    for method in ["F16", "Q8_0", "Q4_K_M"]:
        files[method] = base / f"moe-{method}.gguf"
        run([lp_bin, "quantize", str(hf), "-m", method, "-o", str(files[method])])
    files["llama.cpp Q4_K_M"] = llama_cpp_quantize(files["F16"], "Q4_K_M", base / "moe-Q4_K_M-llamacpp.gguf")
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


@pytest.mark.parametrize("name", ["Q8_0", "Q4_K_M", "llama.cpp Q4_K_M"])
def test_moe_logprobs_equal_llama_cpp(tmp_path, lp_bin, small_moe, name):
    compare(lp_bin, small_moe[name], tmp_path, f"random Qwen3-MoE {name}")

