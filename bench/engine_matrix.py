"""Our engine against llama.cpp's llama-bench for every model x file type of issue 6, on the
same files and thread count, interleaved (ours then theirs for one file, theirs then ours for
the next), so that a machine that slows down hits both alike.

    python3 bench/engine_matrix.py --llama-bench /path/to/llama-bench
        [--models qwen2.5-1.5b,llama-3.2-1b,smollm2-135m] [--types F16,Q8_0,...] [--reps 3]
        [--threads 2] [-p 512] [-n 128] [--models-dir /work/models-synth] [--out table.md]

Files are made once and kept in --models-dir (outside the repository; files already there are
reused, never deleted): the Qwen2.5-1.5B- and Llama-3.2-1B-shaped ones by `synth --like` (F16,
random weights) and our `quantize`; the SmolLM2-135M ones by dequantizing the shipped
SmolLM2-135M-Instruct Q4_1 GGUF to F16 with our `quantize` (its weights are Q4_1 values,
which F16 holds exactly) and quantizing that F16 file. Prints one markdown row per file: pp
and tg tokens/s of both tools and the ratio, our peak resident memory against the issue's
limit (file + KV cache + 100 MiB), and decode against the read-bandwidth ceiling that our
`bench --bandwidth` measures in the same process."""
import argparse
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_vs_llama_bench import ROOT, ours_rows, theirs  # noqa: E402

TYPES = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_S", "Q2_K"]
SYNTH_SHAPES = ["qwen2.5-1.5b", "llama-3.2-1b"]
SHIPPED = "smollm2-135m"
MIB = 1024.0 * 1024.0


def run_logged(cmd):
    print("  $ " + " ".join(map(str, cmd)), file=sys.stderr, flush=True)
    subprocess.run(list(map(str, cmd)), check=True, stdout=subprocess.DEVNULL)


def f16_source(lp_bin, models_dir, model):
    path = models_dir / f"{model}-F16.gguf"
    if path.exists():
        return path
    if model == SHIPPED:
        shipped = subprocess.run([sys.executable, str(ROOT / "scripts" / "test_models.py"), "smollm2"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        run_logged([lp_bin, "quantize", shipped, "-m", "F16", "-o", path])
    else:
        run_logged([lp_bin, "synth", "--like", model, "-m", "F16", "-o", path])
    return path


def model_file(lp_bin, models_dir, model, ftype):
    """The model's file of this type, made (from the model's F16 file) if it is not there yet."""
    source = f16_source(lp_bin, models_dir, model)
    path = models_dir / f"{model}-{ftype}.gguf"
    if not path.exists():
        run_logged([lp_bin, "quantize", source, "-m", ftype, "-o", path])
    return path


def measure(lp_bin, llama_bench, path, args, ours_first):
    def run_ours():
        return ours_rows(lp_bin, path, args, extra=["--bandwidth"])

    def run_theirs():
        return theirs(llama_bench, path, args)

    if ours_first:
        rows = run_ours()
        return rows, run_theirs()
    b = run_theirs()
    return run_ours(), b


def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bench", required=True)
    ap.add_argument("--lp-bin", default=str(ROOT / "build" / "src" / "llama-pajamas"))
    ap.add_argument("--models-dir", type=pathlib.Path, default=pathlib.Path("/work/models-synth"))
    ap.add_argument("--models", default=",".join(SYNTH_SHAPES + [SHIPPED]))
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build-only", action="store_true", help="make the files, measure nothing")
    ap.add_argument("--out", type=pathlib.Path, help="also write the table here")
    args = ap.parse_args()
    models, types = args.models.split(","), args.types.split(",")
    for m in models:
        if m not in SYNTH_SHAPES + [SHIPPED]:
            sys.exit(f"error: unknown model {m!r} (known: {', '.join(SYNTH_SHAPES + [SHIPPED])})")
    for t in types:
        if t not in TYPES:
            sys.exit(f"error: unknown type {t!r} (known: {', '.join(TYPES)})")
    args.models_dir.mkdir(parents=True, exist_ok=True)
    files = [(m, t, model_file(args.lp_bin, args.models_dir, m, t)) for m in models for t in types]
    if args.build_only:
        return

    pp, tg = f"pp{args.p}", f"tg{args.n}"
    lines = [f"| model | type | file MiB | {pp} ours | {pp} llama.cpp | {pp} ratio | {tg} ours | {tg} llama.cpp | {tg} ratio"
             f" | peak RSS MiB | limit MiB | read GB/s | MB/token | {tg} % of ceiling |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    print("\n".join(lines), flush=True)
    for i, (m, t, path) in enumerate(files):
        a, b = measure(args.lp_bin, args.llama_bench, path, args, ours_first=i % 2 == 0)
        mine = {k: round(v["avg_ts"], 2) for k, v in a.items()}
        print(f"  {m} {t}: ours {mine} llama.cpp {b}  [{time.strftime('%H:%M:%S')}]", file=sys.stderr, flush=True)
        o_pp, o_tg = a.get(pp, {}).get("avg_ts"), a.get(tg, {}).get("avg_ts")
        row = a.get(tg) or a.get(pp)
        limit = path.stat().st_size + row["kv_cache_bytes"] + 100 * MIB
        line = (f"| {m} | {t} | {path.stat().st_size / MIB:.0f} | {o_pp or 0:.2f} | {b.get(pp, 0):.2f} | {fmt_ratio(o_pp, b.get(pp))}"
                f" | {o_tg or 0:.2f} | {b.get(tg, 0):.2f} | {fmt_ratio(o_tg, b.get(tg))}"
                f" | {row['peak_rss_bytes'] / MIB:.0f} | {limit / MIB:.0f} | {row['read_bandwidth_gbs']:.1f}"
                f" | {row['decode_bytes_per_token'] / 1e6:.0f} | {row.get('pct_of_ceiling', 0):.0f}% |")
        lines.append(line)
        print(line, flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
