"""`run` and `logits` as a user meets them: greedy generation is the argmax of the
log-probabilities `logits` reports (which test_engine_reference.py proves equal to
transformers'), seeds reproduce, stop strings cut, chat turns continue, and bad input gets one
error line and exit code 2."""
import json
import statistics
import pathlib
import subprocess

import numpy as np
import pytest

from conftest import run

TINY = "llama"


@pytest.fixture(scope="module")
def tiny(fixtures_dir):
    return pathlib.Path(fixtures_dir) / "tiny_models" / TINY


def run_json(lp_bin, model, *args):
    return json.loads(run([lp_bin, "run", str(model), "--json", "-t", "2", *args]).stdout)


def test_greedy_tokens_are_the_argmax_of_logits(lp_bin, tiny, tmp_path):
    out = run_json(lp_bin, tiny, "-p", "the quick brown fox", "--temp", "0", "-n", "12", "--ignore-eos")
    assert len(out["tokens"]) == 12
    sequence = out["prompt_tokens"] + out["tokens"]
    ids = tmp_path / "ids.txt"
    ids.write_text(" ".join(map(str, sequence)))
    npy = tmp_path / "lp.npy"
    run([lp_bin, "logits", str(tiny), "--tokens", str(ids), "--out", str(npy), "-t", "2"])
    logprobs = np.load(npy)
    assert logprobs.shape[0] == len(sequence)
    # Each row is a distribution: log-probabilities that sum to one.
    np.testing.assert_allclose(np.exp(logprobs.astype(np.float64)).sum(-1), 1.0, rtol=1e-5)
    n_prompt = len(out["prompt_tokens"])
    expected = logprobs[n_prompt - 1:-1].argmax(-1).tolist()
    assert out["tokens"] == expected
    assert out["stop_reason"] == "length"
    t = out["timings"]
    assert t["prompt_tokens"] == n_prompt and t["generated_tokens"] == 12 and t["eval_tokens"] == 11


def test_chat_template_shapes_the_prompt(lp_bin, tiny):
    chat = run_json(lp_bin, tiny, "-p", "hello", "--temp", "0", "-n", "1")
    raw = run_json(lp_bin, tiny, "-p", "hello", "--temp", "0", "-n", "1", "--raw")
    tokenized = json.loads(run([lp_bin, "tokenize", str(tiny), "--text", "hello", "--json"]).stdout)[0]["ids"]
    assert raw["prompt_tokens"] == tokenized
    assert len(chat["prompt_tokens"]) > len(raw["prompt_tokens"])  # role headers around the message


def test_seed_reproduces_sampling(lp_bin, tiny):
    args = ["-p", "once upon a time", "--temp", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0", "-n", "24",
            "--ignore-eos"]
    a = run_json(lp_bin, tiny, *args, "--seed", "7")
    b = run_json(lp_bin, tiny, *args, "--seed", "7")
    c = run_json(lp_bin, tiny, *args, "--seed", "8")
    assert a["tokens"] == b["tokens"]
    assert a["tokens"] != c["tokens"]


def test_stop_string_cuts_the_output(lp_bin, tiny):
    args = ["-p", "the quick brown fox", "--temp", "0", "-n", "16", "--ignore-eos", "--raw"]
    full = run_json(lp_bin, tiny, *args)["text"]
    assert len(full) > 6
    stop = full[3:6]
    cut = run_json(lp_bin, tiny, *args, "--stop", stop)
    assert cut["stop_reason"] == "stop_string"
    assert cut["text"] == full[:full.index(stop)]
    # Streaming prints the same text the JSON reports.
    streamed = run([lp_bin, "run", str(tiny), "-t", "2", *args, "--stop", stop]).stdout
    assert streamed.rstrip("\n") == cut["text"]


def test_interactive_chat_answers_each_line(lp_bin, tiny):
    result = subprocess.run([lp_bin, "run", str(tiny), "-i", "--temp", "0", "-n", "5", "--ignore-eos", "-t", "2"],
                            input="first question\nsecond question\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("> ") == 3  # two prompts answered, then end of input
    assert len([line for line in result.stdout.split("\n") if line]) >= 1


@pytest.mark.parametrize("args, message", [
    (["run", "{model}"], "needs -p/--prompt"),
    (["run", "/nonexistent/model.gguf", "-p", "x"], "nonexistent"),
    (["run", "{model}", "-p", "a b c d e f g h i j k l m n o p", "-c", "4"], "context"),
    (["logits", "{model}", "--tokens", "{ids}", "--out", "{out}"], "outside the vocabulary"),
    (["logits", "{model}", "--out", "{out}"], "needs --file or --tokens"),
    (["run", "{model}", "-p", "x", "--kv-type", "q8"], "kv-type"),
])
def test_bad_input_is_one_error_line(lp_bin, tiny, tmp_path, args, message):
    ids = tmp_path / "ids.txt"
    ids.write_text("1 2 999999")
    out = tmp_path / "out.npy"
    argv = [lp_bin] + [a.format(model=tiny, ids=ids, out=out) for a in args]
    result = run(argv, check=False)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert result.stdout == ""
    assert not out.exists()  # nothing half-written


def test_a_damaged_gguf_is_refused(lp_bin, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    result = run([lp_bin, "run", str(bad), "-p", "x"], check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    assert len(result.stderr.strip().split("\n")) == 1


def test_bench_reports_llama_bench_style_rows(lp_bin, tiny):
    rows = json.loads(run([lp_bin, "bench", str(tiny), "-p", "16", "-n", "4", "-r", "2", "-t", "2", "-o", "json"]).stdout)
    assert [r["test"] for r in rows] == ["pp16", "tg4"]
    for r in rows:
        assert len(r["samples_s"]) == 2 and all(s > 0 for s in r["samples_s"])
        # avg_ts is the mean over runs of tokens / seconds.
        n = r["n_prompt"] + r["n_gen"]
        assert abs(r["avg_ts"] - sum(n / s for s in r["samples_s"]) / 2) < 1e-6 * r["avg_ts"]
        assert r["model_n_params"] > 0 and r["n_threads"] == 2
    md = run([lp_bin, "bench", str(tiny), "-p", "8", "-n", "0", "-r", "1"]).stdout
    assert "| pp8 |" in md and "tg" not in md.split("build:")[0].split("| test")[1]


def test_bench_at_depth_is_llama_benchs_d(lp_bin, tiny):
    # `benchmark --context-lengths` is seed 004's name for `bench -d`: each test runs after that
    # many tokens already in the cache; the cache holds the deepest depth plus the longest test.
    rows = json.loads(run([lp_bin, "benchmark", str(tiny), "-p", "8", "-n", "4", "--context-lengths", "0,24", "-r", "1",
                           "-t", "2", "-o", "json", "--bandwidth"]).stdout)
    assert [(r["test"], r["n_depth"]) for r in rows] == [("pp8", 0), ("tg4", 0), ("pp8 @ d24", 24), ("tg4 @ d24", 24)]
    config = json.loads((tiny / "config.json").read_text())
    layers, kv_heads, head_dim = config["num_hidden_layers"], config["num_key_value_heads"], config["head_dim"]
    # f16 values of 24 + 8 positions; f16 keys in whole tiles of 64 positions (kernels/kv_rows.h).
    assert rows[0]["kv_cache_bytes"] == layers * (64 + 24 + 8) * kv_heads * head_dim * 2
    # Decoding at depth 24 reads positions 25..28 (one more per token) where depth 0 reads 1..4.
    per_position = layers * kv_heads * 2 * head_dim * 2
    extra = (sum(range(25, 29)) - sum(range(1, 5))) / 4 * per_position
    assert rows[3]["decode_bytes_per_token"] - rows[1]["decode_bytes_per_token"] == pytest.approx(extra, rel=1e-12)
    md = run([lp_bin, "bench", str(tiny), "-p", "8", "-n", "0", "-d", "16", "-r", "1"])
    assert "| pp8 @ d16 |" in md.stdout and "depth 16" in md.stderr


def test_bench_reports_memory_and_the_bandwidth_ceiling(lp_bin, tiny):
    rows = json.loads(run([lp_bin, "bench", str(tiny), "-p", "16", "-n", "4", "-r", "3", "-t", "2", "-o", "json",
                           "--bandwidth"]).stdout)
    pp, tg = rows
    config = json.loads((tiny / "config.json").read_text())
    d, ff, layers, vocab = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"], config["vocab_size"]
    heads, kv_heads, head_dim = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    assert not config["tie_word_embeddings"]
    # Hand count of one decoded token's reads (float32 weights): each layer's q, k, v, o and three
    # feed-forward matrices and two norms, the output matrix and norm, one embedding row and the
    # llama3 rope factors (one per rotary pair), then K and V of every cached position.
    per_layer = d * heads * head_dim * 2 + d * kv_heads * head_dim * 2 + 3 * d * ff + 2 * d
    weights = 4 * (layers * per_layer + vocab * d + d + d + head_dim // 2)
    n = tg["n_gen"]
    positions = n * (n + 1) / 2  # the token at position p reads p + 1 positions
    kv = layers * positions * kv_heads * 2 * head_dim * 2 / n  # float16 K and V
    assert tg["decode_bytes_per_token"] == pytest.approx(weights + kv, rel=1e-12)
    # One probe before the first run and one after each; each run against the mean of its two.
    probes = tg["bandwidth_probes_gbs"]
    assert len(probes) == len(tg["samples_s"]) + 1 and min(probes) > 0.1
    assert tg["read_bandwidth_gbs"] == pytest.approx(sum(probes) / len(probes), rel=1e-9)
    assert tg["ceiling_ts"] == pytest.approx(tg["read_bandwidth_gbs"] * 1e9 / tg["decode_bytes_per_token"], rel=1e-9)
    for i, (seconds, pct) in enumerate(zip(tg["samples_s"], tg["pct_of_ceiling_samples"])):
        ceiling = (probes[i] + probes[i + 1]) / 2 * 1e9 / tg["decode_bytes_per_token"]
        assert pct == pytest.approx(100 * n / seconds / ceiling, rel=1e-9)
    assert tg["pct_of_ceiling"] == pytest.approx(statistics.median(tg["pct_of_ceiling_samples"]), rel=1e-9)
    assert "decode_bytes_per_token" not in pp and "read_bandwidth_gbs" not in pp
    # The cache holds the longest test's positions (16) of float16 values, and float16 keys in
    # whole tiles of 64 positions.
    assert tg["kv_cache_bytes"] == layers * (64 + 16) * kv_heads * head_dim * 2
    assert tg["peak_rss_bytes"] > tg["kv_cache_bytes"] and pp["peak_rss_bytes"] == tg["peak_rss_bytes"]
