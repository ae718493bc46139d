"""Our `bench` against llama.cpp's llama-bench on the same GGUF files, same thread count,
same tests (pp = prompt tokens in one batch, tg = tokens one at a time, each after -d tokens
already in the cache: llama-bench's depth), interleaved so that a machine that slows down or
speeds up hits both alike.

    python3 bench/bench_vs_llama_bench.py --llama-bench /path/to/llama-bench MODEL.gguf [MODEL2.gguf ...]
        [--threads 2] [-p 512] [-n 128] [-d 0,2048] [--kv-type f16|q8_0|q4_0] [--reps 3] [--rounds 2]
        [--lp-bin build/src/llama-pajamas]

A quantized --kv-type is llama.cpp's -ctk/-ctv with flash attention on (-fa 1), which its
quantized V cache needs.

llama-bench is built by the user from llama.cpp's source (never by this repository). Prints
one markdown row per model and test: our tokens/s, llama.cpp's, and the ratio (median over
rounds of each round's mean)."""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def depth_and_cache(args, ours):
    """The -d and KV-cache flags of a run (callers without those options get depth 0, f16)."""
    depth, kv = getattr(args, "d", "0"), getattr(args, "kv_type", "f16")
    if ours:
        return ["-d", depth, "--kv-type", kv]
    return ["-d", depth] + ([] if kv == "f16" else ["-ctk", kv, "-ctv", kv, "-fa", "1"])


def ours_rows(lp_bin, model, args, extra=()):
    """Our bench's JSON rows by test name (pp512, tg128), with whatever `extra` flags add."""
    out = subprocess.run([lp_bin, "bench", str(model), "-p", str(args.p), "-n", str(args.n), "-r", str(args.reps),
                          "-t", str(args.threads), *depth_and_cache(args, ours=True), "-o", "json", *extra],
                         capture_output=True, text=True, check=True).stdout
    return {row["test"]: row for row in json.loads(out)}


def ours(lp_bin, model, args):
    return {test: row["avg_ts"] for test, row in ours_rows(lp_bin, model, args).items()}


def theirs(llama_bench, model, args):
    out = subprocess.run([llama_bench, "-m", str(model), "-p", str(args.p), "-n", str(args.n), "-r", str(args.reps),
                          "-t", str(args.threads), *depth_and_cache(args, ours=False), "-o", "json"],
                         capture_output=True, text=True, check=True).stdout
    rows = json.loads(out)

    def name(r):  # our test names: pp512, tg128 @ d2048
        test = f"pp{r['n_prompt']}" if r["n_prompt"] else f"tg{r['n_gen']}"
        return test + (f" @ d{r['n_depth']}" if r.get("n_depth") else "")

    return {name(r): r["avg_ts"] for r in rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--llama-bench", required=True)
    ap.add_argument("--lp-bin", default=str(ROOT / "build" / "src" / "llama-pajamas"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-d", default="0", help="depths, comma-separated")
    ap.add_argument("--kv-type", default="f16", choices=["f16", "q8_0", "q4_0"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(f"| model | test | llama-pajamas t/s | llama.cpp t/s | ratio |\n| --- | --- | ---: | ---: | ---: |")
    for model in args.models:
        a, b = {}, {}
        for r in range(args.rounds):
            order = [("ours", ours), ("theirs", theirs)] if r % 2 == 0 else [("theirs", theirs), ("ours", ours)]
            for who, fn in order:
                result = fn(args.lp_bin if who == "ours" else args.llama_bench, model, args)
                for test, tps in result.items():
                    (a if who == "ours" else b).setdefault(test, []).append(tps)
                print(f"  round {r + 1} {who}: {result}", file=sys.stderr)
        for test in a:
            x, y = statistics.median(a[test]), statistics.median(b.get(test, [float("nan")]))
            print(f"| {pathlib.Path(model).name} | {test} | {x:.2f} | {y:.2f} | {x / y:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
