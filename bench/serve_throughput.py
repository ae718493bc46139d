#!/usr/bin/env python3
"""Aggregate decode throughput of a server at 1/2/4/8 concurrent streams: our `serve` against
llama.cpp's `llama-server` on the same GGUF file, same thread count, interleaved (ours, theirs,
ours, ...) so both see the same minutes of this noisy machine.

Each stream asks /v1/completions for T tokens (ignore_eos, greedy) after a short prompt;
throughput = all streams' completion tokens / wall time of the round. Both servers get one
slot per stream and the same per-slot context.

  python bench/serve_throughput.py --model M.gguf --llama-server PATH [--tokens 128] [--rounds 3]
"""
import argparse
import concurrent.futures
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from serve_process import served  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def llama_server(binary, model, threads, streams, ctx):
    port = free_port()
    proc = subprocess.Popen([binary, "-m", model, "-t", str(threads), "-tb", str(threads), "-c", str(ctx * streams),
                             "-np", str(streams), "--port", str(port), "--host", "127.0.0.1", "--no-webui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def round_throughput(url, streams, tokens):
    def one(i):
        r = requests.post(url + "/v1/completions", json={"prompt": f"Write a long story about city number {i}.",
                                                         "max_tokens": tokens, "temperature": 0, "ignore_eos": True,
                                                         "cache_prompt": False}, timeout=600)
        r.raise_for_status()
        return r.json()["usage"]["completion_tokens"]
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(streams) as pool:
        total = sum(pool.map(one, range(streams)))
    return total / (time.monotonic() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lp-bin", default="build/src/llama-pajamas")
    ap.add_argument("--llama-server", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--streams", default="1,2,4,8")
    args = ap.parse_args()
    ctx = 512
    results = {}
    for streams in [int(s) for s in args.streams.split(",")]:
        ours, theirs = [], []
        with served(args.lp_bin, args.model, "-t", str(args.threads), "-c", str(ctx), "--parallel", str(streams)) as (u1, _):
            with llama_server(args.llama_server, args.model, args.threads, streams, ctx) as u2:
                round_throughput(u1, streams, 8)  # warm both
                round_throughput(u2, streams, 8)
                for _ in range(args.rounds):
                    ours.append(round_throughput(u1, streams, args.tokens))
                    theirs.append(round_throughput(u2, streams, args.tokens))
        ratios = [a / b for a, b in zip(ours, theirs)]
        results[streams] = {"ours_tokens_per_second": ours, "llama_server_tokens_per_second": theirs, "ratios": ratios}
        print(f"{streams} streams: ours {statistics.median(ours):7.1f} t/s, llama-server {statistics.median(theirs):7.1f} t/s, "
              f"ratio {min(ratios):.2f}-{max(ratios):.2f} (median {statistics.median(ratios):.2f})", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
