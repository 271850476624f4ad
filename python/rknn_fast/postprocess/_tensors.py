"""Describing raw model outputs to the C++ kernels without copying them.

An output array is read in place in one of these layouts (batch must be 1):

* NCHW ``(1, C, H, W)``;
* NC1HWC2 ``(1, C1, H, W, C2)``, the NPU-native layout, holding ``C <= C1 * C2`` logical
  channels (channel ``c`` at block ``c // C2``, lane ``c % C2``). The logical ``C`` comes
  from the :class:`~rknn_fast.TensorInfo` (``shape[1]``) or from the caller;
* rows ``(1, R, N)`` (Ultralytics flat head) and their transpose ``(1, N, R)`` (YOLOX).

Arrays must be C-contiguous with dtype int8, uint8, float16 or float32: nothing is
converted behind your back (use ``np.ascontiguousarray`` / ``astype`` visibly if needed).
Quantized (int8/uint8) arrays need a scale and zero point, given by a ``TensorInfo`` or a
``(scale, zero_point)`` pair; ``real = (q - zero_point) * scale``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from .._checks import check_qparams
from ..info import TensorInfo

QParams = Tuple[float, int]
InfoLike = Union[TensorInfo, QParams, None]
ViewSpec = Tuple[np.ndarray, Tuple[int, int, int, int, int, int, int], float, int]

_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.float16), np.dtype(np.float32))
_DTYPE_NAMES = tuple(d.name for d in _DTYPES)


def check_array(a: Any, name: str) -> np.ndarray:
    """Validate dtype and contiguity of one raw output (no conversion)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected {name} to be a numpy array, got {type(a).__name__}")
    if a.dtype not in _DTYPES:
        raise TypeError(f"expected {name} of dtype int8, uint8, float16 or float32, got {a.dtype}")
    if not a.flags.c_contiguous:
        raise ValueError(f"expected {name} to be C-contiguous (use np.ascontiguousarray)")
    return a


def qparams(a: np.ndarray, info: InfoLike, name: str) -> QParams:
    """(scale, zero_point) of an output; (1.0, 0) for float arrays.

    With a TensorInfo the array must have the info's dtype: int8 outputs described as int8 but
    handed over as uint8 or float32 would otherwise decode to garbage without a word.
    """
    if isinstance(info, TensorInfo) and np.dtype(a.dtype).name != info.dtype and info.dtype in _DTYPE_NAMES:
        raise ValueError(f"{name}: expected {info.dtype} as its TensorInfo says, got {a.dtype} "
                         "(pass (scale, zero_point) pairs or None to decode other arrays)")
    if a.dtype.kind == "f":
        return 1.0, 0
    if info is None:
        raise ValueError(
            f"{name} is {a.dtype}: expected its TensorInfo or a (scale, zero_point) pair, got None"
        )
    if isinstance(info, TensorInfo):
        scale, zp = info.scale, info.zero_point
    else:
        try:
            scale, zp = info  # type: ignore[misc]
        except (TypeError, ValueError):
            raise TypeError(
                f"expected a TensorInfo or (scale, zero_point) for {name}, got {info!r}"
            ) from None
    # The kernels take an int32 zero point: (1.0, 2**40) raised pybind11's RuntimeError.
    return check_qparams(name, scale, zp, -2**31, 2**31 - 1)


def logical_channels(a: np.ndarray, info: InfoLike, channels: Optional[int], name: str) -> int:
    """Logical channel count C of a 4-D or 5-D output."""
    if a.ndim == 4:
        c4 = int(a.shape[1])
        if channels is not None and channels != c4:
            raise ValueError(f"expected {name} with {channels} channels, got shape {a.shape}")
        return c4
    if a.ndim == 5:
        c1, c2 = int(a.shape[1]), int(a.shape[4])
        c: Optional[int] = channels
        if c is None and isinstance(info, TensorInfo) and len(info.shape) == 4:
            c = int(info.shape[1])
        if c is None:
            raise ValueError(
                f"{name} is NC1HWC2 {a.shape}: the logical channel count is needed "
                "(pass its TensorInfo or num_classes)"
            )
        # The runtime may allocate more blocks than needed (e.g. 80 classes as (1, 20, H, W, 8)
        # in fp16, or one channel as (1, 2, H, W, 16)): only the first C lanes are read.
        if not (0 < c <= c1 * c2):
            raise ValueError(
                f"expected {name} NC1HWC2 shape to hold {c} channels, got {a.shape}"
            )
        return c
    raise ValueError(f"expected {name} of shape (1, C, H, W) or (1, C1, H, W, C2), got {a.shape}")


def grid_view(a: np.ndarray, info: InfoLike, channels: Optional[int], name: str) -> ViewSpec:
    """View spec of a 4-D NCHW or 5-D NC1HWC2 output."""
    check_array(a, name)
    if a.ndim not in (4, 5):  # a 0-d array raised IndexError
        raise ValueError(f"expected {name} of shape (1, C, H, W) or (1, C1, H, W, C2), got {a.shape}")
    if a.shape[0] != 1:
        raise ValueError(f"expected batch 1 for {name}, got shape {a.shape}")
    c = logical_channels(a, info, channels, name)
    h, w = int(a.shape[2]), int(a.shape[3])
    scale, zp = qparams(a, info, name)
    if a.ndim == 4:
        dims = (c, h, w, 1, h * w, w, 1)
    else:
        c2 = int(a.shape[4])
        dims = (c, h, w, c2, h * w * c2, w * c2, c2)
    return a, dims, scale, zp


def rows_view(a: np.ndarray, info: InfoLike, transposed: bool, name: str) -> ViewSpec:
    """View spec of (1, R, N) (``transposed=False``) or (1, N, R): channel = row/field."""
    check_array(a, name)
    if a.ndim != 3 or a.shape[0] != 1:
        raise ValueError(f"expected {name} of shape (1, R, N), got {a.shape}")
    scale, zp = qparams(a, info, name)
    if transposed:
        n, r = int(a.shape[1]), int(a.shape[2])
        dims = (r, 1, n, r, 0, n * r, r)
    else:
        r, n = int(a.shape[1]), int(a.shape[2])
        dims = (r, 1, n, 1, n, n, 1)
    return a, dims, scale, zp


def spatial(a: np.ndarray) -> Tuple[int, int]:
    """(H, W) of a 4-D or 5-D grid output."""
    if not isinstance(a, np.ndarray) or a.ndim not in (4, 5):
        raise ValueError(f"expected a (1, C, H, W) or (1, C1, H, W, C2) output, got "
                         f"{getattr(a, 'shape', type(a).__name__)}")
    return int(a.shape[2]), int(a.shape[3])


def infos_list(infos: Optional[Sequence[InfoLike]], n: int) -> Sequence[InfoLike]:
    if infos is None:
        return [None] * n
    infos = list(infos)
    if len(infos) != n:
        raise ValueError(f"expected {n} TensorInfo/qparams entries (one per output), got {len(infos)}")
    return infos
