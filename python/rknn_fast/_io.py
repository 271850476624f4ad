"""Tensor plumbing behind :class:`rknn_fast.Model`: runtime type codes, per-input specs and the
checks a caller's array goes through before a run, and the converters that turn bound output
buffers into the dtype/layout asked for. No runtime calls here: pure functions over the attribute
dicts the runtime answered.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _core
from .info import TensorInfo

# rknn_tensor_type values -> numpy dtypes (rknn_abi.h)
_TYPE_TO_DTYPE: Dict[int, np.dtype] = {
    0: np.dtype(np.float32),
    1: np.dtype(np.float16),
    2: np.dtype(np.int8),
    3: np.dtype(np.uint8),
    4: np.dtype(np.int16),
    5: np.dtype(np.uint16),
    6: np.dtype(np.int32),
    7: np.dtype(np.uint32),
    8: np.dtype(np.int64),
    9: np.dtype(np.bool_),
}
_DTYPE_TO_TYPE = {dt: t for t, dt in _TYPE_TO_DTYPE.items()}
_TYPE_NAMES = {10: "int4", 11: "bfloat16"}
_FMT_NAMES = {0: "NCHW", 1: "NHWC", 2: "NC1HWC2", 3: "UNDEFINED"}
_QNT_NAMES = {0: "none", 1: "dfp", 2: "affine"}
_FMT_NCHW, _FMT_NHWC, _FMT_NC1HWC2, _FMT_UNDEFINED = 0, 1, 2, 3
_TYPE_UINT8 = 3
_KIND_NORMAL, _KIND_NATIVE, _KIND_NATIVE_NHWC = 0, 1, 2

#: Input dtypes the runtime converts from (besides the model's own input dtype).
_ACCEPTED_INPUT_DTYPES = tuple(np.dtype(d) for d in (np.uint8, np.int8, np.float16, np.float32))


def _tensor_info(normal: Dict[str, Any], native: Dict[str, Any], nhwc: Dict[str, Any]) -> TensorInfo:
    type_code = normal["type"]
    dtype = _TYPE_TO_DTYPE[type_code].name if type_code in _TYPE_TO_DTYPE else _TYPE_NAMES.get(type_code, "unknown")
    return TensorInfo(
        name=normal["name"],
        index=int(normal["index"]),
        shape=tuple(int(d) for d in normal["dims"]),
        layout=_FMT_NAMES.get(normal["fmt"], "UNDEFINED"),
        dtype=dtype,
        native_shape=tuple(int(d) for d in native["dims"]),
        native_layout=_FMT_NAMES.get(native["fmt"], "UNDEFINED"),
        qnt_type=_QNT_NAMES.get(normal["qnt_type"], "none"),
        scale=float(normal["scale"]) if normal["qnt_type"] == 2 else 1.0,
        zero_point=int(normal["zp"]) if normal["qnt_type"] == 2 else 0,
        size=int(normal["size"]),
        size_with_stride=int(normal["size_with_stride"]),
        w_stride=int(normal["w_stride"]),
        h_stride=int(normal["h_stride"]),
    )


def _is_image_input(attr: Dict[str, Any]) -> bool:
    """4-D NHWC input with 1, 3 or 4 channels: fed as uint8 pixels."""
    dims = attr["dims"]
    return attr["fmt"] == _FMT_NHWC and len(dims) == 4 and dims[3] in (1, 3, 4)


class _InputSpec:
    """What input i accepts, computed once at open."""

    __slots__ = ("index", "name", "shape", "dtype", "image", "fmt", "nchw_shape", "n_elems")

    def __init__(self, attr: Dict[str, Any]) -> None:
        self.index = int(attr["index"])
        self.name = attr["name"]
        self.shape = tuple(int(d) for d in attr["dims"])
        self.dtype = _TYPE_TO_DTYPE.get(attr["type"], np.dtype(np.uint8))
        self.image = _is_image_input(attr)
        self.fmt = attr["fmt"]
        self.n_elems = int(np.prod(self.shape)) if self.shape else 0
        if len(self.shape) == 4 and self.fmt == _FMT_NHWC:
            n, h, w, c = self.shape
            self.nchw_shape: Optional[Tuple[int, ...]] = (n, c, h, w)
        else:
            self.nchw_shape = None


def prepare_input(spec: _InputSpec, a: Any, data_format: Optional[str]) -> Tuple[np.ndarray, int, int]:
    """Checks a caller's array for input ``spec``; returns it with its runtime type and format codes."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"input {spec.index} ({spec.name}): expected numpy.ndarray, got {type(a).__name__}")
    dt = a.dtype
    if dt != spec.dtype and dt not in _ACCEPTED_INPUT_DTYPES:
        accepted = [d.name for d in _ACCEPTED_INPUT_DTYPES]
        if spec.dtype.name not in accepted:
            accepted.append(spec.dtype.name)
        raise TypeError(f"input {spec.index} ({spec.name}): expected dtype {', '.join(accepted)}, got {dt}")
    if data_format == "nchw":
        if spec.nchw_shape is None:
            raise ValueError(f"input {spec.index} ({spec.name}) is not 4-D NHWC; data_format='nchw' does not apply")
        want = spec.nchw_shape
        fmt = _FMT_NCHW
    else:
        want = spec.shape
        fmt = spec.fmt
    shape = a.shape
    if shape != want and not (len(want) > 1 and want[0] == 1 and shape == want[1:]):
        hint = ""
        if spec.image and data_format != "nchw" and len(shape) in (3, 4) and shape[-1] == want[-1]:
            # A frame of another size: resizing is the caller's job at this level.
            hint = (f" (resize the frame first: `img, transform = rknn_fast.letterbox(frame, ({want[1]}, "
                    f"{want[2]}))` keeps its aspect ratio; or use a pipeline such as rknn_fast.Detector, "
                    "which letterboxes every frame and maps the results back to its pixels)")
        raise ValueError(f"input {spec.index} ({spec.name}): expected shape {want}"
                         + (f" or {want[1:]}" if len(want) > 1 and want[0] == 1 else "")
                         + f", got {shape}" + hint)
    if not a.flags.c_contiguous:
        raise ValueError(f"input {spec.index} ({spec.name}): expected a C-contiguous array, got a "
                         "non-contiguous one (use numpy.ascontiguousarray)")
    return a, _DTYPE_TO_TYPE[dt], fmt


def prepare_pass_through(i: int, a: Any, native: Dict[str, Any]) -> Tuple[np.ndarray, int, int]:
    """Checks an array handed to the NPU unconverted against input ``i``'s native attribute."""
    dtype = _TYPE_TO_DTYPE.get(native["type"])
    if not isinstance(a, np.ndarray):
        raise TypeError(f"input {i}: expected numpy.ndarray, got {type(a).__name__}")
    if a.dtype != dtype:
        raise TypeError(f"input {i}: pass_through needs the native dtype {dtype}, got {a.dtype}")
    if not a.flags.c_contiguous:
        raise ValueError(f"input {i}: expected a C-contiguous array, got a non-contiguous one")
    sizes = {int(native["size"]), int(native["size_with_stride"])}
    if a.nbytes not in sizes:
        raise ValueError(f"input {i}: pass_through needs {' or '.join(map(str, sorted(sizes)))} bytes "
                         f"(native {_FMT_NAMES.get(native['fmt'])} {tuple(native['dims'])}), got {a.nbytes}")
    return a, int(native["type"]), int(native["fmt"])


def _c_strides(shape: Tuple[int, ...], itemsize: int) -> Tuple[int, ...]:
    strides = []
    acc = itemsize
    for d in reversed(shape):
        strides.append(acc)
        acc *= max(int(d), 1)
    return tuple(reversed(strides))


class _Converter:
    """Turns a bound output buffer into the requested dtype/layout (one pass, C++ kernel)."""

    __slots__ = ("out", "_fn", "_args")

    def __init__(self, out: np.ndarray, fn: Any, *args: Any) -> None:
        self.out = out
        self._fn = fn
        self._args = args

    def __call__(self) -> None:
        self._fn(*self._args)


def _make_converter(raw: np.ndarray, attr: Dict[str, Any], normal: Dict[str, Any], float_outputs: bool,
                    layout: str) -> Optional[_Converter]:
    """None when ``raw`` already is what the caller wants (the zero-copy case)."""
    type_code = attr["type"]
    affine = attr["qnt_type"] == 2
    scale = float(attr["scale"]) if affine else 1.0
    zp = int(attr["zp"]) if affine else 0
    if float_outputs and type_code in (2, 3):
        mode = 1  # dequantise
    elif float_outputs and type_code == 1:
        mode = 2  # widen fp16
    elif float_outputs and type_code != 0:
        raise ValueError(f"float_outputs: cannot convert output type {_TYPE_TO_DTYPE.get(type_code)} to float32")
    else:
        mode = 0
    relayout = layout == "logical" and attr["fmt"] == _FMT_NC1HWC2
    if mode == 0 and not relayout:
        return None
    out_dtype = np.dtype(np.float32) if mode else raw.dtype
    if relayout:
        n, c, h, w = (int(d) for d in normal["dims"])
        _n, c1, _h, ws, c2 = (int(d) for d in attr["dims"])
        out = np.empty((n, c, h, w), dtype=out_dtype)
        return _Converter(out, _core._nc1hwc2_to, raw, out, n, c, h, w, c1, c2, ws, False, mode, scale, zp)
    out = np.empty(raw.shape, dtype=out_dtype)
    if mode == 1:
        return _Converter(out, _core._dequantize, raw, out, scale, zp)
    return _Converter(out, _core._fp16_to_fp32, raw, out)
