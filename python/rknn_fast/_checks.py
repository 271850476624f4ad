"""Argument checks shared by the whole public API (one place, one wording).

Every public function validates its arguments with these helpers before any kernel runs,
so bad input fails with a clear exception naming the argument:

* ``TypeError``: the argument has the wrong kind (not an array, not a number, a string
  where a flag is expected, an array of the wrong dtype);
* ``ValueError``: the kind is right but the value is not (NaN, out of range, fractional
  where a count is expected, a size larger than any NPU tensor).

Nothing is converted silently: ``2.5`` is not a count, ``"yes"`` is not a flag, ``True``
is not a number of channels.

Sizes are bounded by what an NPU model can take or produce: at most :data:`MAX_SIDE`
pixels per side, so that a typo such as ``(10**9, 10**9)`` is refused at once instead of
trying to allocate exabytes.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Iterable, Optional, Sequence, Tuple

import numpy as np

#: Largest image or tensor side (pixels) accepted anywhere in the API. RKNN models take
#: inputs of at most 8192 per side; twice that leaves room for letterboxed originals.
MAX_SIDE = 16384
#: Largest number of classes (class maps are uint16 beyond 256 classes).
MAX_CLASSES = 65536

_REAL = (int, float, np.integer, np.floating)
_INTEGER = (int, np.integer)

__all__ = [
    "MAX_CLASSES", "MAX_SIDE", "check_array", "check_choice", "check_contiguous", "check_count",
    "check_dtype", "check_flag", "check_fraction", "check_int", "check_number", "check_real",
    "check_side", "check_size",
]


def _is_real(value: Any) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, _REAL)


def _is_integer(value: Any) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, _INTEGER)


def check_array(name: str, a: Any) -> np.ndarray:
    """TypeError unless ``a`` is a numpy array."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(a).__name__}")
    return a


def check_dtype(name: str, a: Any, allowed: Iterable[Any]) -> np.ndarray:
    """TypeError unless ``a`` is a numpy array of one of the ``allowed`` dtypes."""
    check_array(name, a)
    allowed_dtypes = [np.dtype(d) for d in allowed]
    if a.dtype not in allowed_dtypes:
        names = ", ".join(d.name for d in allowed_dtypes)
        raise TypeError(f"{name}: expected dtype {names}, got {a.dtype}")
    return a  # type: ignore[no-any-return]


def check_contiguous(name: str, a: np.ndarray) -> None:
    """ValueError unless ``a`` is C-contiguous: kernels read it in place, and a silent copy
    would hide a cost the caller should see (make the copy visibly if it is wanted)."""
    if not a.flags.c_contiguous:
        raise ValueError(f"{name}: expected a C-contiguous array, got strides {a.strides} for shape "
                         f"{a.shape} (use np.ascontiguousarray)")


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a bool; TypeError for anything but ``True``/``False`` (a string, list or
    arbitrary object is truthy and would silently switch the option on)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of the strings ``choices``; TypeError/ValueError otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {tuple(choices)}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name}: expected one of {tuple(choices)}, got {value!r}")
    return value


def check_real(name: str, value: Any) -> float:
    """``value`` as a float; TypeError unless it is a real number (bools refused)."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    return float(value)


def check_number(name: str, value: Any, minimum: Optional[float] = None,
                 maximum: Optional[float] = None, *, finite: bool = False) -> float:
    """``value`` as a float, refusing NaN (every comparison with NaN is false, so a NaN
    threshold silently keeps or drops everything), and, when given, values outside
    [``minimum``, ``maximum``] or non-finite values (``finite=True``)."""
    v = check_real(name, value)
    if v != v:
        raise ValueError(f"{name}: expected a number, got {value}")
    if finite and not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        lo = "-inf" if minimum is None else f"{minimum:g}"
        hi = "inf" if maximum is None else f"{maximum:g}"
        raise ValueError(f"{name}: expected a number in [{lo}, {hi}], got {value}")
    return v


def check_fraction(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1] (a score or IoU threshold); ValueError for NaN or outside."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected a number in [0, 1], got {type(value).__name__}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value}")
    return float(value)


def check_int(name: str, value: Any, minimum: Optional[int] = None, maximum: Optional[int] = None) -> int:
    """``value`` as an int within [``minimum``, ``maximum``].

    TypeError for non-numbers (strings, None, bools); ValueError for a float (``2.5`` would be
    truncated, ``inf`` overflows) or a value out of range.
    """
    if not _is_integer(value):
        if _is_real(value):
            raise ValueError(f"{name}: expected an integer, got {value!r}")
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    v = operator.index(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        lo = "" if minimum is None else f"{minimum} <= "
        hi = "" if maximum is None else f" <= {maximum}"
        raise ValueError(f"{name}: expected an integer {lo}{name}{hi}, got {v}")
    return v


def check_count(name: str, value: Any, minimum: int = 0, maximum: Optional[int] = None) -> int:
    """``value`` as an int >= ``minimum`` (a count such as max_detections or max_candidates).
    ValueError for anything that is not an integer in range (bools and floats included)."""
    if not _is_integer(value) or value < minimum or (maximum is not None and value > maximum):
        hi = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name}: expected an integer >= {minimum}{hi}, got {value!r}")
    return int(value)


def check_side(name: str, value: Any, minimum: int = 1) -> int:
    """One image/tensor side in pixels: an integer in [``minimum``, :data:`MAX_SIDE`]."""
    return check_int(name, value, minimum, MAX_SIDE)


def check_size(name: str, value: Any, minimum: int = 1, *, trailing: bool = False) -> Tuple[int, int]:
    """An (h, w) size: two integers in [``minimum``, :data:`MAX_SIDE`]. With ``trailing``
    more items may follow (an image shape (h, w, c)); otherwise they are refused."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not hasattr(value, "__getitem__"):
        raise TypeError(f"{name}: expected (h, w), got {type(value).__name__}")
    if len(value) < 2 or (len(value) > 2 and not trailing):
        raise ValueError(f"{name}: expected two integers (h, w), got {value!r}")
    return (check_side(f"{name}[0] (height)", value[0], minimum),
            check_side(f"{name}[1] (width)", value[1], minimum))


def check_qparams(name: str, scale: Any, zero_point: Any, zp_min: int = -128, zp_max: int = 127) -> Tuple[float, int]:
    """A quantisation ``(scale, zero_point)``: a positive finite scale and an integer zero
    point in [``zp_min``, ``zp_max``] (int8: -128..127, uint8: 0..255, int32 accumulators:
    the int32 range). ValueError naming ``name`` otherwise (a NaN or negative scale negates or
    poisons every value; a fractional zero point would be truncated)."""
    if not _is_real(scale) or not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"{name}: expected a positive finite scale, got {scale!r}")
    if not _is_integer(zero_point) or not zp_min <= zero_point <= zp_max:
        raise ValueError(f"{name}: expected an integer zero point in {zp_min}..{zp_max}, got {zero_point!r}")
    return float(scale), int(zero_point)
