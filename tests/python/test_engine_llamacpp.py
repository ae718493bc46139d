"""Our engine against llama.cpp (llama-cpp-python) on real quantized models.

- Log-probabilities at every position of the first 512 tokens of WikiText-2 (test split):
  SmolLM2-135M-Instruct Q4_1 and Gemma 3 270M Q4_K_M. Both engines get the same token ids
  (llama.cpp's tokenization), so only the forward passes are compared: the top-1 token must
  agree at >= 99% of positions and the mean KL(llama.cpp || ours) must be <= 0.001 nats.
- Greedy generation: SmolLM2-Instruct answers a fixed question with the same 32 tokens in both
  engines, fed the prompt tokens our chat template made, and the answer names Paris.

The WikiText-2 file is ../shared/data/wikitext-2-raw/wiki.test.raw next to the repository, or
LP_SHARED_DATA/wikitext-2-raw/wiki.test.raw."""
import json
import os
import pathlib

import numpy as np
import pytest

from conftest import ROOT, run

llama_cpp = pytest.importorskip("llama_cpp")

N_CTX = 512
THREADS = 2
QUESTION = "What is the capital of France? Answer in one sentence."
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


def llama_cpp_model(path, **kwargs):
    return llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_batch=N_CTX, n_threads=THREADS,
                           n_threads_batch=THREADS, verbose=False, seed=1, **kwargs)


def compare(lp_bin, gguf, tmp_path, label):
    # The first 512 tokens as llama.cpp's perplexity tool sees the file (BOS first).
    text = wikitext_path().read_text(encoding="utf-8")[:20000]
    llm = llama_cpp_model(gguf, logits_all=True)
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:N_CTX]
    assert len(tokens) == N_CTX
    llm.eval(tokens)
    theirs = log_softmax(np.array(llm.scores[:N_CTX], dtype=np.float64))
    del llm

    ids = tmp_path / "tokens.txt"
    ids.write_text(" ".join(map(str, tokens)))
    out = tmp_path / "ours.npy"
    run([lp_bin, "logits", str(gguf), "--tokens", str(ids), "-c", str(N_CTX), "-t", str(THREADS), "--out", str(out)])
    ours = np.load(out).astype(np.float64)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert np.isfinite(ours).all()

    top1 = float((ours.argmax(-1) == theirs.argmax(-1)).mean())
    kl = (np.exp(theirs) * (theirs - ours)).sum(-1)
    # Perplexity of each engine over the same tokens, for scale.
    nll = lambda lp: -lp[np.arange(N_CTX - 1), tokens[1:]].mean()  # noqa: E731
    print(f"{label}: top-1 agreement {top1:.4f}, mean KL(llama.cpp||ours) {kl.mean():.2e} (max {kl.max():.2e} "
          f"at {int(kl.argmax())}), perplexity ours {np.exp(nll(ours)):.3f} llama.cpp {np.exp(nll(theirs)):.3f}")
    assert top1 >= 0.99, f"{label}: top-1 agreement {top1:.4f} < 0.99"
    assert kl.mean() <= 1e-3, f"{label}: mean KL {kl.mean():.3e} > 1e-3"


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
