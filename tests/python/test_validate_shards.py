"""validate --shard I/N and validate-merge: perplexity + KL-divergence in three shards of uneven
windows, and MMLU + ARC (both scorings) in three shards that split MMLU subjects, merge to
exactly the unsharded run's metrics (every field, bit for bit); merging the wrong set of shards
is one error line."""
import json
import os
import subprocess

import pytest

from conftest import run
from test_matrix_slurm import DATA, small_data  # noqa: F401  (the same few questions and text)


@pytest.fixture(scope="module")
def reference_logits(lp_bin, smollm2_gguf, tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    text = d / "wiki.txt"  # five windows of 512 tokens: shards of 1, 2 and 2
    text.write_text((DATA / "wikitext-2-raw" / "wiki.test.raw").read_text()[:12000])
    q8 = d / "q8.gguf"
    run([lp_bin, "quantize", smollm2_gguf, "-m", "Q8_0", "-o", str(q8), "-t", "2"])
    logits = d / "ref.logits"
    run([lp_bin, "validate", str(q8), "--metrics", "perplexity", "-f", str(text), "--save-reference-logits", str(logits),
         "-t", "2"])
    return logits


def validate(lp_bin, model, out, *args):
    run([lp_bin, "validate", str(model), *args, "-o", str(out), "-t", "2"])
    return json.loads(out.read_text())


def merge(lp_bin, out, *shards):
    run([lp_bin, "validate-merge", *map(str, shards), "-o", str(out)])
    return json.loads(out.read_text())


def test_perplexity_and_kld_shards_merge_exactly(lp_bin, smollm2_gguf, reference_logits, tmp_path):
    args = ["--metrics", "perplexity,kld", "--reference-logits", str(reference_logits)]
    whole = validate(lp_bin, smollm2_gguf, tmp_path / "whole.json", *args)
    shards = [validate(lp_bin, smollm2_gguf, tmp_path / f"s{i}.json", *args, "--shard", f"{i}/3") for i in (1, 2, 3)]
    windows = whole["settings"]["chunks"]
    assert windows >= 4 and windows % 3 != 0  # uneven shards
    assert [s["shard"]["text"]["windows"] for s in shards] == [[windows * i // 3, windows * (i + 1) // 3] for i in range(3)]
    assert all(s["metrics"] != whole["metrics"] for s in shards)  # each alone is another number
    merged = merge(lp_bin, tmp_path / "merged.json", *[tmp_path / f"s{i}.json" for i in (3, 1, 2)])
    assert merged["metrics"] == whole["metrics"]
    assert merged["settings"] == whole["settings"] and merged["merged_shards"] == 3
    assert whole["metrics"]["kld"]["kl_divergence"]["mean"]["value"] > 0


def test_mmlu_and_arc_shards_merge_exactly(lp_bin, smollm2_gguf, small_data, tmp_path):  # noqa: F811
    data, _ = small_data
    args = ["--metrics", "mmlu,arc_challenge", "--subset", "tr125", "--mc-scoring", "both", "--data-dir", str(data)]
    whole = validate(lp_bin, smollm2_gguf, tmp_path / "whole.json", *args)
    # 20 MMLU questions (5 in each of 4 subjects) in three shards: two subjects are split.
    shards = [validate(lp_bin, smollm2_gguf, tmp_path / f"m{i}.json", *args, "--shard", f"{i}/3") for i in (1, 2, 3)]
    mmlu = whole["metrics"]["mmlu"]
    assert mmlu["questions"] == sum(s["metrics"]["mmlu"]["questions"] for s in shards)
    split = set(shards[0]["metrics"]["mmlu"]["subjects"]) & set(shards[1]["metrics"]["mmlu"]["subjects"])
    assert split  # and it merges all the same
    merged = merge(lp_bin, tmp_path / "merged.json", *[tmp_path / f"m{i}.json" for i in (1, 2, 3)])
    assert merged["metrics"] == whole["metrics"]
    assert "generation" in mmlu and "acc" in mmlu


@pytest.mark.parametrize("which, message", [
    (["m1"], "shard 2 of 2 is missing"),
    (["m1", "m1"], "are both shard 1 of 2"),
    (["m1", "whole"], "is not the record of a validate --shard run"),
])
def test_wrong_shards_are_one_error_line(lp_bin, smollm2_gguf, small_data, tmp_path, which, message):  # noqa: F811
    data, _ = small_data
    args = ["--metrics", "mmlu", "--subset", "quick", "--data-dir", str(data)]
    validate(lp_bin, smollm2_gguf, tmp_path / "m1.json", *args, "--shard", "1/2")
    validate(lp_bin, smollm2_gguf, tmp_path / "whole.json", *args)
    result = subprocess.run([lp_bin, "validate-merge", *[str(tmp_path / f"{w}.json") for w in which]],
                            capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_bad_shard_is_one_error_line(lp_bin, smollm2_gguf, tmp_path):
    result = subprocess.run([lp_bin, "validate", smollm2_gguf, "--shard", "3/2", "-o", str(tmp_path / "x.json")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--shard must be I/N with 1 <= I <= N" in result.stderr
