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


# --- the C++ kernels behind decode_dbnet (cpp/kernels/text.*) against OpenCV -----------------

from rknn_fast import _core  # noqa: E402


def random_polygons(rng, count):
    """Integer polygons of every kind the scorer meets: rotated rectangles (as cv2.boxPoints
    truncated), random quads, degenerate ones (points, segments, repeated vertices) and
    polygons partly or wholly outside the image."""
    for i in range(count):
        kind = i % 6
        if kind == 0:
            c = rng.uniform(-10, 60, 2)
            size = rng.uniform(0, 40, 2)
            poly = cv2.boxPoints((tuple(c), tuple(size), float(rng.uniform(-90, 90)))).astype(np.int32)
        elif kind == 1:
            poly = rng.integers(-15, 65, (4, 2))
        elif kind == 2:
            poly = rng.integers(0, 6, (int(rng.integers(1, 5)), 2))  # tiny, often degenerate
        elif kind == 3:
            p = rng.integers(-5, 55, (1, 2))
            poly = np.repeat(p, 4, axis=0) + rng.integers(0, 2, (4, 2)) * rng.integers(0, 2)
        elif kind == 4:
            poly = rng.integers(-400, 400, (int(rng.integers(3, 9)), 2))  # far outside, long edges
        else:
            poly = rng.integers(-8, 58, (int(rng.integers(3, 12)), 2))  # non-convex, self-crossing
        yield np.ascontiguousarray(poly, np.int32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_polygon_fill_matches_cv2_fillpoly_pixel_for_pixel(seed):
    rng = np.random.default_rng(seed)
    for poly in random_polygons(rng, 3000):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        expect = np.zeros((h, w), np.uint8)
        cv2.fillPoly(expect, [poly.reshape(-1, 1, 2)], 1)
        got = _core.polygon_mask(poly, h, w)
        if not np.array_equal(got, expect):
            pytest.fail(f"fill differs for {poly.tolist()} in {h}x{w}: {np.argwhere(got != expect).tolist()[:5]}")


def ordered(quad):
    from rknn_fast.postprocess.text import order_quad
    return order_quad(np.asarray(quad, np.float32)).astype(np.float64)


def test_min_area_rect_matches_cv2_on_random_point_sets():
    rng = np.random.default_rng(3)
    for i in range(3000):
        n = int(rng.integers(1, 40))
        pts = rng.integers(0, 60, (n, 2)).astype(np.float64) if i % 2 else rng.uniform(-30, 90, (n, 2))
        quad, short = _core.min_area_quad(np.ascontiguousarray(pts))
        (_, _), (rw, rh), _ = cv2.minAreaRect(pts.astype(np.float32).reshape(-1, 1, 2))
        side1 = np.linalg.norm(quad[1] - quad[0])
        side2 = np.linalg.norm(quad[3] - quad[0])
        # equal areas only: random sets have ties (rectangles of one area, different sides)
        assert side1 * side2 == pytest.approx(rw * rh, rel=1e-3, abs=1e-3), pts.tolist()
        assert short == pytest.approx(min(side1, side2), abs=1e-4)
        # every point inside the rectangle (up to rounding)
        rel = pts - quad[0]
        if side1 > 1e-6:
            u = (quad[1] - quad[0]) / side1
            assert (rel @ u >= -1e-3).all() and (rel @ u <= side1 + 1e-3).all()
        if side2 > 1e-6:
            v = (quad[3] - quad[0]) / side2
            assert (rel @ v >= -1e-3).all() and (rel @ v <= side2 + 1e-3).all()


def test_min_area_rect_boxes_match_cv2_on_blob_contours():
    """Contours as decode_dbnet meets them (rotated bars, ellipses): same box within 1 px."""
    rng = np.random.default_rng(4)
    checked = 0
    for i in range(400):
        img = np.zeros((120, 160), np.uint8)
        c = (float(rng.uniform(30, 130)), float(rng.uniform(30, 90)))
        size = (float(rng.uniform(4, 90)), float(rng.uniform(3, 30)))
        ang = float(rng.uniform(-90, 90))
        if i % 2:
            cv2.fillPoly(img, [cv2.boxPoints((c, size, ang)).astype(np.int32)], 255)
        else:
            cv2.ellipse(img, (c, size, ang), 255, -1)
        for cnt in cv2.findContours(img, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)[-2]:
            pts = np.ascontiguousarray(cnt.reshape(-1, 2), np.float64)
            quad, short = _core.min_area_quad(pts)
            rect = cv2.minAreaRect(cnt.astype(np.float32))
            expect = ordered(cv2.boxPoints(rect))
            assert short == pytest.approx(min(rect[1]), rel=1e-3, abs=1e-3)
            w, h = rect[1]
            if min(w, h) > 0 and abs(w - h) > 1:  # a square's rectangle may start at any corner
                np.testing.assert_allclose(quad, expect, atol=1.0, err_msg=str(pts.tolist()))
                checked += 1
    assert checked > 300


@pytest.mark.parametrize("dilate", [False, True])
def test_bitmap_matches_threshold_and_cv2_dilate(dilate):
    rng = np.random.default_rng(5)
    prob = rng.uniform(0, 0.6, (37, 53)).astype(np.float32)
    prob[rng.random(prob.shape) < 0.05] = np.float32(0.3)  # == thresh: not set (strict >)

    def expect(p):
        b = (p > 0.3).astype(np.uint8)
        if dilate:
            b = cv2.dilate(b, np.ones((2, 2), np.uint8))
        return b * 255

    np.testing.assert_array_equal(_core.dbnet_bitmap(prob, 1.0, 0, 0.3, dilate), expect(prob))
    half = prob.astype(np.float16)
    np.testing.assert_array_equal(_core.dbnet_bitmap(half, 1.0, 0, 0.3, dilate), expect(half.astype(np.float32)))
    q = ref.quantize(prob, 1 / 255, -128)
    np.testing.assert_array_equal(_core.dbnet_bitmap(q, 1 / 255, -128, 0.3, dilate),
                                  expect(ref.dequantize(q, 1 / 255, -128).astype(np.float32)))
    # a strided view (one lane of an NC1HWC2-like buffer) is read in place
    wide = np.zeros((37, 53, 4), np.float32)
    wide[..., 2] = prob
    np.testing.assert_array_equal(_core.dbnet_bitmap(wide[..., 2], 1.0, 0, 0.3, dilate), expect(prob))


def test_slow_score_is_the_mean_inside_the_contour():
    prob = synthetic_map()
    res = decode_dbnet(prob, score_mode="slow")
    fast = decode_dbnet(prob)
    assert len(res) == len(fast)
    bitmap = cv2.dilate((prob > 0.3).astype(np.uint8), np.ones((2, 2), np.uint8))
    expect = []
    for cnt in cv2.findContours(bitmap * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)[-2]:
        (_, _), (w, h), _ = cv2.minAreaRect(cnt.astype(np.float32))
        if min(w, h) < 3:
            continue
        mask = np.zeros(prob.shape, np.uint8)
        cv2.fillPoly(mask, [cnt], 1)
        score = cv2.mean(prob, mask)[0]
        if score >= 0.5:
            expect.append(score)
    np.testing.assert_allclose(np.sort(res.scores), np.sort(expect), atol=1e-5)


def test_strided_int8_map_matches_contiguous():
    prob = synthetic_map()
    q = ref.quantize(prob, 1 / 255, -128)
    lanes = np.zeros(q.shape + (3,), np.int8)
    lanes[..., 1] = q
    a = decode_dbnet(lanes[..., 1], qparams=(1 / 255, -128))
    b = decode_dbnet(np.ascontiguousarray(q), qparams=(1 / 255, -128))
    np.testing.assert_array_equal(a.quads, b.quads)
    np.testing.assert_array_equal(a.scores, b.scores)
    flipped = decode_dbnet(prob[::-1])  # negative strides: copied, same boxes mirrored
    assert len(flipped) == len(decode_dbnet(prob))


def test_kernel_rejects_bad_contours():
    prob = np.zeros((8, 8), np.float32)
    with pytest.raises(TypeError, match="contours\\[0\\]"):
        _core.dbnet_boxes(prob, 1.0, 0, [np.zeros((3, 1, 2), np.int64)], 10, 0.5, 1.6, 3.0, False,
                          1.0, 0.0, 1.0, 0.0, 8.0, 8.0)
    with pytest.raises(ValueError, match="contours\\[1\\]"):
        _core.dbnet_boxes(prob, 1.0, 0, [np.zeros((3, 1, 2), np.int32), np.zeros((3, 3), np.int32)], 10,
                          0.5, 1.6, 3.0, False, 1.0, 0.0, 1.0, 0.0, 8.0, 8.0)
