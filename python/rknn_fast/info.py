"""Descriptions of a model and its tensors, shared by :func:`inspect` and :class:`Model`.

Conventions (they follow what librknnrt itself reports, so that a ``TensorInfo`` from the
file and one from a running context compare equal):

* ``shape`` is the "normal" shape in ``layout`` order: 4-D image inputs are NHWC
  (``(1, 640, 640, 3)``), 4-D outputs are NCHW (``(1, 255, 80, 80)``), other ranks keep the
  model's own order and report layout ``"UNDEFINED"``.
* ``native_shape`` is the shape the NPU works in (``native_layout``), e.g. NC1HWC2
  ``(1, C1, H, W, C2)`` for outputs. ``C2`` depends on platform and dtype; read it, never
  assume it. Image inputs, which the file stores as ``(1, 1, H, W, 3)``, are reported as the
  runtime's native input query shows them: NHWC ``(1, H, W, 3)``. Tensors the NPU keeps
  unpadded keep their logical shape (``"NCHW"`` for 4-D, ``"UNDEFINED"`` otherwise).
* ``dtype`` is the numpy name of the model's element type (``"int8"``, ``"uint8"``,
  ``"float16"``, ``"float32"``, ``"int32"`` ...).
* Quantisation is affine: ``real = (q - zero_point) * scale``. Unquantised tensors have
  ``qnt_type == "none"``, ``scale == 1.0`` and ``zero_point == 0``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

if TYPE_CHECKING:
    import numpy


@dataclass(frozen=True)
class TensorInfo:
    """One input or output tensor of a model."""

    name: str
    index: int
    shape: Tuple[int, ...]
    layout: str
    dtype: str
    native_shape: Tuple[int, ...] = ()
    native_layout: str = "UNDEFINED"
    qnt_type: str = "none"
    scale: float = 1.0
    zero_point: int = 0
    #: Bytes of the tensor without padding (``n_elems * itemsize``); 0 when unknown.
    size: int = 0
    #: Bytes including the stride padding of the native layout; 0 when unknown.
    size_with_stride: int = 0
    #: Row stride in elements (``w_stride``) as the runtime reports it; 0 means "equals width".
    w_stride: int = 0
    #: Column-of-rows stride (``h_stride``); 0 means "equals height".
    h_stride: int = 0

    @property
    def n_elems(self) -> int:
        """Number of elements of ``shape``."""
        n = 1
        for d in self.shape:
            n *= int(d)
        return n


@dataclass(frozen=True)
class ModelInfo:
    """What a .rknn file says about itself, read without any runtime."""

    #: Target platform the file was compiled for, e.g. ``"rk3588"``.
    target_platform: str
    #: Every platform listed in the file's JSON summary (usually just ``[target_platform]``).
    target_platforms: Tuple[str, ...]
    #: rknn-toolkit2 version that wrote the file, e.g. ``"2.5.0+..."``; ``None`` when absent.
    toolkit_version: Optional[str]
    #: Compiler version string recorded in the file; ``None`` when absent.
    compiler_version: Optional[str]
    #: File format number from the header (6 for RKNPU v2/lite, 0x1004 for rv1106 files).
    file_format: int
    #: Model format string (``"RKNPU v2"``, ``"RKNPU lite"``) or ``None``.
    model_format: Optional[str]
    inputs: Tuple[TensorInfo, ...] = field(default_factory=tuple)
    outputs: Tuple[TensorInfo, ...] = field(default_factory=tuple)
    #: Source framework, e.g. ``"ONNX"``; ``None`` when absent.
    source_framework: Optional[str] = None
    #: False when the file only carries the JSON summary (format 0x1004): then native
    #: shapes, scales and zero points are unknown and left at their defaults.
    complete: bool = True


# rknn_tensor_type values (librknnrt's rknn_api.h) -> numpy dtype names. INT4 and BFLOAT16 have no
# numpy dtype; their names are reported as such.
_DTYPE_NAMES = {
    0: "float32",
    1: "float16",
    2: "int8",
    3: "uint8",
    4: "int16",
    5: "uint16",
    6: "int32",
    7: "uint32",
    8: "int64",
    9: "bool",
    10: "int4",
    11: "bfloat16",
}
# rknn_tensor_format values (librknnrt's rknn_api.h).
_LAYOUT_NAMES = {0: "NCHW", 1: "NHWC", 2: "NC1HWC2", 3: "UNDEFINED"}
_QNT_AFFINE = 2  # RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC


def _tensor_info(t: Dict[str, Any]) -> TensorInfo:
    normal = t["normal"]
    native = t["native"]
    # The runtime's native attribute (what RKNN_QUERY_NATIVE_*_ATTR answers), derived from the
    # file's native shape; empty when the file does not say (format 0x1004).
    native_shape = tuple(int(d) for d in native["dims"]) if t["native_shape"] else ()
    native_layout = _LAYOUT_NAMES.get(native["fmt"], "UNDEFINED") if native_shape else "UNDEFINED"
    affine = normal["qnt_type"] == _QNT_AFFINE
    return TensorInfo(
        name=t["name"],
        index=int(t["index"]),
        shape=tuple(int(d) for d in normal["dims"]),
        layout=_LAYOUT_NAMES.get(normal["fmt"], "UNDEFINED"),
        dtype=_DTYPE_NAMES.get(t["type"], "unknown"),
        native_shape=native_shape,
        native_layout=native_layout,
        qnt_type="affine" if affine else "none",
        scale=float(normal["scale"]) if affine else 1.0,
        zero_point=int(normal["zp"]) if affine else 0,
        size=int(normal["size"]),
        size_with_stride=int(normal["size_with_stride"]),
        w_stride=int(normal["w_stride"]),
        h_stride=int(normal["h_stride"]),
    )


def _model_info(d: Dict[str, Any]) -> ModelInfo:
    platforms = tuple(d["target_platforms"])
    return ModelInfo(
        target_platform=d["target_platform"] or (platforms[0] if platforms else ""),
        target_platforms=platforms or ((d["target_platform"],) if d["target_platform"] else ()),
        toolkit_version=d["toolkit_version"] or None,
        compiler_version=d["compiler_version"] or None,
        file_format=int(d["file_format"]),
        model_format=d["model_format"] or None,
        inputs=tuple(_tensor_info(t) for t in d["inputs"]),
        outputs=tuple(_tensor_info(t) for t in d["outputs"]),
        source_framework=d["source_framework"] or None,
        complete=bool(d["complete"]),
    )


def inspect(
    model: Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, "numpy.ndarray"],
) -> ModelInfo:
    """Read what a .rknn file says about itself, without any runtime.

    ``model`` is a path (``str`` or ``os.PathLike``) or the whole file as a bytes-like object
    (``bytes``, ``bytearray``, ``memoryview`` or a C-contiguous ``uint8`` numpy array; read in
    place, not copied). Tensors follow the conventions at the top of this module: ``shape``
    is what the runtime reports (NHWC for 4-D inputs, NCHW for 4-D outputs), ``native_shape``
    the NPU layout (NC1HWC2 for outputs), sizes in bytes, strides in elements.

    Raises ``FileNotFoundError`` for a missing path, ``TypeError`` for an argument that is
    neither a path nor bytes-like, ``ValueError`` (naming the problem) for content that is not
    a well-formed .rknn file.
    """
    from . import _core

    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        with open(path, "rb") as f:
            data = f.read()
        try:
            return _model_info(_core.parse_rknn(data))
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
    if isinstance(model, (bytes, bytearray, memoryview)) or _is_buffer(model):
        return _model_info(_core.parse_rknn(model))
    raise TypeError(
        "expected a path (str or os.PathLike) or a bytes-like object with the .rknn file, got "
        f"{type(model).__name__}"
    )


def _is_buffer(obj: object) -> bool:
    try:
        memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        return False
    return True
