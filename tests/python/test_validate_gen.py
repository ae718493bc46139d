"""`validate` by generation: MMLU/ARC generate-and-rescore (TR125) and generation fidelity.

- Multiple choice, `--mc-scoring both`, on SmolLM2-135M-Instruct Q4_1 over a small slice of
  MMLU and ARC-Easy: the generation prompt is the documented message (its hash equals one built
  here), the greedy answers equal llama.cpp's (llama-cpp-python's chat completion from the same
  message and the GGUF's template) on most questions — the rest differ by the 8-bit activation
  rounding both engines do differently (see test_engine_llamacpp.py) — every sample's
  raw/rescored verdict follows from its text and extracted letter, and the record's counts are
  the samples'. With the model as its own reference the paired comparison finds no difference
  (no discordant question, McNemar p = 1).
- Generation fidelity, `--metrics gen`, a Q2_K requantization of SmolLM2 against the Q4_1 file
  on the built-in 50 prompts: every sample's ROUGE-L and BLEU equal rouge-score's and
  sacrebleu's on the two texts, exact match / length ratio / distinct 4-grams equal TR125's
  Python definitions, the family and overall means equal the samples' means and lie in their
  bootstrap intervals; the model against itself scores 1 on every metric.
- Bad input: one `error:` line, exit 2, nothing written."""
import csv
import hashlib
import json
import os
import pathlib

import numpy as np
import pytest
import sacrebleu
from rouge_score import rouge_scorer

from conftest import ROOT, run, validate_error

SHARED_DATA = pathlib.Path(os.environ.get("LP_SHARED_DATA", ROOT.parent / "shared" / "data"))
MMLU_SUBJECTS = ["astronomy", "high_school_biology"]
QUESTIONS_EACH = 10
ARC_QUESTIONS = 20


def generation_prompt(question, options):
    letters = "".join(f"{chr(65 + i)}. {o}\n" for i, o in enumerate(options))
    return f"{question}\n\n{letters}\nAnswer with the letter of the correct option."


@pytest.fixture(scope="module")
def mini_data(tmp_path_factory):
    """A slice of the shared MMLU and ARC-Easy files, in their own formats; and the questions."""
    d = tmp_path_factory.mktemp("mini_data")
    questions = {}
    (d / "mmlu" / "test").mkdir(parents=True)
    for s in MMLU_SUBJECTS:
        rows = list(csv.reader(open(SHARED_DATA / "mmlu" / "test" / f"{s}_test.csv", newline="")))[:QUESTIONS_EACH]
        with open(d / "mmlu" / "test" / f"{s}_test.csv", "w", newline="") as f:
            csv.writer(f).writerows(rows)
        for i, r in enumerate(rows):
            questions[f"{s}/{i}"] = (r[0].strip(), r[1:5], "ABCD".index(r[5]))
    (d / "arc" / "ARC-Easy").mkdir(parents=True)
    lines = (SHARED_DATA / "arc" / "ARC-Easy" / "ARC-Easy-Test.jsonl").read_text().splitlines()[:ARC_QUESTIONS]
    (d / "arc" / "ARC-Easy" / "ARC-Easy-Test.jsonl").write_text("\n".join(lines) + "\n")
    for line in lines:
        q = json.loads(line)
        labels = [c["label"] for c in q["question"]["choices"]]
        questions[q["id"]] = (q["question"]["stem"], [c["text"] for c in q["question"]["choices"]],
                              labels.index(q["answerKey"]))
    return d, questions


@pytest.fixture(scope="module")
def mc_run(tmp_path_factory, lp_bin, smollm2_gguf, mini_data):
    d = tmp_path_factory.mktemp("mc_gen")
    data, _ = mini_data
    out, samples = d / "mc.json", d / "mc.jsonl"
    run([lp_bin, "validate", smollm2_gguf, "--metrics", "mmlu,arc_easy", "--mc-scoring", "both",
         "--reference", smollm2_gguf, "--data-dir", str(data), "-t", "2", "--out", str(out), "--samples", str(samples)])
    return json.loads(out.read_text()), [json.loads(l) for l in samples.read_text().splitlines()]


def test_mc_generation_prompts_and_verdicts(mc_run, mini_data):
    record, samples = mc_run
    _, questions = mini_data
    assert len(samples) == len(questions)
    for s in samples:
        question, options, answer = questions[s["id"]]
        assert s["answer"] == answer
        assert s["generation_prompt_sha256"] == hashlib.sha256(generation_prompt(question, options).encode()).hexdigest()
        assert s["raw_correct"] == (s["generated"].strip().upper() == "ABCDE"[answer])
        assert s["rescored_correct"] == (s["extracted"] == answer)
        assert (s["extracted"] is None) == (s["extraction_rule"] == "none")
        assert s["reference"]["generated"] == s["generated"], "the same model, greedy: the same answer"
    for task in ["mmlu", "arc_easy"]:
        m = record["metrics"][task]
        lines = [s for s in samples if s["task"] == task]
        g = m["generation"]
        assert g["rescored_acc"]["correct"] == sum(s["rescored_correct"] for s in lines)
        assert g["raw_exact_match"]["correct"] == sum(s["raw_correct"] for s in lines)
        assert m["acc"]["correct"] == sum(s["correct"] for s in lines)
        assert g["unextracted"] == sum(s["extracted"] is None for s in lines)
        assert sum(g["rules"].values()) == len(lines)
        for name in ["acc", "acc_norm", "raw_exact_match", "rescored_acc"]:
            c = m["comparison"][name]
            assert c["difference_pp"] == 0 and c["mcnemar"]["only_model"] == c["mcnemar"]["only_reference"] == 0
            assert c["mcnemar"]["p_exact"] == 1 and not c["significant"]
        assert m["comparison"]["answer_logprob"]["mean_difference"] == 0
        print(f"SmolLM2 {task} ({len(lines)} questions): acc {m['acc']['value']:.2f}, "
              f"raw {g['raw_exact_match']['value']:.2f}, rescored {g['rescored_acc']['value']:.2f}, rules {g['rules']}")
    assert record["settings"]["multiple_choice"]["generation"]["prompt_format"] == "chat_template"


def test_mc_generation_equals_llamacpp(mc_run, mini_data, smollm2_gguf):
    from llama_cpp import Llama
    _, samples = mc_run
    _, questions = mini_data
    llm = Llama(smollm2_gguf, n_ctx=2048, n_threads=2, verbose=False)
    same = same_letter = 0
    for s in samples:
        question, options, _ = questions[s["id"]]
        r = llm.create_chat_completion(messages=[{"role": "user", "content": generation_prompt(question, options)}],
                                       temperature=0, max_tokens=32)
        text = r["choices"][0]["message"]["content"]
        same += text == s["generated"]
        same_letter += text.strip()[:1] == s["generated"].strip()[:1]
    n = len(samples)
    print(f"greedy answers equal to llama.cpp's: {same}/{n}; same first character: {same_letter}/{n}")
    # Measured 31/40 identical. A wrong prompt or template would share almost none.
    assert same >= 0.6 * n and same_letter >= 0.7 * n


def reference_fidelity(candidate, reference):
    """TR125 Appendix A, as Python computes it."""
    rouge = rouge_scorer.RougeScorer(["rougeL"]).score(reference, candidate)["rougeL"].fmeasure
    words = candidate.lower().split()
    grams = [tuple(words[i:i + 4]) for i in range(len(words) - 3)]
    ref_words = reference.lower().split()
    ref_grams = [tuple(ref_words[i:i + 4]) for i in range(len(ref_words) - 3)]
    longest = max(len(candidate), len(reference))
    return {"rouge_l": rouge, "bleu": sacrebleu.sentence_bleu(candidate, [reference]).score / 100,
            "exact_match": float(candidate.strip().lower() == reference.strip().lower()),
            "length_ratio": 1.0 if longest == 0 else min(len(candidate), len(reference)) / longest,
            "repetition": len(set(grams)) / len(grams) if grams else 1.0,
            "reference_repetition": len(set(ref_grams)) / len(ref_grams) if ref_grams else 1.0}


@pytest.fixture(scope="module")
def q2k_model(tmp_path_factory, lp_bin, smollm2_gguf):
    path = tmp_path_factory.mktemp("gen_q2k") / "smollm2-q2_k.gguf"
    run([lp_bin, "quantize", smollm2_gguf, "-m", "Q2_K", "-o", str(path)])
    return path


def test_fidelity_metrics_equal_the_python_libraries(tmp_path, lp_bin, smollm2_gguf, q2k_model):
    out, samples_path = tmp_path / "gen.json", tmp_path / "gen.jsonl"
    run([lp_bin, "validate", str(q2k_model), "--metrics", "gen", "--reference", smollm2_gguf, "-t", "2",
         "--out", str(out), "--samples", str(samples_path)])
    record = json.loads(out.read_text())
    samples = [json.loads(l) for l in samples_path.read_text().splitlines()]
    g = record["metrics"]["gen"]
    assert g["prompts"] == len(samples) == 50
    assert set(g["families"]) == {"summarization", "qa", "code_generation", "creative_writing", "classification"}
    for s in samples:
        expected = reference_fidelity(s["generated"], s["reference_generated"])
        for k, v in expected.items():
            assert s[k] == pytest.approx(v, abs=1e-9), (s["id"], k)
    for family, f in list(g["families"].items()) + [("overall", g["overall"])]:
        of = [s for s in samples if family in ("overall", s["family"])]
        assert f["prompts"] == len(of)
        for k in ["rouge_l", "bleu", "exact_match", "length_ratio", "repetition", "reference_repetition"]:
            mean = float(np.mean([s[k] for s in of]))
            low, high = f[k]["bootstrap95"]
            assert f[k]["mean"] == pytest.approx(mean, abs=1e-12) and low - 1e-12 <= mean <= high + 1e-12, (family, k)
    tokens = g["tokens_vs_reference"]
    assert tokens["mean_difference"] == pytest.approx(
        np.mean([s["generated_tokens"] - s["reference_tokens"] for s in samples]))
    o = g["overall"]
    print(f"SmolLM2 Q2_K vs Q4_1, 50 prompts: ROUGE-L {o['rouge_l']['mean']:.3f}, BLEU {o['bleu']['mean']:.3f}, "
          f"exact {o['exact_match']['mean']:.2f}, length {o['length_ratio']['mean']:.3f}, "
          f"distinct-4 {o['repetition']['mean']:.3f} vs {o['reference_repetition']['mean']:.3f}")
    # Two bits per weight changes a 135M model's answers: not all of them equal the reference's.
    assert o["exact_match"]["mean"] < 1


def test_reference_answers_read_back_give_the_same_record(tmp_path, lp_bin, smollm2_gguf, q2k_model):
    """`--reference-answers` (what `matrix` does for every level after the first): the
    reference's answers come from an earlier run's samples, and the gen metric is the one
    generating them again gives, to the last digit."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps(p) + "\n" for p in [
        {"id": "q", "family": "qa", "prompt": "What is the boiling point of water at sea level?"},
        {"id": "s", "family": "summarization", "prompt": "Summarize in one sentence: the cat sat on the mat all day."},
        {"id": "c", "family": "classification", "prompt": "Is 'I loved it' positive or negative? One word."},
    ]))
    first, first_samples = tmp_path / "first.json", tmp_path / "first.jsonl"
    run([lp_bin, "validate", smollm2_gguf, "--metrics", "gen", "--reference", str(q2k_model), "--prompts", str(prompts),
         "-t", "2", "--out", str(first), "--samples", str(first_samples)])
    cached = tmp_path / "cached.json"
    run([lp_bin, "validate", smollm2_gguf, "--metrics", "gen", "--reference", str(q2k_model), "--prompts", str(prompts),
         "-t", "2", "--out", str(cached), "--reference-answers", str(first_samples)])
    a, b = json.loads(first.read_text()), json.loads(cached.read_text())
    assert a["metrics"]["gen"] == b["metrics"]["gen"]
    assert b["settings"]["generation_fidelity"]["reference_answers"]["sha256"] == \
        hashlib.sha256(first_samples.read_bytes()).hexdigest()
    assert b["metrics"]["gen"]["prompts"] == 3

    # A prompt the file did not answer, or answered with another text, is refused by name.
    other = tmp_path / "other.jsonl"
    other.write_text(prompts.read_text().replace("one sentence", "two sentences"))
    assert "different prompt 's'" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "gen", "--reference",
                                                    str(q2k_model), "--prompts", other, "--reference-answers",
                                                    first_samples)
    more = tmp_path / "more.jsonl"
    more.write_text(prompts.read_text() + json.dumps({"id": "x", "family": "qa", "prompt": "Why?"}) + "\n")
    assert "no reference answer for prompt 'x'" in validate_error(
        lp_bin, tmp_path, smollm2_gguf, "--metrics", "gen", "--reference", str(q2k_model), "--prompts", more,
        "--reference-answers", first_samples)
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"task": "gen", "id": "q"}\n')
    assert "junk.jsonl line 1" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "gen", "--reference",
                                                 str(q2k_model), "--prompts", prompts, "--reference-answers", junk)
    assert "--reference-answers applies to gen" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics",
                                                                  "perplexity", "--reference-answers", junk)


def test_fidelity_against_itself_is_perfect(tmp_path, lp_bin, smollm2_gguf):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps(p) + "\n" for p in [
        {"id": "q", "family": "qa", "prompt": "What is the boiling point of water at sea level?"},
        {"id": "c", "family": "classification", "prompt": "Is 'I loved it' positive or negative? One word."},
    ]))
    out = tmp_path / "self.json"
    run([lp_bin, "validate", smollm2_gguf, "--metrics", "gen", "--reference", smollm2_gguf, "--prompts", str(prompts),
         "-t", "2", "--out", str(out)])
    o = json.loads(out.read_text())["metrics"]["gen"]["overall"]
    for k in ["rouge_l", "bleu", "exact_match", "length_ratio"]:
        assert o[k]["mean"] == pytest.approx(1.0, abs=1e-12), k


def test_bad_input_is_one_error_line(tmp_path, lp_bin, smollm2_gguf):
    assert "give --reference" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "gen")
    assert "apply to mmlu and arc" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "perplexity",
                                          "--mc-scoring", "generate")
    assert "--prompts applies to gen" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "perplexity",
                                             "--prompts", tmp_path)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "family": "poetry", "prompt": "x"}\n')
    assert "broken.jsonl" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "gen", "--reference", smollm2_gguf,
                                 "--prompts", broken)
    assert "--mc-scoring" in validate_error(lp_bin, tmp_path, smollm2_gguf, "--metrics", "mmlu", "--mc-scoring", "vote")
    # A samples line whose "task" is not a string is not a gen line (it once ended the process
    # with a JSON type error instead of a message).
    prompts = tmp_path / "one.jsonl"
    prompts.write_text('{"id": "x", "family": "qa", "prompt": "Hi"}\n')
    typed = tmp_path / "typed.jsonl"
    typed.write_text('{"task": 5}\n')
    assert "no reference answer for prompt 'x'" in validate_error(
        lp_bin, tmp_path, smollm2_gguf, "--metrics", "gen", "--reference", smollm2_gguf, "--prompts", prompts,
        "--reference-answers", typed)
