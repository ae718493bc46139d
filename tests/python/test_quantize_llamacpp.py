"""`quantize` against llama.cpp itself (llama-cpp-python's llama_model_quantize and its loader):
the same tensor types, order and sizes as llama-quantize for every file type, and files that
llama.cpp loads and answers coherently from."""
import ctypes
import json
import os

import pytest
from gguf import GGUFReader

from conftest import run

llama_cpp = pytest.importorskip("llama_cpp")

# llama.h `enum llama_ftype`
FILE_TYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12,
              "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "F16": 1, "BF16": 32,
              "MXFP4_MOE": 38}
# The levels the decision matrix compares, loaded in llama.cpp for generation.
GENERATION_METHODS = ["Q2_K", "Q3_K_S", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"]


@pytest.fixture(scope="module")
def smollm2_f16(tmp_path_factory, lp_bin, smollm2_gguf):
    """SmolLM2 as F16, written by our quantize from the packaged Q4_1 file."""
    path = tmp_path_factory.mktemp("f16") / "smollm2-f16.gguf"
    run([lp_bin, "quantize", smollm2_gguf, "-m", "F16", "-o", str(path)])
    return path


def llama_cpp_quantize(src, method, out):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FILE_TYPES[method]
    params.nthread = 2
    assert llama_cpp.llama_model_quantize(str(src).encode(), str(out).encode(), ctypes.byref(params)) == 0
    return out


@pytest.fixture(scope="module")
def our_plans(lp_bin, smollm2_f16):
    out = run([lp_bin, "quantize", str(smollm2_f16), "-m", ",".join(FILE_TYPES), "--dry-run", "--json"]).stdout
    return json.loads(out)


@pytest.mark.parametrize("method", list(FILE_TYPES))
def test_plan_equals_llama_quantize(tmp_path, smollm2_f16, our_plans, method):
    reference = GGUFReader(str(llama_cpp_quantize(smollm2_f16, method, tmp_path / f"ref-{method}.gguf")))
    ours = our_plans[method]["tensors"]
    assert [t["name"] for t in ours] == [t.name for t in reference.tensors], "tensor order"
    for mine, theirs in zip(ours, reference.tensors):
        assert mine["type"] == theirs.tensor_type.name, mine["name"]
        assert mine["bytes"] == int(theirs.n_bytes), mine["name"]


@pytest.fixture(scope="module")
def our_files(tmp_path_factory, lp_bin, smollm2_f16):
    out = tmp_path_factory.mktemp("ours")
    run([lp_bin, "quantize", str(smollm2_f16), "-m", ",".join(GENERATION_METHODS), "-o", str(out)])
    return {m: out / f"smollm2-f16-{m}.gguf" for m in GENERATION_METHODS}


@pytest.mark.parametrize("method", GENERATION_METHODS)
def test_llama_cpp_loads_our_file_and_answers(tmp_path, our_files, smollm2_f16, method):
    ours = our_files[method]
    reference = llama_cpp_quantize(smollm2_f16, method, tmp_path / "ref.gguf")
    assert abs(os.path.getsize(ours) - os.path.getsize(reference)) <= 0.01 * os.path.getsize(reference)
    theirs_types = [(t.name, t.tensor_type.name) for t in GGUFReader(str(reference)).tensors]
    assert [(t.name, t.tensor_type.name) for t in GGUFReader(str(ours)).tensors] == theirs_types
    meta = GGUFReader(str(ours)).fields
    assert meta["general.file_type"].contents() == FILE_TYPES[method]
    assert meta["general.quantization_version"].contents() == 2

    model = llama_cpp.Llama(model_path=str(ours), n_ctx=256, n_threads=2, verbose=False, seed=1)
    reply = model.create_chat_completion(
        messages=[{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        max_tokens=16, temperature=0.0)
    text = reply["choices"][0]["message"]["content"]
    assert "paris" in text.lower(), f"{method}: {text!r}"
