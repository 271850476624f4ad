"""Semantic segmentation: class argmax, resampling to the image, overlays.

Tie rule: the lowest class index wins among equal scores. int8 scores are compared raw
(exact when one positive scale applies to the whole tensor, i.e. per-tensor quantisation);
fp16 compares like the float values. Class maps are uint8 for up to 256 classes, uint16
beyond.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .. import _core
from ..results import LetterboxTransform
from .._checks import MAX_CLASSES, check_choice, check_int, check_number
from ._common import check_contiguous, map_affine, planes

__all__ = ["argmax_classes", "segment", "resample_class_map", "overlay", "default_palette"]


def argmax_classes(
    scores: np.ndarray, layout: str = "NCHW", *, classes: Optional[int] = None, width: Optional[int] = None
) -> np.ndarray:
    """Per-pixel argmax over classes, read in place.

    ``scores``: int8, float16 or float32 in ``layout`` "NCHW" ((1,)C,H,W), "NHWC" ((1,)H,W,C)
    or "NC1HWC2" (1,C1,H,W',C2) — the native layout, ``classes``/``width`` give the logical
    C and W when the buffer is padded. Returns the (H, W) class map in map pixels.
    """
    arr, d = planes(scores, layout, classes, width)
    return _core.seg_argmax(arr, *d)


def resample_class_map(
    class_map: np.ndarray,
    transform: Optional[LetterboxTransform] = None,
    image_shape: Optional[Tuple[int, int]] = None,
) -> np.ndarray:
    """Nearest-neighbour resampling of a (H, W) class map to the image.

    The map covers the model input ``transform.dst_shape`` (any resolution, e.g. 65x65 for a
    513 input); each image pixel centre is mapped to model coordinates
    ``x * scale + pad_x`` and takes the map pixel containing it. Without a transform, the
    map is stretched over ``image_shape`` (plain resize).
    """
    if not isinstance(class_map, np.ndarray) or class_map.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"class_map: expected a uint8 or uint16 array, got {getattr(class_map, 'dtype', type(class_map))}")
    if class_map.ndim != 2:
        raise ValueError(f"class_map: expected (H, W), got shape {class_map.shape}")
    check_contiguous("class_map", class_map)
    a, (oh, ow) = map_affine(class_map.shape, transform, image_shape)
    return _core.seg_resample_nearest(class_map, *a, oh, ow)


def segment(
    scores: np.ndarray,
    layout: str = "NCHW",
    *,
    transform: Optional[LetterboxTransform] = None,
    image_shape: Optional[Tuple[int, int]] = None,
    mode: str = "nearest",
    classes: Optional[int] = None,
    width: Optional[int] = None,
) -> np.ndarray:
    """Class map for a segmentation output, optionally in image pixels.

    * no ``transform``/``image_shape``: the argmax at map resolution.
    * ``mode="nearest"``: argmax at map resolution, then nearest resampling to the image
      (fast; blocky when the map is coarse).
    * ``mode="bilinear"``: scores bilinearly resampled to every image pixel
      (align_corners=False, edges replicated), then argmax — smoother edges, like the
      DeepLabV3 demo (which upsamples logits before the argmax).
    """
    if transform is None and image_shape is None:
        return argmax_classes(scores, layout, classes=classes, width=width)
    if mode == "nearest":
        return resample_class_map(argmax_classes(scores, layout, classes=classes, width=width), transform, image_shape)
    check_choice("mode", mode, ("nearest", "bilinear"))
    arr, d = planes(scores, layout, classes, width)
    a, (oh, ow) = map_affine((d[1], d[2]), transform, image_shape)
    return _core.seg_resample_argmax(arr, *d, *a, oh, ow)


def default_palette(n: int = 256) -> np.ndarray:
    """(n, 3) uint8 colours: class 0 black, the others the PASCAL VOC bit-interleaved palette.
    ``n``: 0..65536 (class maps are at most uint16)."""
    n = check_int("n", n, 0, MAX_CLASSES)  # 2**31 tried to allocate and loop for minutes
    pal = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal[i] = (r, g, b)
    return pal


def overlay(
    image: np.ndarray, class_map: np.ndarray, palette: Optional[np.ndarray] = None, alpha: float = 0.5
) -> np.ndarray:
    """Blends ``palette[class_map]`` over ``image`` (H, W, 3) uint8: ``(1-alpha)*image + alpha*colour``.

    Pixels of class 0 (background) are left unchanged. ``palette``: (K, 3) uint8 with K above the
    largest class id (default: :func:`default_palette`). Returns a new uint8 image.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise TypeError(f"image: expected (H, W, 3) uint8, got {getattr(image, 'dtype', type(image))} {getattr(image, 'shape', '')}")
    if not isinstance(class_map, np.ndarray) or class_map.dtype.kind not in "iu":
        raise TypeError(f"class_map: expected an integer array (uint8/uint16 from segment), "
                        f"got {getattr(class_map, 'dtype', type(class_map).__name__)}")
    if class_map.shape != image.shape[:2]:
        raise ValueError(f"class_map: expected shape {image.shape[:2]}, got {class_map.shape}")
    if class_map.size and int(class_map.min()) < 0:  # would index the palette from its end
        raise ValueError(f"class_map: expected class ids >= 0, got {int(class_map.min())}")
    alpha = check_number("alpha", alpha, 0.0, 1.0)
    if palette is None:
        palette = default_palette(max(256, int(class_map.max(initial=0)) + 1))
    pal = np.asarray(palette)
    # A cast to uint8 would wrap 300 to 44 and turn NaN into anything: refuse instead.
    if pal.dtype.kind not in "iuf" or (pal.size and not (np.isfinite(pal).all() and pal.min() >= 0 and pal.max() <= 255)):
        raise ValueError(f"palette: expected colour values in [0, 255], got {pal.dtype} array")
    palette = pal.astype(np.uint8, copy=False)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f"palette: expected (K, 3) uint8, got shape {palette.shape}")
    top = int(class_map.max(initial=0))
    if top >= palette.shape[0]:
        raise ValueError(f"palette: expected more than {top} colours, got {palette.shape[0]}")
    colours = palette[class_map]
    blended = image.astype(np.float32) * (1.0 - alpha) + colours.astype(np.float32) * alpha
    out = image.copy()
    fg = class_map != 0
    out[fg] = np.clip(np.rint(blended[fg]), 0, 255).astype(np.uint8)
    return out
