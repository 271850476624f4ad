"""YOLOv8-pose decode vs the per-cell numpy reference."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import reference as ref
from rknn_fast import LetterboxTransform
from rknn_fast.postprocess import decode_yolov8_pose


def make_heads(rng, size=64, dtype=np.float32, n_person=3):
    heads = []
    for s in (8, 16, 32):
        g = size // s
        x = rng.standard_normal((65, g, g)) * 2
        x[64] = -4.0
        heads.append(x)
    cells = [(0, 1, 2), (0, 5, 5), (1, 2, 1)][:n_person]
    for lv, i, j in cells:
        heads[lv][64, i, j] = 3.0
    kp_n = sum((size // s) ** 2 for s in (8, 16, 32))
    kps = rng.uniform(0, size, (1, 17, 3, kp_n))
    if dtype == np.int8:
        qps = [(0.05, 2), (0.05, -1), (0.06, 0)]
        hq = [ref.quantize(h, sc, zp)[None] for h, (sc, zp) in zip(heads, qps)]
        return hq, qps, kps.astype(np.float16)
    return [h.astype(dtype)[None] for h in heads], None, kps.astype(np.float16)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8])
def test_pose_matches_reference(dtype):
    rng = np.random.default_rng(1)
    heads, qps, kps = make_heads(rng, dtype=dtype)
    det = decode_yolov8_pose(heads, kps, qparams=qps, conf=0.5, iou=0.99)
    boxes, scores, anchor = ref.ref_yolov8_pose(heads, qps or [(1, 0)] * 3, 0.5, (64, 64))
    order = np.argsort(-scores, kind="stable")
    assert len(det) == len(order) == 3
    np.testing.assert_allclose(det.xyxy, boxes[order], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(det.scores, scores[order], rtol=1e-5)
    expect_kp = kps[0][:, :, anchor[order]].astype(np.float32).transpose(2, 0, 1)
    np.testing.assert_array_equal(det.keypoints, expect_kp)
    assert det.keypoints.shape == (3, 17, 3) and det.class_ids.tolist() == [0, 0, 0]


def test_pose_nc1hwc2_equals_nchw():
    rng = np.random.default_rng(2)
    heads, _, kps = make_heads(rng)
    native = [ref.to_nc1hwc2(h, 16) for h in heads]
    a = decode_yolov8_pose(heads, kps)
    b = decode_yolov8_pose(native, kps, layout="NC1HWC2")
    np.testing.assert_array_equal(a.xyxy, b.xyxy)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)


def test_pose_threshold_boundary_and_letterbox():
    rng = np.random.default_rng(3)
    heads, _, kps = make_heads(rng, n_person=1)
    heads[0][0, 64, 1, 2] = 0.0  # sigmoid = 0.5 exactly: kept at conf 0.5 (>=)
    det = decode_yolov8_pose(heads, kps, conf=0.5)
    assert len(det) == 1 and det.scores[0] == pytest.approx(0.5)
    heads[0][0, 64, 1, 2] = np.float32(-1e-6)
    assert len(decode_yolov8_pose(heads, kps, conf=0.5)) == 0
    heads[0][0, 64, 1, 2] = 2.0
    lb = LetterboxTransform((32, 64), (64, 64), 1.0, 0.0, 16.0)
    d0 = decode_yolov8_pose(heads, kps)
    d1 = decode_yolov8_pose(heads, kps, transform=lb)
    np.testing.assert_allclose(d1.keypoints[..., 1], np.clip(d0.keypoints[..., 1] - 16.0, 0, 32), atol=1e-4)
    np.testing.assert_array_equal(d1.keypoints[..., 2], d0.keypoints[..., 2])
    assert (d1.xyxy[:, 1::2] >= 0).all() and (d1.xyxy[:, 1::2] <= 32).all()


def test_pose_nms_and_empty():
    rng = np.random.default_rng(4)
    heads, _, kps = make_heads(rng)
    for h in heads:
        h[0, 64] = -9.0
    det = decode_yolov8_pose(heads, kps)
    assert len(det) == 0 and det.keypoints.shape == (0, 17, 3)
    # two identical boxes at neighbouring cells: NMS keeps one
    h = np.zeros((1, 65, 8, 8), np.float32)
    h[0, 64] = -9
    h[0, 64, 3, 3] = 2.0
    h[0, 64, 3, 4] = 1.0
    for side, sign in enumerate((1, 1, 1, 1)):
        h[0, side * 16 + 8, 3, 3] = 9
        h[0, side * 16 + 8, 3, 4] = 9
    hs = [h, np.full((1, 65, 4, 4), -9, np.float32), np.full((1, 65, 2, 2), -9, np.float32)]
    kp = np.zeros((1, 17, 3, 84), np.float16)
    assert len(decode_yolov8_pose(hs, kp, iou=0.4)) == 1
    assert len(decode_yolov8_pose(hs, kp, iou=0.95)) == 2


def test_pose_bad_inputs():
    rng = np.random.default_rng(5)
    heads, qps, kps = make_heads(rng, dtype=np.int8)
    with pytest.raises(ValueError, match="qparams"):
        decode_yolov8_pose(heads, kps)
    with pytest.raises(ValueError, match="keypoints"):
        decode_yolov8_pose(heads, kps[..., :-1], qparams=qps)
    with pytest.raises(ValueError, match="channels"):
        decode_yolov8_pose([h[:, :60] for h in heads], kps, qparams=qps)
    with pytest.raises(ValueError, match="conf"):
        decode_yolov8_pose(heads, kps, qparams=qps, conf=1.0)
    with pytest.raises(TypeError):
        decode_yolov8_pose([h.astype(np.float64) for h in heads], kps)


def test_pose_threads():
    rng = np.random.default_rng(6)
    heads, _, kps = make_heads(rng)
    expect = decode_yolov8_pose(heads, kps)
    with ThreadPoolExecutor(4) as ex:
        for d in ex.map(lambda _: decode_yolov8_pose(heads, kps), range(8)):
            np.testing.assert_array_equal(d.xyxy, expect.xyxy)


@pytest.mark.parametrize("kwargs, match", [({"iou": float("nan")}, "iou"), ({"reg_max": 0}, "reg_max"),
                                           ({"reg_max": 65}, "reg_max")])
def test_pose_rejects_bad_iou_and_reg_max(kwargs, match):
    heads = [np.zeros((1, 65, g, g), np.float32) for g in (8, 4, 2)]
    kp = np.zeros((1, 17, 3, 84), np.float32)
    with pytest.raises(ValueError, match=match):
        decode_yolov8_pose(heads, kp, **kwargs)
