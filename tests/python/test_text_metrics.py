"""Generation-fidelity metrics (src/validate/text_metrics.h) against the libraries TR125 names:
ROUGE-L against rouge-score 0.1.2, sentence BLEU against sacrebleu 2.6.0, and exact match,
length ratio and 4-gram repetition against TR125 Appendix A's Python definitions, on
hand-written pairs and a few hundred generated ones (unicode, punctuation, numbers, code,
empty strings, mteval escapes)."""
import json
import random
import subprocess

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from conftest import _binary, run

TOLERANCE = 1e-9
ROUGE = rouge_scorer.RougeScorer(["rougeL"])


@pytest.fixture(scope="module")
def metrics_driver():
    return _binary("LP_TEXT_METRICS", "tests/lp_text_metrics")


def reference_metrics(candidate, reference):
    """TR125 Appendix A as Python computes it (the definitions text_metrics.h documents)."""
    c_len, r_len = len(candidate), len(reference)
    words = candidate.lower().split()
    fourgrams = [tuple(words[i:i + 4]) for i in range(len(words) - 3)]
    return {
        "rouge_l": ROUGE.score(reference, candidate)["rougeL"].fmeasure,
        "bleu": sacrebleu.sentence_bleu(candidate, [reference]).score / 100,
        "exact_match": float(candidate.strip().lower() == reference.strip().lower()),
        "length_ratio": 1.0 if max(c_len, r_len) == 0 else min(c_len, r_len) / max(c_len, r_len),
        "repetition": len(set(fourgrams)) / len(fourgrams) if fourgrams else 1.0,
    }


def ours(driver, pairs):
    stdin = "".join(json.dumps({"candidate": c, "reference": r}) + "\n" for c, r in pairs)
    result = subprocess.run([driver], input=stdin, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(pairs)
    return rows


def assert_all_equal(driver, pairs):
    mismatches = []
    for (candidate, reference), got in zip(pairs, ours(driver, pairs)):
        want = reference_metrics(candidate, reference)
        for name, value in want.items():
            if abs(got[name] - value) > TOLERANCE:
                mismatches.append(f"{name}: ours {got[name]!r} reference {value!r} for {candidate!r} vs {reference!r}")
    assert not mismatches, "\n".join(mismatches[:20])


HAND_WRITTEN = [
    ("The cat sat on the mat.", "The cat is on the mat."),
    ("the cat is on the mat.", "The cat is on the mat."),
    ("  Positive\n", "positive"),
    ("Negative", "positive"),
    ("", ""),
    ("", "Something was expected here."),
    ("Nothing was expected.", ""),
    ("...", "!!!"),
    ("Pi is 3.14, and 1,000 is a thousand; 2-3 items cost $5.",
     "Pi is 3.14 and 1,000 is one thousand, 2-3 items cost $5."),
    ("def add(a, b):\n    return a + b\n", "def add(x, y):\n    return x + y"),
    ("for (int i = 0; i < n; ++i) { sum += v[i]; }", "for (int i = 0; i < n; i++) { sum += v[i]; }"),
    ("A &amp; B &lt;tag&gt; said &quot;hi&quot;", 'A & B <tag> said "hi"'),
    ("line one-\ncontinued <skipped> here", "line onecontinued here"),
    ("ΟΔΥΣΣΕΥΣ sailed home.", "οδυσσευς sailed home"),
    ("İstanbul and the KELVIN sign K", "i̇stanbul and the kelvin sign k"),
    ("Straße café naïve résumé", "STRASSE Café NAÏVE résumé"),
    ("東京は日本の首都です。", "東京は日本の首都です"),
    ("emoji 🙂 and more 🙂 emoji", "emoji and more emoji 🙂"),
    ("the the the the the the the the", "the the the"),
    ("a b c d a b c d a b c d", "a b c d"),
    ("word\u00a0word\u3000word\u2028word\u0085end", "word word word word end"),
    ("trailing dash-\n", "trailing dash-"),
    ("Answer: B", "B"),
    ("one two three", "one two three four five six seven eight nine ten"),
    ("2024-01-05 at 10:30 p.m., i.e. late.", "2024-01-05 at 10:30 pm, that is, late."),
    ("```python\ndef f(x):\n    return x * 2\n```", "Here is the function:\n\n```python\ndef f(x):\n    return 2 * x\n```"),
    ("- item one\n- item two\n* item three", "1. item one\n2. item two\n\n**Note:** done."),
]


def test_hand_written_pairs_match_the_libraries(metrics_driver):
    assert_all_equal(metrics_driver, HAND_WRITTEN)


WORDS = [
    "the", "The", "THE", "a", "model", "Model", "quantized", "weights", "output", "token", "tokens",
    "is", "was", "and", "or", "not", "3.14", "1,000", "2-3", "-5", "42", "0.5", "x+1", "f(x)",
    "def", "return", "print(\"hi\")", "{", "}", "[0]", "a,b", "end.", "end,", "e.g.", "U.S.A.",
    "don't", "it's", "&amp;", "&lt;", "&quot;", "&gt;", "<skipped>", "&", "@user", "#tag", "50%",
    "$9.99", "café", "naïve", "Straße", "İzmir", "K", "ΣΟΦΙΑ", "σοφία", "Москва", "москва",
    "東京", "日本語", "🙂", "→", "—", "–", "…", "«quote»", "'single'", "\"double\"", "snake_case",
    "camelCase", "a/b", "c\\d", "x^2", "~tilde", "`tick`", "|pipe|", "semi;colon", "colon:",
    "question?", "bang!", "i.e.", "v1.2.3", "10.", ".5", ",", ".", "-", "--", "...", "٣.٥", "x٣,y",
]
SEPARATORS = [" ", " ", " ", " ", "  ", "\n", "\t", "-\n", "\r\n", "\u00a0", "\u3000", " \n "]


def random_text(rng, max_words):
    n = rng.randint(0, max_words)
    parts = []
    for i in range(n):
        if i:
            parts.append(rng.choice(SEPARATORS))
        parts.append(rng.choice(WORDS))
    text = "".join(parts)
    if rng.random() < 0.2:
        text = rng.choice(["  ", "\n", "\t ", "\u00a0"]) + text + rng.choice(["", " ", "\n", "  \t"])
    return text


def mutate(rng, text):
    """A candidate close to the reference, so BLEU sees partial matches of every order."""
    words = text.split(" ")
    for _ in range(rng.randint(0, 4)):
        action = rng.random()
        if action < 0.3 and words:
            del words[rng.randrange(len(words))]
        elif action < 0.6:
            words.insert(rng.randint(0, len(words)), rng.choice(WORDS))
        elif action < 0.8 and len(words) > 1:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        elif words:
            i = rng.randrange(len(words))
            words[i:i] = words[i:i + rng.randint(1, 4)]  # a repeated stretch
    candidate = " ".join(words)
    return candidate.upper() if rng.random() < 0.05 else candidate


def generated_pairs(count, seed=125):
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        reference = random_text(rng, 40)
        kind = rng.random()
        if kind < 0.6:
            candidate = mutate(rng, reference)
        elif kind < 0.7:
            candidate = reference.strip().swapcase() if rng.random() < 0.5 else reference
        elif kind < 0.75:
            candidate = ""
        else:
            candidate = random_text(rng, 40)
        pairs.append((candidate, reference))
    return pairs


def test_generated_pairs_match_the_libraries(metrics_driver):
    pairs = generated_pairs(400)
    # The generator must reach the cases it exists for, or the comparison proves little.
    bleus = [sacrebleu.sentence_bleu(c, [r]).score for c, r in pairs]
    assert sum(0 < b < 100 for b in bleus) > 100
    assert sum(c.strip().lower() == r.strip().lower() for c, r in pairs) > 10
    assert_all_equal(metrics_driver, pairs)


def test_driver_rejects_a_line_without_the_fields(metrics_driver):
    result = subprocess.run([metrics_driver], input='{"candidate": "x"}\n', capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
