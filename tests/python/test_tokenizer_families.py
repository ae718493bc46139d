"""Every other tokenizer family whose files a PyPI package ships: llama.cpp's vocabulary-only
GGUFs (from the llama-cpp-python source package). The reference is Hugging Face `tokenizers`
running the family's own pipeline (family_tokenizer.py: transformers' converter output with the
family's real pre-tokenizer). Through the GGUF and through that tokenizer.json, ids must equal
the reference on every line of the stress corpus and every text of the whitespace corpus, and
decoding must equal its decode. llama.cpp's tokenizer is a second, independent check."""
import json
import subprocess
import sys

import pytest
from tokenizers import Tokenizer
from tokenizers.decoders import DecodeStream

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "tokenizer"))
import family_tokenizer  # noqa: E402
import hf_reference  # noqa: E402
import llama_cpp_tokenize  # noqa: E402
import llama_cpp_vocabs  # noqa: E402
import make_whitespace_corpus  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "tokenizer" / "stress_corpus.txt"

# file stem -> the family it stands for
FAMILIES = {
    "gpt-2": "GPT-2",
    "llama-bpe": "Llama 3",
    "qwen2": "Qwen2 / Qwen2.5 / Qwen3 (pre qwen2; DeepSeek-R1-Distill-Qwen shares the split)",
    "qwen35": "Qwen3.5",
    "llama-spm": "Llama 2 (SentencePiece)",
    "phi-3": "Phi-3 (SentencePiece)",
    "baichuan": "Baichuan (SentencePiece)",
    "deepseek-llm": "DeepSeek LLM",
    "deepseek-coder": "DeepSeek Coder",
    "starcoder": "StarCoder",
    "falcon": "Falcon",
    "gpt-neox": "GPT-NeoX",
    "mpt": "MPT",
    "refact": "Refact",
    "aquila": "Aquila",
    # Not shipped as vocabulary files: Qwen2's, relabelled the way DeepSeek-R1-Distill-Qwen
    # GGUFs are (tokenizer.ggml.pre = deepseek-r1-qwen), and Llama 3's relabelled gpt-4o (the
    # o200k split of gpt-oss and GPT-4o, whose own vocabulary no package ships), to check those
    # names' splits.
    "deepseek-r1-qwen": "DeepSeek-R1-Distill-Qwen",
    "gpt-4o": "gpt-oss / GPT-4o (o200k split)",
}
# relabelled stem -> the shipped vocabulary it is made from
RELABELLED = {"deepseek-r1-qwen": "qwen2", "gpt-4o": "llama-bpe"}


@pytest.fixture(scope="session")
def vocabs():
    try:
        return llama_cpp_vocabs.vocab_dir()
    except (subprocess.CalledProcessError, OSError) as e:
        pytest.skip(f"llama-cpp-python's source package could not be fetched from PyPI: {e}")


def family_gguf(vocabs, tmp_path, stem):
    if stem not in RELABELLED:
        return vocabs / f"ggml-vocab-{stem}.gguf"
    gguf = tmp_path / f"{stem}.gguf"
    run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(vocabs / f"ggml-vocab-{RELABELLED[stem]}.gguf"),
         str(gguf), "--pre-tokenizer", stem, "--force"])
    return gguf


@pytest.fixture(scope="session")
def whitespace_corpus(tmp_path_factory):
    path = make_whitespace_corpus.write(tmp_path_factory.mktemp("corpus") / "whitespace.txt")
    return path, make_whitespace_corpus.texts()


def ids_of(lp_bin, model, *args):
    out = run([lp_bin, "tokenize", str(model), *args, "--no-special"]).stdout
    return [[int(x) for x in line.split()] for line in out.split("\n")[:-1]]


def differing(expected, got, texts):
    assert len(got) == len(expected)
    bad = [i for i in range(len(texts)) if got[i] != expected[i]]
    return f"{len(bad)} of {len(texts)} differ, first {texts[bad[0]][:80]!r}" if bad else ""


@pytest.mark.parametrize("stem", list(FAMILIES))
def test_family_equals_hugging_face(lp_bin, vocabs, tmp_path, stem):
    gguf = family_gguf(vocabs, tmp_path, stem)
    texts = [line.decode("utf-8", "replace") for line in CORPUS.read_bytes().split(b"\n")[:-1]]
    # The converter's own tokenizer.json, read as a tokenizer.json, gives its ids too.
    converted = hf_reference.gguf_to_tokenizer_json(gguf, tmp_path / "converted.json")
    converted_ids = [e.ids for e in Tokenizer.from_file(str(converted)).encode_batch(texts, add_special_tokens=False)]
    assert not (m := differing(converted_ids, ids_of(lp_bin, converted, "--file", str(CORPUS)), texts)), m
    reference_json = family_tokenizer.family_tokenizer_json(gguf, tmp_path / "tokenizer.json")
    reference = Tokenizer.from_file(str(reference_json))
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    # The GGUF is checked in full (ids, decode, stream); the family's tokenizer.json for its ids.
    assert not (m := differing(expected, ids_of(lp_bin, reference_json, "--file", str(CORPUS)), texts)), f"tokenizer.json: {m}"
    described = json.loads(run([lp_bin, "tokenize", str(gguf), "--file", str(CORPUS), "--json", "--no-special"]).stdout)
    assert not (m := differing(expected, [d["ids"] for d in described], texts)), f"{gguf.name}: {m}"
    decoded = reference.decode_batch(expected, skip_special_tokens=False)
    wrong = [i for i in range(len(texts)) if described[i]["decoded"] != decoded[i]]
    assert not wrong, f"{gguf.name}: decode differs on {len(wrong)} lines, first {texts[wrong[0]][:80]!r}"
    # Streaming decode equals tokenizers' DecodeStream token by token (a sample of lines).
    for i in range(0, len(texts), 7):
        stream, chunks = DecodeStream(skip_special_tokens=False), []
        for token in expected[i]:
            chunks.append(stream.step(reference, token) or "")
        assert [c for c in described[i]["stream"][: len(expected[i])]] == chunks, texts[i][:80]


@pytest.mark.parametrize("stem", list(FAMILIES))
def test_whitespace_runs_equal_hugging_face(lp_bin, vocabs, whitespace_corpus, tmp_path, stem):
    # Issue 24: runs of whitespace before digits, punctuation, letters, ... split as the
    # family's stages split them, through the GGUF and through its tokenizer.json.
    path, texts = whitespace_corpus
    gguf = family_gguf(vocabs, tmp_path, stem)
    reference_json = family_tokenizer.family_tokenizer_json(gguf, tmp_path / "tokenizer.json")
    expected = [e.ids for e in Tokenizer.from_file(str(reference_json)).encode_batch(texts, add_special_tokens=False)]
    for model in (gguf, reference_json):
        assert not (m := differing(expected, ids_of(lp_bin, model, "--file", str(path), "--nul"), texts)), f"{model}: {m}"


@pytest.mark.parametrize("stem", [s for s in FAMILIES if s not in RELABELLED])
def test_reference_is_the_family_tokenizer(vocabs, tmp_path, stem):
    # The reference must be the family's real tokenizer: llama.cpp keeps, next to each vocabulary,
    # the ids Hugging Face gave its test texts with the model's own tokenizer.json.
    gguf = vocabs / f"ggml-vocab-{stem}.gguf"
    recorded = llama_cpp_vocabs.hugging_face_outputs(gguf)
    if recorded is None:
        pytest.skip(f"{gguf.name} comes without Hugging Face's ids")
    reference = Tokenizer.from_file(str(family_tokenizer.family_tokenizer_json(gguf, tmp_path / "tokenizer.json")))
    texts = [t for t, _ in recorded]
    expected = [ids for _, ids in recorded]
    got = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    assert not (m := differing(expected, got, texts)), m


@pytest.mark.parametrize("stem", list(FAMILIES))
def test_llama_cpp_agrees_where_it_equals_hugging_face(lp_bin, vocabs, whitespace_corpus, tmp_path, stem):
    # llama.cpp's tokenizer on the same GGUF, an independent second reference. Where it differs
    # from Hugging Face the difference is llama.cpp's own; everywhere else ours must equal it.
    path, texts = whitespace_corpus
    gguf = family_gguf(vocabs, tmp_path, stem)
    theirs = llama_cpp_tokenize.llama_cpp_ids(gguf, texts)
    if theirs is None:
        pytest.skip("llama-cpp-python is not installed or cannot read the file")
    ours = ids_of(lp_bin, gguf, "--file", str(path), "--nul")
    reference = Tokenizer.from_file(str(family_tokenizer.family_tokenizer_json(gguf, tmp_path / "tokenizer.json")))
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    agreeing = [i for i in range(len(texts)) if theirs[i] == expected[i]]
    assert not (m := differing([theirs[i] for i in agreeing], [ours[i] for i in agreeing], [texts[i] for i in agreeing])), m


def test_qwen2_tokenizer_json_with_its_nfc_normalizer(lp_bin, vocabs, tmp_path):
    # Qwen2's own tokenizer.json composes text (NFC) first; the GGUF converter leaves that out.
    # The corpus's combining marks (e + U+0301, Hangul jamo, ...) make the difference show.
    converted = hf_reference.gguf_to_tokenizer_json(vocabs / "ggml-vocab-qwen2.gguf", tmp_path / "converted.json")
    j = json.loads(converted.read_text())
    j["normalizer"] = {"type": "NFC"}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(j))
    reference = Tokenizer.from_file(str(path))
    texts = [line.decode("utf-8", "replace") for line in CORPUS.read_bytes().split(b"\n")[:-1]]
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    without_nfc = [e.ids for e in Tokenizer.from_file(str(converted)).encode_batch(texts, add_special_tokens=False)]
    assert expected != without_nfc, "the corpus must contain text that NFC changes"
    out = run([lp_bin, "tokenize", str(path), "--file", str(CORPUS), "--no-special"]).stdout
    got = [[int(x) for x in line.split()] for line in out.split("\n")[:-1]]
    bad = [i for i in range(len(texts)) if got[i] != expected[i]]
    assert not bad, f"{len(bad)} of {len(texts)} lines differ, first {texts[bad[0]][:80]!r}"
