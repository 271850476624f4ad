"""Golden-set reader/writer: round trips and refusal of every kind of corruption."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from rknn_fast.golden import (
    MAGIC,
    GoldenTensor,
    read_golden,
    read_golden_tensors,
    write_golden,
)


def _records(seed: int = 0, n: int = 2):
    rng = np.random.default_rng(seed)
    recs = []
    for _ in range(n):
        img = rng.integers(0, 256, size=(1, 8, 6, 3), dtype=np.uint8)
        out0 = rng.standard_normal((1, 4, 3, 2)).astype(np.float32)
        out1 = rng.standard_normal((1, 5)).astype(np.float32)
        recs.append(([img], [out0, out1]))
    return recs


def _hand_encoded() -> bytes:
    """One record, one uint8 NHWC input [1,1,2,1], one float32 [2] output, built by hand."""
    head = MAGIC + struct.pack("<IIII", 1, 1, 1, 0)
    t_in = struct.pack("<IIIIIIIQ", 3, 1, 4, 1, 1, 2, 1, 2) + bytes([7, 250])
    t_out = struct.pack("<IIIIQ", 0, 3, 1, 2, 8) + struct.pack("<ff", 1.5, -2.0)
    return head + t_in + t_out


def test_round_trip(tmp_path):
    recs = _records()
    p = tmp_path / "m.golden"
    write_golden(p, recs)
    back = read_golden(p)
    assert len(back) == len(recs)
    for (ins, outs), (ins2, outs2) in zip(recs, back):
        assert len(ins2) == 1 and len(outs2) == 2
        for a, b in zip(ins + outs, ins2 + outs2):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_default_formats_and_explicit_formats(tmp_path):
    img = np.zeros((1, 4, 4, 3), np.uint8)
    out = np.zeros((1, 2, 2, 2), np.float32)
    p = tmp_path / "f.golden"
    write_golden(p, [([img], [out, np.zeros(3, np.float32), (out, "UNDEFINED")])])
    (ins, outs), = read_golden_tensors(p)
    assert ins[0].fmt == 1 and ins[0].type == 3 and ins[0].layout == "NHWC"
    assert outs[0].fmt == 0 and outs[0].type == 0
    assert outs[1].fmt == 3
    assert outs[2].fmt == 3


def test_matches_hand_encoded_bytes(tmp_path):
    p = tmp_path / "h.golden"
    write_golden(p, [([(np.array([7, 250], np.uint8).reshape(1, 1, 2, 1), 1)],
                      [(np.array([1.5, -2.0], np.float32), 3)])])
    assert p.read_bytes() == _hand_encoded()
    (ins, outs), = read_golden(_hand_encoded())
    assert ins[0].tolist() == [[[[7], [250]]]]
    assert outs[0].tolist() == [1.5, -2.0]


def test_dtypes_round_trip(tmp_path):
    arrs = [np.arange(6, dtype=dt).reshape(2, 3) for dt in
            (np.float32, np.float16, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64)]
    arrs.append(np.array([True, False]))
    p = tmp_path / "d.golden"
    write_golden(p, [(arrs[:1], arrs[1:])])
    (ins, outs), = read_golden(p)
    for a, b in zip(arrs, ins + outs):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


# rknn_tensor_type values of the C API (cpp/abi/rknn_abi.h, API_FACTS.md): INT16 = 4, UINT16 = 5.
RKNN_TYPE_OF = [(np.float32, 0), (np.float16, 1), (np.int8, 2), (np.uint8, 3), (np.int16, 4),
                (np.uint16, 5), (np.int32, 6), (np.uint32, 7), (np.int64, 8), (np.bool_, 9)]


@pytest.mark.parametrize("dtype,rknn_type", RKNN_TYPE_OF)
def test_type_field_is_the_c_api_value(tmp_path, dtype, rknn_type):
    a = np.zeros((2,), dtype)
    assert GoldenTensor(a, 3).type == rknn_type
    p = tmp_path / "t.golden"
    write_golden(p, [([a], [a])])
    header_size = 8 + 4 * 4
    assert struct.unpack_from("<I", p.read_bytes(), header_size)[0] == rknn_type


@pytest.mark.parametrize("rknn_type,dtype,value", [(4, np.int16, -2), (5, np.uint16, 65534)])
def test_reads_16_bit_integer_types_by_c_api_value(rknn_type, dtype, value):
    tensor = struct.pack("<IIII", rknn_type, 3, 1, 1) + struct.pack("<Q", 2)
    tensor += struct.pack("<H", 0xFFFE)  # the bits of int16 -2 and of uint16 65534
    (ins, outs), = read_golden(struct.pack("<8sIIII", MAGIC, 1, 1, 1, 0) + tensor + tensor)
    for t in ins + outs:
        assert t.dtype == dtype and t.tolist() == [value]


def test_big_endian_input_is_stored_little_endian(tmp_path):
    a = np.array([1.0, 2.0], dtype=">f4")
    p = tmp_path / "be.golden"
    write_golden(p, [([a], [a])])
    (ins, _), = read_golden(p)
    np.testing.assert_array_equal(ins[0], [1.0, 2.0])


def test_read_from_bytes_equals_read_from_file(tmp_path):
    p = tmp_path / "m.golden"
    write_golden(p, _records(3, 1))
    a = read_golden(p)
    b = read_golden(p.read_bytes())
    np.testing.assert_array_equal(a[0][1][0], b[0][1][0])


# ---- corruption -------------------------------------------------------------------------

def test_bad_magic():
    buf = bytearray(_hand_encoded())
    buf[:8] = b"RKGOLD02"
    with pytest.raises(ValueError, match="magic"):
        read_golden(bytes(buf))


def test_every_truncation_is_refused():
    buf = _hand_encoded()
    for n in range(len(buf)):
        with pytest.raises(ValueError):
            read_golden(buf[:n])


def test_trailing_bytes_refused():
    with pytest.raises(ValueError, match="trailing"):
        read_golden(_hand_encoded() + b"\0")


def _patch(buf: bytes, offset: int, fmt: str, value) -> bytes:
    b = bytearray(buf)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


# Offsets inside _hand_encoded(): header 24 bytes; input tensor: type@24 fmt@28 n_dims@32
# dims@36..52 n_bytes@52 data@60..62; output tensor: type@62 fmt@66 n_dims@70 dim@74 n_bytes@78.
@pytest.mark.parametrize(
    "offset,fmt,value,match",
    [
        (20, "<I", 2, "header flags"),
        (8, "<I", 0, "at least one input"),
        (12, "<I", 0, "at least one input"),
        (16, "<I", 1000, "truncated"),
        (16, "<I", 2, "truncated"),
        (24, "<I", 99, "tensor type"),
        (24, "<I", 10, "tensor type"),  # int4 has no numpy dtype
        (28, "<I", 7, "tensor format"),
        (32, "<I", 0, "dims"),
        (32, "<I", 17, "dims"),
        (52, "<Q", 3, "n_bytes"),
        (52, "<Q", 1, "n_bytes"),
        (52, "<Q", 2**63, "n_bytes"),
        (36, "<I", 0xFFFFFFFF, "n_bytes"),
        (62, "<I", 3, "n_bytes"),  # output claims uint8: 2 elements are 2 bytes, not 8
        (78, "<Q", 4, "n_bytes"),
    ],
)
def test_corrupt_fields_refused(offset, fmt, value, match):
    with pytest.raises(ValueError, match=match):
        read_golden(_patch(_hand_encoded(), offset, fmt, value))


def test_random_bytes_refused():
    rng = np.random.default_rng(1)
    for _ in range(50):
        junk = MAGIC + rng.integers(0, 256, size=int(rng.integers(0, 200)), dtype=np.uint8).tobytes()
        with pytest.raises(ValueError):
            read_golden(junk)


def test_read_rejects_wrong_source_type():
    with pytest.raises(TypeError, match="path or bytes"):
        read_golden(12)  # type: ignore[arg-type]


# ---- writer validation --------------------------------------------------------------------

def test_write_refuses_inconsistent_records(tmp_path):
    a = np.zeros((1, 2), np.float32)
    with pytest.raises(ValueError, match="expected 1 inputs and 1 outputs"):
        write_golden(tmp_path / "x", [([a], [a]), ([a], [a, a])])


def test_write_refuses_bad_values(tmp_path):
    a = np.zeros((1, 2), np.float32)
    p = tmp_path / "x"
    with pytest.raises(ValueError, match="at least one record"):
        write_golden(p, [])
    with pytest.raises(TypeError, match="dtype"):
        write_golden(p, [([a.astype(np.complex64)], [a])])
    with pytest.raises(TypeError, match="numpy array"):
        write_golden(p, [([[1, 2]], [a])])
    with pytest.raises(ValueError, match="format"):
        write_golden(p, [([(a, "NCWH")], [a])])
    with pytest.raises(ValueError, match="fmt"):
        write_golden(p, [([(a, 9)], [a])])
    with pytest.raises(ValueError, match="dims"):
        write_golden(p, [([np.array(1.0, np.float32)], [a])])
    with pytest.raises(ValueError, match="at least one input"):
        write_golden(p, [([], [a])])
    with pytest.raises(TypeError, match="bare array"):
        write_golden(p, [(a, [a])])


def test_golden_tensor_accepted_by_writer(tmp_path):
    a = np.arange(4, dtype=np.int8).reshape(1, 4)
    p = tmp_path / "g"
    write_golden(p, [([GoldenTensor(a, 3)], [GoldenTensor(a.astype(np.float32), 3)])])
    (ins, outs), = read_golden_tensors(p)
    assert ins[0].fmt == 3 and ins[0].data.dtype == np.int8
