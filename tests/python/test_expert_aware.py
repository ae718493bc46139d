"""quantize --architecture-aware / --expert-balanced on a random Qwen3-MoE of 4 layers (the
generator of test_moe_llamacpp.py): the expert-aware mixture keeps attention at 8 bits and the
router in float, chooses each layer's expert types under the plain method's size (the file is
never larger), writes only types llama.cpp knows (it loads the file and agrees with us), and
bad requests are one clear sentence."""
import json
import os
import pathlib

import pytest
from gguf import GGUFReader

from conftest import ROOT, run

llama_cpp = pytest.importorskip("llama_cpp")
from test_engine_llamacpp import compare  # noqa: E402
from test_moe_llamacpp import write_small_model  # noqa: E402

SHARED_DATA = pathlib.Path(os.environ.get("LP_SHARED_DATA", ROOT.parent / "shared" / "data"))
LADDER = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_0"}


@pytest.fixture(scope="module")
def moe(tmp_path_factory, lp_bin, fixtures_dir):
    base = tmp_path_factory.mktemp("expert-aware")
    hf = write_small_model(base, "qwen3_moe", fixtures_dir, layers=4)
    f16 = base / "F16.gguf"
    run([lp_bin, "quantize", str(hf), "-m", "F16", "-o", str(f16)])
    text = base / "calibration.txt"
    text.write_text((SHARED_DATA / "wikitext-2-raw" / "wiki.test.raw").read_text(encoding="utf-8")[:40000])
    imatrix = base / "imatrix.gguf"
    run([lp_bin, "imatrix", str(f16), "-f", str(text), "-c", "256", "-o", str(imatrix), "-t", "2"])
    return {"f16": f16, "imatrix": imatrix, "dir": base}


def plan(lp_bin, moe, method, *extra):
    out = run([lp_bin, "quantize", str(moe["f16"]), "-m", method, "--imatrix", str(moe["imatrix"]), "--dry-run", "--json",
               *extra]).stdout
    return next(iter(json.loads(out).values()))["tensors"]


@pytest.mark.parametrize("method", ["Q4_K_M", "Q3_K_M"])
def test_expert_aware_plan_fits_the_plain_size(lp_bin, moe, method):
    plain, aware = plan(lp_bin, moe, method), plan(lp_bin, moe, method, "--architecture-aware")
    assert [t["name"] for t in aware] == [t["name"] for t in plain]
    assert sum(t["bytes"] for t in aware) <= sum(t["bytes"] for t in plain)
    attention = "Q8_0" if method == "Q4_K_M" else "Q4_K"
    for t in aware:
        if ".attn_" in t["name"] and t["name"].endswith(".weight") and len(t["shape"]) == 2:
            assert t["type"] == attention, t["name"]
        if "ffn_gate_inp" in t["name"]:
            assert t["type"] == "F32", t["name"]
        if "_exps." in t["name"]:
            assert t["type"] in LADDER, t["name"]


def test_expert_aware_file_runs_in_llama_cpp(tmp_path, lp_bin, moe):
    out = tmp_path / "Q4_K_M-EA.gguf"
    r = run([lp_bin, "quantize", str(moe["f16"]), "-m", "Q4_K_M", "--imatrix", str(moe["imatrix"]), "--architecture-aware",
             "--expert-balanced", "-o", str(out)])
    assert "ffn_down_exps" in r.stderr  # the chosen types are printed
    types = {t.name: t.tensor_type.name for t in GGUFReader(str(out)).tensors}
    assert {types[n] for n in types if "_exps." in n} <= LADDER
    compare(lp_bin, out, tmp_path, "random Qwen3-MoE Q4_K_M-EA")


@pytest.mark.parametrize("args,message", [
    (["-m", "Q4_K_M", "--architecture-aware"], "need --imatrix"),
    (["-m", "Q4_K_M,Q3_K_M", "--architecture-aware", "--imatrix", "IMATRIX"], "one method at a time"),
    (["-m", "Q8_0", "--architecture-aware", "--imatrix", "IMATRIX"], "no expert-aware mixture"),
])
def test_bad_expert_aware_requests(tmp_path, lp_bin, moe, args, message):
    args = [str(moe["imatrix"]) if a == "IMATRIX" else a for a in args]
    r = run([lp_bin, "quantize", str(moe["f16"]), *args, "-o", str(tmp_path / "x.gguf")], check=False)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not list(tmp_path.glob("x.gguf*"))


def test_dense_model_has_no_experts_to_allocate(tmp_path, lp_bin, fixtures_dir, moe):
    dense = tmp_path / "llama.gguf"
    run([lp_bin, "quantize", str(fixtures_dir / "tiny_models" / "llama"), "-m", "F32", "-o", str(dense)])
    text = tmp_path / "t.txt"
    text.write_text((SHARED_DATA / "wikitext-2-raw" / "wiki.test.raw").read_text(encoding="utf-8")[:8000])
    imatrix = tmp_path / "i.gguf"
    run([lp_bin, "imatrix", str(dense), "-f", str(text), "-c", "64", "--chunks", "2", "-o", str(imatrix)])
    r = run([lp_bin, "quantize", str(dense), "-m", "Q4_K_M", "--imatrix", str(imatrix), "--architecture-aware", "-o",
             str(tmp_path / "x.gguf")], check=False)
    assert r.returncode == 2 and "no stacked expert tensors" in r.stderr, r.stderr
