"""Semantic segmentation: argmax over classes, resampling to the image, overlay."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import reference as ref
from rknn_fast import LetterboxTransform
from rknn_fast.postprocess import argmax_classes, default_palette, overlay, resample_class_map, segment


def make_scores(rng, c, h, w, dtype):
    if dtype == np.int8:
        # a narrow range makes ties frequent, which exercises the tie rule
        return rng.integers(-3, 3, (c, h, w)).astype(np.int8)
    if dtype == np.float16:
        return rng.integers(-4, 4, (c, h, w)).astype(np.float16) * np.float16(0.5)
    return rng.standard_normal((c, h, w)).astype(np.float32)


def to_layout(chw, layout, c2=16, pad_w=0):
    if layout == "NCHW":
        return np.ascontiguousarray(chw[None])
    if layout == "NHWC":
        return np.ascontiguousarray(chw.transpose(1, 2, 0)[None])
    c, h, w = chw.shape
    c1 = -(-c // c2)
    out = np.full((1, c1, h, w + pad_w, c2), 99, chw.dtype)  # padding must never win... or be read
    for ch in range(c):
        out[0, ch // c2, :, :w, ch % c2] = chw[ch]
    return out


@pytest.mark.parametrize("dtype", [np.int8, np.float16, np.float32])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC", "NC1HWC2"])
@pytest.mark.parametrize("shape", [(21, 13, 17), (1, 4, 5), (3, 1, 1), (300, 3, 7)])
def test_argmax_matches_numpy(dtype, layout, shape):
    rng = np.random.default_rng(sum(shape))
    chw = make_scores(rng, *shape, dtype)
    x = to_layout(chw, layout)
    got = argmax_classes(x, layout, classes=shape[0] if layout == "NC1HWC2" else None)
    expect = ref.ref_argmax(ref.ref_logical_chw(x, layout, shape[0]))
    assert got.dtype == (np.uint16 if shape[0] > 256 else np.uint8)
    assert got.shape == shape[1:]
    np.testing.assert_array_equal(got, expect)


def test_nc1hwc2_row_padding_is_not_read():
    rng = np.random.default_rng(1)
    chw = rng.standard_normal((21, 6, 10)).astype(np.float32)
    x = to_layout(chw, "NC1HWC2", c2=8, pad_w=6)
    got = argmax_classes(x, "NC1HWC2", classes=21, width=10)
    np.testing.assert_array_equal(got, chw.argmax(0))


def test_ties_lowest_class_wins():
    x = np.zeros((1, 5, 2, 3), np.int8)
    x[0, 2, 0, 0] = 7
    x[0, 4, 0, 0] = 7  # tie between 2 and 4 -> 2
    x[0, 3, 1, 2] = -1  # all others 0 -> 0
    got = argmax_classes(x)
    assert got[0, 0] == 2 and got[1, 2] == 0 and (got.sum() == 2)


def test_fp16_signed_zero_is_a_tie_and_negatives_order():
    h = np.array([-0.0, 0.0, -1.0, -0.5], np.float16).reshape(1, 4, 1, 1)
    assert argmax_classes(h)[0, 0] == 0  # -0 == +0, both beat negatives; lowest index
    h = np.array([-2.0, -1.0, -3.0, np.float16(-6e-8)], np.float16).reshape(1, 4, 1, 1)  # subnormal
    assert argmax_classes(h)[0, 0] == 3


def test_int8_extremes():
    x = np.full((1, 3, 1, 2), -128, np.int8)
    x[0, 2, 0, 1] = 127
    np.testing.assert_array_equal(argmax_classes(x), [[0, 2]])


def test_256_and_257_classes_output_type():
    x = np.zeros((1, 256, 1, 1), np.float32)
    x[0, 255] = 1
    m = argmax_classes(x)
    assert m.dtype == np.uint8 and m[0, 0] == 255
    x = np.zeros((1, 257, 1, 1), np.float32)
    x[0, 256] = 1
    m = argmax_classes(x)
    assert m.dtype == np.uint16 and m[0, 0] == 256


def test_empty_spatial():
    assert argmax_classes(np.zeros((1, 3, 0, 4), np.float32)).shape == (0, 4)


@pytest.mark.parametrize("bad,err", [
    (np.zeros((1, 3, 4, 4), np.float64), TypeError),
    (np.zeros((1, 3, 4, 4), np.int16), TypeError),
    (np.zeros((3, 4), np.float32), ValueError),
    (np.zeros((2, 3, 4, 4), np.float32), ValueError),
    (np.zeros((1, 0, 4, 4), np.float32), ValueError),
])
def test_bad_inputs(bad, err):
    with pytest.raises(err):
        argmax_classes(bad)


def test_bad_layout_and_noncontiguous():
    with pytest.raises(ValueError, match="layout"):
        argmax_classes(np.zeros((1, 3, 4, 4), np.float32), "CHWN")
    with pytest.raises(ValueError, match="C-contiguous"):
        argmax_classes(np.zeros((1, 3, 4, 8), np.float32)[..., ::2])
    with pytest.raises(ValueError, match="classes"):
        argmax_classes(np.zeros((1, 2, 4, 4, 16), np.float32), "NC1HWC2", classes=40)
    with pytest.raises(TypeError):
        argmax_classes([[1, 2]])  # type: ignore[arg-type]


def letterbox_for(src_hw, dst_hw):
    s = min(dst_hw[0] / src_hw[0], dst_hw[1] / src_hw[1])
    px = (dst_hw[1] - src_hw[1] * s) / 2
    py = (dst_hw[0] - src_hw[0] * s) / 2
    return LetterboxTransform(src_hw, dst_hw, s, px, py)


def test_resample_nearest_with_letterbox():
    rng = np.random.default_rng(3)
    cmap = rng.integers(0, 21, (64, 64)).astype(np.uint8)
    lb = letterbox_for((300, 500), (512, 512))
    got = resample_class_map(cmap, lb)
    mw = 64 / 512
    expect = ref.ref_resample_nearest(cmap, lb.scale * mw, lb.pad_x * mw, lb.scale * mw, lb.pad_y * mw, 300, 500)
    assert got.shape == (300, 500)
    np.testing.assert_array_equal(got, expect)


def test_resample_nearest_identity_and_plain_stretch():
    cmap = np.arange(12, dtype=np.uint16).reshape(3, 4)
    np.testing.assert_array_equal(resample_class_map(cmap, image_shape=(3, 4)), cmap)
    up = resample_class_map(cmap, image_shape=(6, 8))
    np.testing.assert_array_equal(up, np.repeat(np.repeat(cmap, 2, 0), 2, 1))


@pytest.mark.parametrize("layout", ["NCHW", "NHWC", "NC1HWC2"])
@pytest.mark.parametrize("dtype", [np.int8, np.float16, np.float32])
def test_bilinear_then_argmax(layout, dtype):
    rng = np.random.default_rng(4)
    chw = make_scores(rng, 7, 9, 11, dtype)
    if dtype == np.int8:
        chw = rng.integers(-128, 128, chw.shape).astype(np.int8)
    x = to_layout(chw, layout, c2=4)
    lb = letterbox_for((40, 90), (72, 72))
    got = segment(x, layout, transform=lb, mode="bilinear", classes=7 if layout == "NC1HWC2" else None)
    a = 11 / 72
    vals = ref.ref_bilinear(chw.astype(np.float64), lb.scale * a, lb.pad_x * a, lb.scale * 9 / 72, lb.pad_y * 9 / 72, 40, 90)
    expect = vals.argmax(0)
    srt = np.sort(vals, axis=0)
    clear = (srt[-1] - srt[-2]) > 1e-3 * (1 + np.abs(srt[-1]))  # skip numerical near-ties
    assert got.shape == (40, 90)
    np.testing.assert_array_equal(got[clear], expect[clear])
    assert clear.mean() > 0.8


def test_segment_nearest_equals_argmax_then_resample():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 19, 16, 16)).astype(np.float32)
    lb = letterbox_for((100, 60), (128, 128))
    np.testing.assert_array_equal(segment(x, transform=lb), resample_class_map(argmax_classes(x), lb))
    with pytest.raises(ValueError, match="mode"):
        segment(x, transform=lb, mode="cubic")


def test_overlay():
    img = np.full((2, 2, 3), 100, np.uint8)
    cmap = np.array([[0, 1], [2, 0]], np.uint8)
    pal = np.array([[0, 0, 0], [200, 0, 0], [0, 50, 250]], np.uint8)
    out = overlay(img, cmap, pal, alpha=0.5)
    np.testing.assert_array_equal(out[0, 0], [100, 100, 100])
    np.testing.assert_array_equal(out[0, 1], [150, 50, 50])
    np.testing.assert_array_equal(out[1, 0], [50, 75, 175])
    assert default_palette(21)[1].tolist() == [128, 0, 0]
    with pytest.raises(ValueError):
        overlay(img, np.array([[0, 5], [0, 0]], np.uint8), pal)
    with pytest.raises(TypeError):
        overlay(img.astype(np.float32), cmap, pal)


def test_threaded_calls_agree():
    rng = np.random.default_rng(6)
    xs = [rng.integers(-128, 128, (1, 21, 64, 64)).astype(np.int8) for _ in range(8)]
    expect = [x[0].argmax(0) for x in xs]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(argmax_classes, xs * 4))
    for i, g in enumerate(got):
        np.testing.assert_array_equal(g, expect[i % 8])


def test_overlay_refuses_negative_and_float_class_maps():
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="class_map"):  # -1 picked the palette's last colour
        overlay(image, np.full((4, 4), -1, np.int32))
    with pytest.raises(TypeError, match="class_map"):
        overlay(image, np.zeros((4, 4), np.float32))


def test_segment_refuses_a_transform_of_the_wrong_type():
    with pytest.raises(TypeError, match="transform"):
        segment(np.zeros((1, 3, 4, 4), np.float32), transform=(4, 4))


def test_strided_class_map_is_refused_not_copied():
    cmap = np.arange(64, dtype=np.uint8).reshape(8, 8)
    with pytest.raises(ValueError, match="class_map: expected a C-contiguous array"):
        resample_class_map(cmap[:, ::2], image_shape=(16, 8))
    np.testing.assert_array_equal(resample_class_map(np.ascontiguousarray(cmap[:, ::2]), image_shape=(8, 4)),
                                  cmap[:, ::2])
