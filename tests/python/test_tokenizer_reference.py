"""`llama-pajamas tokenize` against Hugging Face `tokenizers` on the stress corpus.

Each real model is tokenized through its GGUF and through its family's tokenizer.json (what
transformers' GGUF converter makes from it, with the family's own pre-tokenizer:
family_tokenizer.py); both must give the reference's ids on every line, decode to the
reference's text, and stream-decode like tokenizers' DecodeStream. The converter's tokenizer.json
as it stands is read too, and the whitespace corpus is checked against Hugging Face and
llama.cpp."""
import json
import pathlib
import subprocess
import sys

import pytest
from tokenizers import Tokenizer
from tokenizers.decoders import DecodeStream

from conftest import ROOT, run

TOKENIZER_FIXTURES = ROOT / "tests" / "fixtures" / "tokenizer"
sys.path.insert(0, str(TOKENIZER_FIXTURES))
import family_tokenizer  # noqa: E402
import hf_reference  # noqa: E402
import llama_cpp_tokenize  # noqa: E402
import make_corpus  # noqa: E402
import make_whitespace_corpus  # noqa: E402

CORPUS = TOKENIZER_FIXTURES / "stress_corpus.txt"


def corpus_lines():
    return CORPUS.read_bytes().split(b"\n")[:-1]


def test_corpus_is_the_generated_one():
    lines = corpus_lines()
    assert lines == make_corpus.corpus_lines(), "stress_corpus.txt differs from make_corpus.py: regenerate it"
    assert len(lines) >= 2000
    assert any(l != l.decode("utf-8", "replace").encode() for l in lines), "the corpus must hold invalid UTF-8"


@pytest.fixture(scope="session")
def references(tmp_path_factory, smollm2_gguf, gemma3_gguf):
    out = tmp_path_factory.mktemp("hf_tokenizers")
    return {
        "smollm2": (smollm2_gguf, family_tokenizer.family_tokenizer_json(smollm2_gguf, out / "smollm2.json")),
        "gemma3": (gemma3_gguf, family_tokenizer.family_tokenizer_json(gemma3_gguf, out / "gemma3.json")),
    }


def ours(lp_bin, model, *extra):
    out = run([lp_bin, "tokenize", str(model), "--file", str(CORPUS), *extra]).stdout
    return [[int(x) for x in line.split()] for line in out.split("\n")[:-1]]


def mismatches(expected, got, texts):
    assert len(got) == len(expected)
    bad = [i for i in range(len(expected)) if expected[i] != got[i]]
    return [(texts[i][:80], expected[i][:12], got[i][:12]) for i in bad[:3]], len(bad)


@pytest.mark.parametrize("family", ["smollm2", "gemma3"])
@pytest.mark.parametrize("source", ["gguf", "tokenizer.json"])
def test_ids_equal_hugging_face_on_every_line(lp_bin, references, family, source):
    gguf, reference_json = references[family]
    model = gguf if source == "gguf" else reference_json
    texts = [l.decode("utf-8", "replace") for l in corpus_lines()]
    reference = Tokenizer.from_file(str(reference_json))
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    examples, bad = mismatches(expected, ours(lp_bin, model, "--no-special"), texts)
    assert bad == 0, f"{bad} of {len(texts)} lines differ, e.g. {examples}"


@pytest.mark.parametrize("family", ["smollm2", "gemma3"])
def test_converter_tokenizer_json_equals_hugging_face(lp_bin, references, tmp_path, family):
    # The converter's tokenizer.json (GPT-2's split alone for SmolLM2) is read as it is written.
    converted = hf_reference.gguf_to_tokenizer_json(references[family][0], tmp_path / "converted.json")
    texts = [l.decode("utf-8", "replace") for l in corpus_lines()]
    expected = [e.ids for e in Tokenizer.from_file(str(converted)).encode_batch(texts, add_special_tokens=False)]
    examples, bad = mismatches(expected, ours(lp_bin, converted, "--no-special"), texts)
    assert bad == 0, f"{bad} of {len(texts)} lines differ, e.g. {examples}"


@pytest.fixture(scope="session")
def whitespace_corpus(tmp_path_factory):
    path = make_whitespace_corpus.write(tmp_path_factory.mktemp("corpus") / "whitespace.txt")
    return path, make_whitespace_corpus.texts()


@pytest.mark.parametrize("family", ["smollm2", "gemma3"])
def test_whitespace_runs_equal_hugging_face_and_llama_cpp(lp_bin, references, whitespace_corpus, family):
    # Issue 24: "  3.14" is [256, 35, ...] for SmolLM2 ("ĠĠ" then the digits), as its
    # tokenizer.json and llama.cpp say, not two single spaces.
    path, texts = whitespace_corpus
    gguf, reference_json = references[family]
    expected = [e.ids for e in Tokenizer.from_file(str(reference_json)).encode_batch(texts, add_special_tokens=False)]
    for model in (gguf, reference_json):
        out = run([lp_bin, "tokenize", str(model), "--file", str(path), "--nul", "--no-special"]).stdout
        examples, bad = mismatches(expected, [[int(x) for x in l.split()] for l in out.split("\n")[:-1]], texts)
        assert bad == 0, f"{model}: {bad} of {len(texts)} texts differ, e.g. {examples}"
    theirs = llama_cpp_tokenize.llama_cpp_ids(gguf, texts)
    if theirs is None:
        pytest.skip("llama-cpp-python is not installed or cannot read the file")
    # Where llama.cpp differs from Hugging Face the difference is its own; elsewhere ours equal it.
    out = run([lp_bin, "tokenize", str(gguf), "--file", str(path), "--nul", "--no-special"]).stdout
    got = [[int(x) for x in l.split()] for l in out.split("\n")[:-1]]
    agreeing = [i for i in range(len(texts)) if theirs[i] == expected[i]]
    examples, bad = mismatches([theirs[i] for i in agreeing], [got[i] for i in agreeing], [texts[i] for i in agreeing])
    assert bad == 0, f"{bad} texts differ from llama.cpp, e.g. {examples}"


def test_special_tokens_added_as_each_source_says(lp_bin, references):
    text = "Hello <start_of_turn>"
    gguf, reference_json = references["gemma3"]
    plain = json.loads(run([lp_bin, "tokenize", gguf, "--text", text, "--json", "--no-special"]).stdout)[0]["ids"]
    # The GGUF says add_bos_token; the converted tokenizer.json has no post-processor tokens.
    with_bos = json.loads(run([lp_bin, "tokenize", gguf, "--text", text, "--json"]).stdout)[0]["ids"]
    assert with_bos == [2] + plain
    reference = Tokenizer.from_file(str(reference_json))
    from_json = json.loads(run([lp_bin, "tokenize", str(reference_json), "--text", text, "--json"]).stdout)[0]["ids"]
    assert from_json == reference.encode(text).ids == plain
    smol_gguf, smol_json = references["smollm2"]
    smol = json.loads(run([lp_bin, "tokenize", smol_gguf, "--text", "<|im_start|>user", "--json"]).stdout)[0]
    assert smol["ids"] == Tokenizer.from_file(str(smol_json)).encode("<|im_start|>user").ids
    assert smol["ids"][0] == 1 and smol["pieces"][0] == "<|im_start|>"


def test_hugging_face_directory_loads_its_tokenizer_json(lp_bin, references, tmp_path):
    _, reference_json = references["smollm2"]
    (tmp_path / "tokenizer.json").write_bytes(pathlib.Path(reference_json).read_bytes())
    text = "A directory's tokenizer.json, 123 ✓"
    ids = run([lp_bin, "tokenize", str(tmp_path), "--text", text]).stdout.split()
    assert [int(i) for i in ids] == Tokenizer.from_file(str(reference_json)).encode(text).ids
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run([lp_bin, "tokenize", str(empty), "--text", "x"], capture_output=True, text=True)
    assert result.returncode == 2 and "has no tokenizer.json" in result.stderr


@pytest.mark.parametrize("family", ["smollm2", "gemma3"])
def test_decode_and_stream_equal_hugging_face(lp_bin, references, family):
    gguf, reference_json = references[family]
    reference = Tokenizer.from_file(str(reference_json))
    described = json.loads(run([lp_bin, "tokenize", gguf, "--file", str(CORPUS), "--json", "--no-special"]).stdout)
    lines = corpus_lines()
    assert len(described) == len(lines)
    roundtrips = 0
    for line, d in zip(lines, described):
        text = line.decode("utf-8", "replace")
        expected = reference.decode(d["ids"], skip_special_tokens=False)
        assert d["decoded"] == expected, (text[:80], d["decoded"][:80], expected[:80])
        roundtrips += expected == text
        stream, chunks = DecodeStream(skip_special_tokens=False), []
        for token in d["ids"]:
            chunk = stream.step(reference, token)
            if chunk:
                chunks.append(chunk)
        # One entry per token, then what the end of the stream flushes (DecodeStream keeps
        # text ending in U+FFFD back for good; we give it out when the stream ends).
        ours_chunks = [c for c in d["stream"][: len(d["ids"])] if c]
        assert ours_chunks == chunks, (text[:80], ours_chunks[:8], chunks[:8])
        assert "".join(d["stream"]) == d["decoded"]
    # Decode(encode(x)) == x wherever the reference manages it, which is most lines.
    assert roundtrips > len(lines) // 2


MULTILINE = [
    "line one\nline two\r\nline three\n\n\n\tindented\n",
    "def f():\n    return 1\n\n\nclass A:\n\tpass\r\n",
    "\n\n<start_of_turn>user\nHi<end_of_turn>\n<|im_start|>assistant\n  \n \n",
    "日本語\n\nعربي\r\r\n 123456\n   \n",
]


@pytest.mark.parametrize("family", ["smollm2", "gemma3"])
def test_newlines_inside_one_text(lp_bin, references, family):
    # --file splits lines, so newline handling (\r\n runs, Gemma's newline tokens) is checked here.
    gguf, reference_json = references[family]
    reference = Tokenizer.from_file(str(reference_json))
    for text in MULTILINE:
        d = json.loads(run([lp_bin, "tokenize", gguf, "--text", text, "--json", "--no-special"]).stdout)[0]
        assert d["ids"] == reference.encode(text, add_special_tokens=False).ids, repr(text)
        assert d["decoded"] == reference.decode(d["ids"], skip_special_tokens=False) == text


def test_stream_never_splits_a_character(lp_bin, smollm2_gguf):
    # Each CJK character and emoji is several byte-level tokens: nothing may come out half.
    text = "日本語🤖👨‍👩‍👧‍👦 é"
    d = json.loads(run([lp_bin, "tokenize", smollm2_gguf, "--text", text, "--json"]).stdout)[0]
    assert len(d["ids"]) > len(text)
    assert "".join(d["stream"]) == text
    for chunk in d["stream"]:
        assert "\ufffd" not in chunk


@pytest.mark.parametrize(
    "args, message",
    [
        (["tokenize", "/nonexistent.gguf", "--text", "x"], "/nonexistent.gguf does not exist"),
        (["tokenize", "{model}"], "tokenize needs --text or --file"),
        (["tokenize", "{model}", "--file", "/nonexistent.txt"], "/nonexistent.txt cannot be read"),
        (["tokenize", "{bad_json}", "--text", "x"], "is not valid JSON"),
        (["tokenize", "{unigram_json}", "--text", "x"], "uses tokenizer model \"Unigram\", which is not supported"),
    ],
)
def test_bad_input_is_one_error_line(lp_bin, smollm2_gguf, tmp_path, args, message):
    bad_json = tmp_path / "tokenizer.json"
    bad_json.write_text("{not json")
    unigram = tmp_path / "unigram.json"
    unigram.write_text(json.dumps({"model": {"type": "Unigram", "vocab": []}}))
    args = [a.format(model=smollm2_gguf, bad_json=bad_json, unigram_json=unigram) for a in args]
    result = subprocess.run([lp_bin, *args], capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
