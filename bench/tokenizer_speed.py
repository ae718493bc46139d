"""Tokenizer speed, side by side: `llama-pajamas tokenize` against Hugging Face `tokenizers`,
both single-threaded, on English text (WikiText-2 test, repeated to 5 MB), same tokenizer.

    python3 bench/tokenizer_speed.py [BUILD_DIR]     (default build/)

For us: the wall time of `tokenize --file` minus that of the same command on an empty file
(loading the tokenizer), so both sides are timed on encoding alone; printing the ids stays in
our figure. For tokenizers: encode_batch with TOKENIZERS_PARALLELISM=false (one thread). Runs
are interleaved, three each; the median is reported. The ids of both are checked equal."""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "tokenizer"))
import family_tokenizer  # noqa: E402
import test_models  # noqa: E402

WIKI = ROOT.parent / "shared" / "data" / "wikitext-2-raw" / "wiki.test.raw"
REPEAT = 4
RUNS = 3


def ours_seconds(binary, model, text_file, empty_file):
    def wall(path):
        start = time.perf_counter()
        subprocess.run([binary, "tokenize", str(model), "--file", str(path), "--no-special"],
                       stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start
    return wall(text_file) - wall(empty_file)


def main():
    build = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build"
    binary = build / "src" / "llama-pajamas"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        text = WIKI.read_bytes() * REPEAT
        text_file, empty_file = tmp / "english.txt", tmp / "empty.txt"
        text_file.write_bytes(text)
        empty_file.write_bytes(b"")
        lines = [line.decode("utf-8") for line in text.split(b"\n")]
        if lines and lines[-1] == "":
            lines.pop()
        mb = len(text) / 1e6
        print(f"text: {WIKI.name} x{REPEAT} = {len(text):,} bytes, {len(lines):,} lines")
        for name, gguf in (("SmolLM2-135M (byte-level BPE)", test_models.smollm2_gguf()),
                           ("Gemma 3 270M (SentencePiece BPE)", test_models.gemma3_gguf())):
            reference_json = family_tokenizer.family_tokenizer_json(gguf, tmp / "tokenizer.json")
            hf = Tokenizer.from_file(str(reference_json))
            out = subprocess.run([binary, "tokenize", str(gguf), "--file", str(text_file), "--no-special"],
                                 capture_output=True, check=True).stdout.decode()
            ours_ids = [[int(x) for x in l.split()] for l in out.split("\n")[:-1]]
            hf_ids = [e.ids for e in hf.encode_batch(lines, add_special_tokens=False)]
            assert ours_ids == hf_ids, "ids differ between the two tokenizers"
            tokens = sum(len(i) for i in hf_ids)
            ours, theirs = [], []
            for _ in range(RUNS):
                ours.append(ours_seconds(binary, gguf, text_file, empty_file))
                start = time.perf_counter()
                hf.encode_batch(lines, add_special_tokens=False)
                theirs.append(time.perf_counter() - start)
            o, t = statistics.median(ours), statistics.median(theirs)
            print(f"{name}: {tokens:,} tokens | llama-pajamas {o:.3f} s ({mb / o:.2f} MB/s) | "
                  f"tokenizers {t:.3f} s ({mb / t:.2f} MB/s) | ours is {t / o:.2f}x as fast "
                  f"(runs: ours {', '.join(f'{x:.3f}' for x in ours)}; tokenizers {', '.join(f'{x:.3f}' for x in theirs)})")


if __name__ == "__main__":
    main()
