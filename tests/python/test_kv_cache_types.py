"""The quantized KV cache (`--kv-type q8_0|q4_0`, llama.cpp's --cache-type-k/-v): what it
computes, what it saves, and that the memory model counts it.

Reference: the NumPy forward pass (gguf_numpy_forward.py) with every key and value row sent
through gguf-py's own Q8_0 / Q4_0 quantizer and back before attention, i.e. llama.cpp's
rounding. Quantized caches are chaotic at the level of single roundings: moving every key
and value by one part in a million flips enough of them to move SmolLM2's log-probabilities by
a KL-divergence of 8e-5 (q8_0) and 0.014 (q4_0) against the unperturbed run (measured, bench/RESULTS.md).
Ours and NumPy differ in the last bits of every key (summation order), which is such a
perturbation: ours lands 0.3-0.5 x the rounding's own effect away from the same-rounding
reference for q8_0 (0.2 x for q4_0), as NumPy perturbed by 1e-6 does. So the checks are
statistical: ours must be closer to the same-rounding reference than the rounding's whole effect,
and the effect we see (ours against the float32 reference) must be the reference's own within 20%
(measured: within 2-6%). Truncating instead of rounding, a wrong scale or blocks laid across
heads move the effect by far more. The rounding's bytes themselves are checked exactly in the
unit tests (KvRows.*: a hand-checked Q4_0 block; Q8_0 rows are the activation quantizer's,
ggml's quantize_row_q8_0_ref, KernelActivations.*)."""
import json

import numpy as np
import pytest

from conftest import run
import gguf_numpy_forward
from test_engine_llamacpp import wikitext_path

TOKENS = 100
DECODE_FROM = 80  # the last 20 positions go one at a time through the cache
CACHE_BYTES_PER_32 = {"f16": 64, "f32": 128, "q8_0": 34, "q4_0": 18}


def mean_kld(p_log, q_log):
    p_log, q_log = p_log.astype(np.float64), q_log.astype(np.float64)
    return float(np.mean(np.sum(np.exp(p_log) * (p_log - q_log), axis=-1)))


@pytest.fixture(scope="module")
def token_ids(lp_bin, smollm2_gguf, tmp_path_factory):
    text = wikitext_path().read_text(encoding="utf-8")[20000:22000]
    ids = json.loads(run([lp_bin, "tokenize", smollm2_gguf, "--text", text, "--json"]).stdout)[0]["ids"][:TOKENS]
    assert len(ids) == TOKENS
    path = tmp_path_factory.mktemp("kv") / "ids.txt"
    path.write_text(" ".join(map(str, ids)))
    return ids, path


def reference(model, ids, round_trip):
    """NumPy log-probs with keys and values passed through round_trip before attention."""
    plain = gguf_numpy_forward._attention

    def attention(q, k, v, scale, **kw):
        return plain(q, round_trip(k), round_trip(v), scale, **kw)

    gguf_numpy_forward._attention = attention
    try:
        return gguf_numpy_forward.log_probs(model, ids)
    finally:
        gguf_numpy_forward._attention = plain


@pytest.fixture(scope="module")
def float_reference(smollm2_gguf, token_ids):
    return reference(smollm2_gguf, token_ids[0], lambda x: x)


@pytest.mark.parametrize("kv_type", ["q8_0", "q4_0"])
def test_quantized_cache_rounds_as_llama_cpp(lp_bin, smollm2_gguf, token_ids, float_reference, kv_type, tmp_path):
    from gguf import GGMLQuantizationType, quants

    qtype = GGMLQuantizationType[kv_type.upper()]

    def ggml_round_trip(x):
        return quants.dequantize(quants.quantize(x, qtype), qtype).reshape(x.shape).astype(np.float32)

    same_rounding = reference(smollm2_gguf, token_ids[0], ggml_round_trip)
    out = tmp_path / "ours.npy"
    run([lp_bin, "logits", smollm2_gguf, "--tokens", str(token_ids[1]), "--kv-type", kv_type, "--activations", "f32",
         "--decode-from", str(DECODE_FROM), "-t", "2", "--out", str(out)])
    ours = np.load(out)
    effect = mean_kld(float_reference, same_rounding)
    ours_effect = mean_kld(float_reference, ours)
    distance = mean_kld(same_rounding, ours)
    print(f"{kv_type}: reference effect {effect:.3e}, ours {ours_effect:.3e}, ours vs same rounding {distance:.3e}")
    assert effect > 1e-5  # the rounding matters at all
    assert distance < effect
    assert ours_effect == pytest.approx(effect, rel=0.2)


def test_float32_cache_equals_the_reference(lp_bin, smollm2_gguf, token_ids, float_reference, tmp_path):
    # The scale for the checks above: without rounding, ours and NumPy agree to float noise.
    out = tmp_path / "ours.npy"
    run([lp_bin, "logits", smollm2_gguf, "--tokens", str(token_ids[1]), "--kv-type", "f32", "--activations", "f32",
         "--decode-from", str(DECODE_FROM), "-t", "2", "--out", str(out)])
    assert abs(mean_kld(float_reference, np.load(out))) < 1e-6


@pytest.mark.parametrize("kv_type", ["f32", "q8_0", "q4_0"])
def test_cache_bytes_are_predicted_and_allocated(lp_bin, smollm2_gguf, kv_type):
    # SmolLM2: 30 layers x 3 KV heads x 64-value rows, K and V: f16 holds 64 bytes per 32 values,
    # q8_0 34 (32 bytes and a float16 scale), q4_0 18.
    ctx = 1024
    f16_bytes = 30 * 3 * 2 * 64 * 2 * ctx
    fit = json.loads(run([lp_bin, "fit", smollm2_gguf, "--json", "-c", str(ctx), "--kv-type", kv_type,
                          "--device", "iphone-12"]).stdout)
    predicted = {t["name"]: t["bytes"] for t in fit["memory"]["terms"]}["kv_cache"]
    rows = json.loads(run([lp_bin, "bench", smollm2_gguf, "-c", str(ctx), "-p", "16", "-n", "4", "-r", "1", "-t", "2",
                           "--kv-type", kv_type, "-o", "json"]).stdout)
    assert fit["settings"]["kv_type"] == kv_type and rows[0]["type_k"] == rows[0]["type_v"] == kv_type
    assert rows[0]["kv_cache_bytes"] == predicted == f16_bytes * CACHE_BYTES_PER_32[kv_type] // 64


def test_an_unknown_cache_type_is_refused_with_the_known_ones(lp_bin, smollm2_gguf):
    bad = run([lp_bin, "bench", smollm2_gguf, "--kv-type", "q5_0"], check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip() == "error: --kv-type: q5_0 not in {f16,f32,q8_0,q4_0} (see --help)"
