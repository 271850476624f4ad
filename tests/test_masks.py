"""Instance masks (YOLOv8-seg / YOLOv5-seg) vs the full-proto numpy reference."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import reference as ref
from rknn_fast import LetterboxTransform
from rknn_fast.postprocess import decode_yolov5_seg, decode_yolov8_seg, gather_coefficients, instance_masks


def assert_masks_match(got, expect, logits, eps=1e-3):
    """Equal except where the reference logit is within eps of 0 (float rounding)."""
    assert got.shape == expect.shape and got.dtype == np.bool_
    diff = got != expect
    scale = np.abs(logits[np.isfinite(logits)]).max(initial=1.0)
    assert not (diff & (np.abs(logits) > eps * scale)).any(), int(diff.sum())


def random_case(rng, n, proto_dtype=np.int8, coeff_dtype=np.float32, hp=40, model=160):
    proto = rng.integers(-128, 128, (32, hp, hp)).astype(np.int8) if proto_dtype == np.int8 else rng.standard_normal((32, hp, hp)).astype(np.float32)
    coeffs = rng.integers(-128, 128, (n, 32)).astype(np.int8) if coeff_dtype == np.int8 else rng.standard_normal((n, 32)).astype(np.float32)
    xy = rng.uniform(-10, model - 20, (n, 2))
    wh = rng.uniform(1, model / 2, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    return proto, coeffs, boxes


@pytest.mark.parametrize("proto_dtype", [np.int8, np.float32])
@pytest.mark.parametrize("coeff_dtype", [np.int8, np.float32])
@pytest.mark.parametrize("n", [0, 1, 7])
def test_masks_match_reference_model_space(proto_dtype, coeff_dtype, n):
    rng = np.random.default_rng(n + 10 * (proto_dtype == np.int8) + 100 * (coeff_dtype == np.int8))
    proto, coeffs, boxes = random_case(rng, n, proto_dtype, coeff_dtype)
    zp, czp = 5, rng.integers(-20, 20, n).astype(np.int32)
    got = instance_masks(proto, coeffs, boxes, model_shape=(160, 160), proto_zero_point=zp,
                         coefficient_zero_points=czp if coeff_dtype == np.int8 else None)
    expect, logits = ref.ref_instance_masks(proto, zp, coeffs, czp, boxes, (160, 160), 1.0, 0.0, 0.0, (160, 160))
    assert got.shape == (n, 160, 160)
    assert_masks_match(got, expect, logits)


def test_masks_with_letterbox_and_class_map():
    rng = np.random.default_rng(7)
    proto, coeffs, boxes = random_case(rng, 6, np.int8, np.int8, hp=160, model=640)
    czp = np.full(6, -3, np.int32)
    lb = LetterboxTransform((360, 500), (640, 640), 1.28, 0.0, 89.6)
    cls = np.array([0, 3, 3, 7, 1, 2], np.int32)
    masks, cmap = instance_masks(proto[None], coeffs, boxes, transform=lb, proto_zero_point=-2,
                                 coefficient_zero_points=czp, class_ids=cls, class_map=True)
    expect, logits = ref.ref_instance_masks(proto, -2, coeffs, czp, boxes, (640, 640), 1.28, 0.0, 89.6, (360, 500))
    assert masks.shape == (6, 360, 500)
    assert_masks_match(masks, expect, logits)
    np.testing.assert_array_equal(cmap, ref.ref_merged_class_map(masks, cls))


def test_int8_int8_path_is_exact_integer_sign():
    # logits exactly 0 at proto cells must be background (binarised at logit > 0).
    proto = np.zeros((32, 4, 4), np.int8)
    proto[0] = 1
    coeffs = np.zeros((2, 32), np.int8)
    coeffs[0, 0] = 1   # logit = (1 - 0) * (1 - 1) = 0 everywhere -> empty
    coeffs[1, 0] = 2   # logit = (2 - 0) * (1 - 0) > 0 with proto zp 0 -> full
    boxes = np.array([[0, 0, 16, 16], [0, 0, 16, 16]], np.float32)
    m = instance_masks(proto, coeffs, boxes, model_shape=(16, 16), proto_zero_point=1,
                       coefficient_zero_points=np.array([0, 1], np.int32))
    assert m[0].sum() == 0 and m[1].all()


def test_crop_boundaries_pixel_index_convention():
    proto = np.ones((32, 8, 8), np.float32)
    coeffs = np.ones((1, 32), np.float32)
    boxes = np.array([[2.0, 3.0, 5.0, 4.5]], np.float32)  # x in [2, 5), y in [3, 4.5)
    m = instance_masks(proto, coeffs, boxes, model_shape=(8, 8))[0]
    ys, xs = np.nonzero(m)
    assert set(xs.tolist()) == {2, 3, 4} and set(ys.tolist()) == {3, 4}
    # boxes fully outside or degenerate give empty masks
    boxes = np.array([[-9, -9, -1, -1], [3, 3, 3, 6], [np.nan, 0, 4, 4]], np.float32)
    m = instance_masks(proto, np.ones((3, 32), np.float32), boxes, model_shape=(8, 8))
    assert m.sum() == 0


def test_bad_inputs():
    proto = np.zeros((32, 4, 4), np.int8)
    with pytest.raises(TypeError):
        instance_masks(proto.astype(np.int16), np.zeros((1, 32), np.float32), np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="coefficients"):
        instance_masks(proto, np.zeros((1, 31), np.float32), np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="boxes"):
        instance_masks(proto, np.zeros((1, 32), np.float32), np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="zero_points"):
        instance_masks(proto, np.zeros((1, 32), np.int8), np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="class_ids"):
        instance_masks(proto, np.zeros((1, 32), np.float32), np.zeros((1, 4), np.float32), class_map=True)


def test_gather_coefficients_v8_and_v5_layouts():
    rng = np.random.default_rng(8)
    t8 = [rng.integers(-128, 128, (1, 32, s, s)).astype(np.int8) for s in (8, 4, 2)]
    idx = np.array([0, 63, 64, 79, 80, 83, 5])
    c, z = gather_coefficients(t8, idx, [1, 2, 3])
    flat = np.concatenate([t[0].reshape(32, -1) for t in t8], 1)
    np.testing.assert_array_equal(c, flat[:, idx].T)
    np.testing.assert_array_equal(z, [1, 1, 2, 2, 3, 3, 1])
    # NC1HWC2 (C2 = 16) gives the same vectors
    nc = [np.ascontiguousarray(t.reshape(1, 2, 16, t.shape[2], t.shape[3]).transpose(0, 1, 3, 4, 2)) for t in t8]
    c2, _ = gather_coefficients(nc, idx, [1, 2, 3])
    np.testing.assert_array_equal(c2, c)
    # YOLOv5: 3 anchors per cell, channel 32*a + k, index offset + (a*H + y)*W + x
    t5 = [rng.standard_normal((1, 96, s, s)).astype(np.float16) for s in (4, 2)]
    a, y, x = 2, 1, 3
    c5, z5 = gather_coefficients(t5, np.array([(a * 4 + y) * 4 + x, 48 + 5]), anchors_per_cell=3)
    assert c5.dtype == np.float32 and z5 is None
    np.testing.assert_array_equal(c5[0], t5[0][0, 32 * a:32 * a + 32, y, x].astype(np.float32))
    a, r = divmod(5, 4)
    np.testing.assert_array_equal(c5[1], t5[1][0, 32 * a:32 * a + 32, r // 2, r % 2].astype(np.float32))
    with pytest.raises(ValueError, match="anchor_index"):
        gather_coefficients(t8, np.array([84]), [1, 2, 3])


def quant(x, scale, zp):
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


def synthetic_v8_seg(rng, nc=3, size=64):
    """A YOLOv8-seg int8 output set with two confident cells."""
    outs, qps = [], []
    for s in (8, 16, 32):
        g = size // s
        box = np.zeros((64, g, g))
        cls = np.full((nc, g, g), 0.01)
        mc = rng.standard_normal((32, g, g))
        if s == 8:
            box[:, 2, 3] = 0
            for side in range(4):
                box[side * 16 + 2, 2, 3] = 8.0  # distance 2 cells each side
            cls[1, 2, 3] = 0.9
        if s == 16:
            for side in range(4):
                box[side * 16 + 1, 1, 1] = 8.0
            cls[2, 1, 1] = 0.8
        ssum = np.clip(cls.sum(0, keepdims=True), 0, 1)
        for arr, sc, zp in ((box, 0.1, 0), (cls, 1 / 255, -128), (ssum, 1 / 255, -128), (mc, 0.05, 3)):
            outs.append(quant(arr, sc, zp)[None])
            qps.append((sc, zp))
    proto = rng.standard_normal((32, size // 4, size // 4))
    outs.append(quant(proto, 0.04, -5)[None])
    qps.append((0.04, -5))
    return outs, qps


def test_decode_yolov8_seg_end_to_end():
    rng = np.random.default_rng(9)
    outs, qps = synthetic_v8_seg(rng)
    lb = LetterboxTransform((48, 64), (64, 64), 1.0, 0.0, 8.0)
    det, cmap = decode_yolov8_seg(outs, qps, conf=0.5, transform=lb, class_map=True)
    assert len(det) == 2
    assert det.masks.shape == (2, 48, 64) and cmap.shape == (48, 64)
    # independent mask reference from the gathered coefficient cells
    flat = np.concatenate([o[0].reshape(32, -1) for o in (outs[3], outs[7], outs[11])], 1)
    zps = np.array([qps[3][1], qps[7][1], qps[11][1]])[np.searchsorted([0, 64, 80, 84], det.anchor_index, side="right") - 1]
    model_boxes = lb.boxes_to_model(det.xyxy)
    expect, logits = ref.ref_instance_masks(outs[12][0], -5, flat[:, det.anchor_index].T, zps, model_boxes,
                                            (64, 64), 1.0, 0.0, 8.0, (48, 64))
    assert_masks_match(det.masks, expect, logits)
    np.testing.assert_array_equal(cmap, ref.ref_merged_class_map(det.masks, det.class_ids))
    # no detections -> empty masks of the image size
    det0 = decode_yolov8_seg(outs, qps, conf=0.99, transform=lb)
    assert len(det0) == 0 and det0.masks.shape == (0, 48, 64)


def test_decode_yolov5_seg_shapes():
    rng = np.random.default_rng(10)
    outs = []
    for s in (8, 16, 32):
        g = 64 // s
        det = np.full((3 * 8, g, g), 0.01, np.float32)  # nc = 3
        mc = rng.standard_normal((96, g, g)).astype(np.float32)
        outs += [det[None], mc[None]]
    outs[0][0, 8 * 1 + 4, 2, 2] = 0.9  # anchor 1 objectness
    outs[0][0, 8 * 1 + 5 + 2, 2, 2] = 0.9
    outs[0][0, 8 * 1 + 0:8 * 1 + 4, 2, 2] = 0.5
    outs.append(rng.standard_normal((1, 32, 16, 16)).astype(np.float32))
    det = decode_yolov5_seg(outs, conf=0.5)
    assert len(det) == 1 and det.class_ids[0] == 2 and det.masks.shape == (1, 64, 64)
    a_idx = int(det.anchor_index[0])
    assert a_idx == (1 * 8 + 2) * 8 + 2
    coeff = outs[1][0, 32:64, 2, 2]
    expect, logits = ref.ref_instance_masks(outs[6][0], 0, coeff[None], None, det.xyxy, (64, 64), 1.0, 0.0, 0.0, (64, 64))
    assert_masks_match(det.masks, expect, logits)


def test_threaded_masks():
    rng = np.random.default_rng(11)
    proto, coeffs, boxes = random_case(rng, 20, np.int8, np.float32, hp=160, model=640)
    expect = instance_masks(proto, coeffs, boxes, model_shape=(640, 640))
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: instance_masks(proto, coeffs, boxes, model_shape=(640, 640)), range(8)))
    for o in outs:
        np.testing.assert_array_equal(o, expect)


def test_instance_masks_refuses_silent_conversions():
    proto = np.zeros((32, 8, 8), np.int8)
    coef = np.zeros((1, 32), np.int8)
    boxes = np.array([[0, 0, 16, 16]], np.float32)
    ok = dict(coefficient_zero_points=np.array([0]), model_shape=(32, 32))
    instance_masks(proto, coef, boxes, **ok)
    with pytest.raises(TypeError, match="boxes"):
        instance_masks(proto, coef, boxes.astype(np.float64), **ok)
    with pytest.raises(TypeError, match="coefficient_zero_points"):  # 1.7 was truncated to 1
        instance_masks(proto, coef, boxes, coefficient_zero_points=np.array([1.7]), model_shape=(32, 32))
    with pytest.raises(ValueError, match="coefficient_zero_points"):  # int32 overflow in the int8 kernel
        instance_masks(proto, coef, boxes, coefficient_zero_points=np.array([-2**31], np.int32),
                       model_shape=(32, 32))
    with pytest.raises(ValueError, match="proto_zero_point"):
        instance_masks(proto, coef, boxes, proto_zero_point=2**31 - 1, **ok)
    with pytest.raises(TypeError, match="class_ids"):  # 1.9 was truncated to 1
        instance_masks(proto, coef, boxes, class_ids=np.array([1.9]), class_map=True, **ok)
    with pytest.raises(TypeError, match="transform"):
        instance_masks(proto, coef, boxes, transform=(32, 32), coefficient_zero_points=np.array([0]))


def test_strided_proto_and_boxes_are_refused_not_copied():
    rng = np.random.default_rng(11)
    proto = rng.standard_normal((4, 16, 16)).astype(np.float32)
    coeffs = rng.standard_normal((2, 4)).astype(np.float32)
    boxes = np.array([[0, 0, 8, 8], [4, 4, 16, 16]], np.float32)
    wide = np.zeros((4, 16, 32), np.float32)
    wide[..., ::2] = proto
    with pytest.raises(ValueError, match="proto: expected a C-contiguous array"):
        instance_masks(wide[..., ::2], coeffs, boxes, model_shape=(16, 16))
    with pytest.raises(ValueError, match="boxes: expected a C-contiguous array"):
        instance_masks(proto, coeffs, np.asfortranarray(boxes), model_shape=(16, 16))
    # The caller's visible copy gives the same masks as the contiguous original.
    np.testing.assert_array_equal(
        instance_masks(np.ascontiguousarray(wide[..., ::2]), coeffs, boxes, model_shape=(16, 16)),
        instance_masks(proto, coeffs, boxes, model_shape=(16, 16)))
