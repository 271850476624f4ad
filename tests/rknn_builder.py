"""A small writer of synthetic .rknn files for tests (pure Python, no rknn-toolkit2).

It writes the layout described in ../shared/rknn/RKNN_FILE_FORMAT.md: the 64-byte envelope,
a FlatBuffer model blob with the documented fields, and the trailing JSON summary. The
FlatBuffer is laid out front to back (every table's vtable just before it, children after
their parent), which is valid FlatBuffer: uoffsets only need to point forward.

Only the fields the reader uses are written; ``omit`` lets a test drop any of them.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

# Tensor dtype codes stored at Tensor S=4 (format doc §2).
DTYPE_INT8 = 3
DTYPE_FLOAT16 = 10
DTYPE_INT32 = 6

FORMAT_V2 = 6
FORMAT_T3 = 0x1004


@dataclass
class Tensor:
    name: str
    shape: Sequence[int]
    native_shape: Optional[Sequence[int]] = None
    dtype: Optional[int] = DTYPE_INT8
    kind: int = 3
    scale: Optional[Sequence[float]] = None
    zero_point: Optional[Sequence[int]] = None
    qnt_method: Optional[str] = "layer"
    qnt_type: Optional[str] = "int8"
    size: Optional[int] = None
    io_dtype: Optional[str] = None  # for the S=28/S=30 JSON; None leaves the tensor out
    io_layout: Optional[str] = None


@dataclass
class Model:
    inputs: List[Tensor]
    outputs: List[Tensor]
    internal: List[Tensor] = field(default_factory=list)
    file_format: int = FORMAT_V2
    model_format: Optional[str] = "RKNPU v2"
    generator: Optional[str] = "{'mean_values': [[0, 0, 0]], 'std_values': [[255, 255, 255]]}"
    compiler_version: Optional[str] = "1.0.0 (test builder)"
    target_platform: Optional[str] = "rk3588"
    source_framework: Optional[str] = "ONNX"
    #: Extra or replaced keys of the trailing JSON; None values delete a key.
    json_overrides: Dict[str, object] = field(default_factory=dict)
    #: Model-level FlatBuffer fields to leave out, by slot (e.g. {6, 28, 30}).
    omit_model: Tuple[int, ...] = ()
    #: Tensor-level FlatBuffer fields to leave out, by slot.
    omit_tensor: Tuple[int, ...] = ()
    #: Write the graph's tensors in this order of (inputs + outputs + internal) positions.
    tensor_order: Optional[Sequence[int]] = None
    toolkit_version: str = "2.5.0+test"


class _Writer:
    """Front-to-back FlatBuffer writer. Field values are (kind, value) pairs:
    ("i8", int), ("u32", int), ("i32", int), ("str", str|bytes), ("vi32", list),
    ("vf32", list), ("vtab", list of field dicts)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def align(self, n: int) -> None:
        while len(self.buf) % n:
            self.buf.append(0)

    def emit_table(self, fields: Dict[int, Tuple[str, object]]) -> int:
        self.align(4)
        slots = sorted(fields)
        vt_len = (max(slots) + 2) if slots else 4
        # Inline layout: each field aligned to its own width, starting after the soffset.
        widths = {"i8": 1, "u32": 4, "i32": 4}
        offsets: Dict[int, int] = {}
        pos = 4
        for s in slots:
            w = widths.get(fields[s][0], 4)
            pos = (pos + w - 1) // w * w
            offsets[s] = pos
            pos += w
        table_len = (pos + 3) // 4 * 4
        vt_pos = len(self.buf)
        vt = [vt_len, table_len] + [0] * ((vt_len - 4) // 2)
        for s in slots:
            vt[s // 2] = offsets[s]
        self.buf += struct.pack(f"<{len(vt)}H", *vt)
        self.align(4)
        table_pos = len(self.buf)
        self.buf += bytes(table_len)
        struct.pack_into("<i", self.buf, table_pos, table_pos - vt_pos)
        refs = []
        for s in slots:
            kind, value = fields[s]
            at = table_pos + offsets[s]
            if kind == "i8":
                struct.pack_into("<b", self.buf, at, value)
            elif kind == "u32":
                struct.pack_into("<I", self.buf, at, value)
            elif kind == "i32":
                struct.pack_into("<i", self.buf, at, value)
            else:
                refs.append((at, kind, value))
        for at, kind, value in refs:
            child = self.emit_ref(kind, value)
            struct.pack_into("<I", self.buf, at, child - at)
        return table_pos

    def emit_ref(self, kind: str, value) -> int:
        self.align(4)
        start = len(self.buf)
        if kind == "str":
            data = value.encode() if isinstance(value, str) else bytes(value)
            self.buf += struct.pack("<I", len(data)) + data + b"\0"
        elif kind == "vi32":
            self.buf += struct.pack(f"<I{len(value)}i", len(value), *value)
        elif kind == "vf32":
            self.buf += struct.pack(f"<I{len(value)}f", len(value), *value)
        elif kind == "vtab":
            self.buf += struct.pack("<I", len(value)) + bytes(4 * len(value))
            for i, sub in enumerate(value):
                slot = start + 4 + 4 * i
                child = self.emit_table(sub)
                struct.pack_into("<I", self.buf, slot, child - slot)
        else:
            raise ValueError(kind)
        return start


def _tensor_fields(t: Tensor, omit: Sequence[int]) -> Dict[int, Tuple[str, object]]:
    f: Dict[int, Tuple[str, object]] = {8: ("i8", t.kind), 12: ("vi32", list(t.shape)), 14: ("str", t.name)}
    if t.dtype is not None:
        f[4] = ("i8", t.dtype)
    if t.native_shape is not None:
        f[10] = ("vi32", list(t.native_shape))
    if t.qnt_method is not None:
        f[16] = ("str", t.qnt_method)
    if t.qnt_type is not None:
        f[18] = ("str", t.qnt_type)
    if t.scale is not None:
        f[24] = ("vf32", list(t.scale))
    if t.zero_point is not None:
        f[26] = ("vi32", list(t.zero_point))
    if t.size is not None:
        f[28] = ("u32", t.size)
    for s in omit:
        f.pop(s, None)
    return f


def _io_json(tensors: Sequence[Tensor]) -> str:
    d = {t.name: {"dtype": t.io_dtype, "layout": t.io_layout} for t in tensors if t.io_dtype is not None}
    return json.dumps(d)


def flatbuffer(m: Model) -> bytes:
    """The model blob: a FlatBuffer with file identifier RKNN."""
    all_tensors = list(m.inputs) + list(m.outputs) + list(m.internal)
    order = list(m.tensor_order) if m.tensor_order is not None else list(range(len(all_tensors)))
    where = {orig: pos for pos, orig in enumerate(order)}
    graph = {
        4: ("vtab", [_tensor_fields(all_tensors[i], m.omit_tensor) for i in order]),
        6: ("vtab", [{6: ("str", "Conv"), 8: ("str", "conv_0")}]),
        8: ("vi32", [where[i] for i in range(len(m.inputs))]),
        10: ("vi32", [where[len(m.inputs) + i] for i in range(len(m.outputs))]),
    }
    model: Dict[int, Tuple[str, object]] = {8: ("vtab", [graph])}
    for slot, value in ((6, m.model_format), (10, m.generator), (18, m.compiler_version),
                        (20, m.target_platform), (22, m.source_framework)):
        if value is not None:
            model[slot] = ("str", value)
    model[28] = ("str", _io_json(m.inputs))
    model[30] = ("str", _io_json(m.outputs))
    for s in m.omit_model:
        model.pop(s, None)
    w = _Writer()
    w.buf += bytes(4) + b"RKNN"
    root = w.emit_table(model)
    struct.pack_into("<I", w.buf, 0, root)
    return bytes(w.buf)


def summary_json(m: Model) -> Dict[str, object]:
    """The trailing JSON summary: norm_tensor entries (NCHW `size`), graph links, counts."""
    norm = []
    graph = []
    for role, tensors in (("input", m.inputs), ("output", m.outputs)):
        for i, t in enumerate(tensors):
            tid = len(norm)
            norm.append({
                "tensor_id": tid,
                "url": t.name,
                "size": list(t.shape),
                "dtype": {"qnt_method": t.qnt_method or "", "qnt_type": t.qnt_type or ""},
            })
            graph.append({"left": role, "left_tensor_id": i, "right": "norm_tensor", "right_tensor_id": tid})
    doc: Dict[str, object] = {
        "target_platform": [m.target_platform or "rk3588"],
        "version": m.toolkit_version,
        "input_num": len(m.inputs),
        "output_num": len(m.outputs),
        "norm_tensor": norm,
        "graph": graph,
    }
    for k, v in m.json_overrides.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    return doc


def envelope(file_format: int, blob: bytes, json_text: bytes) -> bytes:
    """Header (magic, zero, format, blob length, 40 reserved bytes) + blob + JSON length + JSON."""
    header = b"RKNN" + bytes(4) + struct.pack("<QQ", file_format, len(blob)) + bytes(40)
    return header + blob + struct.pack("<Q", len(json_text)) + json_text


def build(m: Model) -> bytes:
    """A whole .rknn file for `m`."""
    if m.file_format == FORMAT_V2:
        blob = flatbuffer(m)
    else:
        # The inner layout of 0x1004 files is not decoded: any bytes will do.
        blob = bytes(range(48))
    return envelope(m.file_format, blob, json.dumps(summary_json(m)).encode())


def tiny_conv(**kw) -> Model:
    """The tiny Conv net of format doc §3 (rk3588 int8), with its observed values."""
    images = Tensor("images", (1, 3, 64, 64), (1, 1, 64, 64, 3), kind=1, scale=[1 / 255], zero_point=[-128],
                    size=3 * 64 * 64, io_dtype="int8", io_layout="NHWC")
    head = Tensor("head", (1, 4, 32, 32), (1, 2, 32, 32, 16), kind=2, scale=[0.020078], zero_point=[63],
                  size=2 * 32 * 32 * 16, io_dtype="int8", io_layout="NCHW")
    weights = Tensor("w", (4, 3, 3, 3), None, kind=4, qnt_type="int8")
    return Model(inputs=[images], outputs=[head], internal=[weights], **kw)
