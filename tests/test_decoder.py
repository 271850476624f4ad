"""Prepared decoders (rknn_fast.postprocess.Decoder): same detections as the one-shot decode_*
functions (and so as the numpy references they are tested against), plans refuse arrays that
differ from what they were planned for, and every SIMD path of the int8 scans gives the same
bits as the scalar one."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import reference as ref
import rknn_fast
from rknn_fast import TensorInfo, _core
from rknn_fast.golden import read_golden
from rknn_fast.postprocess import (
    Decoder,
    decode_yolov5,
    decode_yolov8,
    decode_yolov8_flat,
    decode_yolox,
)

F32 = np.float32
FIELDS = ("xyxy", "scores", "class_ids", "anchor_index")


def load(models_dir, name):
    meta = json.loads((models_dir / f"{name}.json").read_text())
    infos = [TensorInfo(name=o["name"], index=o["index"], shape=tuple(o["shape"]), layout="NCHW",
                        dtype=o["dtype"], scale=float(o["scale"]), zero_point=int(o["zero_point"]))
             for o in meta["outputs"]]
    outs = read_golden(models_dir / f"{name}.golden")[0][1]
    raw = []
    for o, i in zip(outs, infos):
        if i.dtype == "int8":
            raw.append(np.round(o.astype(np.float64) / i.scale + i.zero_point).astype(np.int8))
        else:
            raw.append(o.astype(np.float16))
    return meta, raw, infos


def same(a, b):
    assert len(a) == len(b)
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype, f
        np.testing.assert_array_equal(x, y, err_msg=f)


def synthetic_v8(seed=0, nc=80, size=640, hot=33, per=3):
    rng = np.random.default_rng(seed)
    outs, qps = [], []
    for s in (8, 16, 32):
        h = w = size // s
        box = rng.normal(0, 3, (1, 64, h, w)).astype(F32)
        cls = rng.uniform(0, 0.01, (1, nc, h, w)).astype(F32)
        for _ in range(hot):
            cls[0, rng.integers(nc), rng.integers(h), rng.integers(w)] = rng.uniform(0.1, 0.99)
        ssum = np.clip(cls.sum(axis=1, keepdims=True), 0, 1)
        for arr, q in ((box, (0.08, 3)), (cls, (1 / 255, -128)), (ssum, (1 / 255, -128)))[:per]:
            outs.append(ref.quantize(arr, *q))
            qps.append(q)
    return outs, qps


# ---------------------------------------------------------------------------- equality with decode_*


@pytest.mark.parametrize("name", ["yolov8_rk3588_i8", "yolov8_rk3566_i8", "yolov8_rk3588_fp16"])
@pytest.mark.parametrize("layout", ["nchw", "nc1hwc2"])
def test_yolov8_fixture_same_as_decode(models_dir, name, layout):
    meta, raw, infos = load(models_dir, name)
    hw = tuple(meta["input_hw"])
    if layout == "nc1hwc2":
        c2 = 16 if raw[0].dtype == np.int8 else 8
        raw = [ref.to_nc1hwc2(r, c2, 127 if r.dtype == np.int8 else 1e4) for r in raw]
    want = decode_yolov8(raw, infos, conf=0.25, iou=0.45, input_size=hw)
    assert len(want) > 0
    dec = Decoder(infos, conf=0.25, iou=0.45, input_size=hw)
    assert dec.head == "yolov8"
    for _ in range(3):  # first call (plans on these arrays when they are native) and later ones
        same(dec(raw), want)
    assert [s for _, s in dec.planned] == [r.shape for r in raw]


def test_transform_and_options_same_as_decode(models_dir):
    meta, raw, infos = load(models_dir, "yolov8_rk3588_i8")
    hw = tuple(meta["input_hw"])
    img = np.zeros((300, 517, 3), np.uint8)
    _, t = rknn_fast.letterbox(img, hw)
    for kw in (dict(), dict(plus_one=True, class_agnostic=True), dict(run_nms=False), dict(top_k=5, max_detections=3),
               dict(use_score_sum=False, conf=0.3), dict(scores="logit", conf=0.6)):
        want = decode_yolov8(raw, infos, input_size=hw, transform=t, names=["x"] * 80, **kw)
        got = Decoder(infos, names=["x"] * 80, input_size=hw, **kw)(raw, t)
        same(got, want)
        assert got.names == want.names


def test_yolov5_yolox_flat_same_as_decode(models_dir):
    meta, raw, infos = load(models_dir, "yolov5_rk3588_i8")
    hw = tuple(meta["input_hw"])
    want = decode_yolov5(raw, infos, conf=0.25, input_size=hw)
    assert len(want) > 0
    same(Decoder(infos, conf=0.25, input_size=hw)(raw), want)
    nat = [ref.to_nc1hwc2(r, 16, 127) for r in raw]
    same(Decoder(infos, conf=0.25, input_size=hw)(nat), want)
    same(Decoder([(i.scale, i.zero_point) for i in infos], "yolov5", conf=0.25, input_size=hw)(raw), want)

    _, raw, infos = load(models_dir, "ddddocr_det_rk3588_i8")
    want = decode_yolox(raw[0], infos[0], conf=0.1, iou=0.45)
    assert len(want) >= 5
    dec = Decoder(infos, conf=0.1, iou=0.45)
    assert dec.head == "yolox"
    same(dec(raw), want)

    rng = np.random.default_rng(4)
    flat = np.zeros((1, 84, 2100), F32)
    flat[0, :4] = rng.uniform(0, 320, (4, 2100))
    flat[0, 4:] = rng.uniform(0, 0.3, (80, 2100))
    f8 = flat.copy()
    f8[0, :4] /= 320  # int8 flat heads share one scale: boxes in [0, 1] here so that scores survive
    for arr, info in ((flat, None), (flat.astype(np.float16), None), (ref.quantize(f8, 1 / 255, -128), (1 / 255, -128))):
        want = decode_yolov8_flat(arr, info, conf=0.25)
        assert len(want) > 0
        same(Decoder([info], "flat", conf=0.25)([arr]), want)
        same(Decoder([info], conf=0.25)([arr]), want)  # head told by the first call's shapes
    tr = np.ascontiguousarray(flat.transpose(0, 2, 1))
    same(Decoder(None, "flat", conf=0.25)([tr]), decode_yolov8_flat(tr, conf=0.25))


def test_six_output_head_and_auto_scores():
    outs, qps = synthetic_v8(per=2)
    want = decode_yolov8(outs, qps, conf=0.25)
    assert len(want) > 0
    same(Decoder(qps, "yolov8", conf=0.25)(outs), want)
    # Logits: "auto" looks at the values at the first call (it cannot from TensorInfos alone).
    logit = [o if i % 2 == 0 else ref.quantize((o.astype(F32) + 128) / 255 * 12 - 8, 0.05, 0) for i, o in enumerate(outs)]
    q2 = [q if i % 2 == 0 else (0.05, 0) for i, q in enumerate(qps)]
    infos = [TensorInfo(name=str(i), index=i, shape=o.shape, layout="NCHW", dtype="int8", scale=q[0], zero_point=q[1])
             for i, (o, q) in enumerate(zip(logit, q2))]
    want = decode_yolov8(logit, infos, conf=0.25)
    assert len(want) > 0
    same(Decoder(infos, conf=0.25)(logit), want)


# ---------------------------------------------------------------------------- plan mismatches


def test_plan_refuses_other_arrays(models_dir):
    _, raw, infos = load(models_dir, "yolov8_rk3588_i8")
    dec = Decoder(infos, conf=0.25)
    dec(raw)
    for i, bad, what in (
        (1, raw[1].view(np.uint8), "uint8"),
        (1, raw[1].astype(F32), "float32"),
        (0, raw[0][:, :32].copy(), r"\(1, 32, 20, 20\)"),
        (4, np.asfortranarray(raw[4]), "non-contiguous"),
        (3, raw[3][..., ::-1], "non-contiguous"),
        (2, raw[2].reshape(1, 1, 400), r"\(1, 1, 400\)"),
    ):
        outs = list(raw)
        outs[i] = bad
        with pytest.raises(ValueError, match=f"output {i}: expected int8 .*{what}"):
            dec(outs)
    with pytest.raises(ValueError, match="expected 9 outputs as planned, got 8"):
        dec(raw[:8])
    with pytest.raises(TypeError, match="output 5: expected a numpy array"):
        dec(raw[:5] + [raw[5].tolist()] + raw[6:])
    with pytest.raises(TypeError, match="list or tuple"):
        dec(iter(raw))
    with pytest.raises(TypeError, match="LetterboxTransform"):
        dec(raw, transform=(0, 0, 1))
    same(dec(tuple(raw)), decode_yolov8(raw, infos, conf=0.25))  # still fine afterwards
    _, raw, infos = load(models_dir, "yolov8_rk3588_fp16")
    dec = Decoder(infos, conf=0.25)
    dec(raw)
    swapped = [raw[0].astype(raw[0].dtype.newbyteorder(">"))] + raw[1:]
    with pytest.raises(ValueError, match="output 0: expected float16 .*>f2"):
        dec(swapped)


def test_plan_is_fixed_by_the_first_call(models_dir):
    _, raw, infos = load(models_dir, "yolov8_rk3588_i8")
    nat = [ref.to_nc1hwc2(r, 16, 127) for r in raw]
    dec = Decoder(infos, conf=0.25)
    dec(nat)  # another layout than the TensorInfos: planned on these arrays
    with pytest.raises(ValueError, match="as planned"):
        dec(raw)  # ... and from then on only these
    pairs = Decoder([(i.scale, i.zero_point) for i in infos], conf=0.25)
    assert pairs.planned == []
    with pytest.raises(ValueError, match="expected int8 as its TensorInfo says, got uint8"):
        Decoder(infos, conf=0.25)([r.view(np.uint8) for r in raw])


def test_decoder_construction_errors(models_dir):
    _, raw, infos = load(models_dir, "yolov8_rk3588_i8")
    with pytest.raises(ValueError, match="head"):
        Decoder(infos, "ssd")
    with pytest.raises(TypeError, match="unexpected keyword"):
        Decoder(infos, conf=0.25, confidence=0.3)
    with pytest.raises(TypeError, match="per call"):
        Decoder(infos, transform=None)
    with pytest.raises(ValueError, match="expected 90 channels|90"):
        Decoder(infos, num_classes=90)  # checked against the TensorInfo shapes at construction
    with pytest.raises(ValueError, match="conf"):
        Decoder(infos, conf=1.5)
    with pytest.raises(ValueError, match="one output for head 'flat'"):
        Decoder(infos, "flat")


def test_decode_functions_check_dtype_against_infos(models_dir):
    """A decoder given int8 TensorInfos refuses uint8 or float32 arrays (issue: they decoded to
    14, 107 or 9 detections by dtype)."""
    _, raw, infos = load(models_dir, "yolov8_rk3588_i8")
    assert len(decode_yolov8(raw, infos)) == 14
    for conv in (lambda r: r.view(np.uint8), lambda r: r.astype(F32)):
        with pytest.raises(ValueError, match="as its TensorInfo says"):
            decode_yolov8([conv(r) for r in raw], infos)
        with pytest.raises(ValueError, match="as its TensorInfo says"):
            rknn_fast.postprocess.decode([conv(r) for r in raw], infos)
    _, raw, infos = load(models_dir, "yolov5_rk3588_i8")
    with pytest.raises(ValueError, match="as its TensorInfo says"):
        decode_yolov5([r.astype(F32) for r in raw], infos)
    _, raw, infos = load(models_dir, "ddddocr_det_rk3588_i8")
    with pytest.raises(ValueError, match="as its TensorInfo says"):
        decode_yolox(raw[0].view(np.uint8), infos[0])
    # (scale, zero_point) pairs say nothing about the dtype: uint8 stays accepted with them.
    decode_yolox(raw[0].view(np.uint8), (infos[0].scale, infos[0].zero_point))


# ---------------------------------------------------------------------------- SIMD paths


@pytest.fixture
def restore_simd():
    level = _core.simd_level()
    yield
    assert _core.set_simd_level(level)


def test_simd_paths_bit_identical(restore_simd):
    levels = _core.simd_supported()
    assert "scalar" in levels and _core.simd_level() in levels
    cases = []
    for per in (3, 2):
        outs, qps = synthetic_v8(seed=per, per=per, size=320, hot=40)
        cases.append(("yolov8", outs, qps, {}))
        cases.append(("yolov8", [ref.to_nc1hwc2(o, 16, 127) for o in outs], qps,
                      dict(num_classes=80, reg_max=16)))
    dense, qps = synthetic_v8(seed=9, size=160, hot=400)  # many cells pass score_sum: planar path
    cases.append(("yolov8", dense, qps, {}))
    rng = np.random.default_rng(5)
    v5 = [ref.quantize(rng.uniform(0, 1, (1, 255, s, s)).astype(F32) ** 6, 1 / 255, -128) for s in (40, 20, 10)]
    cases.append(("yolov5", v5, [(1 / 255, -128)] * 3, dict(input_size=(320, 320))))
    # odd sizes: every vector tail length, thresholds at the int8 range ends
    flat = ref.quantize(rng.uniform(0, 1, (1, 9, 1000 + 37)).astype(F32), 1 / 255, -128)
    cases.append(("flat", [flat], [(1 / 255, -128)], {}))
    results = {}
    for level in levels:
        assert _core.set_simd_level(level)
        assert _core.simd_level() == level
        for k, (head, outs, qps, kw) in enumerate(cases):
            for conf in (0.0, 0.25, 0.5, 1.0):
                det = Decoder(qps, head, conf=conf, run_nms=False, **kw)(outs)
                results.setdefault((k, conf), []).append((level, det))
    for key, per_level in results.items():
        _, base = per_level[0]
        for level, det in per_level[1:]:
            for f in FIELDS:
                assert np.array_equal(getattr(det, f), getattr(base, f)), (key, level, f)
    assert any(len(d) > 0 for v in results.values() for _, d in v)
    with pytest.raises(ValueError):
        _core.set_simd_level("mmx")


def test_simd_env_var_selects_path():
    code = "from rknn_fast import _core; print(_core.simd_level())"
    env = dict(os.environ, RKNN_FAST_SIMD="scalar")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "scalar"


def test_lut_dfl_matches_expf_reference():
    """The DFL exponentials of int8 box logits come from a 256-entry table per tensor
    (exp(-k * scale), k = max - q, computed in double and rounded once): each weight is the
    correctly rounded float of the exact value, where expf(deq(q) - deq(max)) rounds twice. Boxes
    agree with a float64 reference within 1e-3 px (documented tolerance)."""
    outs, qps = synthetic_v8(seed=11, size=320, hot=60)
    det = Decoder(qps, "yolov8", conf=0.25, run_nms=False)(outs)
    assert len(det) > 20
    for k, anchor in enumerate(det.anchor_index):
        b, cell = 0, int(anchor)
        while cell >= outs[3 * b].shape[2] * outs[3 * b].shape[3]:
            cell -= outs[3 * b].shape[2] * outs[3 * b].shape[3]
            b += 1
        h, w = outs[3 * b].shape[2:]
        y, x = divmod(cell, w)
        logits = (outs[3 * b][0, :, y, x].astype(np.float64) - qps[3 * b][1]) * qps[3 * b][0]
        d = []
        for side in range(4):
            v = logits[side * 16:(side + 1) * 16]
            e = np.exp(v - v.max())
            d.append(float((e * np.arange(16)).sum() / e.sum()))
        s = 320 / w
        want = [(x + 0.5 - d[0]) * s, (y + 0.5 - d[1]) * s, (x + 0.5 + d[2]) * s, (y + 0.5 + d[3]) * s]
        np.testing.assert_allclose(det.xyxy[k], want, rtol=0, atol=1e-3)


def test_detector_uses_prepared_decoder(models_dir, data_dir):
    import cv2

    frame = cv2.imread(str(data_dir / "images" / "astronaut.png"))
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator") as det:
        first = det(frame)
        assert det._decoder.planned  # planned on the zero-copy (native) outputs
        outs, t = det.infer(frame)
        want = decode_yolov8(outs, det.model.outputs, conf=det.conf, iou=det.iou, input_size=det.input_size,
                             transform=t)
        same(first, want)
        same(det(frame), want)


@pytest.mark.parametrize("name, image", [("yolov8_seg_rk3588_i8", "coffee.png")])
def test_instance_segmenter_uses_prepared_decoder(models_dir, data_dir, name, image):
    import cv2

    from rknn_fast.postprocess import decode_yolov8_seg

    frame = cv2.imread(str(data_dir / "images" / image))
    with rknn_fast.InstanceSegmenter(models_dir / f"{name}.rknn", runtime="emulator") as seg:
        got, cmap = seg(frame, class_map=True)
        assert seg._decoder.planned and len(got) > 0
        outs, t = seg.infer(frame)
        want, want_map = decode_yolov8_seg(outs, seg.model.outputs, conf=seg.conf, iou=seg.iou, transform=t,
                                           input_size=seg.input_size, class_map=True)
        same(got, want)
        np.testing.assert_array_equal(got.masks, want.masks)
        np.testing.assert_array_equal(cmap, want_map)
