"""DBNet text detection post-processing vs an independent numpy/cv2 reference."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

import reference as ref
from rknn_fast import LetterboxTransform, TextBoxes
from rknn_fast.postprocess import decode_dbnet, unclip_convex


def synthetic_map(h=160, w=320):
    prob = np.zeros((h, w), np.float32)
    rects = [((60, 40), (80, 16), 0.0), ((200, 60), (120, 20), 15.0), ((150, 120), (60, 12), -30.0),
             ((290, 140), (10, 6), 0.0)]  # the last one is too small after scoring? (kept: 6 >= 3)
    for r in rects:
        pts = cv2.boxPoints(r).astype(np.int32)
        cv2.fillPoly(prob, [pts], 0.9)
    prob[5:7, 5:7] = 0.9  # 2x2 blob: short side < min_size -> dropped
    cv2.fillPoly(prob, [cv2.boxPoints(((40, 130), (40, 14), 0)).astype(np.int32)], 0.45)  # score < 0.5
    return prob


def canonical(quads):
    return np.array([q[np.lexsort((q[:, 1], q[:, 0]))] for q in np.asarray(quads, np.float64).reshape(-1, 4, 2)])


def check_against_reference(prob, res, **kw):
    expect = ref.ref_dbnet(prob, **kw)
    assert len(res) == len(expect)
    h, w = prob.shape
    quads = canonical([q for q, _ in expect])
    quads[..., 0] = np.clip(quads[..., 0], 0, w)
    quads[..., 1] = np.clip(quads[..., 1], 0, h)
    np.testing.assert_allclose(canonical(res.quads), quads, atol=0.05)
    np.testing.assert_allclose(res.scores, [s for _, s in expect], atol=1e-4)


def test_synthetic_map_matches_reference():
    prob = synthetic_map()
    res = decode_dbnet(prob[None, None])
    assert isinstance(res, TextBoxes)
    check_against_reference(prob, res)
    assert len(res) == 4
    assert res.quads.shape == (4, 4, 2) and res.xyxy.shape == (4, 4)
    # corners clockwise from top-left: x of TR > x of TL, y of BL > y of TL (image y down)
    q = res.quads[np.argmax([abs(s) for s in res.scores])]
    assert q[1, 0] > q[0, 0] and q[3, 1] > q[0, 1]


def test_real_photo_text_map_matches_reference():
    gray = cv2.imread(str(__import__("pathlib").Path(__file__).parent / "data/images/text.png"), cv2.IMREAD_GRAYSCALE)
    # a pseudo probability map: ink pixels merged into word blobs, then softened
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    blobs = cv2.dilate(ink, np.ones((5, 9), np.uint8))
    prob = cv2.GaussianBlur(blobs.astype(np.float32) / 255.0 * 0.95, (5, 5), 0)
    res = decode_dbnet(prob)
    check_against_reference(prob, res)
    assert len(res) >= 3


def test_unclip_rectangle_grows_by_offset():
    rect = np.array([[0, 0], [10, 0], [10, 4], [0, 4]], np.float32)
    d = 40 * 1.5 / 28
    out = unclip_convex(rect, 1.5)
    np.testing.assert_allclose(out, [[-d, -d], [10 + d, -d], [10 + d, 4 + d], [-d, 4 + d]], atol=1e-5)
    np.testing.assert_allclose(unclip_convex(rect[::-1], 1.5), out[::-1], atol=1e-5)  # orientation-free


def test_image_mapping_and_dtypes():
    prob = synthetic_map()
    base = decode_dbnet(prob)
    stretched = decode_dbnet(prob, image_shape=(320, 960))
    np.testing.assert_allclose(stretched.quads[..., 0], np.clip(base.quads[..., 0] * 3, 0, 960), atol=1e-3)
    np.testing.assert_allclose(stretched.quads[..., 1], np.clip(base.quads[..., 1] * 2, 0, 320), atol=1e-3)
    lb = LetterboxTransform((80, 320), (160, 320), 1.0, 0.0, 40.0)
    boxed = decode_dbnet(prob, transform=lb)
    np.testing.assert_allclose(boxed.quads[..., 1], np.clip(base.quads[..., 1] - 40, 0, 80), atol=1e-3)
    q = ref.quantize(prob, 1 / 255, -128)
    res8 = decode_dbnet(q, qparams=(1 / 255, -128))
    assert len(res8) == len(base)
    res16 = decode_dbnet(prob.astype(np.float16))
    np.testing.assert_allclose(res16.quads, base.quads, atol=0.05)


def test_empty_and_thresholds():
    res = decode_dbnet(np.zeros((1, 1, 32, 32), np.float32))
    assert len(res) == 0 and res.quads.shape == (0, 4, 2) and res.xyxy.shape == (0, 4)
    flat = np.full((32, 32), 0.3, np.float32)  # == thresh: not text (strict >)
    assert len(decode_dbnet(flat)) == 0
    prob = synthetic_map()
    assert len(decode_dbnet(prob, max_candidates=1)) <= 1


def test_bad_inputs():
    with pytest.raises(ValueError):
        decode_dbnet(np.zeros((1, 2, 8, 8), np.float32))
    with pytest.raises(TypeError):
        decode_dbnet(np.zeros((8, 8), np.float64))
    with pytest.raises(ValueError, match="qparams"):
        decode_dbnet(np.zeros((8, 8), np.int8))
    with pytest.raises(ValueError, match="score_mode"):
        decode_dbnet(np.zeros((8, 8), np.float32), score_mode="medium")


def test_threads():
    prob = synthetic_map()
    expect = decode_dbnet(prob)
    with ThreadPoolExecutor(4) as ex:
        for r in ex.map(lambda _: decode_dbnet(prob), range(8)):
            np.testing.assert_array_equal(r.quads, expect.quads)


@pytest.mark.parametrize("kwargs, match", [
    ({"thresh": float("nan")}, "thresh"), ({"box_thresh": float("nan")}, "box_thresh"),
    ({"unclip_ratio": float("inf")}, "unclip_ratio"), ({"min_size": float("nan")}, "min_size"),
    # -1 used to drop the last contour silently (contours[:-1])
    ({"max_candidates": -1}, "max_candidates"),
])
def test_dbnet_rejects_bad_parameters(kwargs, match):
    prob = np.zeros((1, 1, 32, 32), np.float32)
    with pytest.raises(ValueError, match=match):
        decode_dbnet(prob, **kwargs)


def test_dbnet_empty_map_is_a_value_error_not_an_opencv_error():
    with pytest.raises(ValueError, match="prob"):
        decode_dbnet(np.zeros((1, 1, 32, 0), np.float32))
