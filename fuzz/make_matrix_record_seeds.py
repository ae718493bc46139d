"""Writes fuzz/corpus/matrix_records: folders of matrix step records as `matrix` writes them
(schema llama-pajamas/matrix-step/1, one record per step and level, the fields the report
reads), each seed being the records' JSON texts joined by NUL bytes (see fuzz_matrix_records.cpp).
Run from the repository root; the output is committed."""
import json
from pathlib import Path

SCHEMA = "llama-pajamas/matrix-step/1"
SHA = "3f1e" * 16
HARDWARE = {"cpu_model": "AMD EPYC 7B13", "logical_cores": 2, "memory_bytes": 8 << 30, "os": "Linux"}


def record(step, level, result, finished="2025-01-01T00:00:00Z"):
    inputs = {"step": step, "level": level, "source_sha256": SHA, "tool_version": "0.1.0"}
    return {"schema": SCHEMA, "step": step, "level": level, "key": f"{step}-{level}", "inputs": inputs,
            "context": {"suite": "quick"}, "finished_utc": finished, "seconds": 1.5, "result": result}


def est(value, half):
    return {"value": value, "ci95": [value - half, value + half]}


def mc(correct):
    per = [["mmlu", f"q{i}", float(i < correct)] for i in range(8)] + [["arc_challenge", f"a{i}", float(i % 2)] for i in range(4)]
    task = lambda c, n: {"questions": n, "generation": {"rescored_acc": {"value": c / n, "correct": c, "questions": n}}}
    return {"metrics": {"mmlu": task(correct, 8), "arc_challenge": task(2, 4)}, "per_question": per}


def gen(r):
    overall = {m: {"mean": r * w} for m, w in (("rouge_l", 1.0), ("bleu", 0.8), ("length_ratio", 1.05))}
    return {"metrics": {"gen": {"overall": overall}}, "per_prompt": [[f"p{i}", r, r * 0.8, 1.0] for i in range(3)]}


def bench(tg):
    return {"bench": [{"n_prompt": 64, "n_gen": 0, "avg_ts": tg * 8, "peak_rss_bytes": 90 << 20},
                      {"n_prompt": 0, "n_gen": 16, "avg_ts": tg, "peak_rss_bytes": 92 << 20}],
            "run": {"timings": {"time_to_first_token_seconds": 0.05, "load_seconds": 0.2}}, "hardware": HARDWARE}


def model(level, size):
    return {"file": {"path": f"matrix-out/models/{level}.gguf", "bytes": size, "sha256": SHA}}


def text(ppl, kld):
    metrics = {"perplexity": {"ppl": est(ppl, 0.4)}}
    if kld is not None:
        metrics["kld"] = {"kl_divergence": {"mean": {"value": kld}}, "same_top_p": {"value": 0.97}}
    return {"metrics": metrics}


full = [record("reference", "F16", text(12.0, None)),
        record("model", "F16", model("F16", 270 << 20)), record("model", "Q8_0", model("Q8_0", 145 << 20)),
        record("model", "Q4_K_M", model("Q4_K_M", 105 << 20)),
        record("text", "Q8_0", text(12.05, 0.002)), record("text", "Q4_K_M", text(12.9, 0.05)),
        record("mc", "F16", mc(6)), record("mc", "Q8_0", mc(6)), record("mc", "Q4_K_M", mc(4)),
        record("gen", "Q8_0", gen(0.95)), record("gen", "Q4_K_M", gen(0.7)),
        record("bench", "F16", bench(40.0)), record("bench", "Q8_0", bench(70.0)), record("bench", "Q4_K_M", bench(95.0))]
seeds = {
    "quick-three-levels": full,
    "baseline-only": [record("reference", "F16", text(9.5, None)), record("model", "F16", model("F16", 1 << 30))],
    # A level measured twice: the newer record wins.
    "rerun-newer-wins": full[:3] + [record("text", "Q8_0", text(13.0, 0.01), "2024-12-31T00:00:00Z"), full[4]],
}
out = Path("fuzz/corpus/matrix_records")
out.mkdir(parents=True, exist_ok=True)
for name, records in seeds.items():
    (out / f"{name}.bin").write_bytes(b"\0".join(json.dumps(r).encode() for r in records))
