"""Letterbox an image into a model input buffer (for example a zero-copy input view).

Pixels are produced by OpenCV (``cv2.resize`` writing straight into the destination
region, then the pad bands are filled), so the ultralytics convention is byte-identical to
``cv2.resize(INTER_LINEAR)`` + ``cv2.copyMakeBorder`` (the way the golden fixtures were
recorded) without the intermediate image and the border copy. A C++ bilinear kernel was
not used: matching OpenCV's fixed-point resize bit for bit is what the fixtures need, and
OpenCV's own SIMD resize is already the fast path (see bench/bench_detection.py).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ._checks import check_choice, check_flag, check_size
from .results import LetterboxTransform

_CONVENTIONS = ("ultralytics", "vendor")


def _geometry_ultralytics(h: int, w: int, dh_: int, dw_: int) -> Tuple[float, int, int, float, float, int, int]:
    r = min(dh_ / h, dw_ / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (dw_ - nw) / 2, (dh_ - nh) / 2
    top, left = int(round(dh - 0.1)), int(round(dw - 0.1))
    return r, nw, nh, dw, dh, left, top


def _geometry_vendor(h: int, w: int, dh_: int, dw_: int) -> Tuple[float, int, int, float, float, int, int]:
    # Vendor C demo: float32 scale, truncated size on the padded axis, width a
    # multiple of 4, height a multiple of 2, centred pad rounded down to an even number,
    # only the non-limiting axis padded.
    sx = np.float32(dw_) / np.float32(w)
    sy = np.float32(dh_) / np.float32(h)
    scale = min(sx, sy)
    if sx <= sy:
        nw, nh = dw_, int(np.float32(h) * scale)
    else:
        nw, nh = int(np.float32(w) * scale), dh_
    nw -= nw % 4
    nh -= nh % 2
    if sx <= sy:
        left, top = 0, (dh_ - nh) // 2
    else:
        left, top = (dw_ - nw) // 2, 0
    left -= left % 2
    top -= top % 2
    return float(scale), nw, nh, float(left), float(top), left, top


def letterbox(
    image: np.ndarray,
    size: Optional[Tuple[int, int]] = None,
    *,
    dst: Optional[np.ndarray] = None,
    convention: str = "ultralytics",
    pad_value: int = 114,
    bgr_to_rgb: bool = False,
) -> Tuple[np.ndarray, LetterboxTransform]:
    """Resize ``image`` keeping its aspect ratio and pad it to ``size`` (h, w).

    * ``image``: uint8 (h, w, C) (HWC, any channel order) or (h, w).
    * ``dst``: optional writable uint8 (H, W, C) or (1, H, W, C) array to fill in place
      (e.g. a model's zero-copy input view; rows may be strided); allocated when None.
      ``size`` defaults to its (H, W).
    * ``convention``:
      ``"ultralytics"`` (ultralytics / model-zoo Python demos): ``r = min(H/h, W/w)``,
      resized ``round(w r) x round(h r)`` with INTER_LINEAR, borders
      ``top = round(dh - 0.1)``, ``bottom = round(dh + 0.1)`` with ``dh = (H - nh) / 2``
      (same for left/right); the transform maps back with ``(x - dw) / r``.
      ``"vendor"`` (model-zoo C demos): truncated size, width multiple of 4, height
      multiple of 2, even centred offset on the padded axis only; maps back with
      ``(x - pad) / scale`` (float; the C demo also truncates to int).
    * ``pad_value``: border value for every channel (114 as ultralytics; the model-zoo
      Python demos use 0).
    * ``bgr_to_rgb``: swap channels 0 and 2 of the written pixels (3-channel images).

    Returns ``(dst, transform)``.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise TypeError(f"expected a uint8 image, got {got}")
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an (h, w[, C]) image, got shape {image.shape}")
    check_choice("convention", convention, _CONVENTIONS)
    bgr_to_rgb = check_flag("bgr_to_rgb", bgr_to_rgb)
    if isinstance(pad_value, bool) or not isinstance(pad_value, (int, np.integer)) or not 0 <= pad_value <= 255:
        raise ValueError(f"expected pad_value as an integer in [0, 255], got {pad_value!r}")
    if size is not None and (len(size) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in size)):
        raise ValueError(f"expected size as two integers (h, w), got {size!r}")
    channels = 1 if image.ndim == 2 else image.shape[2]
    if not 1 <= channels <= 4:
        raise ValueError(f"expected an image with 1 to 4 channels, got shape {image.shape}")
    if bgr_to_rgb and channels != 3:
        raise ValueError(f"bgr_to_rgb needs a 3-channel image, got shape {image.shape}")
    out = dst
    if dst is None:
        if size is None:
            raise ValueError("expected size=(h, w) or dst")
        th, tw = check_size("size", size)  # (10**9, 10**9) tried to allocate an exabyte
        dst = np.empty((th, tw) + (() if image.ndim == 2 else (channels,)), np.uint8)
        out = dst
        plane = dst
    else:
        if not isinstance(dst, np.ndarray) or dst.dtype != np.uint8:
            got = dst.dtype if isinstance(dst, np.ndarray) else type(dst).__name__
            raise TypeError(f"expected a uint8 dst, got {got}")
        plane = dst[0] if dst.ndim == 4 and dst.shape[0] == 1 else dst
        if image.ndim == 2 and plane.ndim == 3 and plane.shape[2] == 1:
            plane = plane[..., 0]  # grayscale into a one-channel input
        want_nd = 2 if image.ndim == 2 else 3
        if plane.ndim != want_nd or (want_nd == 3 and plane.shape[2] != channels):
            raise ValueError(f"expected dst (H, W{', ' + str(channels) if want_nd == 3 else ''}) "
                             f"matching the image, got shape {dst.shape}")
        if not plane.flags.writeable:
            raise ValueError("expected a writable dst")
        # OpenCV writes rows of packed pixels (row stride free, e.g. a padded zero-copy view).
        if plane.strides[1] != plane.itemsize * (channels if plane.ndim == 3 else 1) or (
                plane.ndim == 3 and plane.strides[2] != 1):
            raise ValueError(f"expected dst with packed pixels in each row (strides (*, {channels}, 1)), "
                             f"got strides {plane.strides}")
        if size is not None and tuple(int(v) for v in size) != plane.shape[:2]:
            raise ValueError(f"expected size {tuple(size)} to match dst {plane.shape[:2]}")
        th, tw = plane.shape[:2]
    if th <= 0 or tw <= 0:
        raise ValueError(f"expected a positive target size, got {(th, tw)}")
    h, w = image.shape[:2]
    geom = _geometry_ultralytics if convention == "ultralytics" else _geometry_vendor
    scale, nw, nh, pad_x, pad_y, left, top = geom(h, w, th, tw)
    nw, nh = max(0, min(nw, tw - left)), max(0, min(nh, th - top))
    _write(image, plane, nw, nh, left, top, int(pad_value), bgr_to_rgb)
    transform = LetterboxTransform(
        src_shape=(h, w), dst_shape=(th, tw), scale=scale, pad_x=pad_x, pad_y=pad_y,
        offset_x=left, offset_y=top, resized_shape=(nh, nw), convention=convention,
    )
    assert out is not None
    return out, transform


def _write(image: np.ndarray, plane: np.ndarray, nw: int, nh: int, left: int, top: int,
           pad: int, swap: bool) -> None:
    import cv2

    region = plane[top:top + nh, left:left + nw]
    if nw and nh:
        if (nh, nw) == image.shape[:2]:
            region[...] = image
        else:
            got = cv2.resize(image, (nw, nh), dst=region, interpolation=cv2.INTER_LINEAR)
            if not np.shares_memory(got, plane):  # OpenCV could not write in place
                region[...] = got.reshape(region.shape)
        if swap:
            got = cv2.cvtColor(region, cv2.COLOR_BGR2RGB, dst=region)
            if not np.shares_memory(got, plane):
                region[...] = got
    plane[:top] = pad
    plane[top + nh:] = pad
    plane[top:top + nh, :left] = pad
    plane[top:top + nh, left + nw:] = pad
