"""Property-based tests (hypothesis) over the public API: arbitrary dtypes, shapes (0-d to 6-d,
zero-size), strides (negative, non-contiguous, Fortran, read-only), non-finite and huge
parameters and wrong types. The only acceptable outcomes are a correct result (checked
against numpy references where one exists, else structural invariants) or a
TypeError/ValueError/RknnError, each within a time and memory bound.

The example budget is fixed and the generation derandomized, so CI runs the same examples
every time in well under a minute (RKNN_FAST_HYPOTHESIS_EXAMPLES raises the budget for a
longer local run).
"""

from __future__ import annotations

import math
import os
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the test extra")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import reference as ref  # noqa: E402
import rknn_fast  # noqa: E402
from rknn_fast import RknnError, convert, postprocess as pp  # noqa: E402
from rknn_fast.results import Classification, Detections, LetterboxTransform, TextBoxes  # noqa: E402

MODELS = Path(__file__).resolve().parent / "data" / "models"
TINY = MODELS / "tiny_conv_rk3588_i8.rknn"

ALLOWED = (TypeError, ValueError, RknnError)
EXAMPLES = int(os.environ.get("RKNN_FAST_HYPOTHESIS_EXAMPLES", "40"))
TIME_BOUND_S = 10.0  # per call; CI machines are shared, the calls themselves take milliseconds
MEMORY_BOUND = 512 << 20  # peak bytes traced during one call (numpy buffers included)

SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)

DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.float16,
          np.float32, np.float64, np.complex64, np.object_]
KERNEL_DTYPES = [np.int8, np.uint8, np.float16, np.float32]


def bounded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Calls fn; returns its result, or None when it raised an allowed exception. Fails on any
    other exception, a call slower than TIME_BOUND_S or a peak allocation above MEMORY_BOUND."""
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        result = fn(*args, **kwargs)
    except ALLOWED as e:
        assert str(e), f"{type(e).__name__} without a message"
        result = None
    finally:
        elapsed = time.monotonic() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < TIME_BOUND_S, f"{getattr(fn, '__name__', fn)} took {elapsed:.1f} s"
    assert peak < MEMORY_BOUND, f"{getattr(fn, '__name__', fn)} allocated {peak >> 20} MiB"
    return result


# --- strategies ------------------------------------------------------------------------------

WEIRD_SCALARS = [None, True, False, 0, 1, -1, 2, 3, 0.5, 2.5, -0.5, 1e300, -1e300, float("nan"),
                 float("inf"), float("-inf"), 2**31, 2**40, -2**63, 10**9, 10**30, "x", "", b"y", [], [1, 2],
                 (1,), (1, 2), (10**9, 10**9), (0, 0), (-1, 5), (2.5, 3), {}, object(), np.float32(0.5),
                 np.float64("nan"), np.int64(3), np.uint8(255), np.bool_(True), 1j]


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(WEIRD_SCALARS), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def arrays(draw: Any, dtypes: Any = None, shape: Optional[tuple] = None, min_dims: int = 0,
           max_dims: int = 6, max_side: int = 5) -> np.ndarray:
    """An array of any dtype/shape/values, possibly reversed, strided, Fortran or read-only."""
    dtype = np.dtype(draw(st.sampled_from(dtypes or DTYPES)))
    if shape is None:
        nd = draw(st.integers(min_dims, max_dims))
        shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=nd, max_size=nd)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    fill = draw(st.sampled_from(["zeros", "random", "extreme", "nonfinite"]))
    size = int(np.prod(shape))
    if dtype == np.object_:
        base = np.empty(size, object)
        base[:] = [draw(st.sampled_from([0, 1.5, None, "a"])) for _ in range(min(size, 1))] * size if size else []
    elif dtype.kind == "b":
        base = rng.integers(0, 2, size).astype(bool)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        if fill == "extreme":
            base = rng.choice(np.array([info.min, info.max, 0], dtype), size)
        else:
            base = rng.integers(max(info.min, -128), min(info.max, 255) + 1, size).astype(dtype)
    else:
        base = (rng.standard_normal(size) * 4).astype(dtype)
        if fill == "nonfinite" and size:
            idx = rng.integers(0, size, max(1, size // 3))
            base[idx] = rng.choice(np.array([np.nan, np.inf, -np.inf]), idx.size).astype(dtype)
        elif fill == "extreme" and size:
            big = np.finfo(dtype).max if dtype.kind == "f" else 1e30
            base = rng.choice(np.array([big, -big, 0], dtype), size)
    if fill == "zeros" and dtype != np.object_:
        base = np.zeros(size, dtype)
    a = base.reshape(shape)
    view = draw(st.sampled_from(["c", "c", "reversed", "strided", "fortran", "readonly"]))
    if view == "reversed" and a.ndim:
        a = a[::-1]
    elif view == "strided" and a.ndim:
        wide = np.repeat(a, 2, axis=-1)
        a = wide[..., ::2]
    elif view == "fortran":
        a = np.asfortranarray(a)
    elif view == "readonly":
        a = a.copy()
        a.flags.writeable = False
    return a


def maybe(strategy: st.SearchStrategy[Any], weird: float = 0.3) -> st.SearchStrategy[Any]:
    """``strategy`` most of the time, an arbitrary scalar otherwise."""
    return st.one_of(strategy, strategy, scalars()) if weird else strategy


def anything() -> st.SearchStrategy[Any]:
    return st.one_of(scalars(), arrays())


def fractions() -> st.SearchStrategy[Any]:
    return maybe(st.floats(0, 1))


def flags() -> st.SearchStrategy[Any]:
    return maybe(st.booleans())


# --- checks of results -----------------------------------------------------------------------

def check_detections(d: Any, ranked: bool = True) -> None:
    """Structure of a Detections; sorted by descending score unless NMS was skipped
    (run_nms=False returns candidates in anchor order)."""
    assert isinstance(d, Detections)
    n = len(d.scores)
    assert d.xyxy.shape == (n, 4) and d.xyxy.dtype == np.float32
    assert d.class_ids.shape == (n,)
    if ranked:
        assert np.all(np.diff(d.scores) <= 0) or n < 2 or np.isnan(d.scores).any()


def assert_equal_nan(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# --- convert ---------------------------------------------------------------------------------

@SETTINGS
@given(a=maybe(arrays()), out=st.one_of(st.none(), st.none(), anything()))
def test_fp16_to_fp32(a: Any, out: Any) -> None:
    got = bounded(convert.fp16_to_fp32, a, out)
    if got is not None:
        assert_equal_nan(got, a.astype(np.float32))


@SETTINGS
@given(a=maybe(arrays()), scale=maybe(st.floats(1e-6, 10)), zp=maybe(st.integers(-300, 300)))
def test_dequantize(a: Any, scale: Any, zp: Any) -> None:
    got = bounded(convert.dequantize, a, scale, zp)
    if got is not None:
        want = (a.astype(np.float32) - np.float32(zp)) * np.float32(scale)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * abs(float(scale)))


@SETTINGS
@given(a=st.one_of(arrays(), arrays(dtypes=KERNEL_DTYPES, min_dims=5, max_dims=5)),
       channels=maybe(st.integers(0, 40)), width=st.one_of(st.none(), maybe(st.integers(0, 6))),
       layout=maybe(st.sampled_from(["nchw", "nhwc", "NCHW"])), f32=flags(),
       scale=maybe(st.floats(1e-3, 2)), zp=maybe(st.integers(-10, 10)))
def test_from_nc1hwc2(a: Any, channels: Any, width: Any, layout: Any, f32: Any, scale: Any, zp: Any) -> None:
    got = bounded(convert.from_nc1hwc2, a, channels, width, layout=layout, float32=f32, scale=scale,
                  zero_point=zp)
    if got is None:
        return
    n, c1, h, ws, c2 = a.shape
    w = ws if width is None else width
    want = a.transpose(0, 1, 4, 2, 3).reshape(n, c1 * c2, h, ws)[:, :channels, :, :w]
    if f32:
        want = (want.astype(np.float32) - zp) * np.float32(scale) if a.dtype.kind in "iu" else want.astype(np.float32)
    if layout == "nhwc":
        want = want.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(got, want, rtol=1e-6)


# --- nms, letterbox --------------------------------------------------------------------------

@st.composite
def nms_case(draw: Any) -> tuple:
    n = draw(st.integers(0, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xy = rng.uniform(0, 50, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0, 30, (n, 2))], 1).astype(np.float32)
    scores = rng.random(n).astype(np.float32)
    cls = rng.integers(0, 3, n).astype(np.int32)
    return boxes, scores, cls


@SETTINGS
@given(case=nms_case(), boxes=st.one_of(st.none(), arrays()), scores=st.one_of(st.none(), arrays()),
       iou=fractions(), score_threshold=maybe(st.floats(0, 1)), use_cls=maybe(st.booleans()),
       max_det=maybe(st.integers(-1, 40)), top_k=st.one_of(st.none(), maybe(st.integers(1, 40))),
       plus_one=flags())
def test_nms(case: tuple, boxes: Any, scores: Any, iou: Any, score_threshold: Any, use_cls: Any, max_det: Any,
             top_k: Any, plus_one: Any) -> None:
    b, s, c = case
    b = b if boxes is None else boxes
    s = s if scores is None else scores
    cls = c if use_cls is True else (None if use_cls is False else use_cls)
    got = bounded(rknn_fast.nms, b, s, iou, score_threshold, cls, max_det, top_k, plus_one)
    if got is None:
        return
    want = ref.nms(b, s, iou, score_threshold, cls, max_det, top_k, plus_one=plus_one)
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(case=nms_case(), boxes=st.one_of(st.none(), arrays()), scores=st.one_of(st.none(), arrays()),
       iou=fractions(), score_threshold=maybe(st.floats(0, 1)), extra=st.one_of(st.none(), st.none(), arrays()),
       use_extra=st.booleans(), max_det=maybe(st.integers(-1, 40)))
def test_weighted_nms(case: tuple, boxes: Any, scores: Any, iou: Any, score_threshold: Any, extra: Any,
                      use_extra: bool, max_det: Any) -> None:
    b, s, _ = case
    b = b if boxes is None else boxes
    s = s if scores is None else scores
    if extra is None and use_extra and isinstance(b, np.ndarray) and b.ndim == 2:
        extra = np.ascontiguousarray(b[:, :2] * 0.5, dtype=np.float32)
    got = bounded(pp.weighted_nms, b, s, iou, score_threshold, extra, max_det)
    if got is None:
        return
    top, wb, we = got
    if len(s) == 0:  # (the reference does not take empty inputs)
        assert top.shape == (0,) and wb.shape == (0, 4)
        return
    if extra is not None and extra.shape[1] == 0:
        assert we.shape == (len(top), 0)
        extra = None
    # (the reference needs M >= 1: a zero column stands in for "no extra")
    rtop, rb, re_ = ref.weighted_nms(b, s, iou, extra=np.zeros((len(s), 1)) if extra is None else extra,
                                     score_threshold=score_threshold, max_detections=max_det)
    assert top.tolist() == rtop.tolist()
    np.testing.assert_allclose(wb, rb, rtol=1e-4, atol=1e-3)
    if extra is not None:
        np.testing.assert_allclose(we, re_, rtol=1e-4, atol=1e-3)


@SETTINGS
@given(image=st.one_of(arrays(), arrays(dtypes=[np.uint8], min_dims=2, max_dims=3, max_side=12)),
       size=maybe(st.tuples(st.integers(1, 24), st.integers(1, 24))),
       dst=st.one_of(st.none(), st.none(), st.none(), arrays()),
       convention=maybe(st.sampled_from(["ultralytics", "vendor"])), pad_value=maybe(st.integers(0, 255)),
       bgr_to_rgb=flags())
def test_letterbox(image: Any, size: Any, dst: Any, convention: Any, pad_value: Any, bgr_to_rgb: Any) -> None:
    got = bounded(rknn_fast.letterbox, image, size, dst=dst, convention=convention, pad_value=pad_value,
                  bgr_to_rgb=bgr_to_rgb)
    if got is None:
        return
    out, t = got
    assert isinstance(t, LetterboxTransform) and out.dtype == np.uint8
    plane = out[0] if out.ndim == 4 else out
    assert tuple(t.dst_shape) == plane.shape[:2] and tuple(t.src_shape) == image.shape[:2]
    if dst is None and convention == "ultralytics" and image.ndim == 3 and image.shape[2] == 3 and not bgr_to_rgb:
        want = ref.letterbox_ultralytics(np.ascontiguousarray(image), tuple(size), pad_value)[0]
        np.testing.assert_array_equal(out, want)


# --- detection decoders -----------------------------------------------------------------------

def grid_outputs(channels: tuple, dtype: Any, grids: tuple = (4, 2, 1)) -> list:
    rng = np.random.default_rng(sum(channels))
    outs = []
    for g in grids:
        for c in channels:
            a = rng.standard_normal((1, c, g, g)) * 3
            outs.append(np.clip(a * 20, -128, 127).astype(dtype) if np.dtype(dtype).kind in "iu" else a.astype(dtype))
    return outs


@st.composite
def output_lists(draw: Any, channels: tuple) -> Any:
    kind = draw(st.sampled_from(["plausible", "plausible", "arrays", "weird"]))
    if kind == "weird":
        return draw(scalars())
    if kind == "arrays":
        return draw(st.lists(arrays(), min_size=0, max_size=14))
    outs = grid_outputs(channels, draw(st.sampled_from(KERNEL_DTYPES + [np.float64])))
    if draw(st.booleans()) and outs:  # one output replaced by something arbitrary
        outs[draw(st.integers(0, len(outs) - 1))] = draw(anything())
    return outs


def qparam_lists(n: int) -> st.SearchStrategy[Any]:
    pair = st.tuples(maybe(st.floats(1e-3, 1)), maybe(st.integers(-128, 127)))
    return st.one_of(st.none(), st.lists(pair, min_size=n, max_size=n), st.just([(0.05, 0)] * n), scalars())


DECODE_KW = dict(conf=fractions(), iou=fractions(), max_detections=maybe(st.integers(0, 50)),
                 class_agnostic=flags(), top_k=st.one_of(st.none(), maybe(st.integers(1, 20))), plus_one=flags(),
                 run_nms=flags())


@SETTINGS
@given(outs=output_lists((64, 2, 1)), q=qparam_lists(9), scores=maybe(st.sampled_from(["auto", "prob", "logit"])),
       layout=maybe(st.sampled_from(["auto", "nchw"])), input_size=st.one_of(st.none(), maybe(st.just((32, 32)))),
       use_score_sum=flags(), **DECODE_KW)
def test_decode_yolov8(outs: Any, q: Any, scores: Any, layout: Any, input_size: Any, use_score_sum: Any,
                       **kw: Any) -> None:
    d = bounded(pp.decode_yolov8, outs, q, scores=scores, layout=layout, input_size=input_size,
                use_score_sum=use_score_sum, **kw)
    if d is not None:
        check_detections(d, kw["run_nms"] is True)


@SETTINGS
@given(outs=output_lists((21,)), q=qparam_lists(3), input_size=st.one_of(st.none(), maybe(st.just((32, 32)))),
       anchors=st.one_of(st.none(), st.none(), anything()), **DECODE_KW)
def test_decode_yolov5(outs: Any, q: Any, input_size: Any, anchors: Any, **kw: Any) -> None:
    d = bounded(pp.decode_yolov5, outs, q, input_size=input_size, anchors=anchors, **kw)
    if d is not None:
        check_detections(d, kw["run_nms"] is True)


@SETTINGS
@given(out=st.one_of(arrays(), arrays(dtypes=KERNEL_DTYPES, shape=(1, 7, 21)), anything()),
       info=st.one_of(st.none(), st.just((0.1, 0)), scalars()), transposed=st.one_of(st.none(), flags()),
       scores=maybe(st.sampled_from(["auto", "prob", "logit"])), **DECODE_KW)
def test_decode_yolov8_flat(out: Any, info: Any, transposed: Any, scores: Any, **kw: Any) -> None:
    d = bounded(pp.decode_yolov8_flat, out, info, transposed=transposed, scores=scores, **kw)
    if d is not None:
        check_detections(d, kw["run_nms"] is True)


@SETTINGS
@given(out=st.one_of(arrays(), arrays(dtypes=KERNEL_DTYPES, shape=(1, 21, 7)), anything()),
       info=st.one_of(st.none(), st.just((0.1, 0)), scalars()), grid_decode=flags(),
       strides=maybe(st.just((8, 16, 32))), input_size=st.one_of(st.none(), maybe(st.just((32, 32)))), **DECODE_KW)
def test_decode_yolox(out: Any, info: Any, grid_decode: Any, strides: Any, input_size: Any, **kw: Any) -> None:
    d = bounded(pp.decode_yolox, out, info, grid_decode=grid_decode, strides=strides, input_size=input_size, **kw)
    if d is not None:
        check_detections(d, kw["run_nms"] is True)


@SETTINGS
@given(outs=st.one_of(output_lists((64, 2, 1, 32)), output_lists((21, 96))), head=maybe(
    st.sampled_from(["auto", "yolov8", "yolov5", "flat", "yolox"])))
def test_decode_and_detect_head(outs: Any, head: Any) -> None:
    d = bounded(pp.decode, outs, None, head)
    if d is not None:
        check_detections(d)
    bounded(pp.detect_head, outs)


@st.composite
def seg_lists(draw: Any, v8: bool) -> Any:
    outs = draw(output_lists((64, 2, 1, 32) if v8 else (21, 96)))
    if isinstance(outs, list) and draw(st.booleans()):
        outs = outs + [draw(st.one_of(arrays(), st.just(np.zeros((1, 32, 8, 8), np.float32))))]
    return outs


@SETTINGS
@given(outs=seg_lists(True), q=qparam_lists(13), class_map=flags(),
       transform=st.one_of(st.none(), st.none(), anything()), input_size=st.one_of(st.none(), maybe(st.just((32, 32)))))
def test_decode_yolov8_seg(outs: Any, q: Any, class_map: Any, transform: Any, input_size: Any) -> None:
    got = bounded(pp.decode_yolov8_seg, outs, q, class_map=class_map, transform=transform, input_size=input_size)
    if got is not None:
        check_detections(got[0] if isinstance(got, tuple) else got)


@SETTINGS
@given(outs=seg_lists(False), q=qparam_lists(7), class_map=flags())
def test_decode_yolov5_seg(outs: Any, q: Any, class_map: Any) -> None:
    got = bounded(pp.decode_yolov5_seg, outs, q, class_map=class_map)
    if got is not None:
        check_detections(got[0] if isinstance(got, tuple) else got)


# --- masks -------------------------------------------------------------------------------------

@SETTINGS
@given(proto=st.one_of(arrays(), arrays(dtypes=[np.int8, np.float32], shape=(4, 6, 6))),
       n=st.integers(0, 4), coeffs=st.one_of(st.none(), arrays()), boxes=st.one_of(st.none(), arrays()),
       model_shape=st.one_of(st.none(), maybe(st.tuples(st.integers(1, 30), st.integers(1, 30)))),
       proto_zp=maybe(st.integers(-128, 127)), czp=st.one_of(st.none(), anything()),
       class_ids=st.one_of(st.none(), anything()), class_map=flags())
def test_instance_masks(proto: Any, n: int, coeffs: Any, boxes: Any, model_shape: Any, proto_zp: Any, czp: Any,
                        class_ids: Any, class_map: Any) -> None:
    k = proto.shape[0] if isinstance(proto, np.ndarray) and proto.ndim == 3 else 4
    rng = np.random.default_rng(n)
    c = coeffs if coeffs is not None else rng.standard_normal((n, k)).astype(np.float32)
    b = boxes if boxes is not None else (rng.uniform(0, 20, (n, 4)).astype(np.float32) + [0, 0, 5, 5]).astype(np.float32)
    got = bounded(pp.instance_masks, proto, c, b, model_shape=model_shape, proto_zero_point=proto_zp,
                  coefficient_zero_points=czp, class_ids=class_ids, class_map=class_map)
    if got is not None:
        masks = got[0] if isinstance(got, tuple) else got
        assert masks.dtype == np.bool_ and masks.ndim == 3 and masks.shape[0] == b.shape[0]


@SETTINGS
@given(tensors=st.one_of(st.lists(arrays(), max_size=3), st.just(grid_outputs((32,), np.int8)), scalars()),
       idx=st.one_of(arrays(), st.just(np.array([0, 5, 20])), scalars()),
       zps=st.one_of(st.none(), st.just([0, 0, 0]), scalars()), k=maybe(st.just(32)), a=maybe(st.just(1)))
def test_gather_coefficients(tensors: Any, idx: Any, zps: Any, k: Any, a: Any) -> None:
    got = bounded(pp.gather_coefficients, tensors, idx, zps, k=k, anchors_per_cell=a)
    if got is not None:
        assert got[0].shape == (np.asarray(idx).size, k)


# --- segmentation ------------------------------------------------------------------------------

@SETTINGS
@given(scores=st.one_of(arrays(), arrays(dtypes=KERNEL_DTYPES, shape=(1, 3, 5, 6))),
       layout=maybe(st.sampled_from(["NCHW", "NHWC", "NC1HWC2", "nchw"])),
       classes=st.one_of(st.none(), maybe(st.integers(1, 4))), width=st.one_of(st.none(), maybe(st.integers(1, 6))),
       image_shape=st.one_of(st.none(), maybe(st.tuples(st.integers(0, 20), st.integers(0, 20)))),
       mode=maybe(st.sampled_from(["nearest", "bilinear"])))
def test_argmax_and_segment(scores: Any, layout: Any, classes: Any, width: Any, image_shape: Any, mode: Any) -> None:
    got = bounded(pp.argmax_classes, scores, layout, classes=classes, width=width)
    if got is not None and isinstance(layout, str) and layout.upper() == "NCHW" and classes is None:
        chw = scores[0] if scores.ndim == 4 else scores
        np.testing.assert_array_equal(got, ref.ref_argmax(np.asarray(chw, np.float32)))
    seg = bounded(pp.segment, scores, layout, image_shape=image_shape, mode=mode, classes=classes, width=width)
    if seg is not None and image_shape is not None:
        assert seg.shape == tuple(image_shape)


@SETTINGS
@given(cmap=st.one_of(arrays(), arrays(dtypes=[np.uint8, np.uint16], shape=(5, 7))),
       transform=st.one_of(st.none(), anything()),
       image_shape=st.one_of(st.none(), maybe(st.tuples(st.integers(0, 20), st.integers(0, 20)))))
def test_resample_class_map(cmap: Any, transform: Any, image_shape: Any) -> None:
    got = bounded(pp.resample_class_map, cmap, transform, image_shape)
    if got is not None:
        assert got.shape == tuple(image_shape) and got.dtype == cmap.dtype


@SETTINGS
@given(image=st.one_of(arrays(), arrays(dtypes=[np.uint8], shape=(4, 5, 3))),
       cmap=st.one_of(arrays(), arrays(dtypes=[np.uint8, np.int64], shape=(4, 5))),
       palette=st.one_of(st.none(), anything()), alpha=maybe(st.floats(0, 1)), n=maybe(st.integers(0, 300)))
def test_overlay_and_palette(image: Any, cmap: Any, palette: Any, alpha: Any, n: Any) -> None:
    got = bounded(pp.overlay, image, cmap, palette, alpha)
    if got is not None:
        assert got.shape == image.shape and got.dtype == np.uint8
    pal = bounded(pp.default_palette, n)
    if pal is not None:
        assert pal.shape == (n, 3) and pal.dtype == np.uint8 and (n == 0 or not pal[0].any())


# --- classification, text, faces, pose ----------------------------------------------------------

@SETTINGS
@given(logits=st.one_of(arrays(), arrays(dtypes=KERNEL_DTYPES, shape=(1, 10))), k=maybe(st.integers(1, 12)),
       qparams=st.one_of(st.none(), st.just((0.1, 0)), scalars()), soft=flags())
def test_classify_and_softmax(logits: Any, k: Any, qparams: Any, soft: Any) -> None:
    got = bounded(pp.classify, logits, k, qparams=qparams, apply_softmax=soft)
    if got is not None:
        assert isinstance(got, Classification) and len(got.class_ids) == min(k, logits.size)
    sm = bounded(pp.softmax, logits)
    if sm is not None and logits.ndim >= 1 and logits.size and np.isfinite(sm).all():
        np.testing.assert_allclose(sm.sum(axis=-1), 1.0, rtol=1e-4)


@SETTINGS
@given(poly=st.one_of(arrays(), st.just(np.array([[0, 0], [10, 0], [10, 5], [0, 5]], np.float32))),
       ratio=maybe(st.floats(0, 5)))
def test_unclip_convex(poly: Any, ratio: Any) -> None:
    got = bounded(pp.unclip_convex, poly, ratio)
    if got is not None:
        assert got.dtype == np.float32 and np.isfinite(got).all()


@SETTINGS
@given(prob=st.one_of(arrays(), arrays(dtypes=KERNEL_DTYPES, shape=(1, 1, 12, 16))),
       image_shape=st.one_of(st.none(), maybe(st.tuples(st.integers(1, 40), st.integers(1, 40)))),
       thresh=maybe(st.floats(0, 1)), box_thresh=maybe(st.floats(0, 1)), ratio=maybe(st.floats(0, 3)),
       max_candidates=maybe(st.integers(0, 10)), min_size=maybe(st.floats(0, 5)), dil=flags(),
       mode=maybe(st.sampled_from(["fast", "slow"])), qparams=st.one_of(st.none(), st.just((0.01, -128)), scalars()))
def test_decode_dbnet(prob: Any, image_shape: Any, thresh: Any, box_thresh: Any, ratio: Any, max_candidates: Any,
                      min_size: Any, dil: Any, mode: Any, qparams: Any) -> None:
    got = bounded(pp.decode_dbnet, prob, image_shape=image_shape, thresh=thresh, box_thresh=box_thresh,
                  unclip_ratio=ratio, max_candidates=max_candidates, min_size=min_size, use_dilation=dil,
                  score_mode=mode, qparams=qparams)
    if got is not None:
        assert isinstance(got, TextBoxes) and got.quads.shape[1:] == (4, 2)


@SETTINGS
@given(shape=maybe(st.tuples(st.integers(1, 64), st.integers(1, 64))), size=maybe(st.integers(1, 64)),
       strides=maybe(st.lists(st.integers(1, 32), min_size=1, max_size=4)), offset=maybe(st.floats(0, 1)))
def test_priors_and_anchors(shape: Any, size: Any, strides: Any, offset: Any) -> None:
    pri = bounded(pp.retinaface_priors, shape)
    if pri is not None:
        np.testing.assert_allclose(pri, ref.ref_retinaface_priors(shape), rtol=1e-6)
    anc = bounded(pp.blazeface_anchors, size, strides, offset)
    if anc is not None:
        assert anc.ndim == 2 and anc.shape[1] == 4 and anc.dtype == np.float32


@SETTINGS
@given(p=st.sampled_from([4200, 0, 7]), dt=st.sampled_from(KERNEL_DTYPES + [np.float64]),
       loc=st.one_of(st.none(), arrays()), conf=fractions(), iou=fractions(),
       model_shape=st.one_of(st.none(), anything()), qparams=st.one_of(st.none(), anything()))
def test_decode_retinaface(p: int, dt: Any, loc: Any, conf: Any, iou: Any, model_shape: Any, qparams: Any) -> None:
    rng = np.random.default_rng(p)
    parts = [np.clip(rng.standard_normal((1, p, w)) * 30, -128, 127).astype(dt) for w in (4, 2, 10)]
    if loc is not None:
        parts[0] = loc
    got = bounded(pp.decode_retinaface, *parts, conf=conf, iou=iou, model_shape=model_shape, qparams=qparams)
    if got is not None:
        check_detections(got)


@SETTINGS
@given(a=st.sampled_from([896, 0, 5]), dt=st.sampled_from(KERNEL_DTYPES), reg=st.one_of(st.none(), arrays()),
       conf=fractions(), iou=fractions(), input_size=maybe(st.just(128)), anchors=st.one_of(st.none(), anything()))
def test_decode_blazeface(a: int, dt: Any, reg: Any, conf: Any, iou: Any, input_size: Any, anchors: Any) -> None:
    rng = np.random.default_rng(a)
    r = reg if reg is not None else rng.standard_normal((1, a, 16)).astype(dt)
    s = rng.standard_normal((1, a, 1)).astype(dt)
    got = bounded(pp.decode_blazeface, r, s, conf=conf, iou=iou, input_size=input_size, anchors=anchors,
                  qparams=[(0.1, 0), (0.1, 0)])
    if got is not None:
        check_detections(got)


@SETTINGS
@given(heads=output_lists((65,)), kp=st.one_of(arrays(), st.just(np.zeros((1, 17, 3, 21), np.float32))),
       layout=maybe(st.sampled_from(["NCHW", "NHWC"])), conf=fractions(), iou=fractions(),
       model_shape=st.one_of(st.none(), maybe(st.just((32, 32)))), reg_max=maybe(st.just(16)),
       qparams=st.one_of(st.none(), qparam_lists(3)))
def test_decode_yolov8_pose(heads: Any, kp: Any, layout: Any, conf: Any, iou: Any, model_shape: Any, reg_max: Any,
                            qparams: Any) -> None:
    got = bounded(pp.decode_yolov8_pose, heads, kp, layout=layout, conf=conf, iou=iou, model_shape=model_shape,
                  reg_max=reg_max, qparams=qparams)
    if got is not None:
        check_detections(got)


# --- runtime: inspect, Model.run, RKNNLite.inference ---------------------------------------------

@SETTINGS
@given(model=st.one_of(scalars(), arrays(), st.binary(max_size=256)))
def test_inspect(model: Any) -> None:
    if isinstance(model, str):
        model = model + ".no-such-file"  # paths are tested elsewhere; FileNotFoundError is theirs
        with pytest.raises(FileNotFoundError):
            rknn_fast.inspect(model)
        return
    got = bounded(rknn_fast.inspect, model)
    if got is not None:
        assert got.inputs is not None


@pytest.fixture(scope="module")
def tiny_model() -> Any:
    with rknn_fast.Model(str(TINY), runtime="emulator") as m:
        yield m


@pytest.fixture(scope="module")
def tiny_lite() -> Any:
    lite = rknn_fast.RKNNLite(strict=True, runtime="emulator")
    assert lite.load_rknn(str(TINY)) == 0 and lite.init_runtime() == 0
    yield lite
    lite.release()


def tiny_inputs() -> st.SearchStrategy[Any]:
    return st.one_of(arrays(), arrays(dtypes=KERNEL_DTYPES, shape=(1, 64, 64, 3)),
                     arrays(dtypes=KERNEL_DTYPES + [np.float64], shape=(64, 64, 3)),
                     arrays(dtypes=KERNEL_DTYPES, shape=(1, 3, 64, 64)), scalars())


@SETTINGS
@given(x=tiny_inputs(), extra=st.lists(anything(), max_size=1),
       data_format=st.one_of(st.none(), maybe(st.sampled_from(["nhwc", "nchw"]))), copy=flags(),
       pass_through=st.one_of(st.none(), st.none(), anything(), st.just([True]), st.just([False])))
def test_model_run(tiny_model: Any, x: Any, extra: list, data_format: Any, copy: Any, pass_through: Any) -> None:
    got = bounded(tiny_model.run, x, *extra, data_format=data_format, copy=copy, pass_through=pass_through)
    if got is not None:
        assert len(got) == len(tiny_model.outputs)
        for o, info in zip(got, tiny_model.outputs):
            assert tuple(o.shape) == tuple(info.shape)
    # the model still works afterwards
    tiny_model.run(np.zeros((1, 64, 64, 3), np.uint8))


@SETTINGS
@given(inputs=st.one_of(st.lists(tiny_inputs(), min_size=0, max_size=2), scalars(), arrays()),
       data_type=st.one_of(st.none(), scalars(), st.sampled_from(["uint8", "float32", "int8"])),
       data_format=st.one_of(st.none(), scalars(), st.sampled_from(["nhwc", "nchw"])),
       pass_through=st.one_of(st.none(), st.none(), anything(), st.just([0]), st.just([1])),
       frame_id=flags(), reuse=flags())
def test_rknnlite_inference(tiny_lite: Any, inputs: Any, data_type: Any, data_format: Any, pass_through: Any,
                            frame_id: Any, reuse: Any) -> None:
    got = bounded(tiny_lite.inference, inputs, data_type, data_format, pass_through, frame_id, reuse)
    if got is not None:
        outs = got[:-1] if frame_id is True else got
        assert len(outs) == 1 and outs[0].dtype == np.float32
    assert tiny_lite.inference([np.zeros((1, 64, 64, 3), np.uint8)]) is not None


def test_every_public_function_has_a_property_test() -> None:
    """New public functions must be added here (and get a test above)."""
    covered: Dict[str, set] = {
        "rknn_fast": {"inspect", "letterbox", "nms"},
        "rknn_fast.convert": {"fp16_to_fp32", "dequantize", "from_nc1hwc2"},
        "rknn_fast.postprocess": {
            "decode", "decode_yolov5", "decode_yolov8", "decode_yolov8_flat", "decode_yolox", "detect_head", "nms",
            "weighted_nms",
            "argmax_classes", "blazeface_anchors", "classify", "decode_blazeface", "decode_dbnet",
            "decode_yolov5_seg", "decode_yolov8_seg", "decode_retinaface", "decode_yolov8_pose", "default_palette",
            "gather_coefficients", "instance_masks", "overlay", "resample_class_map", "retinaface_priors", "segment",
            "softmax", "unclip_convex"},
    }
    import inspect as pyinspect
    import importlib
    for module_name, names in covered.items():
        module = importlib.import_module(module_name)
        listed = getattr(module, "__all__", None)
        public = {n for n in (listed or dir(module))
                  if not n.startswith("_") and pyinspect.isfunction(getattr(module, n, None))
                  and (listed is not None or getattr(module, n).__module__ == module_name)}
        assert public - names == set(), f"{module_name}: no property test for {sorted(public - names)}"


def test_bounded_rejects_other_exceptions() -> None:
    """The harness itself: an IndexError, a slow call or a big allocation fails the test."""
    def boom() -> None:
        raise IndexError("x")
    with pytest.raises(IndexError):
        bounded(boom)
    with pytest.raises(AssertionError, match="allocated"):
        bounded(lambda: np.ones(MEMORY_BOUND + (1 << 20), np.uint8))
    assert bounded(lambda: math.sqrt(4)) == 2.0
