#!/usr/bin/env python3
"""Load test of `llama-pajamas serve` on loopback: N requests from C concurrent clients, a
share of them malformed, every answer checked against its own request.

Each valid request asks for a different raw prompt and a different number of tokens (with
ignore_eos), so an answer that belonged to another request shows up as wrong counts: the
prompt's token count must equal what `tokenize` gives for that prompt, and the completion
must have exactly the tokens asked for (streamed answers: the pieces must join to the text
the final event's counts describe). Malformed requests must get a 400 with a JSON error.
The server must still be healthy at the end (no crash) and every request accounted for.

  python bench/serve_load.py --lp-bin build/src/llama-pajamas --model M.gguf [--requests 1000]
      [--clients 16] [--malformed 0.1] [--parallel 4] [--json OUT]
"""
import argparse
import concurrent.futures
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from serve_process import prometheus_values, served  # noqa: E402

WORDS = ["river", "lamp", "orbit", "maple", "quartz", "harbor", "violet", "ember", "canyon", "meadow"]

MALFORMED = [
    ("/v1/completions", "{broken"),
    ("/v1/completions", '{"prompt": 42}'),
    ("/v1/completions", '{"prompt": "x", "max_tokens": "ten"}'),
    ("/v1/chat/completions", '{"messages": [{"role": "robot", "content": "x"}]}'),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "x"}], "temperature": -1}'),
    ("/api/generate", '{"prompt": "x", "options": {"top_k": "all"}}'),
    ("/api/chat", '{"messages": {}}'),
    ("/v1/completions", '{"prompt": "x", "max_tokens": 99999999}'),
]


def prompt_of(i):
    rng = random.Random(i)
    return f"Note {i}: " + " ".join(rng.choice(WORDS) for _ in range(1 + i % 17))


def token_counts(lp_bin, model, prompts):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(prompts) + "\n")
    out = subprocess.run([lp_bin, "tokenize", model, "--file", f.name, "--json"], capture_output=True, text=True,
                         check=True).stdout
    os.unlink(f.name)
    return [len(x["ids"]) for x in json.loads(out)]


def one_request(url, i, prompt, prompt_tokens, malformed_share):
    rng = random.Random(10_000 + i)
    start = time.monotonic()
    if rng.random() < malformed_share:
        path, body = MALFORMED[i % len(MALFORMED)]
        r = requests.post(url + path, data=body, headers={"Content-Type": "application/json"}, timeout=120)
        error = r.json().get("error") if r.headers.get("Content-Type", "").startswith("application/json") else None
        ok = r.status_code == 400 and error
        return {"kind": "malformed", "ok": bool(ok), "why": "" if ok else f"{path} {body!r} -> {r.status_code} {r.text[:200]}",
                "seconds": time.monotonic() - start}
    want = 1 + i % 8
    kind = ["openai", "openai_stream", "ollama", "ollama_stream", "chat"][i % 5]
    common = {"temperature": 0.7, "seed": i}
    why = ""
    if kind.startswith("openai"):
        stream = kind.endswith("stream")
        body = {"prompt": prompt, "max_tokens": want, "ignore_eos": True, "stream": stream, **common}
        if stream:
            body["stream_options"] = {"include_usage": True}
        r = requests.post(url + "/v1/completions", json=body, stream=stream, timeout=120)
        if r.status_code != 200:
            return {"kind": kind, "ok": False, "why": f"status {r.status_code}: {r.text[:200]}", "seconds": time.monotonic() - start}
        if stream:
            events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith(b"data: {")]
            text = "".join(e["choices"][0]["text"] for e in events if e["choices"])
            usage = events[-1]["usage"]
        else:
            reply = r.json()
            text, usage = reply["choices"][0]["text"], reply["usage"]
        if usage["prompt_tokens"] != prompt_tokens or usage["completion_tokens"] != want:
            why = f"usage {usage} for a prompt of {prompt_tokens} tokens and {want} asked"
    elif kind.startswith("ollama"):
        stream = kind.endswith("stream")
        body = {"prompt": prompt, "raw": True, "stream": stream, "options": {"num_predict": want, "ignore_eos": True, **common}}
        r = requests.post(url + "/api/generate", json=body, stream=stream, timeout=120)
        if r.status_code != 200:
            return {"kind": kind, "ok": False, "why": f"status {r.status_code}: {r.text[:200]}", "seconds": time.monotonic() - start}
        events = [json.loads(line) for line in r.iter_lines() if line] if stream else [r.json()]
        last = events[-1]
        counted = last["prompt_eval_count"]
        # prompt_eval_count leaves out what a slot's cache already held; usage-like check:
        if not (0 < counted <= prompt_tokens) or last["eval_count"] != want or not last["done"]:
            why = f"counts {counted}/{last['eval_count']} for a prompt of {prompt_tokens} tokens and {want} asked"
        if sum(e["done"] for e in events) != 1:
            why = "not exactly one final event"
    else:
        body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": want, "ignore_eos": True, **common}
        r = requests.post(url + "/v1/chat/completions", json=body, timeout=120)
        if r.status_code != 200:
            return {"kind": kind, "ok": False, "why": f"status {r.status_code}: {r.text[:200]}", "seconds": time.monotonic() - start}
        usage = r.json()["usage"]
        if usage["completion_tokens"] != want or usage["prompt_tokens"] <= prompt_tokens:
            why = f"usage {usage} for {want} asked"
    return {"kind": kind, "ok": not why, "why": why, "seconds": time.monotonic() - start}


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def load_test(url, lp_bin, model, n_requests, clients, malformed_share):
    prompts = [prompt_of(i) for i in range(n_requests)]
    counts = token_counts(lp_bin, model, prompts)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda i: one_request(url, i, prompts[i], counts[i], malformed_share), range(n_requests)))
    wall = time.monotonic() - start
    health = requests.get(url + "/health", timeout=10).json()
    metrics = prometheus_values(requests.get(url + "/metrics", timeout=10).text)
    valid = [r for r in results if r["kind"] != "malformed"]
    latencies = [r["seconds"] for r in valid]
    return {
        "requests": n_requests, "clients": clients, "malformed": len(results) - len(valid),
        "malformed_tokens_asked": sum(1 + i % 8 for i, r in enumerate(results) if r["kind"] == "malformed"),
        "failed": [r["why"] for r in results if not r["ok"]],
        "wall_seconds": wall, "requests_per_second": n_requests / wall,
        "latency_p50_seconds": statistics.median(latencies), "latency_p99_seconds": percentile(latencies, 99),
        "server_healthy": health["status"] == "ok" and health["slots_processing"] == 0,
        "generated_tokens": metrics["llamapajamas_generated_tokens_total"],
        "streams_per_forward_pass": metrics["llamapajamas_decode_rows_total"] / max(1, metrics["llamapajamas_forward_passes_total"]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lp-bin", default="build/src/llama-pajamas")
    ap.add_argument("--model", required=True)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--malformed", type=float, default=0.1)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the summary here too")
    args = ap.parse_args()
    with served(args.lp_bin, args.model, "-t", str(args.threads), "-c", "512", "--parallel", str(args.parallel)) as (url, proc):
        summary = load_test(url, args.lp_bin, args.model, args.requests, args.clients, args.malformed)
        summary["server_running"] = proc.poll() is None
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    return 0 if not summary["failed"] and summary["server_healthy"] and summary["server_running"] else 1


if __name__ == "__main__":
    sys.exit(main())
