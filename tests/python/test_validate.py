"""`validate`: perplexity and KL-divergence as llama-perplexity computes them.

- Perplexity of SmolLM2-135M-Instruct Q4_1 over the first windows of WikiText-2 (test split)
  equals llama.cpp's (llama-cpp-python, the same windows and scoring rule written here in
  Python) within 0.5%.
- KL-divergence against the F32 model: Q8_0 far below Q4_K_M, below Q2_K; a model against
  itself exactly 0 with the same top token everywhere; every statistic in the record equals an
  independent numpy computation from `logits` outputs on the same tokens; a saved reference
  file gives the one-pass numbers back.
- Bad input: one `error:` line, exit 2, no record written.

WikiText-2 is ../shared/data/wikitext-2-raw/wiki.test.raw next to the repository, or
LP_SHARED_DATA/wikitext-2-raw/wiki.test.raw."""
import json
import os
import pathlib
import struct

import numpy as np
import pytest

from conftest import ROOT, run, validate_error

N_CTX = 256
CHUNKS = 4
THREADS = 2
SHARED_DATA = pathlib.Path(os.environ.get("LP_SHARED_DATA", ROOT.parent / "shared" / "data"))


def wikitext_path():
    path = SHARED_DATA / "wikitext-2-raw" / "wiki.test.raw"
    if not path.exists():
        pytest.exit(f"{path} is missing: set LP_SHARED_DATA to the folder holding wikitext-2-raw/", returncode=2)
    return path


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def validate(lp_bin, model, tmp_path, *args, name="record.json", n_ctx=N_CTX):
    out = tmp_path / name
    run([lp_bin, "validate", str(model), "--text", str(wikitext_path()), "-c", str(n_ctx), "--chunks", str(CHUNKS),
         "-t", str(THREADS), "--out", str(out), *map(str, args)])
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def smol_levels(tmp_path_factory, lp_bin, smollm2_gguf):
    """SmolLM2 in F32 (from the Q4_1 file: lossy, but a fine reference) and three levels made from it."""
    d = tmp_path_factory.mktemp("smol_levels")
    f32 = d / "smol-F32.gguf"
    run([lp_bin, "quantize", smollm2_gguf, "--method", "F32", "--output", str(f32)])
    run([lp_bin, "quantize", str(f32), "-m", "Q8_0,Q4_K_M,Q2_K", "-o", str(d)])
    levels = {m: d / f"smol-F32-{m}.gguf" for m in ("Q8_0", "Q4_K_M", "Q2_K")}
    for p in levels.values():
        assert p.exists(), p
    return f32, levels


def test_perplexity_equals_llama_cpp(tmp_path, lp_bin, smollm2_gguf):
    # At llama-perplexity's default context: the engines differ by ~0.3% there (f16 KV cache
    # rounding; 0.02% with --kv-type f32), against ~0.5% at 256 tokens x 4.
    N_CTX = 512  # noqa: N806
    llama_cpp = pytest.importorskip("llama_cpp")
    record = validate(lp_bin, smollm2_gguf, tmp_path, "--metrics", "perplexity", n_ctx=N_CTX)
    ours = record["metrics"]["perplexity"]

    # llama-perplexity's rule: whole text tokenized (BOS as the vocabulary adds it), windows of
    # N_CTX tokens, each from an empty cache with BOS first when the model adds one, positions
    # N_CTX/2 .. N_CTX-2 scored.
    llm = llama_cpp.Llama(model_path=str(smollm2_gguf), n_ctx=N_CTX, n_batch=N_CTX, n_threads=THREADS,
                          n_threads_batch=THREADS, logits_all=True, verbose=False)
    tokens = llm.tokenize(wikitext_path().read_bytes(), add_bos=True, special=False)
    add_bos = llm.tokenize(b"a", add_bos=True) != llm.tokenize(b"a", add_bos=False)
    first = N_CTX // 2
    nll = []
    for c in range(CHUNKS):
        window = tokens[c * N_CTX:(c + 1) * N_CTX]
        if add_bos:
            window = [llm.token_bos()] + window[1:]
        llm.reset()
        llm.eval(window)
        lp = log_softmax(np.array(llm.scores[first:N_CTX - 1]))
        targets = tokens[c * N_CTX + first + 1:(c + 1) * N_CTX]
        nll.extend(-lp[np.arange(len(targets)), targets])
    del llm
    nll = np.array(nll)
    theirs = float(np.exp(nll.mean()))
    theirs_unc = theirs * nll.std() / np.sqrt(len(nll) - 1)

    assert record["settings"]["text_tokens"] == len(tokens)  # same tokenization of the whole text
    assert ours["tokens"] == len(nll) == CHUNKS * (N_CTX - 1 - first)
    ppl = ours["ppl"]["value"]
    print(f"perplexity ours {ppl:.4f} ± {ours['ppl']['se']:.4f}, llama.cpp {theirs:.4f} ± {theirs_unc:.4f}")
    assert abs(ppl / theirs - 1) < 0.005
    assert ours["ppl"]["se"] == pytest.approx(theirs_unc, rel=0.02)
    low, high = ours["ppl"]["ci95"]
    assert low < ppl < high


def test_kld_orders_quantization_levels(tmp_path, lp_bin, smol_levels):
    f32, levels = smol_levels
    kld = {}
    for method, path in levels.items():
        record = validate(lp_bin, path, tmp_path, "--reference", f32, name=f"{method}.json")
        assert record["settings"]["metrics"] == ["perplexity", "kld"]
        # The type most weight bytes are in (SmolLM2's 576-wide rows push many K-quant tensors to fallbacks).
        assert record["model"]["quant_type"] == "Q8_0" if method == "Q8_0" else record["model"]["quant_type"]
        assert record["reference"]["quant_type"] == "F32"
        k = record["metrics"]["kld"]
        assert k["tokens"] == CHUNKS * (N_CTX - 1 - N_CTX // 2)
        for key in ("mean",):
            assert k["kl_divergence"][key]["se"] > 0
        assert set(k["kl_divergence"]["percentiles"]) == {"99.9", "99", "95", "90", "10", "5", "1", "0.1"}
        assert set(k["delta_p"]["percentiles"]) == {"99.9", "99", "95", "90", "75", "25", "10", "5", "1", "0.1"}
        for key in ("ppl_q", "ppl_base", "ln_ppl_ratio", "ppl_ratio", "ppl_diff"):
            assert k["perplexity"][key]["se"] >= 0
        assert 0 < k["same_top_p"]["value"] <= 1
        kl = k["kl_divergence"]
        assert kl["min"] <= kl["percentiles"]["1"] <= kl["median"] <= kl["percentiles"]["99"] <= kl["max"]
        assert record["reference"]["sha256"] != record["model"]["sha256"]
        kld[method] = kl["mean"]["value"]
    print("mean KLD against F32:", kld)
    assert kld["Q8_0"] * 10 < kld["Q4_K_M"] < kld["Q2_K"]


def test_model_against_itself_is_exactly_zero(tmp_path, lp_bin, smollm2_gguf):
    record = validate(lp_bin, smollm2_gguf, tmp_path, "--reference", smollm2_gguf, "--metrics", "kld")
    assert "perplexity" not in record["metrics"]
    k = record["metrics"]["kld"]
    assert k["kl_divergence"]["mean"]["value"] == 0.0
    assert k["kl_divergence"]["max"] == 0.0
    assert k["same_top_p"]["value"] == 1.0
    assert k["delta_p"]["rms"]["value"] == 0.0
    assert k["perplexity"]["ln_ppl_ratio"]["value"] == 0.0
    assert k["perplexity"]["ppl_ratio"]["value"] == 1.0


def read_base_tokens(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"_logits_"
        n_ctx, n_vocab, n_chunk = struct.unpack("<Iii", f.read(12))
        tokens = np.frombuffer(f.read(4 * n_ctx * n_chunk), dtype=np.int32)
    return n_ctx, n_vocab, n_chunk, tokens


def test_kld_statistics_equal_numpy_and_saved_reference(tmp_path, lp_bin, smol_levels):
    f32, levels = smol_levels
    model = levels["Q4_K_M"]
    base = tmp_path / "f32.logits"
    one_pass = validate(lp_bin, model, tmp_path, "--reference", f32, "--save-reference-logits", base, name="one.json")
    n_ctx, n_vocab, n_chunk, tokens = read_base_tokens(base)
    assert (n_ctx, n_chunk) == (N_CTX, CHUNKS)
    assert one_pass["settings"]["saved_reference_logits"]["bytes"] == base.stat().st_size

    # The same windows through `logits` (SmolLM2 adds no BOS, so windows are the text's tokens).
    assert one_pass["settings"]["bos_substituted"] is False
    first = N_CTX // 2
    cols = {k: [] for k in ("nll", "nll_ref", "nll_ref_floor", "kld", "p_diff", "same")}
    for c in range(CHUNKS):
        window = tokens[c * N_CTX:(c + 1) * N_CTX]
        ids = tmp_path / "window.txt"
        ids.write_text(" ".join(map(str, window)))
        rows = {}
        for label, path in (("q", model), ("ref", f32)):
            out = tmp_path / f"{label}.npy"
            run([lp_bin, "logits", str(path), "--tokens", str(ids), "-c", str(N_CTX), "-t", str(THREADS), "--out", str(out)])
            rows[label] = np.load(out).astype(np.float64)[first:N_CTX - 1]
        q, p = rows["q"], rows["ref"]
        targets = window[first + 1:]
        idx = np.arange(len(targets))
        cols["nll"].extend(-q[idx, targets])
        cols["nll_ref"].extend(-p[idx, targets])
        # The base-logits format keeps log-probs down to 16 nats below the row's best only.
        floor = np.maximum(p.min(-1), p.max(-1) - 16)
        cols["nll_ref_floor"].extend(-np.maximum(p[idx, targets], floor))
        cols["kld"].extend((np.exp(p) * (p - q)).sum(-1))
        cols["p_diff"].extend(np.exp(q[idx, targets]) - np.exp(p[idx, targets]))
        cols["same"].extend(q.argmax(-1) == p.argmax(-1))
    c = {k: np.array(v, dtype=np.float64) for k, v in cols.items()}
    n = len(c["kld"])
    se = lambda x: x.std() / np.sqrt(n - 1)  # noqa: E731  (llama-perplexity's uncertainty)
    k = one_pass["metrics"]["kld"]
    rel = dict(rel=2e-3)

    assert k["tokens"] == n
    assert k["kl_divergence"]["mean"]["value"] == pytest.approx(c["kld"].mean(), **rel)
    assert k["kl_divergence"]["mean"]["se"] == pytest.approx(se(c["kld"]), **rel)
    assert k["kl_divergence"]["median"] == pytest.approx(np.median(c["kld"]), rel=1e-2)
    assert k["kl_divergence"]["max"] == pytest.approx(c["kld"].max(), **rel)
    for pct, v in k["kl_divergence"]["percentiles"].items():
        assert v == pytest.approx(np.percentile(c["kld"], float(pct)), rel=1e-2, abs=1e-6), pct
    assert k["same_top_p"]["value"] == pytest.approx(c["same"].mean(), abs=2 / n)
    assert k["delta_p"]["mean"]["value"] == pytest.approx(c["p_diff"].mean(), abs=1e-5)
    assert k["delta_p"]["rms"]["value"] == pytest.approx(np.sqrt((c["p_diff"] ** 2).mean()), **rel)
    for pct, v in k["delta_p"]["percentiles"].items():
        assert v == pytest.approx(np.percentile(c["p_diff"], float(pct)), abs=1e-5), pct
    ppl_q, ppl_base = np.exp(c["nll"].mean()), np.exp(c["nll_ref"].mean())
    cov = np.cov(c["nll"], c["nll_ref"])[0, 1] / n
    ratio_se = np.sqrt(se(c["nll"]) ** 2 + se(c["nll_ref"]) ** 2 - 2 * cov)
    pk = k["perplexity"]
    assert pk["ppl_q"]["value"] == pytest.approx(ppl_q, rel=1e-4)
    assert pk["ppl_base"]["value"] == pytest.approx(ppl_base, rel=1e-4)
    assert pk["ppl_ratio"]["value"] == pytest.approx(ppl_q / ppl_base, rel=1e-4)
    assert pk["ln_ppl_ratio"]["value"] == pytest.approx(np.log(ppl_q / ppl_base), rel=1e-3, abs=1e-6)
    assert pk["ln_ppl_ratio"]["se"] == pytest.approx(ratio_se, rel=1e-2)
    assert pk["ln_ppl_correlation"] == pytest.approx(np.corrcoef(c["nll"], c["nll_ref"])[0, 1], rel=1e-3)
    assert one_pass["metrics"]["perplexity"]["ppl"]["value"] == pytest.approx(ppl_q, rel=1e-4)

    # The saved rows give the same statistics back (16-bit log-probs, llama.cpp's -16 cut-off).
    again = tmp_path / "from_file.json"
    run([lp_bin, "validate", str(model), "--reference-logits", str(base), "-t", str(THREADS), "--out", str(again)])
    f = json.loads(again.read_text())
    assert f["reference"]["logits_file"]["sha256"] == one_pass["settings"]["saved_reference_logits"]["sha256"]
    assert f["settings"]["text"] is None and f["settings"]["chunks"] == CHUNKS
    fk = f["metrics"]["kld"]
    assert fk["kl_divergence"]["mean"]["value"] == pytest.approx(k["kl_divergence"]["mean"]["value"], rel=0.02)
    assert fk["same_top_p"]["value"] == pytest.approx(k["same_top_p"]["value"], abs=2 / n)
    # PPL(base) from the file is llama-perplexity's: tokens the reference gave less than
    # e^-16 of its best are read at that floor, so it is lower than the one-pass value.
    assert fk["perplexity"]["ppl_base"]["value"] == pytest.approx(np.exp(c["nll_ref_floor"].mean()), rel=1e-3)
    assert fk["perplexity"]["ppl_q"]["value"] == pytest.approx(pk["ppl_q"]["value"], rel=1e-9)


def test_record_describes_the_run(tmp_path, lp_bin, smollm2_gguf):
    import hashlib
    from conftest import inspect_json
    record = validate(lp_bin, smollm2_gguf, tmp_path)
    assert record["schema"] == "llama-pajamas/validate-record/1"
    assert record["tool"]["version"]
    assert record["model"]["sha256"] == hashlib.sha256(pathlib.Path(smollm2_gguf).read_bytes()).hexdigest()
    assert record["model"]["quant_type"] == "Q4_1"
    summary = inspect_json(lp_bin, smollm2_gguf)["totals"]
    assert record["model"]["bits_per_weight"] == pytest.approx(summary["bits_per_weight"])
    assert record["model"]["parameters"] == summary["parameters"]
    assert record["settings"]["text"]["sha256"] == hashlib.sha256(wikitext_path().read_bytes()).hexdigest()
    assert record["settings"]["ctx_size"] == N_CTX and record["settings"]["chunks"] == CHUNKS
    assert record["settings"]["threads"] == THREADS
    assert record["reference"] is None and list(record["metrics"]) == ["perplexity"]
    assert record["hardware"]["logical_cores"] >= 1 and record["hardware"]["memory_bytes"] > 0
    assert record["elapsed_seconds"] > 0
    # --json prints the same record.
    printed = json.loads(run([lp_bin, "validate", smollm2_gguf, "--text", str(wikitext_path()), "-c", "64",
                              "--chunks", "1", "--json"]).stdout)
    assert printed["settings"]["ctx_size"] == 64 and printed["metrics"]["perplexity"]["tokens"] == 64 - 1 - 32


def test_bad_input_is_one_error_line(tmp_path, lp_bin, smollm2_gguf, fixtures_dir):
    text = wikitext_path()
    assert "does not exist" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--text", text, "--reference", tmp_path / "none.gguf")
    assert "different vocabularies" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--text", text,
                                           "--reference", fixtures_dir / "tiny_models" / "llama")
    assert "unknown metric 'bleu'" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--text", text, "--metrics", "perplexity,bleu")
    assert "needs --reference" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--text", text, "--metrics", "kld")
    short = tmp_path / "short.txt"
    short.write_text("A few words are not enough for one window of 512 tokens.\n")
    assert "needs at least 1024" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--text", short)
    not_logits = tmp_path / "not.logits"
    not_logits.write_bytes(b"something else entirely")
    assert "not a reference-logits file" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--reference-logits", not_logits)
