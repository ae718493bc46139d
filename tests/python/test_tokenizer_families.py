"""Every other tokenizer family whose files a PyPI package ships: llama.cpp's vocabulary-only
GGUFs (from the llama-cpp-python source package). Through the GGUF and through the
tokenizer.json transformers makes from it, ids must equal Hugging Face `tokenizers` on every
line of the stress corpus, and decoding must equal its decode."""
import json
import subprocess
import sys

import pytest
from tokenizers import Tokenizer
from tokenizers.decoders import DecodeStream

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "tokenizer"))
import hf_reference  # noqa: E402
import llama_cpp_vocabs  # noqa: E402

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
    # Not shipped as a vocabulary file: Qwen2's, relabelled the way DeepSeek-R1-Distill-Qwen
    # GGUFs are (tokenizer.ggml.pre = deepseek-r1-qwen), to check that name's split.
    "deepseek-r1-qwen": "DeepSeek-R1-Distill-Qwen",
}


@pytest.fixture(scope="session")
def vocabs():
    try:
        return llama_cpp_vocabs.vocab_dir()
    except (subprocess.CalledProcessError, OSError) as e:
        pytest.skip(f"llama-cpp-python's source package could not be fetched from PyPI: {e}")


@pytest.mark.parametrize("stem", list(FAMILIES))
def test_family_equals_hugging_face(lp_bin, vocabs, tmp_path, stem):
    gguf = vocabs / f"ggml-vocab-{stem}.gguf"
    if stem == "deepseek-r1-qwen":
        gguf = tmp_path / "deepseek-r1-qwen.gguf"
        run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(vocabs / "ggml-vocab-qwen2.gguf"), str(gguf),
             "--pre-tokenizer", "deepseek-r1-qwen", "--force"])
    reference_json = hf_reference.gguf_to_tokenizer_json(gguf, tmp_path / "tokenizer.json")
    reference = Tokenizer.from_file(str(reference_json))
    texts = [line.decode("utf-8", "replace") for line in CORPUS.read_bytes().split(b"\n")[:-1]]
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    # The GGUF is checked in full (ids, decode, stream); the tokenizer.json for its ids.
    plain = run([lp_bin, "tokenize", str(reference_json), "--file", str(CORPUS), "--no-special"]).stdout
    from_json = [[int(x) for x in line.split()] for line in plain.split("\n")[:-1]]
    bad = [i for i in range(len(texts)) if from_json[i] != expected[i]]
    assert not bad, f"tokenizer.json: {len(bad)} of {len(texts)} lines differ, first {texts[bad[0]][:80]!r}"
    described = json.loads(run([lp_bin, "tokenize", str(gguf), "--file", str(CORPUS), "--json", "--no-special"]).stdout)
    got = [d["ids"] for d in described]
    bad = [i for i in range(len(texts)) if got[i] != expected[i]]
    assert not bad, f"{gguf.name}: {len(bad)} of {len(texts)} lines differ, first {texts[bad[0]][:80]!r}"
    decoded = reference.decode_batch(expected, skip_special_tokens=False)
    wrong = [i for i in range(len(texts)) if described[i]["decoded"] != decoded[i]]
    assert not wrong, f"{gguf.name}: decode differs on {len(wrong)} lines, first {texts[wrong[0]][:80]!r}"
    # Streaming decode equals tokenizers' DecodeStream token by token (a sample of lines).
    for i in range(0, len(texts), 7):
        stream, chunks = DecodeStream(skip_special_tokens=False), []
        for token in expected[i]:
            chunks.append(stream.step(reference, token) or "")
        assert [c for c in described[i]["stream"][: len(expected[i])]] == chunks, texts[i][:80]


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
