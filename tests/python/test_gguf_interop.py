"""Our GGUF files against gguf-py, the reference implementation from llama.cpp's repository:
gguf-py must read what we write, and we must read what gguf-py writes, byte for byte."""
import json

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES

from conftest import run

# gguf-py's table gives Q8_1 40 bytes per block; ggml (ggml-common.h) and we give 36.
# Q8_1 never appears in model files, so the disagreement is left out of the byte checks.
GGUF_PY_SIZE_DISAGREES = {"Q8_1"}

TYPE_TAGS = {t.name.lower(): t for t in GGUFValueType}
TYPE_TAGS["float32"] = GGUFValueType.FLOAT32
TYPE_TAGS["float64"] = GGUFValueType.FLOAT64
SCALAR_FORMATS = {
    GGUFValueType.UINT8: "<B", GGUFValueType.INT8: "<b", GGUFValueType.UINT16: "<H", GGUFValueType.INT16: "<h",
    GGUFValueType.UINT32: "<I", GGUFValueType.INT32: "<i", GGUFValueType.FLOAT32: "<f", GGUFValueType.BOOL: "<B",
    GGUFValueType.UINT64: "<Q", GGUFValueType.INT64: "<q", GGUFValueType.FLOAT64: "<d",
}


def dump(gguf_tool, path):
    return json.loads(run([gguf_tool, "dump", str(path)]).stdout)


def encode(typed):
    """GGUF encoding (type tag + value) of a value as our reader reported it."""
    import struct

    vtype = TYPE_TAGS[typed["type"]]
    return struct.pack("<I", vtype) + encode_body(typed, vtype)


def encode_body(typed, vtype):
    import struct

    if vtype == GGUFValueType.STRING:
        raw = bytes.fromhex(typed["hex"])
        return struct.pack("<Q", len(raw)) + raw
    if vtype == GGUFValueType.ARRAY:
        etype = TYPE_TAGS[typed["element_type"]]
        out = struct.pack("<IQ", etype, len(typed["items"]))
        for item in typed["items"]:
            out += encode_body(item, etype)
        return out
    return struct.pack(SCALAR_FORMATS[vtype], typed["value"])


def test_gguf_py_reads_our_file_identically(tmp_path, gguf_tool):
    path = tmp_path / "ours.gguf"
    run([gguf_tool, "write-sample", str(path)])
    ours = dump(gguf_tool, path)
    reader = GGUFReader(str(path))

    fields = {k: f for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert list(fields) == [kv["key"] for kv in ours["metadata"]]
    for kv in ours["metadata"]:
        field = fields[kv["key"]]
        raw = b"".join(part.tobytes() for part in field.parts[2:])  # type tag onwards
        assert raw == encode(kv["value"]), kv["key"]
        assert field.types[0] == TYPE_TAGS[kv["value"]["type"]]
    # Spot-check decoded values through gguf-py's own decoding too.
    assert fields["test.string"].contents() == "héllo, 世界 🌍"
    assert fields["test.uint64"].contents() == 2**64 - 1
    assert fields["test.array.string"].contents() == ["a", "", "ccc", "tökens"]
    assert fields["test.array.float64"].contents() == [0.1, 1e100]

    assert len(reader.tensors) == len(ours["tensors"])
    for t, mine in zip(reader.tensors, ours["tensors"]):
        assert t.name == mine["name"]
        assert t.tensor_type.name == mine["type"]
        assert [int(d) for d in t.shape] == mine["shape"]
        if mine["type"] in GGUF_PY_SIZE_DISAGREES:
            continue
        assert t.data_offset == reader.data_offset + mine["offset"]
        assert t.data.tobytes() == bytes.fromhex(mine["hex"]), t.name


def test_gguf_py_reads_our_file_with_custom_alignment(tmp_path, gguf_tool):
    path = tmp_path / "aligned.gguf"
    run([gguf_tool, "write-sample", str(path), "256"])
    reader = GGUFReader(str(path))
    assert reader.alignment == 256
    ours = dump(gguf_tool, path)
    for t, mine in zip(reader.tensors, ours["tensors"]):
        if mine["type"] not in GGUF_PY_SIZE_DISAGREES:
            assert t.data.tobytes() == bytes.fromhex(mine["hex"]), t.name


def gguf_py_sample(path, rng):
    """A file written by gguf-py: every metadata type, nested arrays, every tensor type it knows."""
    w = GGUFWriter(str(path), arch="qwen2")
    w.add_uint8("t.u8", 255)
    w.add_int8("t.i8", -128)
    w.add_uint16("t.u16", 65535)
    w.add_int16("t.i16", -32768)
    w.add_uint32("t.u32", 2**32 - 1)
    w.add_int32("t.i32", -(2**31))
    w.add_float32("t.f32", -0.15625)
    w.add_uint64("t.u64", 2**64 - 1)
    w.add_int64("t.i64", -(2**63))
    w.add_float64("t.f64", 2.5e-300)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "Ünïcödé ✓")
    w.add_array("t.arr.int", [1, -2, 3])
    w.add_array("t.arr.str", ["x", "yy", ""])
    w.add_array("t.arr.float", [0.5, 1.5])
    w.add_array("t.arr.nested", [[1, 2], [3]])
    expected = {}
    for qtype in GGMLQuantizationType:
        if qtype.name in GGUF_PY_SIZE_DISAGREES:
            continue
        block, size = GGML_QUANT_SIZES[qtype]
        rows, row_bytes = 3, 2 * size
        raw = rng.integers(0, 256, size=(rows, row_bytes), dtype=np.uint8)
        if qtype in (GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.F64,
                     GGMLQuantizationType.I8, GGMLQuantizationType.I16, GGMLQuantizationType.I32,
                     GGMLQuantizationType.I64):
            dtype = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I8": np.int8, "I16": np.int16,
                     "I32": np.int32, "I64": np.int64}[qtype.name]
            w.add_tensor(f"w.{qtype.name}", raw.view(dtype))
        else:
            w.add_tensor(f"w.{qtype.name}", raw, raw_dtype=qtype)
        expected[f"w.{qtype.name}"] = (qtype.name, [2 * block, rows], raw.tobytes())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return expected


def test_we_read_gguf_py_files_identically(tmp_path, gguf_tool):
    path = tmp_path / "theirs.gguf"
    expected = gguf_py_sample(path, np.random.default_rng(5))
    ours = dump(gguf_tool, path)
    meta = {kv["key"]: kv["value"] for kv in ours["metadata"]}
    assert meta["general.architecture"]["hex"] == b"qwen2".hex()
    assert meta["t.u8"] == {"type": "uint8", "value": 255}
    assert meta["t.i8"] == {"type": "int8", "value": -128}
    assert meta["t.u16"] == {"type": "uint16", "value": 65535}
    assert meta["t.i16"] == {"type": "int16", "value": -32768}
    assert meta["t.u32"] == {"type": "uint32", "value": 2**32 - 1}
    assert meta["t.i32"] == {"type": "int32", "value": -(2**31)}
    assert meta["t.f32"] == {"type": "float32", "value": -0.15625}
    assert meta["t.u64"] == {"type": "uint64", "value": 2**64 - 1}
    assert meta["t.i64"] == {"type": "int64", "value": -(2**63)}
    assert meta["t.f64"] == {"type": "float64", "value": 2.5e-300}
    assert meta["t.bool"] == {"type": "bool", "value": True}
    assert bytes.fromhex(meta["t.str"]["hex"]).decode() == "Ünïcödé ✓"
    assert [i["value"] for i in meta["t.arr.int"]["items"]] == [1, -2, 3]
    assert [bytes.fromhex(i["hex"]).decode() for i in meta["t.arr.str"]["items"]] == ["x", "yy", ""]
    assert [i["value"] for i in meta["t.arr.float"]["items"]] == [0.5, 1.5]
    nested = meta["t.arr.nested"]
    assert nested["element_type"] == "array"
    assert [[x["value"] for x in inner["items"]] for inner in nested["items"]] == [[1, 2], [3]]

    tensors = {t["name"]: t for t in ours["tensors"]}
    assert set(tensors) == set(expected)
    for name, (type_name, shape, raw) in expected.items():
        assert tensors[name]["type"] == type_name
        assert tensors[name]["shape"] == shape
        assert bytes.fromhex(tensors[name]["hex"]) == raw, name


def test_type_table_matches_gguf_py(gguf_tool):
    ours = {t["name"]: t for t in json.loads(run([gguf_tool, "types"]).stdout)}
    for qtype, (block, size) in GGML_QUANT_SIZES.items():
        assert qtype.name in ours, f"{qtype.name} missing from our type table"
        mine = ours[qtype.name]
        assert mine["id"] == qtype.value
        assert mine["block_size"] == block
        if qtype.name not in GGUF_PY_SIZE_DISAGREES:
            assert mine["block_bytes"] == size, qtype.name
    assert ours["Q8_1"]["block_bytes"] == 36  # ggml-common.h: 2 fp16 + 32 int8


@pytest.mark.parametrize("parts", [2, 3])
def test_split_model_reads_as_one(tmp_path, gguf_tool, lp_bin, parts):
    """Splits written the way llama.cpp's gguf-split writes them (through gguf-py)."""
    rng = np.random.default_rng(parts)
    tensors = {f"blk.{i}.w": rng.standard_normal((4, 8)).astype(np.float32) for i in range(5)}
    names = list(tensors)
    for p in range(parts):
        w = GGUFWriter(str(tmp_path / f"m-{p + 1:05d}-of-{parts:05d}.gguf"), arch="llama" if p == 0 else None)
        if p != 0:
            w.kv_data[0].pop("general.architecture", None)
        w.add_uint16("split.no", p)
        w.add_uint16("split.count", parts)
        w.add_int32("split.tensors.count", len(names))
        for n in names[p::parts]:
            w.add_tensor(n, tensors[n])
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    ours = dump(gguf_tool, tmp_path / f"m-00002-of-{parts:05d}.gguf")
    got = {t["name"]: bytes.fromhex(t["hex"]) for t in ours["tensors"]}
    assert got == {n: t.tobytes() for n, t in tensors.items()}
