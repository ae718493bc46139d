"""`validate --metrics mmlu,arc`: MMLU and ARC by log-likelihood, as lm-evaluation-harness scores them.

- On the tiny random-weight qwen2 directory (byte-level BPE, no BOS, context 512), run in float32
  (--activations f32 --kv-type f32), our per-question choices (acc and acc_norm) equal those of
  an independent transformers implementation (tests/fixtures/mmlu_reference/make_reference.py,
  committed as qwen2_tr125.json) on >= 99% of the TR125 subset's questions, 0-shot and 5-shot
  MMLU, ARC-Challenge and ARC-Easy; the prompts hash the same, tokenize to the same lengths,
  and the choice log-likelihoods are close (the largest difference is printed).
- On SmolLM2-135M-Instruct Q4_1 the TR125-subset run completes, the record holds every field
  (per-subject MMLU, Wilson intervals, data hashes, settings), the JSONL has one line per
  question, and ARC-Easy accuracy is above chance (Wilson lower bound > 25%).
- Bad input: one `error:` line, exit 2, no record written.

MMLU and ARC are ../shared/data/{mmlu,arc} next to the repository, or under LP_SHARED_DATA."""
import json
import os
import pathlib

import pytest

from conftest import ROOT, run, validate_error

SHARED_DATA = pathlib.Path(os.environ.get("LP_SHARED_DATA", ROOT.parent / "shared" / "data"))
REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "mmlu_reference" / "qwen2_tr125.json"
TASK_OF_RUN = {"mmlu_0shot": "mmlu", "mmlu_5shot": "mmlu", "arc_challenge": "arc_challenge", "arc_easy": "arc_easy"}


def data_dir():
    if not (SHARED_DATA / "mmlu" / "test").is_dir() or not (SHARED_DATA / "arc").is_dir():
        pytest.exit(f"{SHARED_DATA} lacks mmlu/ and arc/: set LP_SHARED_DATA to the folder holding them", returncode=2)
    return SHARED_DATA


def validate_mc(lp_bin, model, tmp_path, name, *args):
    out, samples = tmp_path / f"{name}.json", tmp_path / f"{name}.jsonl"
    run([lp_bin, "validate", str(model), "--data-dir", str(data_dir()), "--subset", "tr125", "-t", "2",
         "--out", str(out), "--samples", str(samples), *map(str, args)])
    lines = [json.loads(l) for l in samples.read_text().splitlines()]
    return json.loads(out.read_text()), lines


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory, lp_bin, fixtures_dir):
    """Our samples for each reference run, keyed like the reference."""
    d = tmp_path_factory.mktemp("mc_tiny")
    model = fixtures_dir / "tiny_models" / "qwen2"
    exact = ["--activations", "f32", "--kv-type", "f32"]
    _, zero = validate_mc(lp_bin, model, d, "zero", "--metrics", "mmlu,arc", *exact)
    _, five = validate_mc(lp_bin, model, d, "five", "--metrics", "mmlu", "--shots", "5", *exact)
    return {"mmlu_0shot": [s for s in zero if s["task"] == "mmlu"], "mmlu_5shot": five,
            "arc_challenge": [s for s in zero if s["task"] == "arc_challenge"],
            "arc_easy": [s for s in zero if s["task"] == "arc_easy"]}


@pytest.mark.parametrize("run_name", list(TASK_OF_RUN))
def test_choices_equal_transformers(tiny_runs, run_name):
    reference = json.loads(REFERENCE.read_text())["runs"][run_name]
    ours = tiny_runs[run_name]
    assert [s["id"] for s in ours] == [r["id"] for r in reference], "a different subset or order"
    same = same_norm = 0
    max_diff = 0.0
    for s, r in zip(ours, reference):
        # The same prompt text, tokenized and truncated to the same lengths.
        assert s["prompt_sha256"] == r["prompt_sha256"], s["id"]
        assert (s["context_tokens"], s["truncated_tokens"]) == (r["context_tokens"], r["truncated_tokens"]), s["id"]
        assert [c["tokens"] for c in s["choices"]] == r["continuation_tokens"], s["id"]
        assert s["answer"] == r["answer"], s["id"]
        same += s["chosen"] == r["chosen"]
        same_norm += s["chosen_norm"] == r["chosen_norm"]
        max_diff = max(max_diff, *(abs(c["logprob"] - x) for c, x in zip(s["choices"], r["logprobs"])))
    n = len(reference)
    print(f"{run_name}: {n} questions, acc choice agrees on {same}, acc_norm on {same_norm}, "
          f"max |logprob ours - transformers| = {max_diff:.2e}")
    assert same >= 0.99 * n and same_norm >= 0.99 * n
    # float32 on both sides: sums over up to ~60 tokens agree far better than the gaps that decide choices.
    assert max_diff < 1e-3


def test_truncation_and_few_shot_are_exercised():
    """The reference would not catch a broken truncation or 5-shot prefix if none happened."""
    runs = json.loads(REFERENCE.read_text())["runs"]
    assert sum(r["truncated_tokens"] > 0 for r in runs["mmlu_0shot"]) > 0
    assert all(r["truncated_tokens"] > 0 for r in runs["mmlu_5shot"])
    assert any(max(r["continuation_tokens"]) > 1 for r in runs["arc_easy"])


@pytest.fixture(scope="module")
def smol_run(tmp_path_factory, lp_bin, smollm2_gguf):
    d = tmp_path_factory.mktemp("mc_smol")
    return validate_mc(lp_bin, smollm2_gguf, d, "smol", "--metrics", "mmlu,arc")


def check_accuracy(acc, n):
    assert 0 <= acc["correct"] <= n and acc["value"] == pytest.approx(acc["correct"] / n)
    low, high = acc["wilson95"]
    assert 0 <= low <= acc["value"] <= high <= 1


def test_smollm2_record_and_samples(smol_run):
    record, samples = smol_run
    assert record["schema"] == "llama-pajamas/validate-record/1"
    mc = record["settings"]["multiple_choice"]
    assert mc["tasks"] == ["mmlu", "arc_challenge", "arc_easy"] and mc["subset"] == "tr125" and mc["subset_seed"] == 42
    assert mc["shots"] == 0 and mc["samples"].endswith("smol.jsonl")
    counts = {"mmlu": 285, "arc_challenge": 200, "arc_easy": 200}
    for task, n in counts.items():
        m = record["metrics"][task]
        assert m["questions"] == n and m["subset"] == "tr125"
        check_accuracy(m["acc"], n)
        check_accuracy(m["acc_norm"], n)
        assert len(m["data"]["sha256"]) == 64 and m["data"]["files"] == (57 if task == "mmlu" else 1)
        # The record's counts are the samples' counts.
        lines = [s for s in samples if s["task"] == task]
        assert len(lines) == n
        assert sum(s["correct"] for s in lines) == m["acc"]["correct"]
        assert sum(s["correct_norm"] for s in lines) == m["acc_norm"]["correct"]
    subjects = record["metrics"]["mmlu"]["subjects"]
    assert len(subjects) == 57 and all(s["questions"] == 5 for s in subjects.values())
    assert sum(s["acc"]["correct"] for s in subjects.values()) == record["metrics"]["mmlu"]["acc"]["correct"]
    assert len(samples) == sum(counts.values())
    assert len({(s["task"], s["id"]) for s in samples}) == len(samples)
    for s in samples:
        assert len(s["prompt_sha256"]) == 64 and 0 <= s["answer"] < len(s["choices"])
        scores = [c["logprob"] for c in s["choices"]]
        assert all(x < 0 for x in scores) and s["chosen"] == scores.index(max(scores))
        assert s["correct"] == (s["chosen"] == s["answer"])


def test_smollm2_above_chance_on_arc_easy(smol_run):
    record, _ = smol_run
    acc = record["metrics"]["arc_easy"]["acc"]
    print(f"SmolLM2-135M Q4_1 ARC-Easy (TR125-style 200): acc {acc['value']:.3f} {acc['wilson95']}")
    assert acc["wilson95"][0] > 0.25


def test_bad_input_is_one_error_line(tmp_path, lp_bin, fixtures_dir):
    model = fixtures_dir / "tiny_models" / "qwen2"
    assert "unknown metric 'hellaswag'" in validate_error(lp_bin, tmp_path, model, "--metrics", "mmlu,hellaswag")
    assert "data folder" in validate_error(lp_bin, tmp_path, model, "--metrics", "mmlu", "--data-dir", tmp_path / "nowhere")
    assert "no test/ folder" in validate_error(lp_bin, tmp_path, model, "--metrics", "mmlu", "--data-dir", tmp_path)
    assert "does not exist" in validate_error(lp_bin, tmp_path, model, "--metrics", "arc_easy", "--data-dir", tmp_path)
    assert "--subset" in validate_error(lp_bin, tmp_path, model, "--metrics", "arc", "--subset", "tr999")
    assert "--shots" in validate_error(lp_bin, tmp_path, model, "--metrics", "mmlu", "--shots", "6", "--data-dir", data_dir())
    assert "apply to mmlu and arc" in validate_error(lp_bin, tmp_path, model, "--metrics", "perplexity", "--shots", "5")
    broken = tmp_path / "broken" / "mmlu"
    (broken / "test").mkdir(parents=True)
    (broken / "test" / "x_test.csv").write_text('q,a,b,c,d,E\n')
    assert "not one of A, B, C, D" in validate_error(lp_bin, tmp_path, model, "--metrics", "mmlu", "--data-dir", broken.parent)
