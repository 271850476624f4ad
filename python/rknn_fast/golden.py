"""Read and write golden sets (``*.golden``): recorded input/output pairs of a model.

The format is specified in ``docs/golden-format.md``. In short, little endian::

    magic "RKGOLD01" | n_inputs u32 | n_outputs u32 | n_records u32 | flags u32
    [model SHA-256, 32 bytes, when flags bit 0 is set]
    n_records x (n_inputs tensors, then n_outputs tensors)

    tensor: type u32 | fmt u32 | n_dims u32 | dims u32 x n_dims | n_bytes u64 | data

``type`` is the ``rknn_tensor_type`` value (0 float32, 1 float16, 2 int8, 3 uint8, 4 int16,
5 uint16, 6 int32, 7 uint32, 8 int64, 9 bool, 10 int4) and ``fmt`` the ``rknn_tensor_format``
value (0 NCHW, 1 NHWC, 2 NC1HWC2, 3 UNDEFINED). Image inputs are stored as fed to the runtime
(uint8, NHWC); outputs as float32 in the model's logical layout (NCHW for 4-D). The
fingerprint (the SHA-256 of the model file) lets the emulator find the set of a model given
as bytes (``RKNN_EMU_GOLDEN_PATH``).

This module is pure numpy and has no package-relative imports on purpose: the fixture tool
(``tools/make_fixtures.py``) loads it by file path in an environment without ``rknn_fast``.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

MAGIC = b"RKGOLD01"
MAX_DIMS = 16

#: ``rknn_tensor_type`` value -> numpy dtype (values as in cpp/abi/rknn_abi.h: INT16 = 4,
#: UINT16 = 5). int4 (10) has no numpy dtype and is refused.
TYPE_TO_DTYPE: Dict[int, np.dtype[Any]] = {
    0: np.dtype("<f4"),
    1: np.dtype("<f2"),
    2: np.dtype("i1"),
    3: np.dtype("u1"),
    4: np.dtype("<i2"),
    5: np.dtype("<u2"),
    6: np.dtype("<i4"),
    7: np.dtype("<u4"),
    8: np.dtype("<i8"),
    9: np.dtype("?"),
}
_DTYPE_TO_TYPE: Dict[str, int] = {dt.str if dt.itemsize > 1 else dt.char: t for t, dt in TYPE_TO_DTYPE.items()}

#: ``rknn_tensor_format`` names.
FORMATS = {0: "NCHW", 1: "NHWC", 2: "NC1HWC2", 3: "UNDEFINED"}
_FORMAT_BY_NAME = {v: k for k, v in FORMATS.items()}

_HEADER = struct.Struct("<8sIIII")
#: Header flag bit 0: the model's SHA-256 (32 bytes) follows the header.
FLAG_FINGERPRINT = 1
FINGERPRINT_SIZE = 32

ModelSource = Union[str, os.PathLike, bytes, bytearray, memoryview]
_TENSOR_HEAD = struct.Struct("<III")
_U64 = struct.Struct("<Q")


@dataclass(frozen=True)
class GoldenTensor:
    """One stored tensor: its data (C order, native dtype) and its ``rknn_tensor_format``."""

    data: np.ndarray
    fmt: int

    @property
    def type(self) -> int:
        """The ``rknn_tensor_type`` value of ``data``'s dtype."""
        return _type_of(self.data.dtype)

    @property
    def layout(self) -> str:
        """Format name: ``"NCHW"``, ``"NHWC"``, ``"NC1HWC2"`` or ``"UNDEFINED"``."""
        return FORMATS[self.fmt]


TensorLike = Union[np.ndarray, GoldenTensor, Tuple[np.ndarray, Union[int, str]]]
Record = Tuple[Sequence[TensorLike], Sequence[TensorLike]]


def _type_of(dtype: np.dtype) -> int:
    dt = np.dtype(dtype)
    key = dt.newbyteorder("<").str if dt.itemsize > 1 else dt.char
    if key not in _DTYPE_TO_TYPE:
        raise TypeError(
            f"expected a dtype storable in a golden set "
            f"({', '.join(str(d) for d in TYPE_TO_DTYPE.values())}), got {dt}"
        )
    return _DTYPE_TO_TYPE[key]


def _default_fmt(arr: np.ndarray, is_input: bool) -> int:
    if arr.ndim == 4:
        return 1 if (is_input and arr.dtype == np.uint8) else 0
    return 3


def _as_golden_tensor(t: TensorLike, is_input: bool, where: str) -> GoldenTensor:
    if isinstance(t, GoldenTensor):
        arr, fmt = t.data, t.fmt
    elif isinstance(t, tuple):
        if len(t) != 2:
            raise ValueError(f"{where}: expected (array, fmt), got a tuple of {len(t)}")
        arr, f = t
        if isinstance(f, str):
            if f.upper() not in _FORMAT_BY_NAME:
                raise ValueError(f"{where}: expected a format in {sorted(_FORMAT_BY_NAME)}, got {f!r}")
            fmt = _FORMAT_BY_NAME[f.upper()]
        else:
            fmt = int(f)
    elif isinstance(t, np.ndarray):
        arr, fmt = t, _default_fmt(t, is_input)
    else:
        raise TypeError(f"{where}: expected a numpy array, got {type(t).__name__}")
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{where}: expected a numpy array, got {type(arr).__name__}")
    if fmt not in FORMATS:
        raise ValueError(f"{where}: expected fmt in {sorted(FORMATS)}, got {fmt}")
    if not 1 <= arr.ndim <= MAX_DIMS:
        raise ValueError(f"{where}: expected 1..{MAX_DIMS} dims, got {arr.ndim}")
    if any(d >= 2**32 for d in arr.shape):
        raise ValueError(f"{where}: dims must fit uint32, got {arr.shape}")
    _type_of(arr.dtype)
    return GoldenTensor(np.ascontiguousarray(arr), fmt)


def model_fingerprint(model: ModelSource) -> bytes:
    """The SHA-256 (32 bytes) of a model file, given as a path or as the file's bytes."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        if len(model) == 0:
            raise ValueError("expected the model's bytes, got an empty buffer")
        return hashlib.sha256(model).digest()
    if isinstance(model, (str, os.PathLike)):
        h = hashlib.sha256()
        with open(model, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.digest()
    raise TypeError(f"expected a model path or bytes, got {type(model).__name__}")


def golden_fingerprint(source: Union[str, os.PathLike, bytes, bytearray]) -> Optional[bytes]:
    """The model fingerprint recorded in a golden set (path or bytes), or None if it has none."""
    if isinstance(source, (bytes, bytearray)):
        head, origin = bytes(source[:_HEADER.size + FINGERPRINT_SIZE]), "<bytes>"
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            head = f.read(_HEADER.size + FINGERPRINT_SIZE)
        origin = os.fspath(source)
    else:
        raise TypeError(f"expected a path or bytes, got {type(source).__name__}")
    r = _Reader(head, origin)
    _, flags = _read_header(r)
    return bytes(r.take(FINGERPRINT_SIZE, "model fingerprint")) if flags & FLAG_FINGERPRINT else None


def write_golden(
    path: Union[str, os.PathLike], records: Sequence[Record], model: Optional[ModelSource] = None
) -> None:
    """Write ``records`` to ``path`` as a golden set.

    ``records`` is a sequence of ``(inputs, outputs)``; each tensor is a numpy array (format
    defaults: a 4-D uint8 input is NHWC, any other 4-D tensor NCHW, other ranks UNDEFINED),
    an ``(array, fmt)`` pair (fmt as int or name) or a :class:`GoldenTensor`. Every record must
    have the same number of inputs and of outputs. Data is written little endian, C order.

    ``model`` (the model file's path or bytes): when given, its SHA-256 is recorded so that the
    emulator finds this set for the model wherever it lies (``RKNN_EMU_GOLDEN_PATH``) and for
    models given as bytes; without it the set is only found as ``<model>.golden`` beside a
    model opened by path (docs/golden-format.md).
    """
    fingerprint = model_fingerprint(model) if model is not None else None
    if isinstance(records, (np.ndarray, str, bytes)):
        raise TypeError(f"expected a sequence of (inputs, outputs), got {type(records).__name__}")
    records = list(records)
    if not records:
        raise ValueError("expected at least one record, got none")
    counts = None
    prepared: List[Tuple[List[GoldenTensor], List[GoldenTensor]]] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, (tuple, list)) or len(rec) != 2:
            raise ValueError(f"record {i}: expected (inputs, outputs), got {type(rec).__name__}")
        ins, outs = rec
        if isinstance(ins, np.ndarray) or isinstance(outs, np.ndarray):
            raise TypeError(f"record {i}: expected lists of tensors, got a bare array")
        ins_t = [_as_golden_tensor(t, True, f"record {i} input {k}") for k, t in enumerate(ins)]
        outs_t = [_as_golden_tensor(t, False, f"record {i} output {k}") for k, t in enumerate(outs)]
        if counts is None:
            counts = (len(ins_t), len(outs_t))
            if counts[0] == 0 or counts[1] == 0:
                raise ValueError(f"expected at least one input and one output, got {counts}")
        elif (len(ins_t), len(outs_t)) != counts:
            raise ValueError(
                f"record {i}: expected {counts[0]} inputs and {counts[1]} outputs, "
                f"got {len(ins_t)} and {len(outs_t)}"
            )
        prepared.append((ins_t, outs_t))
    assert counts is not None
    with open(path, "wb") as f:
        f.write(_HEADER.pack(MAGIC, counts[0], counts[1], len(prepared), FLAG_FINGERPRINT if fingerprint else 0))
        if fingerprint is not None:
            f.write(fingerprint)
        for ins_t, outs_t in prepared:
            for t in ins_t + outs_t:
                _write_tensor(f, t)


def _write_tensor(f: BinaryIO, t: GoldenTensor) -> None:
    arr = t.data
    if arr.dtype.itemsize > 1:
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    f.write(_TENSOR_HEAD.pack(t.type, t.fmt, arr.ndim))
    f.write(struct.pack(f"<{arr.ndim}I", *arr.shape))
    f.write(_U64.pack(arr.nbytes))
    f.write(arr.tobytes(order="C"))


def _read_header(r: "_Reader") -> Tuple[Tuple[int, int, int], int]:
    magic, n_in, n_out, n_rec, flags = _HEADER.unpack(r.take(_HEADER.size, "header"))
    if magic != MAGIC:
        raise ValueError(f"{r.origin}: not a golden set: expected magic {MAGIC!r}, got {magic!r}")
    if flags & ~FLAG_FINGERPRINT:
        raise ValueError(f"{r.origin}: expected header flags 0 or {FLAG_FINGERPRINT} (model fingerprint), got {flags}")
    return (n_in, n_out, n_rec), flags


class _Reader:
    def __init__(self, buf: bytes, origin: str) -> None:
        self.buf = buf
        self.pos = 0
        self.origin = origin

    def take(self, n: int, what: str) -> memoryview:
        if n > len(self.buf) - self.pos:
            raise ValueError(
                f"{self.origin}: truncated golden set: expected {n} bytes of {what} at offset "
                f"{self.pos}, got {len(self.buf) - self.pos}"
            )
        view = memoryview(self.buf)[self.pos:self.pos + n]
        self.pos += n
        return view


def _read_tensor(r: _Reader, where: str) -> GoldenTensor:
    type_, fmt, n_dims = _TENSOR_HEAD.unpack(r.take(_TENSOR_HEAD.size, f"{where} header"))
    if type_ not in TYPE_TO_DTYPE:
        raise ValueError(f"{r.origin}: {where}: expected a tensor type in {sorted(TYPE_TO_DTYPE)}, got {type_}")
    if fmt not in FORMATS:
        raise ValueError(f"{r.origin}: {where}: expected a tensor format in {sorted(FORMATS)}, got {fmt}")
    if not 1 <= n_dims <= MAX_DIMS:
        raise ValueError(f"{r.origin}: {where}: expected 1..{MAX_DIMS} dims, got {n_dims}")
    dims = struct.unpack(f"<{n_dims}I", r.take(4 * n_dims, f"{where} dims"))
    (n_bytes,) = _U64.unpack(r.take(8, f"{where} n_bytes"))
    dtype = TYPE_TO_DTYPE[type_]
    expected = dtype.itemsize
    for d in dims:
        expected *= d
    if n_bytes != expected:
        raise ValueError(
            f"{r.origin}: {where}: n_bytes does not match dims {list(dims)} of {dtype}: "
            f"expected {expected}, got {n_bytes}"
        )
    data = np.frombuffer(r.take(n_bytes, f"{where} data"), dtype=dtype).reshape(dims)
    return GoldenTensor(data.astype(dtype.newbyteorder("="), copy=True), fmt)


def read_golden_tensors(
    source: Union[str, os.PathLike, bytes, bytearray],
) -> List[Tuple[List[GoldenTensor], List[GoldenTensor]]]:
    """Like :func:`read_golden` but keeps each tensor's format (:class:`GoldenTensor`)."""
    if isinstance(source, (bytes, bytearray)):
        buf, origin = bytes(source), "<bytes>"
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            buf = f.read()
        origin = os.fspath(source)
    else:
        raise TypeError(f"expected a path or bytes, got {type(source).__name__}")
    r = _Reader(buf, origin)
    (n_in, n_out, n_rec), flags = _read_header(r)
    if flags & FLAG_FINGERPRINT:
        r.take(FINGERPRINT_SIZE, "model fingerprint")
    if n_in == 0 or n_out == 0:
        raise ValueError(f"{origin}: expected at least one input and one output, got {n_in} and {n_out}")
    # Each tensor takes at least 24 bytes: refuse absurd counts before looping over them.
    min_bytes = n_rec * (n_in + n_out) * (_TENSOR_HEAD.size + 4 + 8)
    if min_bytes > len(buf) - r.pos:
        raise ValueError(
            f"{origin}: truncated golden set: header announces {n_rec} records of "
            f"{n_in}+{n_out} tensors (at least {min_bytes} bytes), got {len(buf) - r.pos} bytes"
        )
    records = []
    for i in range(n_rec):
        ins = [_read_tensor(r, f"record {i} input {k}") for k in range(n_in)]
        outs = [_read_tensor(r, f"record {i} output {k}") for k in range(n_out)]
        records.append((ins, outs))
    if r.pos != len(buf):
        raise ValueError(
            f"{origin}: expected the file to end after {n_rec} records at offset {r.pos}, "
            f"got {len(buf) - r.pos} trailing bytes"
        )
    return records


def read_golden(
    source: Union[str, os.PathLike, bytes, bytearray],
) -> List[Tuple[List[np.ndarray], List[np.ndarray]]]:
    """Read a golden set from a path or bytes: a list of ``(inputs, outputs)`` array lists.

    Raises ``ValueError`` on a bad magic, a truncated file, a size that does not match the
    dims, unknown type/format codes, or trailing bytes. Use :func:`read_golden_tensors` to
    also get each tensor's stored format.
    """
    return [
        ([t.data for t in ins], [t.data for t in outs])
        for ins, outs in read_golden_tensors(source)
    ]
