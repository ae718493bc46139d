"""Writes the seed corpora of the fuzz targets that read files our tool makes or ships
(fuzz/corpus/<target>/), from the repository's fixtures and from the tool's own output on
the tiny fixture model. Run from the repository root after a build:

    .venv/bin/python fuzz/make_seeds.py build/src/llama-pajamas

Seeds are small real files; the targets that take a second input beside the file (text to
tokenize, a conversation to render) get it after a NUL byte (before it, for a GGUF)."""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import gguf
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "fuzz" / "corpus"
SAMPLE_TEXT = "Hello world! The year 2024, naïve café 東京 🙂\n\tdone.  <s>x</s>".encode()
CONVERSATION = json.dumps({"messages": [
    {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why is the sky blue?"},
    {"role": "assistant", "content": "Rayleigh scattering."}, {"role": "user", "content": "Thanks"}],
    "tools": [{"type": "function", "function": {"name": "now", "parameters": {}}}]}).encode()


def seed_dir(target):
    d = CORPUS / target
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def tiny_model_dirs():
    return sorted(p for p in (FIXTURES / "tiny_models").iterdir() if (p / "config.json").exists())


def text_seeds():
    d = seed_dir("tokenizer_json")
    for m in tiny_model_dirs():
        if (m / "tokenizer.json").exists():
            (d / f"{m.name}.bin").write_bytes((m / "tokenizer.json").read_bytes() + b"\0" + SAMPLE_TEXT)
    d = seed_dir("chat_template")
    for t in sorted((FIXTURES / "chat_templates").glob("*.jinja")):
        (d / f"{t.stem}.bin").write_bytes(t.read_bytes() + b"\0" + CONVERSATION)
    d = seed_dir("hf_config")
    for c in sorted((FIXTURES / "hf_configs").glob("*.json")):
        shutil.copy(c, d / c.name)
    for m in tiny_model_dirs():
        shutil.copy(m / "config.json", d / f"tiny-{m.name}.json")
    d = seed_dir("recipe")
    recipes = {
        "readme": {"name": "mine", "base": "Q4_K", "rules": [
            {"tensor": "output", "type": "Q6_K"}, {"tensor": "attn_v", "layers": "more_bits", "type": "Q6_K"},
            {"tensor": "regex:blk\\.(0|1)\\.ffn_down", "type": "Q8_0"},
            {"tensor": "ffn_down", "layers": "first:4", "when": ["gqa>=4"], "type": "Q5_K"}]},
        "legacy": {"name": "q4_0ish", "file_type": 2, "base": "Q4_0", "rules": [
            {"tensor": "token_embd", "type": "Q8_0"}, {"tensor": "attn_k", "layers": "first_eighth", "type": "Q5_0"},
            {"tensor": "ffn_up", "when": ["no_imatrix", "row_not_multiple_of_base_block"], "type": "Q4_1"}]},
        "kquants": {"name": "k", "base": "Q3_K", "rules": [
            {"tensor": "attn_output", "layers": "first_sixteenth", "type": "Q4_K"},
            {"tensor": "ffn_gate", "when": ["experts==8", "imatrix"], "type": "IQ4_XS"},
            {"tensor": "attn_q", "type": "Q2_K"}]},
    }
    for name, r in recipes.items():
        (d / f"{name}.json").write_text(json.dumps(r, indent=1))
    d = seed_dir("device_catalog")
    devices = json.loads((ROOT / "data" / "devices.json").read_text())
    for i, dev in enumerate(devices["devices"][:6]):
        (d / f"device-{i}.json").write_text(json.dumps({"devices": [dev]}, indent=1))


def tool_seeds(lp_bin, work):
    # The tiny random llama, with the 4,096-token context the quick suite's MMLU prompts need.
    model = work / "tiny"
    shutil.copytree(FIXTURES / "tiny_models" / "llama", model)
    config = json.loads((model / "config.json").read_text())
    config["max_position_embeddings"] = 4096
    (model / "config.json").write_text(json.dumps(config))
    tiny = work / "tiny-f16.gguf"
    subprocess.run([lp_bin, "quantize", str(model), "-m", "F16", "-o", str(tiny)], check=True, capture_output=True)
    # GGUF tokenizer metadata: each tiny model's tokenizer key-value pairs without its tensors.
    d = seed_dir("gguf_tokenizer")
    for m in tiny_model_dirs():
        f16 = tiny if m.name == "llama" else work / f"{m.name}.gguf"
        if m.name != "llama":
            subprocess.run([lp_bin, "quantize", str(m), "-m", "F16", "-o", str(f16)], check=True, capture_output=True)
        source = gguf.GGUFReader(f16)
        out = work / f"{m.name}-tokenizer.gguf"
        writer = gguf.GGUFWriter(out, source.fields["general.architecture"].contents())
        for name, field in source.fields.items():
            if name.startswith("tokenizer.") and field.types:
                sub = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
                writer.add_key_value(name, field.contents(), field.types[0], sub_type=sub)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.close()
        (d / f"{m.name}.bin").write_bytes(SAMPLE_TEXT + b"\0" + out.read_bytes())  # text first: a GGUF holds zeros
    reader = gguf.GGUFReader(tiny)
    # An importance matrix in llama-imatrix's GGUF layout, for two of the tiny model's weights.
    d = seed_dir("imatrix")
    writer = gguf.GGUFWriter(d / "tiny.imatrix.gguf", "")
    writer.add_string("general.type", "imatrix")
    writer.add_array("imatrix.datasets", ["wiki.test.raw"])
    writer.add_uint32("imatrix.chunk_count", 2)
    writer.add_uint32("imatrix.chunk_size", 512)
    rng = np.random.default_rng(0)
    for t in reader.tensors[:3]:
        if len(t.shape) == 2:
            writer.add_tensor(f"{t.name}.in_sum2", (rng.random(int(t.shape[0])) * 2).astype(np.float32))
            writer.add_tensor(f"{t.name}.counts", np.array([2.0], dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    text = work / "text.txt"
    text.write_text(" ".join(f"the quick brown fox jumps over the lazy dog {i}" for i in range(60)) + "\n")
    d = seed_dir("reference_logits")
    subprocess.run([lp_bin, "validate", str(tiny), "--text", str(text), "-c", "16", "--chunks", "2",
                    "--metrics", "perplexity", "--save-reference-logits", str(d / "tiny.logits")],
                   check=True, capture_output=True)
    # The records of a two-level sweep, each step's record one NUL-separated piece.
    sweep = work / "sweep"
    subprocess.run([lp_bin, "matrix", str(tiny), "--levels", "F16,Q8_0", "--suite", "quick", "--text", str(text),
                    "-o", str(sweep)], check=True, capture_output=True)
    d = seed_dir("matrix_records")
    records = sorted((sweep / "records").glob("*.json"))
    (d / "sweep.bin").write_bytes(b"\0".join(r.read_bytes() for r in records))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} path/to/llama-pajamas")
    text_seeds()
    with tempfile.TemporaryDirectory() as work:
        tool_seeds(sys.argv[1], pathlib.Path(work))
    for d in sorted(CORPUS.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} seeds, {sum(f.stat().st_size for f in d.iterdir())} bytes")
