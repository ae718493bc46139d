"""`imatrix`: the importance matrix our engine computes equals an independent NumPy forward pass
(gguf_numpy_forward.py, weights dequantized by gguf-py) over the same windows, tensor by tensor:
every weight llama-imatrix records (attention, router, feed-forward; per expert for stacked
experts, with the tokens routed to each), the same counts, sums within float32 rounding. The
file is llama.cpp's GGUF imatrix format (general.type "imatrix", <name>.in_sum2 / .counts) and
our quantize --imatrix reads it back."""
import json
import os
import pathlib

import numpy as np
import pytest
from gguf import GGUFReader

from conftest import ROOT, run

llama_cpp = pytest.importorskip("llama_cpp")
import gguf_numpy_forward  # noqa: E402

N_CTX, CHUNKS = 64, 3
SHARED_DATA = pathlib.Path(os.environ.get("LP_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="module")
def calibration_text(tmp_path_factory):
    path = tmp_path_factory.mktemp("calibration") / "wiki.txt"
    path.write_text((SHARED_DATA / "wikitext-2-raw" / "wiki.test.raw").read_text(encoding="utf-8")[:6000], encoding="utf-8")
    return path


def numpy_imatrix(gguf, text):
    """{name: (sums [mats, cols], counts [mats])} over the windows llama-imatrix uses: N_CTX tokens
    each, the first replaced by BOS where the model adds one."""
    vocab = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    tokens = vocab.tokenize(text.read_text(encoding="utf-8").encode(), add_bos=True, special=False)
    bos = tokens[0] if vocab.tokenize(b"a", add_bos=True, special=False)[0] != vocab.tokenize(b"a", add_bos=False,
                                                                                              special=False)[0] else None
    experts = GGUFReader(str(gguf)).fields
    n_expert = next((int(f.contents()) for k, f in experts.items() if k.endswith(".expert_count")), 1)
    stats = {}

    def seen(name, rows, expert=None):
        mats = n_expert if expert is not None else 1
        sums, counts = stats.setdefault(name, (np.zeros((mats, rows.shape[-1])), np.zeros(mats, dtype=np.int64)))
        slot = 0 if expert is None else int(expert)
        sums[slot] += (rows.astype(np.float64) ** 2).sum(0)
        counts[slot] += len(rows)

    for c in range(CHUNKS):
        window = tokens[c * N_CTX:(c + 1) * N_CTX]
        if bos is not None:
            window[0] = bos
        gguf_numpy_forward.log_probs(gguf, window, observe=seen)
    return stats


@pytest.mark.parametrize("name", ["llama", "qwen3_moe", "gpt_oss"])
def test_imatrix_equals_numpy_forward_pass(tmp_path, lp_bin, fixtures_dir, calibration_text, name):
    gguf = tmp_path / f"{name}-F32.gguf"
    run([lp_bin, "quantize", str(fixtures_dir / "tiny_models" / name), "-m", "F32", "-o", str(gguf)])
    out = tmp_path / "imatrix.gguf"
    # float32 activations: the products' inputs are then the model's own, as NumPy computes them
    # (8-bit activations can flip a near-tied expert choice and move a token to another expert).
    summary = json.loads(run([lp_bin, "imatrix", str(gguf), "-f", str(calibration_text), "-c", str(N_CTX), "--chunks",
                              str(CHUNKS), "--activations", "f32", "--kv-type", "f32", "-t", "2", "-o", str(out),
                              "--json"]).stdout)
    assert summary["chunks"] == CHUNKS and summary["chunk_size"] == N_CTX
    reader = GGUFReader(str(out))
    fields = {k: f.contents() for k, f in reader.fields.items()}
    assert fields["general.type"] == "imatrix" and fields["imatrix.chunk_count"] == CHUNKS
    assert fields["imatrix.chunk_size"] == N_CTX and fields["imatrix.datasets"] == [str(calibration_text)]
    ours = {t.name: np.array(t.data) for t in reader.tensors}
    expected = numpy_imatrix(gguf, calibration_text)
    assert sorted(ours) == sorted([f"{n}.in_sum2" for n in expected] + [f"{n}.counts" for n in expected])
    # As llama-imatrix writes them: weights in name order, each as in_sum2 then counts.
    names = [t.name for t in reader.tensors]
    assert names == [f"{w}.{part}" for w in sorted(expected) for part in ("in_sum2", "counts")]
    for weight, (sums, counts) in expected.items():
        np.testing.assert_array_equal(ours[f"{weight}.counts"].reshape(-1), counts, err_msg=weight)
        got = ours[f"{weight}.in_sum2"].reshape(sums.shape).astype(np.float64)
        assert np.abs(got - sums).max() <= 1e-4 * np.abs(sums).max(), weight
    if name != "llama":
        routed = ours["blk.1.ffn_down_exps.weight.counts"].reshape(-1)
        assert len(routed) == 4 and routed.sum() == 2 * CHUNKS * N_CTX  # 2 experts per token

    # Our quantize reads it back (the importance weights change the Q4_0 rows of 64 columns).
    plain, weighted = tmp_path / "plain.gguf", tmp_path / "weighted.gguf"
    run([lp_bin, "quantize", str(gguf), "-m", "Q4_0", "-o", str(plain)])
    run([lp_bin, "quantize", str(gguf), "-m", "Q4_0", "--imatrix", str(out), "-o", str(weighted)])
    assert plain.read_bytes() != weighted.read_bytes()


def test_imatrix_needs_two_windows(tmp_path, lp_bin, fixtures_dir):
    short = tmp_path / "short.txt"
    short.write_text("Too short.")
    result = run([lp_bin, "imatrix", str(fixtures_dir / "tiny_models" / "llama"), "-f", str(short), "-o",
                  str(tmp_path / "x.gguf")], check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert not list(tmp_path.glob("x.gguf*"))
