"""Classification: softmax and top-k over (1, C) logits."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from ..results import Classification
from .._checks import check_count, check_flag
from ._common import check_dtype, dequantize, int8_qparams

__all__ = ["classify", "softmax"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis, float32 (max subtracted first)."""
    a = np.asarray(logits)
    if a.dtype.kind not in "iuf" or a.ndim == 0 or a.shape[-1] == 0:
        raise TypeError(f"logits: expected a non-empty numeric array, got {a.dtype} {a.shape}")
    # float64: the max-subtraction of float32 extremes (3e38 - -3e38) cannot overflow there.
    x = a.astype(np.float64)
    if not np.isfinite(x).all():  # inf - inf is NaN: a probability of NaN, with warnings
        raise ValueError("logits: expected finite values, got inf or NaN")
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def classify(
    logits: np.ndarray,
    k: int = 5,
    names: Optional[Sequence[str]] = None,
    *,
    qparams: Optional[Tuple[float, int]] = None,
    apply_softmax: bool = True,
) -> Classification:
    """Top-``k`` classes of a (1, C) or (C,) output.

    int8 needs ``qparams=(scale, zero_point)``; float16/float32 are widened. Scores are softmax
    probabilities (``apply_softmax=False`` keeps the dequantised values, e.g. for models that
    end with a softmax). Ties: lower class id first. ``k`` is clipped to C.
    """
    check_dtype("logits", logits)
    x = logits.reshape(-1) if logits.ndim == 2 and logits.shape[0] == 1 else logits
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"logits: expected (1, C) or (C,) with C >= 1, got shape {logits.shape}")
    if x.dtype == np.int8:
        values = dequantize(x, *int8_qparams("qparams", qparams))
    else:
        values = x.astype(np.float32)
    if np.isnan(values).any():  # NaN has no rank: top-k would silently drop classes
        raise ValueError("logits: expected no NaN values")
    k = check_count("k", k, 1)
    apply_softmax = check_flag("apply_softmax", apply_softmax)
    if names is not None and len(names) != x.size:
        raise ValueError(f"names: expected {x.size} names, got {len(names)}")
    scores = softmax(values) if apply_softmax else values
    k = min(int(k), x.size)
    # Partial selection then a stable sort of the k survivors; the partition threshold is
    # widened to include every value equal to the k-th so ties resolve by class id.
    if k < x.size:
        kth = np.partition(scores, x.size - k)[x.size - k]
        cand = np.flatnonzero(scores >= kth)
    else:
        cand = np.arange(x.size)
    order = cand[np.lexsort((cand, -scores[cand]))][:k]
    return Classification(
        class_ids=order.astype(np.int32),
        scores=scores[order].astype(np.float32),
        names=[names[i] for i in order] if names is not None else None,
    )
