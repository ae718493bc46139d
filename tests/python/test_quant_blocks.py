"""Our dequantizers against gguf-py's (llama.cpp's Python reference), bit for bit: on blocks
our quantizers wrote, and on every tensor type of the real SmolLM2 and Gemma 3 files."""
import collections

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize as gguf_dequantize

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
