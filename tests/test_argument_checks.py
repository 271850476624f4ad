"""Regression tests for issue 12: every reproduction of the reliability review raises a clear
TypeError/ValueError (never IndexError, AttributeError, OverflowError, pybind11's
RuntimeError, silent truncation or an unbounded allocation), plus the shared checking layer
(rknn_fast._checks) itself."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import rknn_fast
from rknn_fast import _checks, convert, letterbox, postprocess as pp
from rknn_fast.results import LetterboxTransform

HUGE = (10**9, 10**9)


def seg_outputs(dtype=np.float32, grid=(8, 4, 2)):
    """A YOLOv8-seg output set (box, cls, score_sum, coefficients per stride + proto)."""
    outs = []
    for g in grid:
        outs += [np.zeros((1, 64, g, g), dtype), np.zeros((1, 2, g, g), dtype),
                 np.zeros((1, 1, g, g), dtype), np.zeros((1, 32, g, g), dtype)]
    outs.append(np.zeros((1, 32, 16, 16), dtype))
    return outs


def v8_outputs(dtype=np.float32):
    return [np.zeros((1, c, g, g), dtype) for g in (8, 4, 2) for c in (64, 2)]


# --- 1. wrong exception types -----------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"channels": float("inf")}, {"channels": 8, "width": float("-inf")},
                                    {"channels": float("nan")}, {"channels": 8, "width": float("inf")}])
def test_from_nc1hwc2_non_finite_sizes_raise_value_error(kwargs):
    a = np.zeros((1, 2, 3, 4, 8), np.int8)  # OverflowError before
    with pytest.raises(ValueError, match="from_nc1hwc2: (channels|width): expected an integer"):
        convert.from_nc1hwc2(a, **kwargs)


@pytest.mark.parametrize("decoder, n", [(pp.decode_yolov8, 6), (pp.decode_yolov5, 3), (pp.decode_yolov8_seg, 13)])
def test_decoders_refuse_0d_arrays(decoder, n):
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):  # IndexError before
        decoder([np.array(0.5, np.float32)] * n)
    with pytest.raises(TypeError):
        decoder(np.array(0.5, np.float32))


@pytest.mark.parametrize("outputs", [None, np.zeros(13 * 64, np.float32), [[0.0] * 4] * 13, "outputs"])
def test_yolov8_seg_refuses_non_lists_and_flattened_tensors(outputs):
    with pytest.raises((TypeError, ValueError)):  # IndexError / AttributeError before
        pp.decode_yolov8_seg(outputs)


def test_yolov8_seg_flattened_tensors_in_a_list():
    outs = [o.reshape(-1) for o in seg_outputs()]
    with pytest.raises(ValueError, match="output 0: expected"):
        pp.decode_yolov8_seg(outs)


@pytest.mark.parametrize("zp", [2**40, -2**40, 2**31, 2.5, "0"])
def test_out_of_range_zero_points_are_value_errors(zp):
    outs = seg_outputs(np.int8)  # (1.0, 2**40) raised pybind11's "Unable to cast"
    with pytest.raises(ValueError, match="zero point in -2147483648..2147483647"):
        pp.decode_yolov8_seg(outs, [(1.0, zp)] * 13)
    with pytest.raises(ValueError, match="zero point"):
        pp.decode_yolov8(v8_outputs(np.int8), [(1.0, zp)] * 6)


def test_int32_zero_points_still_decode():
    # The kernels take any int32 zero point (e.g. an int8 model's -50 on a uint8 view).
    outs = v8_outputs(np.uint8)
    d = pp.decode_yolov8(outs, [(0.1, -50)] * 6, scores="prob", conf=0.9)
    assert len(d) > 0 and np.allclose(d.scores, (0 + 50) * 0.1)  # every raw 0 means 5.0
    assert len(pp.decode_yolov8(outs, [(0.1, 2**31 - 1)] * 6, scores="prob")) == 0


@pytest.mark.parametrize("shape", [(1,), (), (320,), 320, "320x320", (320, 320, 3)])
def test_retinaface_priors_refuses_malformed_shapes(shape):
    with pytest.raises((TypeError, ValueError), match="model_shape"):  # IndexError before
        pp.retinaface_priors(shape)


# --- 2. silent truncation ------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc", [({"channels": 2.5}, ValueError), ({"channels": 8, "width": 2.5}, ValueError),
                                         ({"channels": True}, TypeError), ({"channels": 8, "width": True}, TypeError),
                                         ({"channels": np.float64(3.0)}, ValueError)])
def test_from_nc1hwc2_refuses_fractions_and_bools(kwargs, exc):
    a = np.zeros((1, 2, 3, 4, 8), np.int8)  # 2.5 -> 2 channels, width 2.5 -> 2, True -> 1
    with pytest.raises(exc, match="expected an integer"):
        convert.from_nc1hwc2(a, **kwargs)
    with pytest.raises(TypeError, match="channels: expected an integer"):
        convert.from_nc1hwc2(a, "8")


def test_from_nc1hwc2_still_converts_numpy_integers():
    a = np.arange(2 * 3 * 4 * 8, dtype=np.int8).reshape(1, 2, 3, 4, 8)
    got = convert.from_nc1hwc2(a, np.int64(10), np.int32(3))
    expect = a.transpose(0, 1, 4, 2, 3).reshape(1, 16, 3, 4)[:, :10, :, :3]
    np.testing.assert_array_equal(got, expect)


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_from_nc1hwc2_float32_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="float32: expected True or False"):
        convert.from_nc1hwc2(np.zeros((1, 1, 1, 1, 8), np.int8), 8, float32=bad)


def test_argmax_classes_refuses_fractional_classes():
    scores = np.zeros((1, 2, 3, 3, 8), np.int8)
    with pytest.raises(ValueError, match="classes: expected an integer"):
        pp.argmax_classes(scores, "NC1HWC2", classes=10.5)
    with pytest.raises(TypeError, match="layout"):
        pp.argmax_classes(scores, None)  # type: ignore[arg-type]


# --- 4. unbounded allocations ----------------------------------------------------------------

def test_letterbox_refuses_huge_sizes():
    img = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match=r"size\[0\] \(height\): expected an integer 1 <= .* <= 16384"):
        letterbox(img, HUGE)
    out, _ = letterbox(img, (16, 16))  # in range: still works
    assert out.shape == (16, 16, 3)


def test_instance_masks_refuses_huge_model_shape():
    proto = np.zeros((32, 4, 4), np.float32)
    with pytest.raises(ValueError, match="model_shape"):
        pp.instance_masks(proto, np.zeros((1, 32), np.float32), np.zeros((1, 4), np.float32), model_shape=HUGE)


def test_instance_masks_refuses_a_handmade_huge_transform():
    t = LetterboxTransform(src_shape=HUGE, dst_shape=(16, 16), scale=1.0, pad_x=0.0, pad_y=0.0)
    with pytest.raises(ValueError, match="transform.src_shape"):
        pp.instance_masks(np.zeros((32, 4, 4), np.float32), np.zeros((1, 32), np.float32),
                          np.zeros((1, 4), np.float32), transform=t)


def test_default_palette_is_bounded():
    with pytest.raises(ValueError, match="n: expected an integer 0 <= n <= 65536"):
        pp.default_palette(2**31)
    assert pp.default_palette(65536).shape == (65536, 3)
    with pytest.raises(ValueError):
        pp.default_palette(2.5)


def test_blazeface_anchors_is_bounded():
    with pytest.raises(ValueError, match="input_size"):
        pp.blazeface_anchors(2**31)
    with pytest.raises(ValueError, match="strides"):
        pp.blazeface_anchors(128, (8, 0))
    with pytest.raises(ValueError, match="anchor_offset"):
        pp.blazeface_anchors(128, anchor_offset=float("nan"))
    assert pp.blazeface_anchors().shape == (896, 4)


def test_retinaface_priors_is_bounded():
    with pytest.raises(ValueError, match="model_shape"):
        pp.retinaface_priors(HUGE)
    assert pp.retinaface_priors((320, 320)).shape == (4200, 4)


def test_segment_refuses_huge_image_shape():
    scores = np.zeros((1, 2, 4, 4), np.float32)
    with pytest.raises(ValueError, match="image_shape"):
        pp.segment(scores, image_shape=HUGE)


# --- 6. lenient arguments ------------------------------------------------------------------

@pytest.mark.parametrize("ratio", [float("nan"), -1.0, float("inf")])
def test_unclip_convex_refuses_nan_and_negative_ratios(ratio):
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)
    with pytest.raises(ValueError, match="ratio"):
        pp.unclip_convex(square, ratio)


def test_unclip_convex_still_grows_a_square():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)
    d = 100 * 1.5 / 40  # area * ratio / perimeter, by hand
    got = pp.unclip_convex(square, 1.5)
    np.testing.assert_allclose(np.abs(got - 5), 5 + d, rtol=1e-6)


@pytest.mark.parametrize("bad", ["no", 1, [0], None])
def test_letterbox_bgr_to_rgb_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="bgr_to_rgb: expected True or False"):
        letterbox(np.zeros((4, 4, 3), np.uint8), (8, 8), bgr_to_rgb=bad)


@pytest.mark.parametrize("bad", ["no", 1, object()])
def test_instance_masks_class_map_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="class_map: expected True or False"):
        pp.instance_masks(np.zeros((32, 4, 4), np.float32), np.zeros((0, 32), np.float32),
                          np.zeros((0, 4), np.float32), class_map=bad)


@pytest.mark.parametrize("name", ["class_agnostic", "run_nms", "plus_one", "use_score_sum"])
def test_decoder_flags_must_be_bools(name):
    with pytest.raises(TypeError, match=f"{name}: expected True or False"):
        pp.decode_yolov8(v8_outputs(), **{name: "false"})


# --- the shared layer ------------------------------------------------------------------------

def test_postprocess_uses_the_shared_checks():
    from rknn_fast.postprocess import _common
    for name in ("check_contiguous", "check_count", "check_fraction", "check_number"):
        assert getattr(_common, name) is getattr(_checks, name)


@pytest.mark.parametrize("value, exc", [(True, TypeError), ("3", TypeError), (None, TypeError), (2.5, ValueError),
                                        (float("inf"), ValueError), (float("nan"), ValueError), (-1, ValueError),
                                        (17, ValueError)])
def test_check_int(value, exc):
    with pytest.raises(exc, match="x: expected an integer"):
        _checks.check_int("x", value, 0, 16)
    assert _checks.check_int("x", np.uint8(16), 0, 16) == 16


def test_check_number_and_size():
    assert _checks.check_number("t", np.float32(0.5), 0, 1) == 0.5
    for bad in (float("nan"), -0.1, 1.5):
        with pytest.raises(ValueError, match=r"t: expected a number"):
            _checks.check_number("t", bad, 0, 1)
    with pytest.raises(ValueError, match="finite"):
        _checks.check_number("t", float("inf"), finite=True)
    assert _checks.check_size("s", np.array([3, 4])) == (3, 4)
    assert _checks.check_size("s", (3, 4, 3), trailing=True) == (3, 4)
    with pytest.raises(ValueError, match=r"s\[1\] \(width\)"):
        _checks.check_size("s", (3, _checks.MAX_SIDE + 1))
    with pytest.raises(TypeError):
        _checks.check_size("s", 3)


def test_public_names_still_exported():
    assert rknn_fast.nms is pp.nms and rknn_fast.letterbox is letterbox


# ------------------------------------------------------------------ found by longer property runs


def test_softmax_refuses_non_finite_and_survives_float32_extremes():
    with pytest.raises(ValueError, match="finite"):
        pp.softmax(np.array([np.inf, 1.0], np.float32))
    big = np.array([3.4028235e38, 0.0, -3.4028235e38], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = pp.softmax(big)  # 3.4e38 - -3.4e38 overflowed float32 (a RuntimeWarning)
    np.testing.assert_allclose(got, [1.0, 0.0, 0.0])


def test_classify_refuses_nan_scores():
    with pytest.raises(ValueError, match="NaN"):
        pp.classify(np.array([0.5, np.nan, 0.1], np.float32), 1, apply_softmax=False)


def test_overlay_refuses_palette_values_outside_uint8():
    img, cmap = np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.uint8)
    for bad in (np.full((2, 3), 300.0), np.full((2, 3), np.nan), np.full((2, 3), -1)):
        with pytest.raises(ValueError, match="palette"):
            pp.overlay(img, cmap, bad)


def test_unclip_convex_refuses_complex_points_and_overflowing_ratios():
    rect = np.array([[0, 0], [10, 0], [10, 5], [0, 5]], np.float32)
    with pytest.raises(TypeError, match="real"):
        pp.unclip_convex(rect.astype(complex), 1.5)
    with pytest.raises(ValueError, match="ratio"):
        pp.unclip_convex(rect, 1e300)  # gave inf corners
    with pytest.raises(ValueError, match="float32"):
        pp.unclip_convex(rect.astype(np.float64) * 3e37, 1.0)  # finite in, past float32 out
