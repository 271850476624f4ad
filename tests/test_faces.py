"""RetinaFace and BlazeFace decoders vs numpy references."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import reference as ref
from rknn_fast import LetterboxTransform
from rknn_fast.postprocess import (blazeface_anchors, decode_blazeface, decode_retinaface, retinaface_priors,
                                   weighted_nms)
from rknn_fast.postprocess import nms as rknn_fast_nms


@pytest.mark.parametrize("size,count", [(320, 4200), (640, 16800), (300, None)])
def test_retinaface_priors(size, count):
    p = retinaface_priors((size, size))
    expect = ref.ref_retinaface_priors((size, size))
    if count:
        assert p.shape == (count, 4)
    np.testing.assert_allclose(p, expect, rtol=1e-6)


def retina_outputs(rng, p=4200):
    loc = (rng.standard_normal((1, p, 4)) * 0.5).astype(np.float32)
    logits = rng.standard_normal((p, 2)) * 3
    e = np.exp(logits - logits.max(1, keepdims=True))
    conf = (e / e.sum(1, keepdims=True)).astype(np.float32)[None]
    landm = rng.standard_normal((1, p, 10)).astype(np.float32)
    return loc, conf, landm


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_retinaface_matches_reference(dtype):
    rng = np.random.default_rng(1)
    loc, conf, landm = retina_outputs(rng)
    loc, conf, landm = (a.astype(dtype) for a in (loc, conf, landm))
    det = decode_retinaface(loc, conf, landm, conf=0.95, iou=1.0, max_detections=10000)
    boxes, scores, lm, _ = ref.ref_retinaface(loc, conf, landm, (320, 320), 0.95)
    order = np.argsort(-scores, kind="stable")
    assert len(det) == len(order) > 10
    np.testing.assert_allclose(det.xyxy, boxes[order], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(det.keypoints, lm[order], rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(det.scores, scores[order].astype(np.float32))
    assert det.keypoints.shape == (len(det), 5, 2)


def test_retinaface_threshold_strict_nms_and_letterbox():
    p = 4200
    loc = np.zeros((1, p, 4), np.float32)
    landm = np.zeros((1, p, 10), np.float32)
    conf = np.zeros((1, p, 2), np.float32)
    conf[0, :, 0] = 1
    conf[0, 0, 1] = 0.5   # == threshold: dropped (strict >)
    conf[0, 1, 1] = 0.9   # prior 1 and prior 0 overlap heavily (same cell, size 32 vs 16)
    conf[0, 2, 1] = 0.8   # next cell, size 16: overlaps prior 0 but prior 0 is not kept
    det = decode_retinaface(loc, conf, landm, conf=0.5, iou=0.4)
    assert det.scores.tolist() == pytest.approx([0.9, 0.8])
    det = decode_retinaface(loc, conf, landm, conf=0.5, iou=0.2)
    assert det.scores.tolist() == pytest.approx([0.9])  # IoU(16-box inside 32-box) = 0.25 > 0.2
    lb = LetterboxTransform((160, 320), (320, 320), 1.0, 0.0, 80.0)
    d2 = decode_retinaface(loc, conf, landm, transform=lb)
    assert np.allclose(d2.keypoints[0], [4.0, 0.0])  # (4, 4) model -> y 4 - 80, clipped to 0


def test_retinaface_empty_and_bad_inputs():
    p = 4200
    loc = np.zeros((1, p, 4), np.float32)
    conf = np.zeros((1, p, 2), np.float32)
    det = decode_retinaface(loc, conf, np.zeros((1, p, 10), np.float32))
    assert len(det) == 0 and det.keypoints.shape == (0, 5, 2)
    with pytest.raises(ValueError, match="priors"):
        decode_retinaface(loc[:, :100], conf[:, :100], np.zeros((1, 100, 10), np.float32))
    with pytest.raises(ValueError):
        decode_retinaface(loc, conf, np.zeros((1, p, 9), np.float32))
    with pytest.raises(TypeError):
        decode_retinaface(loc.astype(np.float64), conf, np.zeros((1, p, 10), np.float32))
    with pytest.raises(ValueError, match="qparams"):
        decode_retinaface(loc.astype(np.int8), conf, np.zeros((1, p, 10), np.float32))


def test_blazeface_anchors_and_decode():
    a = blazeface_anchors()
    np.testing.assert_allclose(a, ref.ref_blazeface_anchors_front())
    rng = np.random.default_rng(2)
    reg = (rng.standard_normal((1, 896, 16)) * 3).astype(np.float32)
    reg[0, :, 2:4] = np.abs(reg[0, :, 2:4]) + 10
    scores = np.full((1, 896, 1), -5, np.float32)
    scores[0, [10, 600], 0] = [3.0, 2.0]
    scores[0, 11, 0] = np.log(0.75 / 0.25)  # boundary: kept at >= 0.75 (float rounding aside)
    det = decode_blazeface(reg, scores, conf=0.75, iou=1.0)
    assert len(det) in (2, 3)
    i = 10
    cx = reg[0, i, 0] / 128 + a[i, 0]
    cy = reg[0, i, 1] / 128 + a[i, 1]
    w, h = reg[0, i, 2] / 128, reg[0, i, 3] / 128
    np.testing.assert_allclose(det.xyxy[0], np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) * 128, atol=1e-3)
    np.testing.assert_allclose(det.keypoints[0], (reg[0, i, 4:].reshape(6, 2) / 128 + a[i, :2]) * 128, atol=1e-3)
    assert det.keypoints.shape[1:] == (6, 2)
    with pytest.raises(ValueError):
        decode_blazeface(reg[:, :800], scores)


def test_faces_threads():
    rng = np.random.default_rng(3)
    loc, conf, landm = retina_outputs(rng)
    expect = decode_retinaface(loc, conf, landm)
    with ThreadPoolExecutor(4) as ex:
        for d in ex.map(lambda _: decode_retinaface(loc, conf, landm), range(8)):
            np.testing.assert_array_equal(d.xyxy, expect.xyxy)


@pytest.mark.parametrize("kwargs", [{"conf": float("nan")}, {"iou": float("nan")}, {"iou": -1.0}, {"conf": 2.0}])
def test_face_decoders_reject_nan_and_out_of_range_thresholds(kwargs):
    pri = retinaface_priors((64, 64))
    p = pri.shape[0]
    loc, scores, lm = (np.zeros((1, p, w), np.float32) for w in (4, 2, 10))
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        decode_retinaface(loc, scores, lm, model_shape=(64, 64), **kwargs)
    a = blazeface_anchors(128).shape[0]
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        decode_blazeface(np.zeros((1, a, 16), np.float32), np.zeros((1, a, 1), np.float32), **kwargs)


@pytest.mark.parametrize("qp", [None, (float("nan"), 0), (-0.1, 0), (0.1, 300), (0.1, 1.5), "ab"])
def test_int8_outputs_need_valid_qparams(qp):
    # The dense decoders share one check: NaN/negative scales and out-of-range or fractional
    # zero points were used as given (NaN or mirrored coordinates, silent truncation).
    from rknn_fast.postprocess import classify, decode_dbnet
    pri = retinaface_priors((64, 64))
    loc = np.zeros((1, pri.shape[0], 4), np.int8)
    scores, lm = np.zeros((1, pri.shape[0], 2), np.float32), np.zeros((1, pri.shape[0], 10), np.float32)
    with pytest.raises(ValueError, match="qparams"):
        decode_retinaface(loc, scores, lm, model_shape=(64, 64), qparams=[qp, None, None])
    with pytest.raises(ValueError, match="qparams"):
        decode_dbnet(np.zeros((1, 1, 8, 8), np.int8), qparams=qp)
    with pytest.raises(ValueError, match="qparams"):
        classify(np.zeros((1, 4), np.int8), qparams=qp)


# ---------------------------------------------------------------------------- weighted NMS (issue 15)


def clustered_boxes(rng, clusters=6, per=16, jitter=3.0):
    """Groups of heavily overlapping candidates (as BlazeFace gives around one face)."""
    centres = rng.uniform(20, 108, (clusters, 2))
    sizes = rng.uniform(15, 40, (clusters, 1))
    c = np.repeat(centres, per, 0) + rng.normal(0, jitter, (clusters * per, 2))
    sz = np.repeat(sizes, per, 0) * rng.uniform(0.85, 1.15, (clusters * per, 1))
    boxes = np.concatenate([c - sz / 2, c + sz / 2], 1).astype(np.float32)
    scores = rng.uniform(0.5, 1.0, clusters * per).astype(np.float32)
    extra = (np.repeat(c, 6, 1) + rng.normal(0, 2, (clusters * per, 12))).astype(np.float32)
    return boxes, scores, extra


def test_weighted_nms_hand_computed():
    # IoU([0,0,10,10], [2,0,12,10]) = 80 / 120 > 0.3: one group, weights 0.9 / 0.1;
    # the third box is disjoint and stays alone.
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.1, 0.5], np.float32)
    extra = np.array([[1, 2], [11, 12], [5, 5]], np.float32)
    top, b, e = weighted_nms(boxes, scores, 0.3, extra=extra)
    assert top.tolist() == [0, 2]
    np.testing.assert_allclose(b, [[0.2, 0, 10.2, 10], [50, 50, 60, 60]], atol=1e-6)
    np.testing.assert_allclose(e, [[2, 3], [5, 5]], atol=1e-6)
    # IoU 0.667 is not > 0.7: nothing is blended, and the result is plain NMS's.
    top, b, _ = weighted_nms(boxes, scores, 0.7)
    assert top.tolist() == [0, 2, 1] and np.array_equal(b, boxes[[0, 2, 1]])
    top, b, e = weighted_nms(boxes, scores, 0.3, max_detections=1)
    assert top.tolist() == [0] and b.shape == (1, 4) and e.shape == (1, 0)


@pytest.mark.parametrize("iou", [0.0, 0.3, 0.5, 0.8])
def test_weighted_nms_matches_reference(iou):
    rng = np.random.default_rng(int(iou * 10))
    boxes, scores, extra = clustered_boxes(rng)
    top, b, e = weighted_nms(boxes, scores, iou, extra=extra, max_detections=0)
    rtop, rb, re_ = ref.weighted_nms(boxes, scores, iou, extra=extra)
    assert top.tolist() == rtop.tolist()
    assert len(top) < len(boxes) or iou >= 0.8  # groups did form
    np.testing.assert_allclose(b, rb, atol=1e-3)
    np.testing.assert_allclose(e, re_, atol=1e-3)


def test_weighted_nms_thresholds_and_bad_inputs():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, np.nan, 5]], np.float32)
    scores = np.array([0.4, np.nan, 0.9], np.float32)
    top, b, _ = weighted_nms(boxes, scores, 0.3, score_threshold=0.5)
    assert top.size == 0 and b.shape == (0, 4)
    top, b, _ = weighted_nms(boxes, scores, 0.3)  # NaN score and NaN box never take part
    assert top.tolist() == [0] and np.array_equal(b, boxes[:1])
    with pytest.raises(TypeError, match="float32 boxes"):
        weighted_nms(boxes.astype(np.float64), scores, 0.3)
    with pytest.raises(ValueError, match="extra"):
        weighted_nms(boxes, scores, 0.3, extra=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        weighted_nms(boxes, scores, 0.3, extra=np.zeros((3, 8), np.float32)[:, ::2])
    with pytest.raises(ValueError, match="iou_threshold"):
        weighted_nms(boxes, scores, float("nan"))


def blazeface_faces(rng, faces=3, per=12):
    """Raw BlazeFace outputs (float32) where each face is seen by `per` neighbouring anchors
    of the 8x8 layer with slightly different boxes and keypoints; the rest is background."""
    a = ref.ref_blazeface_anchors_front()
    reg = rng.normal(0, 1, (1, 896, 16)).astype(np.float32)
    logits = np.full((1, 896, 1), -8.0, np.float32)
    base = 512 + 6 * rng.choice(64, faces, replace=False)  # first anchor of 8x8 cells
    for b in base:
        ids = [int(b) + k for k in range(6)] + [int(b) + 6 + k for k in range(6) if int(b) + 6 + k < 896]
        ids = ids[:per]
        target = a[b, :2] * 128 + rng.normal(0, 2, 2)
        size = rng.uniform(20, 40)
        for i in ids:
            reg[0, i, :2] = target - a[i, :2] * 128 + rng.normal(0, 1.5, 2)
            reg[0, i, 2:4] = size * rng.uniform(0.9, 1.1, 2)
            reg[0, i, 4:] = np.tile(target - a[i, :2] * 128, 6) + rng.normal(0, 2, 12)
            logits[0, i, 0] = rng.uniform(0.5, 4.0)
    return reg, logits


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blazeface_weighted_default_matches_mediapipe_rule(seed):
    reg, logits = blazeface_faces(np.random.default_rng(seed))
    det = decode_blazeface(reg, logits)  # defaults: conf 0.5, iou 0.3, weighted
    boxes, scores, kps = ref.ref_blazeface(reg, logits, 0.5, 0.3)
    assert len(det) == len(boxes) >= 3
    np.testing.assert_allclose(det.xyxy, boxes, atol=1e-3)
    np.testing.assert_allclose(det.keypoints, kps, atol=1e-3)
    np.testing.assert_allclose(det.scores, scores, rtol=1e-6)
    plain = decode_blazeface(reg, logits, nms="plain")
    pb, ps, pk = ref.ref_blazeface(reg, logits, 0.5, 0.3, method="plain")
    np.testing.assert_allclose(plain.xyxy, pb, atol=1e-3)
    np.testing.assert_allclose(plain.keypoints, pk, atol=1e-3)
    np.testing.assert_array_equal(plain.scores, det.scores)  # same groups, same top scores
    assert np.abs(plain.xyxy - det.xyxy).max() > 0.05  # blending did move the boxes


def test_blazeface_extreme_logits_never_warn():
    """Recorded BlazeFace logits reach -133.5; exp() of that overflowed float32 and warned."""
    reg, logits = blazeface_faces(np.random.default_rng(4), faces=1)
    extreme = [-133.5, 200.0, -1e30, 1e30, -np.inf, np.inf, np.nan, -88.8, 88.8]
    ids = list(range(len(extreme)))
    logits[0, ids, 0] = extreme
    reg[0, ids, 2:4] = 10.0
    q = np.clip(np.round(np.nan_to_num(logits) / 1.5), -128, 127).astype(np.int8)  # -192 .. 190.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det = decode_blazeface(reg, logits, nms="plain", iou=1.0, max_detections=0)
        det16 = decode_blazeface(reg.astype(np.float16), np.clip(logits, -6e4, 6e4).astype(np.float16))
        det8 = decode_blazeface(reg, q, qparams=[None, (1.5, 0)])
    boxes, scores, _ = ref.ref_blazeface(reg, logits, 0.5, 1.0, method="plain", max_detections=0)
    assert len(det) == len(scores) and np.isfinite(det.scores).all()
    np.testing.assert_allclose(det.scores, scores, rtol=1e-6)
    assert np.count_nonzero(det.scores == 1.0) == 4  # +200, +1e30, +inf, +88.8 (clipped at 100)
    assert len(det16) >= 1 and len(det8) >= 1


def test_degenerate_boxes_are_dropped_before_nms():
    reg, logits = blazeface_faces(np.random.default_rng(5), faces=1)
    # Three confident candidates away from the face: zero width, negative height, NaN size.
    for i, (w, h) in zip((0, 2, 4), ((0.0, 20.0), (20.0, -3.0), (np.nan, 20.0))):
        reg[0, i, :4] = [0, 0, w, h]
        logits[0, i, 0] = 9.0
    for method in ("weighted", "plain"):
        det = decode_blazeface(reg, logits, nms=method)
        assert len(det) >= 1
        assert (det.xyxy[:, 2] > det.xyxy[:, 0]).all() and (det.xyxy[:, 3] > det.xyxy[:, 1]).all()
        assert det.scores.max() < 1 / (1 + np.exp(-9.0)) - 1e-6  # none of the three survived
    boxes, _, _ = ref.ref_blazeface(reg, logits, 0.5, 0.3)
    assert len(boxes) == len(decode_blazeface(reg, logits))
    # NMS itself would have kept the zero-width box (it overlaps nothing): the drop is the decoder's.
    zero_width = np.array([[8, 8, 8, 28], [0, 0, 10, 10]], np.float32)
    assert rknn_fast_nms(zero_width, np.array([0.9, 0.8], np.float32), 0.3).tolist() == [0, 1]
    # RetinaFace: a size that underflows to 0 is dropped too.
    pri = retinaface_priors((64, 64))
    p = pri.shape[0]
    loc = np.zeros((1, p, 4), np.float32)
    conf = np.zeros((1, p, 2), np.float32)
    conf[0, :2, 1] = 0.9
    loc[0, 0, 2] = -1e4  # w = prior_w * exp(-2000) = 0
    det = decode_retinaface(loc, conf, np.zeros((1, p, 10), np.float32), model_shape=(64, 64), iou=1.0)
    assert len(det) == 1 and det.xyxy[0, 2] > det.xyxy[0, 0]
    for method in ("weighted", "plain"):
        assert len(decode_retinaface(loc, conf, np.zeros((1, p, 10), np.float32), model_shape=(64, 64), iou=1.0,
                                     nms=method)) == 1


def test_blazeface_default_conf_is_mediapipes():
    reg, logits = blazeface_faces(np.random.default_rng(6), faces=1, per=1)
    i = int(np.argmax(logits[0, :, 0]))
    logits[0, i, 0] = np.log(0.6 / 0.4)  # probability 0.6: found at 0.5, not at 0.75
    assert len(decode_blazeface(reg, logits)) == 1
    assert len(decode_blazeface(reg, logits, conf=0.75)) == 0
    logits[0, i, 0] = np.float32(np.log(0.5 / 0.5))  # exactly 0.5: kept (>=)
    assert len(decode_blazeface(reg, logits)) == 1


@pytest.mark.parametrize("bad", ["soft", "", None, 1])
def test_nms_method_is_checked(bad):
    reg, logits = blazeface_faces(np.random.default_rng(7), faces=1)
    with pytest.raises(ValueError, match="nms"):
        decode_blazeface(reg, logits, nms=bad)
    pri = retinaface_priors((64, 64))
    p = pri.shape[0]
    with pytest.raises(ValueError, match="nms"):
        decode_retinaface(*(np.zeros((1, p, w), np.float32) for w in (4, 2, 10)), model_shape=(64, 64), nms=bad)
