"""The memory model's predicted peak against the peak resident memory our engine reaches, for
every model x file type of the engine matrix and three contexts; optionally llama.cpp's own
peak on the same file (llama-cpp-python, same context and batch) beside them.

    python3 bench/memory_model_vs_rss.py [--models-dir /work/models-synth] [--contexts 512,2048,8192]
        [--models smollm2-135m,llama-3.2-1b,qwen2.5-1.5b] [--types F16,Q8_0,...] [--llama-cpp] [--out table.md]

Files are the ones bench/engine_matrix.py makes (<model>-F16.gguf and <model>-F16-<TYPE>.gguf, or
<model>-<TYPE>.gguf). Ours: `fit FILE -c CTX --json --device iphone-12` gives the prediction
(headers only); `bench FILE -c CTX -p min(512,CTX) -n 16 -r 1 -o json` runs a prompt batch and a
decode in a fresh process and reports getrusage's peak. llama.cpp: a fresh Python process loads
the file with n_ctx=CTX, n_batch=512, evaluates a 512-token prompt and 16 tokens, and prints
its own ru_maxrss (the interpreter's own ~30 MiB included, measured and shown apart)."""
import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TYPES = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_S", "Q2_K"]
MODELS = ["smollm2-135m", "llama-3.2-1b", "qwen2.5-1.5b"]
MIB = 1024.0 * 1024.0

# llama_decode directly: llama-cpp-python's eval() copies logits it did not ask for.
LLAMA_CPP_PROBE = r"""
import resource, sys
n_ctx, path, scripts = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.path.insert(0, scripts)
import llama_cpp, llama_cpp_guard
llama_cpp_guard.disable_amx_repack()
imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
m = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_batch=512, n_threads=2, verbose=False)
def decode(tokens):
    arr = (llama_cpp.llama_token * len(tokens))(*tokens)
    assert llama_cpp.llama_decode(m.ctx, llama_cpp.llama_batch_get_one(arr, len(tokens))) == 0
decode([(i * 7919) % 1000 + 10 for i in range(min(512, n_ctx - 16))])
for i in range(16):
    decode([(i * 31) % 1000 + 10])
print(imported, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def model_path(models_dir, model, ftype):
    for name in (f"{model}-{ftype}.gguf", f"{model}-F16-{ftype}.gguf"):
        if (models_dir / name).exists():
            return models_dir / name
    return None


def predicted(lp_bin, path, ctx):
    out = subprocess.run([lp_bin, "fit", str(path), "-c", str(ctx), "--json", "--device", "iphone-12"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["memory"]


def measured(lp_bin, path, ctx):
    p = min(512, ctx)
    out = subprocess.run([lp_bin, "bench", str(path), "-c", str(ctx), "-p", str(p), "-n", "16", "-r", "1", "-o", "json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]["peak_rss_bytes"]


def llama_cpp_peak(path, ctx):
    out = subprocess.run([sys.executable, "-c", LLAMA_CPP_PROBE, str(ctx), str(path), str(ROOT / "scripts")], capture_output=True, text=True,
                         check=True).stdout.split()
    imported, peak = int(out[0]) * 1024, int(out[1]) * 1024
    return peak, imported


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lp-bin", default=str(ROOT / "build" / "src" / "llama-pajamas"))
    ap.add_argument("--models-dir", default="/work/models-synth")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--contexts", default="512,2048,8192")
    ap.add_argument("--llama-cpp", action="store_true", help="also measure llama.cpp's peak via llama-cpp-python")
    ap.add_argument("--out")
    args = ap.parse_args()
    models_dir = pathlib.Path(args.models_dir)
    header = "| model | type | ctx | predicted MiB | measured MiB | error | weights | KV | compute | runtime |"
    sep = "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    if args.llama_cpp:
        header += " llama.cpp peak MiB | ours / llama.cpp |"
        sep += " ---: | ---: |"
    lines = [header, sep]
    print(header, flush=True)
    print(sep, flush=True)
    worst = 0.0
    for model in args.models.split(","):
        for ftype in args.types.split(","):
            path = model_path(models_dir, model, ftype)
            if path is None:
                print(f"  (no file for {model} {ftype} in {models_dir})", file=sys.stderr)
                continue
            for ctx in map(int, args.contexts.split(",")):
                mem = predicted(args.lp_bin, path, ctx)
                terms = {t["name"]: t["bytes"] for t in mem["terms"]}
                pred = mem["total_bytes"]
                meas = measured(args.lp_bin, path, ctx)
                err = 100.0 * (pred - meas) / meas
                worst = max(worst, abs(err))
                row = (f"| {model} | {ftype} | {ctx} | {pred / MIB:.1f} | {meas / MIB:.1f} | {err:+.1f}% | "
                       f"{(terms['weights'] + terms['weight_copies']) / MIB:.1f} | {terms['kv_cache'] / MIB:.1f} | "
                       f"{terms['compute'] / MIB:.1f} | {terms['runtime'] / MIB:.1f} |")
                if args.llama_cpp:
                    peak, interpreter = llama_cpp_peak(path, ctx)
                    row += f" {peak / MIB:.1f} (interpreter {interpreter / MIB:.0f}) | {meas / peak:.2f} |"
                print(row, flush=True)
                lines.append(row)
    summary = f"worst |error|: {worst:.1f}%"
    print(summary)
    if args.out:
        pathlib.Path(args.out).write_text("\n".join(lines + ["", summary]) + "\n")


if __name__ == "__main__":
    main()
