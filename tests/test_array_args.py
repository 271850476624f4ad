"""Dtype checks of the bindings (cpp/bindings/array_args.h): dtypes compare by value.

numpy hands out equal but distinct dtype objects for float32 (``np.dtype('<f4')``,
``np.frombuffer(..., '<f4')``, ``.newbyteorder('=')`` as rknn_fast.golden does); every one
must be accepted like the canonical float32, while a big-endian array must be refused
(TypeError), never read with the wrong byte order or silently converted.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
import rknn_fast
from rknn_fast import _core, convert
from rknn_fast.postprocess import argmax_classes, decode_yolov8_flat

F4_VARIANTS = {
    "dtype('<f4')": lambda a: a.astype(np.dtype("<f4")),
    "frombuffer '<f4'": lambda a: np.frombuffer(a.astype(np.float32).tobytes(), dtype="<f4").reshape(a.shape),
    "newbyteorder('=')": lambda a: a.astype(np.dtype("<f4").newbyteorder("=")),
}


def big_endian(a: np.ndarray) -> np.ndarray:
    return a.astype(a.dtype.newbyteorder(">"))


def boxes_scores(n: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 30, (n, 2))], 1).astype(np.float32)
    return boxes, rng.uniform(0, 1, n).astype(np.float32)


def test_variants_are_float32_but_not_all_the_canonical_object():
    made = [f(np.zeros(3, np.float32)).dtype for f in F4_VARIANTS.values()]
    assert all(d == np.float32 for d in made)
    assert any(d is not np.dtype(np.float32) for d in made)  # the case the identity check missed


@pytest.mark.parametrize("variant", sorted(F4_VARIANTS))
def test_nms_accepts_equal_float32_dtypes(variant):
    boxes, scores = boxes_scores()
    f = F4_VARIANTS[variant]
    expect = ref.nms(boxes, scores, 0.5)
    np.testing.assert_array_equal(rknn_fast.nms(f(boxes), f(scores), 0.5), expect)
    got = _core.nms(f(boxes), f(scores), None, 0.5, -np.inf, 0, 0, False)
    np.testing.assert_array_equal(got, expect)


def test_nms_refuses_big_endian():
    boxes, scores = boxes_scores()
    with pytest.raises(TypeError, match=">f4"):
        rknn_fast.nms(big_endian(boxes), scores, 0.5)
    with pytest.raises(TypeError, match="boxes: expected an array in native byte order, got dtype >f4"):
        _core.nms(big_endian(boxes), scores, None, 0.5, 0.0, 0, 0, False)
    with pytest.raises(TypeError, match="scores: expected an array in native byte order"):
        _core.nms(boxes, big_endian(scores), None, 0.5, 0.0, 0, 0, False)
    with pytest.raises(TypeError, match="class_ids: expected an array in native byte order, got dtype >i4"):
        _core.nms(boxes, scores, big_endian(np.zeros(len(scores), np.int32)), 0.5, 0.0, 0, 0, False)


def flat_output(n: int = 64, classes: int = 3, seed: int = 1) -> np.ndarray:
    """A (1, 4 + classes, N) yolov8-flat output: cxcywh boxes then class probabilities."""
    rng = np.random.default_rng(seed)
    out = np.empty((1, 4 + classes, n), np.float32)
    out[0, :2] = rng.uniform(50, 200, (2, n))
    out[0, 2:4] = rng.uniform(10, 40, (2, n))
    out[0, 4:] = rng.uniform(0, 1, (classes, n))
    return out


@pytest.mark.parametrize("variant", sorted(F4_VARIANTS))
def test_detection_decoder_accepts_equal_float32_dtypes(variant):
    out = flat_output()
    expect = decode_yolov8_flat(out, conf=0.5)
    got = decode_yolov8_flat(F4_VARIANTS[variant](out), conf=0.5)
    assert len(expect) > 0
    np.testing.assert_array_equal(got.xyxy, expect.xyxy)
    np.testing.assert_array_equal(got.scores, expect.scores)
    np.testing.assert_array_equal(got.class_ids, expect.class_ids)


def test_detection_decoder_refuses_big_endian():
    out = flat_output()
    with pytest.raises(TypeError, match=">f4"):
        decode_yolov8_flat(big_endian(out), conf=0.5)
    view = (big_endian(out), (7, 1, 64, 1, 64, 64, 1), 1.0, 0)
    with pytest.raises(TypeError, match="native byte order, got dtype >f4"):
        _core.decode_flat(view, 0.5, False, 0.5, 100, False, 0, False, True)


@pytest.mark.parametrize("variant", sorted(F4_VARIANTS))
def test_segmentation_accepts_equal_float32_dtypes(variant):
    scores = np.random.default_rng(2).normal(size=(1, 5, 8, 9)).astype(np.float32)
    got = argmax_classes(F4_VARIANTS[variant](scores))
    np.testing.assert_array_equal(got, scores[0].argmax(0))
    got = _core.seg_argmax(F4_VARIANTS[variant](scores), 5, 8, 9, 1, 72, 9, 1)
    np.testing.assert_array_equal(got, scores[0].argmax(0))


@pytest.mark.parametrize("dtype", [">f4", ">f2"])
def test_segmentation_refuses_big_endian(dtype):
    scores = np.random.default_rng(3).normal(size=(1, 5, 8, 9)).astype(dtype)
    with pytest.raises(TypeError, match=dtype):
        argmax_classes(scores)
    with pytest.raises(TypeError, match=f"scores: expected an array in native byte order, got dtype {dtype}"):
        _core.seg_argmax(scores, 5, 8, 9, 1, 72, 9, 1)
    cmap = np.zeros((4, 4), ">u2")
    with pytest.raises(TypeError, match="class_map: expected an array in native byte order, got dtype >u2"):
        _core.seg_resample_nearest(cmap, 1.0, 0.0, 1.0, 0.0, 4, 4)


def test_conversions_refuse_big_endian():
    half = np.arange(12, dtype=np.float16)
    with pytest.raises(TypeError, match=">f2"):
        convert.fp16_to_fp32(big_endian(half))
    with pytest.raises(TypeError, match="float16 .* float32"):
        _core._fp16_to_fp32(big_endian(half), np.empty(12, np.float32))
    with pytest.raises(TypeError, match="float16 .* float32"):
        _core._fp16_to_fp32(half, np.empty(12, ">f4"))
    with pytest.raises(TypeError, match="int8/uint8 source and float32"):
        _core._dequantize(np.zeros(12, np.int8), np.empty(12, ">f4"), 1.0, 0)
    # an equal float32 destination object is accepted and filled
    dst = np.empty(12, np.dtype("<f4").newbyteorder("="))
    _core._fp16_to_fp32(half, dst)
    np.testing.assert_array_equal(dst, half.astype(np.float32))


def test_view_bounds_cover_every_channel_block():
    # c2 = 4 with stride_c1 = 0: channels 0..3 sit at offsets 0..3, channel 4 back at 0. The
    # furthest element is channel 3, not the last channel, so a 1-element array must be refused.
    one = np.zeros(1, np.float32)
    with pytest.raises(ValueError, match="layout addresses element 3 but the array has 1 elements"):
        _core.decode_flat((one, (5, 1, 1, 4, 0, 0, 0), 1.0, 0), 0.5, False, 0.5, 100, False, 0, False, True)
    with pytest.raises(ValueError, match="layout addresses element 3 but the array has 1 elements"):
        _core.seg_argmax(one, 5, 1, 1, 4, 0, 0, 0)
    # the same layout over 4 elements is in bounds: classes 0..3 read offsets 0..3, class 4 offset 0
    four = np.array([0.1, 0.9, 0.3, 0.2], np.float32)
    assert _core.seg_argmax(four, 5, 1, 1, 4, 0, 0, 0).tolist() == [[1]]


def test_instance_masks_refuses_strided_or_big_endian_int32_and_float32_args():
    n, k = 2, 4
    proto = np.zeros((k, 8, 8), np.int8)
    coeffs = np.zeros((n, k), np.int8)
    boxes = np.array([[0, 0, 16, 16], [8, 8, 32, 32]], np.float32)
    zps = np.zeros(n, np.int32)
    args = dict(model_h=32, model_w=32, scale=1.0, pad_x=0.0, pad_y=0.0, out_h=32, out_w=32)

    def call(zp=zps, bx=boxes, cls=None):
        return _core.instance_masks(proto, 0, coeffs, zp, bx, args["model_h"], args["model_w"], args["scale"],
                                    args["pad_x"], args["pad_y"], args["out_h"], args["out_w"], cls, False)

    masks, _ = call()
    assert masks.shape == (n, 32, 32) and not masks.any()  # all-zero logits: sigmoid 0.5 is not > 0.5
    strided = np.zeros(2 * n, np.int32)[::2]  # right shape and dtype, but every other element
    with pytest.raises(ValueError, match="coefficient_zero_points: expected a C-contiguous array"):
        call(zp=strided)
    with pytest.raises(ValueError, match="class_ids: expected a C-contiguous array"):
        call(cls=strided)
    with pytest.raises(TypeError, match="coefficient_zero_points: expected an array in native byte order"):
        call(zp=big_endian(zps))
    with pytest.raises(TypeError, match="boxes: expected an array in native byte order, got dtype >f4"):
        call(bx=big_endian(boxes))
    masks_eq, _ = call(bx=F4_VARIANTS["newbyteorder('=')"](boxes))
    np.testing.assert_array_equal(masks_eq, masks)


def test_retinaface_refuses_big_endian():
    priors = _core.retinaface_priors(32, 32)
    p = len(priors)
    loc, conf, lm = np.zeros((p, 4), np.float32), np.zeros((p, 2), np.float32), np.zeros((p, 10), np.float32)
    _core.decode_retinaface(loc, conf, lm, priors, 32, 32, 0.5)
    with pytest.raises(TypeError, match="conf: expected an array in native byte order, got dtype >f4"):
        _core.decode_retinaface(loc, big_endian(conf), lm, priors, 32, 32, 0.5)
