"""Our engine against llama.cpp (llama-cpp-python) on real quantized models.

- Log-probabilities at every position of the first 512 tokens of WikiText-2 (test split),
  SmolLM2-135M-Instruct Q4_1 and Gemma 3 270M Q4_K_M. Both engines get the same token ids
  (llama.cpp's tokenization), so only the forward passes are compared.
- Greedy generation: SmolLM2-Instruct answers a fixed question with the same 32 tokens in both
  engines, fed the prompt tokens our chat template made, and the answer names Paris.

How close is close enough. Both engines round activations to 8 bits before every quantized dot
product (Q8_0/Q8_1/Q8_K, as ggml does), and on these small models that rounding moves the
log-probs by a mean KL of 3e-3 to 6e-3 nats: any change in the order of float operations (even
llama.cpp's own f32 instead of f16 KV cache) draws a different sample of that noise. Measured on
SmolLM2 Q4_1: llama.cpp f16 KV vs llama.cpp f32 KV, top-1 0.965 and KL 3.6e-3; ours vs llama.cpp
0.963 and 3.7e-3. So a bound like "top-1 >= 99%, KL <= 1e-3" is below llama.cpp's own spread and
no independent implementation can meet it. The checks are instead:
  1. against llama.cpp: mean KL(llama.cpp || ours) at most 1.5x llama.cpp's own spread
     (KL between its f16-KV and f32-KV runs), top-1 agreement at most 2 points below that
     spread's, and never worse than KL 0.02 / top-1 0.93;
  2. against the model itself: an independent NumPy forward pass with gguf-py's dequantized
     weights and no activation rounding (gguf_numpy_forward.py); ours must be at most 1.5x as
     far from it (mean KL) as llama.cpp is, and its top-1 within 2 points of llama.cpp's.
  3. with float32 activations (`--activations f32`) and a float32 KV cache, ours equals the
     NumPy forward pass: mean KL <= 1e-5 and top-1 >= 99% (measured: about 1e-7).
A wrong RoPE, norm, scale or window moves the KL by 0.1 or more, far above these bounds.

The WikiText-2 file is ../shared/data/wikitext-2-raw/wiki.test.raw next to the repository, or
LP_SHARED_DATA/wikitext-2-raw/wiki.test.raw."""
import json
import os
import pathlib

import numpy as np
import pytest

from conftest import ROOT, run

llama_cpp = pytest.importorskip("llama_cpp")
import gguf_numpy_forward  # noqa: E402

N_CTX = 512
THREADS = 2
QUESTION = "What is the capital of France? Answer in one sentence."
SHARED_DATA = pathlib.Path(os.environ.get("LP_SHARED_DATA", ROOT.parent / "shared" / "data"))
GGML_TYPE_F32 = 0


def wikitext_path():
    path = SHARED_DATA / "wikitext-2-raw" / "wiki.test.raw"
    if not path.exists():
        pytest.exit(f"{path} is missing: set LP_SHARED_DATA to the folder holding wikitext-2-raw/", returncode=2)
    return path


def log_softmax(x, chunk=64):
    """float32 log-softmax of each row, computed in float64 a few rows at a time."""
    x = np.asarray(x)
    out = np.empty(x.shape, dtype=np.float32)
    for s in range(0, len(x), chunk):
        r = x[s:s + chunk].astype(np.float64)
        r -= r.max(axis=-1, keepdims=True)
        out[s:s + chunk] = r - np.log(np.exp(r).sum(axis=-1, keepdims=True))
    return out


def compare_rows(p, q, chunk=64):
    """Per position: KL(p || q) in nats and whether the top-1 tokens agree (log-prob inputs)."""
    kl, same = np.empty(len(p)), np.empty(len(p), dtype=bool)
    for s in range(0, len(p), chunk):
        a, b = p[s:s + chunk].astype(np.float64), q[s:s + chunk].astype(np.float64)
        kl[s:s + chunk] = (np.exp(a) * (a - b)).sum(-1)
        same[s:s + chunk] = a.argmax(-1) == b.argmax(-1)
    return kl, same


def llama_cpp_model(path, **kwargs):
    args = dict(model_path=str(path), n_ctx=N_CTX, n_batch=N_CTX, n_threads=THREADS, n_threads_batch=THREADS,
                verbose=False, seed=1)
    return llama_cpp.Llama(**(args | kwargs))


def llama_cpp_logprobs(gguf, tokens, **kwargs):
    llm = llama_cpp_model(gguf, logits_all=True, **kwargs)
    llm.eval(tokens)
    lp = log_softmax(llm.scores[:len(tokens)])
    del llm
    return lp


def compare(lp_bin, gguf, tmp_path, label):
    # The first 512 tokens as llama.cpp's perplexity tool sees the file (BOS first).
    text = wikitext_path().read_text(encoding="utf-8")[:20000]
    tokens = llama_cpp_model(gguf, vocab_only=True).tokenize(text.encode("utf-8"), add_bos=True, special=False)[:N_CTX]
    assert len(tokens) == N_CTX
    ids = tmp_path / "tokens.txt"
    ids.write_text(" ".join(map(str, tokens)))
    out = tmp_path / "ours.npy"
    run([lp_bin, "logits", str(gguf), "--tokens", str(ids), "-c", str(N_CTX), "-t", str(THREADS), "--out", str(out)])
    ours = np.load(out)
    theirs = llama_cpp_logprobs(gguf, tokens)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert np.isfinite(ours).all()

    kl, same = compare_rows(theirs, ours)
    print(f"\n{label}: ours vs llama.cpp: top-1 agreement {same.mean():.4f}, mean KL(llama.cpp||ours) {kl.mean():.2e} "
          f"(max {kl.max():.2e} at position {int(kl.argmax())})")
    spread_kl, spread_same = compare_rows(theirs, llama_cpp_logprobs(gguf, tokens, type_k=GGML_TYPE_F32,
                                                                      type_v=GGML_TYPE_F32))
    print(f"{label}: llama.cpp f16 KV vs llama.cpp f32 KV: top-1 agreement {spread_same.mean():.4f}, "
          f"mean KL {spread_kl.mean():.2e}")
    exact = gguf_numpy_forward.log_probs(gguf, tokens)
    ours_kl, ours_same = compare_rows(exact, ours)
    their_kl, their_same = compare_rows(exact, theirs)
    nll = lambda lp: -lp[np.arange(N_CTX - 1), tokens[1:]].astype(np.float64).mean()  # noqa: E731
    print(f"{label}: against the NumPy forward pass (no activation rounding): ours top-1 {ours_same.mean():.4f} "
          f"KL {ours_kl.mean():.2e}, llama.cpp top-1 {their_same.mean():.4f} KL {their_kl.mean():.2e}; perplexity "
          f"NumPy {np.exp(nll(exact)):.3f}, ours {np.exp(nll(ours)):.3f}, llama.cpp {np.exp(nll(theirs)):.3f}")

    assert kl.mean() <= max(1.5 * spread_kl.mean(), 1e-3) and kl.mean() <= 0.02, (
        f"{label}: mean KL(llama.cpp||ours) {kl.mean():.3e} is over 1.5x llama.cpp's own spread {spread_kl.mean():.3e}")
    assert same.mean() >= min(spread_same.mean() - 0.02, 0.99) and same.mean() >= 0.93, (
        f"{label}: top-1 agreement {same.mean():.4f} (llama.cpp's own spread {spread_same.mean():.4f})")
    assert ours_kl.mean() <= max(1.5 * their_kl.mean(), 1e-3), (
        f"{label}: ours is KL {ours_kl.mean():.3e} from the exact forward pass, llama.cpp {their_kl.mean():.3e}")
    assert ours_same.mean() >= their_same.mean() - 0.02

    # Without the 8-bit activation noise our engine IS the model: with float32 activations
    # and a float32 KV cache it must equal the NumPy forward pass, not just resemble it.
    exact_out = tmp_path / "ours_exact.npy"
    run([lp_bin, "logits", str(gguf), "--tokens", str(ids), "-c", str(N_CTX), "-t", str(THREADS), "--activations", "f32",
         "--kv-type", "f32", "--out", str(exact_out)])
    exact_kl, exact_same = compare_rows(exact, np.load(exact_out))
    print(f"{label}: ours with float32 activations vs the NumPy forward pass: top-1 {exact_same.mean():.4f}, "
          f"mean KL {exact_kl.mean():.2e} (max {exact_kl.max():.2e})")
    assert exact_kl.mean() <= 1e-5 and exact_same.mean() >= 0.99


def test_smollm2_logprobs_equal_llama_cpp(tmp_path, lp_bin, smollm2_gguf):
    compare(lp_bin, smollm2_gguf, tmp_path, "SmolLM2-135M-Instruct Q4_1")


def test_gemma3_logprobs_equal_llama_cpp(tmp_path, lp_bin, gemma3_gguf):
    compare(lp_bin, gemma3_gguf, tmp_path, "Gemma 3 270M Q4_K_M")


def llama_cpp_greedy(gguf, prompt, n):
    """Argmax decoding in llama.cpp from these prompt tokens, stopping early only at EOS/EOG."""
    llm = llama_cpp_model(gguf, logits_all=True)
    llm.eval(prompt)
    out = []
    while len(out) < n:
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            break
        out.append(token)
        llm.eval([token])
    return out, llm.detokenize(out).decode("utf-8", errors="replace")


def test_smollm2_greedy_answer_equals_llama_cpp(lp_bin, smollm2_gguf):
    r = run([lp_bin, "run", smollm2_gguf, "-p", QUESTION, "--json", "--temp", "0", "-n", "32", "-t", str(THREADS),
             "-c", str(N_CTX)])
    ours = json.loads(r.stdout)
    prompt = ours["prompt_tokens"]
    # Our chat template's prompt is SmolLM2's (<|im_start|>user ... <|im_start|>assistant\n).
    assert len(prompt) > 10
    theirs, their_text = llama_cpp_greedy(smollm2_gguf, prompt, 32)
    print(f"ours ({len(ours['tokens'])} tokens): {ours['text']!r}\nllama.cpp ({len(theirs)} tokens): {their_text!r}")
    assert ours["tokens"] == theirs
    assert ours["stop_reason"] == ("eos" if len(theirs) < 32 else "length")
    assert "Paris" in ours["text"]
