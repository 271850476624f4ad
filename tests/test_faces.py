"""RetinaFace and BlazeFace decoders vs numpy references."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import reference as ref
from rknn_fast import LetterboxTransform
from rknn_fast.postprocess import blazeface_anchors, decode_blazeface, decode_retinaface, retinaface_priors


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
    det = decode_blazeface(reg, scores, iou=1.0)
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
