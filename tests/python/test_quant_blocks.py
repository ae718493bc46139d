"""Our dequantizers against gguf-py's (llama.cpp's Python reference), bit for bit: on blocks
our quantizers wrote, and on every tensor type of the real SmolLM2 and Gemma 3 files. MXFP4,
whose reference quantizer has no search, is checked both ways: our dequantization of arbitrary
blocks and our quantization of awkward rows equal gguf-py's byte for byte."""
import collections

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter
from gguf.quants import dequantize as gguf_dequantize
from gguf.quants import quantize as gguf_quantize

from conftest import run


def ours_dequantized(gguf_tool, tmp_path, path, names):
    out = tmp_path / "dequantized.bin"
    run([gguf_tool, "dequantize", str(path), str(out), *names])
    return np.fromfile(out, dtype=np.float32)


def reference(tensor):
    values = gguf_dequantize(tensor.data, tensor.tensor_type)
    return np.asarray(values, dtype=np.float32).reshape(-1)


def assert_bit_exact(ours, theirs, name):
    assert ours.shape == theirs.shape, name
    # Compare bit patterns, so -0.0 vs 0.0 or a NaN would show.
    mismatch = np.flatnonzero(ours.view(np.uint32) != theirs.view(np.uint32))
    assert mismatch.size == 0, f"{name}: {mismatch.size} values differ, first at {mismatch[:5]}"


def test_every_type_we_write_dequantizes_identically_in_gguf_py(tmp_path, gguf_tool):
    path = tmp_path / "quantized.gguf"
    run([gguf_tool, "write-quantized", str(path)])
    reader = GGUFReader(str(path))
    names = [t.name for t in reader.tensors]
    types = {t.tensor_type.name for t in reader.tensors}
    assert {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"} <= types
    ours = ours_dequantized(gguf_tool, tmp_path, path, names)
    offset = 0
    for t in reader.tensors:
        theirs = reference(t)
        assert_bit_exact(ours[offset:offset + theirs.size], theirs, t.name)
        offset += theirs.size


@pytest.mark.parametrize("model", ["smollm2_gguf", "gemma3_gguf"])
def test_real_model_tensors_dequantize_identically(tmp_path, gguf_tool, request, model):
    path = request.getfixturevalue(model)
    reader = GGUFReader(path)
    # Up to three tensors of each type present (the embedding is large: it is checked in full).
    picked, per_type = [], collections.Counter()
    for t in reader.tensors:
        if per_type[t.tensor_type] < 3:
            per_type[t.tensor_type] += 1
            picked.append(t)
    ours = ours_dequantized(gguf_tool, tmp_path, path, [t.name for t in picked])
    offset = 0
    for t in picked:
        theirs = reference(t)
        assert_bit_exact(ours[offset:offset + theirs.size], theirs, t.name)
        offset += theirs.size
    assert offset == ours.size
    assert len(per_type) >= 3, per_type


# ---- MXFP4: every exponent byte and nibble read back, and our quantizer against gguf-py's ----

def write_gguf(path, tensors, raw_dtype=None):
    writer = GGUFWriter(str(path), arch="test")
    for name, data in tensors.items():
        writer.add_tensor(name, data, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def mxfp4_blocks(rng):
    """Rows of 4 blocks: all 256 exponent bytes 4 times over (0/1 subnormal scales, 254/255 whose
    top levels overflow to inf), every nibble pair in the ramp rows, random nibbles elsewhere."""
    n_blocks = 256 * 4
    blocks = rng.integers(0, 256, size=(n_blocks, 17), dtype=np.uint8)
    blocks[:, 0] = np.arange(n_blocks) % 256
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)  # bytes 0..255: every (low, high) pair
    blocks[:16, 1:] = ramp
    blocks[16:32, 1:] = ramp.T
    return blocks.reshape(256, 4 * 17)


def test_mxfp4_blocks_dequantize_identically_in_gguf_py(tmp_path, gguf_tool):
    blocks = mxfp4_blocks(np.random.default_rng(17))
    path = tmp_path / "mxfp4.gguf"
    write_gguf(path, {"w": blocks}, raw_dtype=GGMLQuantizationType.MXFP4)
    (t,) = GGUFReader(str(path)).tensors
    assert t.tensor_type == GGMLQuantizationType.MXFP4 and list(t.shape) == [128, 256]
    with np.errstate(over="ignore"):  # exponents 254 and 255 times the top levels overflow, in both
        theirs = reference(t)
    ours = ours_dequantized(gguf_tool, tmp_path, path, ["w"])
    assert_bit_exact(ours, theirs, "mxfp4")
    assert np.isinf(theirs).any() and (theirs.view(np.uint32) == 0x00200000).any()  # the edges were there


def mxfp4_rows(rng):
    """Float rows of 8 blocks each: block scales from 2^-149 to 2^127, with the awkward cases:
    zero blocks, signed zeros, the largest float, the smallest subnormal, powers of two and their
    neighbours (where floor(log2(amax)) turns), and values exactly halfway between two levels."""
    rows, cols = 96, 256
    x = rng.standard_normal((rows * cols // 32, 32)).astype(np.float32)
    scales = np.ldexp(np.float32(1), rng.integers(-150, 126, size=(x.shape[0], 1))).astype(np.float32)
    x = (x * scales).astype(np.float32)
    x[0] = 0.0
    x[1] = -0.0
    x[2, :] = 0.0
    x[2, 5] = np.finfo(np.float32).max
    x[3, :] = -np.finfo(np.float32).max * rng.random(32).astype(np.float32)
    x[4, :] = 0.0
    x[4, 7] = np.float32(1e-45)
    x[5] = np.float32(1e-45) * rng.integers(-3, 4, 32)
    powers = np.ldexp(np.float32(1), np.arange(-149, 128, 4)).astype(np.float32)
    for i, p in enumerate(powers):
        for j, v in enumerate((np.nextafter(p, np.float32(0)), p, np.nextafter(p, np.float32(np.inf)))):
            block = x[8 + 3 * i + j]
            block[:] = block / max(np.abs(block).max(), np.float32(1e-30)) * v * np.float32(0.5)
            block[11] = -v
    halfway = x[300]
    halfway[:] = np.float32(0.5) * np.array([0, 1, 2, 3, 4, 6, 8, 12] * 4, dtype=np.float32)  # exponent 127: d = 0.5
    halfway[1::2] += np.float32(0.25) * np.array([1, 1, 2, 2] * 4, dtype=np.float32)  # midpoints
    halfway[0] = np.float32(6.0)
    halfway[16:] *= -1
    assert np.isfinite(x).all()
    return x.reshape(rows, cols)


def test_mxfp4_quantize_equals_gguf_py(tmp_path, gguf_tool):
    x = mxfp4_rows(np.random.default_rng(23))
    path = tmp_path / "floats.gguf"
    write_gguf(path, {"x": x})
    out = tmp_path / "ours.bin"
    run([gguf_tool, "quantize", str(path), "MXFP4", str(out), "x"])
    ours = np.fromfile(out, dtype=np.uint8).reshape(-1, 17)
    with np.errstate(over="ignore", invalid="ignore"):  # gguf-py's error table overflows on huge blocks
        theirs = np.asarray(gguf_quantize(x, GGMLQuantizationType.MXFP4)).reshape(-1, 17)
    assert ours.shape == theirs.shape
    differ = np.flatnonzero((ours != theirs).any(axis=1))
    assert differ.size == 0, f"{differ.size} blocks differ, first {differ[:5]}: ours {ours[differ[:1]]} theirs {theirs[differ[:1]]}"
    exponents = set(ours[:, 0].tolist())
    assert {0, 252} <= exponents and max(exponents) >= 232  # zero, largest-float and wrapped tiny blocks were there


def test_quantize_command_writes_mxfp4_tensors_as_gguf_py_does(tmp_path, lp_bin):
    """--tensor-type names MXFP4 like any type, and the tensors it writes are gguf-py's bytes."""
    rng = np.random.default_rng(29)
    source = tmp_path / "tiny-f32.gguf"
    writer = GGUFWriter(str(source), arch="llama")
    writer.add_block_count(1)
    writer.add_embedding_length(96)
    writer.add_head_count(3)
    writer.add_head_count_kv(1)
    writer.add_feed_forward_length(160)
    weights = {"token_embd.weight": (100, 96), "blk.0.attn_q.weight": (96, 96), "blk.0.ffn_up.weight": (160, 96),
               "blk.0.ffn_gate.weight": (160, 96), "blk.0.ffn_down.weight": (96, 160), "output.weight": (100, 96)}
    data = {name: (rng.standard_normal(shape) * np.exp(rng.uniform(-8, 8, (shape[0], 1)))).astype(np.float32)
            for name, shape in weights.items()}
    for name, values in data.items():
        writer.add_tensor(name, values)
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(96, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    out = tmp_path / "mixed.gguf"
    run([lp_bin, "quantize", str(source), "-m", "Q8_0", "-o", str(out), "--tensor-type", "ffn_(up|down)=mxfp4"])
    tensors = {t.name: t for t in GGUFReader(str(out)).tensors}
    assert tensors["blk.0.ffn_gate.weight"].tensor_type == GGMLQuantizationType.Q8_0
    for name in ("blk.0.ffn_up.weight", "blk.0.ffn_down.weight"):
        t = tensors[name]
        assert t.tensor_type == GGMLQuantizationType.MXFP4, name
        theirs = np.asarray(gguf_quantize(data[name], GGMLQuantizationType.MXFP4)).reshape(-1)
        assert np.array_equal(np.asarray(t.data).reshape(-1), theirs), name
