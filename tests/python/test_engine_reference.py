"""Our engine's log-probabilities equal Hugging Face transformers' on tiny random-weight models.

The fixtures (tests/fixtures/tiny_models/<arch>/, made by make_tiny_models.py) hold a complete
Hugging Face model directory, 80 token ids and transformers' float32 log_softmax of the
logits at every position (eager attention). `logits` must reproduce them within

    relative error = max_v |ours[i, v] - ref[i, v]| / max_v |ref[i, v]|  <= 1e-4

at every position i (the worst position is reported). The first 64 tokens are one batched
prefill and the last 16 go one at a time through the KV cache, as in generation, so both paths
are checked; the models are built so that every family feature matters: a mistake in RoPE
scaling, biases, QK-norm, norm weights, the sliding window (even by one position), soft-capping
or the attention scale moves the log-probs by 0.05 to 1.0 in this measure (see the script's
report), against transformers' own float32-vs-float64 gap of about 5e-7.

The same checks run through GGUF: `quantize DIR --method F32` (our converter), then `logits`
on the file, for every architecture the converter supports."""
import pathlib
import sys

import numpy as np
import pytest

from conftest import run

ARCHS = ["llama", "qwen2", "qwen3", "gemma3", "phi3", "qwen3_moe", "gpt_oss"]
TOLERANCE = 1e-4
DECODE_FROM = 64


@pytest.fixture(scope="session")
def tiny_dir(fixtures_dir):
    return pathlib.Path(fixtures_dir) / "tiny_models"


def relative_errors(ours, ref):
    ours, ref = ours.astype(np.float64), ref.astype(np.float64)
    return np.abs(ours - ref).max(axis=-1) / np.abs(ref).max(axis=-1)


def our_logprobs(lp_bin, model, tokens, out, *extra):
    run([lp_bin, "logits", str(model), "--tokens", str(tokens), "--kv-type", "f32", "-t", "2", "--out", str(out), *extra])
    return np.load(out)


def assert_matches(ours, ref, label, tolerance=TOLERANCE, decode_from=DECODE_FROM):
    assert ours.dtype == np.float32, f"{label}: {ours.dtype}, not float32"
    assert ours.shape == ref.shape, f"{label}: shape {ours.shape}, reference {ref.shape}"
    assert np.isfinite(ours).all(), f"{label}: non-finite log-probs"
    err = relative_errors(ours, ref)
    worst = int(err.argmax())
    agree = float((ours.argmax(-1) == ref.argmax(-1)).mean())
    print(f"{label}: worst relative error {err[worst]:.2e} at position {worst} "
          f"(prefill {err[:decode_from].max() if decode_from else 0:.2e}, "
          f"one-at-a-time {err[decode_from:].max() if decode_from < len(err) else 0:.2e}); top-1 agreement {agree:.3f}")
    assert err[worst] <= tolerance, (
        f"{label}: relative error {err[worst]:.3e} at position {worst} exceeds {tolerance:g} "
        f"(positions over: {np.flatnonzero(err > tolerance).tolist()})")


@pytest.mark.parametrize("arch", ARCHS)
def test_hf_directory_equals_transformers(tmp_path, lp_bin, tiny_dir, arch):
    model = tiny_dir / arch
    ref = np.load(model / "reference_logprobs.npy")
    ours = our_logprobs(lp_bin, model, model / "reference_tokens.txt", tmp_path / "out.npy",
                        "--decode-from", str(DECODE_FROM))
    assert_matches(ours, ref, f"{arch} (Hugging Face directory)")


@pytest.fixture(scope="session")
def f32_gguf(tmp_path_factory, lp_bin, tiny_dir):
    """Our converter's F32 GGUF of each tiny model, or the converter's reason it has none yet."""
    made = {}

    def get(arch):
        if arch not in made:
            out = tmp_path_factory.mktemp(f"gguf-{arch}") / f"{arch}-F32.gguf"
            r = run([lp_bin, "quantize", str(tiny_dir / arch), "--method", "F32", "--output", str(out)], check=False)
            if r.returncode == 0:
                made[arch] = (out, None)
            elif r.returncode == 2 and "not supported yet" in r.stderr:
                made[arch] = (None, r.stderr.strip())
            else:
                raise AssertionError(f"quantize {arch} exited {r.returncode}: {r.stderr}")
        return made[arch]

    return get


@pytest.mark.parametrize("arch", ARCHS)
def test_converted_gguf_equals_transformers(tmp_path, lp_bin, tiny_dir, f32_gguf, arch):
    gguf, why_not = f32_gguf(arch)
    if gguf is None:
        pytest.skip(f"our converter does not convert {arch} yet: {why_not}")
    model = tiny_dir / arch
    ref = np.load(model / "reference_logprobs.npy")
    ours = our_logprobs(lp_bin, gguf, model / "reference_tokens.txt", tmp_path / "out.npy", "--decode-from", str(DECODE_FROM))
    assert_matches(ours, ref, f"{arch} (converted F32 GGUF)")


# The prefill/decode split must not matter: everything batched, everything one token at a time,
# and batches that do not divide the sequence (gemma3's window of 16 falls across them).
@pytest.mark.parametrize("arch,extra,decode_from", [
    ("llama", [], 80),
    ("gemma3", [], 80),
    ("gemma3", ["--decode-from", "0"], 0),
    ("qwen3", ["--decode-from", "0"], 0),
    ("gemma3", ["--batch-size", "7", "--decode-from", "45"], 45),
    ("phi3", ["--batch-size", "13"], 80),
    ("qwen3_moe", ["--decode-from", "0"], 0),
    ("qwen3_moe", ["--batch-size", "5", "--decode-from", "70"], 70),
    ("gpt_oss", ["--decode-from", "0"], 0),
    ("gpt_oss", ["--batch-size", "7", "--decode-from", "45"], 45),
])
def test_batching_does_not_change_the_result(tmp_path, lp_bin, tiny_dir, arch, extra, decode_from):
    model = tiny_dir / arch
    ref = np.load(model / "reference_logprobs.npy")
    ours = our_logprobs(lp_bin, model, model / "reference_tokens.txt", tmp_path / "out.npy", *extra)
    assert_matches(ours, ref, f"{arch} {' '.join(extra) or '(all batched)'}", decode_from=decode_from)


# --file: the text goes through the model's own tokenizer (with BOS where it adds one) and the
# first --ctx-size tokens are evaluated; the result must be the reference, whose tokens are the
# first 80 of the same text.
@pytest.mark.parametrize("arch", ["llama", "gemma3", "phi3"])
def test_text_file_is_tokenized_like_the_reference(tmp_path, lp_bin, tiny_dir, arch):
    sys.path.insert(0, str(tiny_dir))
    import make_tiny_models  # the script imports torch only when it builds models

    model = tiny_dir / arch
    text = tmp_path / "text.txt"
    text.write_text(make_tiny_models.REFERENCE_TEXT)
    ref = np.load(model / "reference_logprobs.npy")
    run([lp_bin, "logits", str(model), "--file", str(text), "-c", "80", "--kv-type", "f32", "-t", "2",
         "--out", str(tmp_path / "out.npy")])
    assert_matches(np.load(tmp_path / "out.npy"), ref, f"{arch} --file -c 80", decode_from=80)


# The default KV cache stores f16: the same answers, with f16's rounding of keys and values.
@pytest.mark.parametrize("arch", ARCHS)
def test_f16_kv_cache_stays_close(tmp_path, lp_bin, tiny_dir, arch):
    model = tiny_dir / arch
    ref = np.load(model / "reference_logprobs.npy")
    run([lp_bin, "logits", str(model), "--tokens", str(model / "reference_tokens.txt"), "--decode-from", "64",
         "--kv-type", "f16", "-t", "2", "--out", str(tmp_path / "out.npy")])
    ours = np.load(tmp_path / "out.npy")
    assert_matches(ours, ref, f"{arch} --kv-type f16", tolerance=2e-3)
    assert (ours.argmax(-1) == ref.argmax(-1)).mean() >= 0.95
