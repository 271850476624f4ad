from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import rknn_fast
import reference as ref
from reference import assert_detections_match as assert_same
from rknn_fast import TensorInfo
from rknn_fast.postprocess import (
    YOLOV5_ANCHORS, decode, decode_yolov5, decode_yolov8, decode_yolov8_flat, decode_yolox,
    detect_head,
)

F32 = np.float32
CLS_Q = (1 / 255, -128)  # probabilities in [0, 1]
BOX_Q = (0.08, 3)  # DFL logits


# ---------------------------------------------------------------------------------------
# YOLOv8 split head


def make_v8(seed, nc=80, input_hw=(128, 160), n_hot=12, logits=False, with_sum=True):
    """Float32 NCHW outputs: background scores tiny, n_hot cells with a strong class."""
    rng = np.random.default_rng(seed)
    outs = []
    for s in (8, 16, 32):
        h, w = input_hw[0] // s, input_hw[1] // s
        box = rng.normal(0, 3, (1, 64, h, w)).astype(F32)
        if logits:
            cls = rng.normal(-9, 1.5, (1, nc, h, w)).astype(F32)
        else:
            cls = rng.uniform(0, 0.002, (1, nc, h, w)).astype(F32)
        for _ in range(n_hot):
            y, x, c = rng.integers(h), rng.integers(w), rng.integers(nc)
            cls[0, c, y, x] = rng.uniform(-1, 4) if logits else rng.uniform(0.1, 0.99)
        outs += [box, cls]
        if with_sum:
            p = ref.sigmoid(cls) if logits else cls
            outs.append(np.clip(p.sum(axis=1, keepdims=True), 0, 1).astype(F32))
    return outs


def v8_reference(outs, conf, input_hw, logits=False, use_sum=True, iou=0.45, max_det=300,
                 agnostic=False, nms=True):
    per = len(outs) // 3
    boxes = [outs[i * per] for i in range(3)]
    classes = [outs[i * per + 1] for i in range(3)]
    sums = [outs[i * per + 2] for i in range(3)] if per == 3 else None
    c = ref.yolov8_candidates(boxes, classes, sums, conf, input_hw, logits, use_sum)
    return ref.detect(c, iou, max_det, agnostic) if nms else c


def quantize_v8(outs):
    per = len(outs) // 3
    qs, qp = [], []
    for i, o in enumerate(outs):
        sc, zp = BOX_Q if i % per == 0 else CLS_Q
        qs.append(ref.quantize(o, sc, zp))
        qp.append((sc, zp))
    return qs, qp


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int8"])
@pytest.mark.parametrize("layout", ["nchw", "nc1hwc2"])
def test_yolov8_matches_reference(seed, dtype, layout):
    hw = (128, 160)
    outs = make_v8(seed, input_hw=hw)
    if dtype == "int8":
        raw, qp = quantize_v8(outs)
    else:
        raw, qp = [o.astype(dtype) for o in outs], None
    deq = [ref.dequantize(r, *(qp[i] if qp else (1, 0))) for i, r in enumerate(raw)]
    want = v8_reference(deq, 0.3, hw)
    assert len(want[1]) > 5
    if layout == "nc1hwc2":
        c2 = 16 if dtype == "int8" else 8
        fill = 127 if dtype == "int8" else 1e4  # padding lanes must never be read
        infos = [TensorInfo(name=f"o{i}", index=i, shape=o.shape, layout="NCHW", dtype=dtype,
                            scale=(qp[i][0] if qp else 1.0), zero_point=(qp[i][1] if qp else 0))
                 for i, o in enumerate(raw)]
        raw = [ref.to_nc1hwc2(r, c2 if r.shape[1] > 1 else 8, fill) for r in raw]
        det = decode_yolov8(raw, infos, conf=0.3, input_size=hw, layout="nc1hwc2")
    else:
        det = decode_yolov8(raw, qp, conf=0.3, input_size=hw)
    assert_same(det, want)


def test_yolov8_padded_c2_with_num_classes():
    outs = make_v8(7)
    raw = [ref.to_nc1hwc2(o, 32, 1e4) for o in outs]  # 80 classes in 3 x 32 lanes
    det = decode_yolov8(raw, conf=0.3, input_size=(128, 160), num_classes=80, reg_max=16)
    assert_same(det, v8_reference(outs, 0.3, (128, 160)))


def test_yolov8_int8_threshold_exactly_at_the_limit():
    outs = make_v8(3, n_hot=0)
    raw, qp = quantize_v8(outs)
    q = 40  # a class value exactly at conf after dequantization
    conf = float(ref.dequantize(np.array([q], np.int8), *CLS_Q)[0])
    raw[1][0, 5, 2, 3] = q
    raw[2][0, 0, 2, 3] = q  # score_sum exactly at the threshold too
    det = decode_yolov8(raw, qp, conf=conf, input_size=(128, 160))
    assert det.anchor_index.tolist() == [2 * 20 + 3] and det.class_ids.tolist() == [5]
    assert det.scores[0] == F32(conf)
    above = float(np.nextafter(F32(conf), F32(1)))
    assert len(decode_yolov8(raw, qp, conf=above, input_size=(128, 160))) == 0
    # score_sum one LSB below the threshold skips the cell (the spec's early exit).
    raw[2][0, 0, 2, 3] = q - 1
    assert len(decode_yolov8(raw, qp, conf=conf, input_size=(128, 160))) == 0
    assert len(decode_yolov8(raw, qp, conf=conf, input_size=(128, 160), use_score_sum=False)) == 1


def test_yolov8_float_threshold_exactly_at_the_limit():
    outs = make_v8(4, n_hot=0)
    outs[4][0, 7, 1, 1] = F32(0.5)
    outs[5][0, 0, 1, 1] = F32(0.6)
    det = decode_yolov8(outs, conf=0.5, input_size=(128, 160))
    assert det.anchor_index.tolist() == [320 + 1 * 10 + 1] and det.scores.tolist() == [0.5]
    assert len(decode_yolov8(outs, conf=float(np.nextafter(F32(0.5), F32(1))), input_size=(128, 160))) == 0


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8"])
@pytest.mark.parametrize("c2", [0, 16, 32])
def test_yolov8_six_outputs_logits(dtype, c2):
    hw = (128, 160)
    outs = make_v8(5, logits=True, with_sum=False)
    qp = None
    if dtype == "int8":
        qp = [BOX_Q if i % 2 == 0 else (0.06, 60) for i in range(6)]
        outs = [ref.quantize(o, *q) for o, q in zip(outs, qp)]
    elif dtype == "float16":
        outs = [o.astype(np.float16) for o in outs]
    deq = [ref.dequantize(o, *(qp[i] if qp else (1, 0))) for i, o in enumerate(outs)]
    want = v8_reference(deq, 0.4, hw, logits=True)
    assert len(want[1]) > 3
    if c2:  # native layout; 80 classes in 3 x 32 lanes leaves 16 padding lanes
        outs = [ref.to_nc1hwc2(o, c2, 127 if dtype == "int8" else 1e4) for o in outs]
        qp = [TensorInfo(name="o", index=i, shape=d.shape, layout="NCHW", dtype=dtype,
                         scale=(qp[i][0] if qp else 1.0), zero_point=(qp[i][1] if qp else 0))
              for i, d in enumerate(deq)]
    det = decode_yolov8(outs, qp, conf=0.4, input_size=hw, scores="logit" if c2 else "auto")
    assert_same(det, want)
    np.testing.assert_array_equal(
        decode_yolov8(outs, qp, conf=0.4, input_size=hw, scores="logit").anchor_index, want[3])


def test_yolov8_candidates_without_nms_and_agnostic():
    hw = (128, 160)
    outs = make_v8(6, n_hot=40, nc=3)
    cand = decode_yolov8(outs, conf=0.2, input_size=hw, run_nms=False)
    assert_same(cand, v8_reference(outs, 0.2, hw, nms=False))
    det = decode_yolov8(outs, conf=0.2, input_size=hw, class_agnostic=True, iou=0.3, max_detections=5)
    assert_same(det, v8_reference(outs, 0.2, hw, iou=0.3, max_det=5, agnostic=True))


def test_yolov8_full_size_640():
    outs = make_v8(8, input_hw=(640, 640), n_hot=200)
    raw, qp = quantize_v8(outs)
    deq = [ref.dequantize(r, *q) for r, q in zip(raw, qp)]
    det = decode_yolov8(raw, qp)  # input size inferred: 8 x 80
    assert_same(det, v8_reference(deq, 0.25, (640, 640)))


def test_yolov8_empty_and_one_box():
    outs = make_v8(9, n_hot=0)
    det = decode_yolov8(outs, conf=0.25, input_size=(128, 160))
    assert len(det) == 0 and det.xyxy.shape == (0, 4) and det.anchor_index.shape == (0,)
    outs[7][0, 11, 3, 2] = F32(0.9)
    outs[8][0, 0, 3, 2] = F32(0.9)
    det = decode_yolov8(outs, conf=0.25, input_size=(128, 160))
    assert det.anchor_index.tolist() == [320 + 80 + 3 * 5 + 2] and det.class_ids.tolist() == [11]
    assert_same(det, v8_reference(outs, 0.25, (128, 160)))


def test_yolov8_nan_scores_ignored_and_nan_boxes_dropped():
    outs = make_v8(10, n_hot=0)
    outs[1][0, :, 0, 0] = np.nan
    outs[1][0, 3, 0, 1] = np.nan
    outs[1][0, 4, 0, 1] = F32(0.8)  # NaN in another class does not hide this one
    outs[1][0, 9, 0, 2] = F32(0.8)
    outs[0][0, 5, 0, 2] = np.nan  # DFL of that cell becomes NaN -> dropped
    outs[2][0, 0, :, :3] = 1.0
    det = decode_yolov8(outs, conf=0.25, input_size=(128, 160))
    assert det.anchor_index.tolist() == [1] and det.class_ids.tolist() == [4]
    assert_same(det, v8_reference(outs, 0.25, (128, 160)))


def test_yolov8_with_letterbox_transform():
    outs = make_v8(11, n_hot=30)
    t = rknn_fast.LetterboxTransform(src_shape=(90, 200), dst_shape=(128, 160), scale=0.8,
                                     pad_x=0.0, pad_y=28.0)
    det = decode_yolov8(outs, conf=0.3, input_size=(128, 160), transform=t,
                        names=[f"c{i}" for i in range(80)])
    b, s, c, a = v8_reference(outs, 0.3, (128, 160))
    np.testing.assert_allclose(det.xyxy, ref.unletterbox(b, 0.8, 0, 28, (90, 200)), atol=3e-3)
    assert (det.xyxy[:, 0::2] <= 200).all() and (det.xyxy[:, 1::2] <= 90).all()
    assert det.label(0) == f"c{c[0]}"


def test_yolov8_bad_inputs():
    outs = make_v8(12)
    raw, qp = quantize_v8(outs)
    with pytest.raises(ValueError, match="6 or 9"):
        decode_yolov8(outs[:8])
    with pytest.raises(ValueError, match="TensorInfo or a \\(scale, zero_point\\)"):
        decode_yolov8(raw)
    with pytest.raises(TypeError, match="dtype int8, uint8, float16 or float32, got float64"):
        decode_yolov8([o.astype(np.float64) for o in outs])
    with pytest.raises(TypeError, match="int16"):
        decode_yolov8([o.astype(np.int16) for o in raw], qp)
    bad = list(outs)
    bad[1] = np.asfortranarray(outs[1][0])[None]
    with pytest.raises(ValueError, match="C-contiguous"):
        decode_yolov8(bad)
    bad = list(outs)
    bad[4] = outs[4][:, :, :2].copy()
    with pytest.raises(ValueError, match="same grid"):
        decode_yolov8(bad)
    bad = list(outs)
    bad[4] = outs[4][:, :70].copy()
    with pytest.raises(ValueError, match="80 classes"):
        decode_yolov8(bad)
    with pytest.raises(ValueError, match="batch 1"):
        decode_yolov8([np.concatenate([o, o]) for o in outs])
    with pytest.raises(ValueError, match="logical channel count"):
        decode_yolov8([ref.to_nc1hwc2(o, 16) for o in outs])
    with pytest.raises(ValueError, match="NCHW"):
        decode_yolov8([ref.to_nc1hwc2(o, 16) for o in outs], layout="nchw")
    with pytest.raises(ValueError, match="conf"):
        decode_yolov8(outs, conf=1.5)
    with pytest.raises(ValueError, match="positive finite scale"):
        decode_yolov8(raw, [(0.0, 0)] * 9)
    with pytest.raises(ValueError, match="scores"):
        decode_yolov8(outs, scores="sigmoid")
    with pytest.raises(ValueError, match="9 TensorInfo"):
        decode_yolov8(raw, qp[:3])


def test_yolov8_threads():
    data = [quantize_v8(make_v8(s, input_hw=(640, 640), n_hot=100)) for s in range(6)]
    serial = [decode_yolov8(r, q) for r, q in data]
    with ThreadPoolExecutor(3) as ex:
        parallel = list(ex.map(lambda d: decode_yolov8(*d), data))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a.xyxy, b.xyxy)
        np.testing.assert_array_equal(a.anchor_index, b.anchor_index)


# ---------------------------------------------------------------------------------------
# Ultralytics flat head


def make_flat(seed, n=8400, nc=80, n_hot=50):
    rng = np.random.default_rng(seed)
    out = np.empty((1, 4 + nc, n), F32)
    out[0, 0:2] = rng.uniform(0, 640, (2, n))
    out[0, 2:4] = rng.uniform(4, 200, (2, n))
    out[0, 4:] = rng.uniform(0, 0.05, (nc, n))
    for _ in range(n_hot):
        out[0, 4 + rng.integers(nc), rng.integers(n)] = rng.uniform(0.1, 1.0)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_flat_matches_reference(dtype):
    out = make_flat(0).astype(dtype)
    want = ref.detect(ref.flat_candidates(out.astype(F32), 0.25), 0.45)
    assert len(want[1]) > 10
    assert_same(decode_yolov8_flat(out, conf=0.25), want, atol=0.05)
    assert detect_head([out]) == "flat"
    assert_same(decode([out], conf=0.25), want, atol=0.05)


def test_flat_int8_and_transposed_and_10k():
    rng = np.random.default_rng(1)
    out = make_flat(1, n=10000, nc=3, n_hot=0)
    out[0, 0:4] = rng.uniform(0, 1.2, (4, 10000))
    out[0, 4:] = rng.uniform(0, 1.0, (3, 10000))
    q = ref.quantize(out, 0.01, 0)
    deq = ref.dequantize(q, 0.01, 0)
    want = ref.detect(ref.flat_candidates(deq, 0.5), 0.45, max_detections=0)
    assert len(want[1]) > 100
    det = decode_yolov8_flat(q, (0.01, 0), conf=0.5, max_detections=0)
    assert_same(det, want)
    qt = np.ascontiguousarray(q.transpose(0, 2, 1))  # (1, N, 4+nc)
    assert_same(decode_yolov8_flat(qt, (0.01, 0), conf=0.5, max_detections=0), want)


def test_flat_logits_and_boundary():
    out = make_flat(2, n=100, nc=4, n_hot=0)
    out[0, 4:] = -5.0
    out[0, 6, 10] = 0.0  # sigmoid 0.5
    det = decode_yolov8_flat(out, conf=0.5, scores="logit")
    assert det.anchor_index.tolist() == [10] and det.scores.tolist() == [0.5]
    assert decode_yolov8_flat(out, conf=0.5, scores="auto").anchor_index.tolist() == [10]
    assert len(decode_yolov8_flat(out, conf=0.5000001, scores="logit")) == 0


def test_flat_bad_inputs():
    with pytest.raises(ValueError, match=r"\(1, 4\+nc, N\)"):
        decode_yolov8_flat(np.zeros((84, 8400), F32))
    with pytest.raises(ValueError, match="at least 5 rows"):
        decode_yolov8_flat(np.zeros((1, 4, 8400), F32))
    with pytest.raises(ValueError, match="TensorInfo"):
        decode_yolov8_flat(np.zeros((1, 84, 8400), np.int8))


# ---------------------------------------------------------------------------------------
# YOLOv5


def make_v5(seed, nc=80, input_hw=(128, 160), n_hot=10):
    rng = np.random.default_rng(seed)
    outs = []
    for s in (8, 16, 32):
        h, w = input_hw[0] // s, input_hw[1] // s
        o = rng.uniform(0, 1, (1, 3 * (5 + nc), h, w)).astype(F32)
        for a in range(3):
            o[0, a * (5 + nc) + 4] = rng.uniform(0, 0.1, (h, w))
        for _ in range(n_hot):
            a, y, x = rng.integers(3), rng.integers(h), rng.integers(w)
            o[0, a * (5 + nc) + 4, y, x] = rng.uniform(0.4, 1.0)
        outs.append(o)
    return outs


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8"])
@pytest.mark.parametrize("layout", ["nchw", "nc1hwc2"])
def test_yolov5_matches_reference(dtype, layout):
    hw = (128, 160)
    outs = make_v5(0, input_hw=hw)
    qp = None
    if dtype == "int8":
        qp = [CLS_Q] * 3
        raw = [ref.quantize(o, *CLS_Q) for o in outs]
    else:
        raw = [o.astype(dtype) for o in outs]
    deq = [ref.dequantize(r, *(qp[i] if qp else (1, 0))) for i, r in enumerate(raw)]
    want = ref.detect(ref.yolov5_candidates(deq, np.array(YOLOV5_ANCHORS, F32), 0.3, hw), 0.45)
    assert len(want[1]) > 5
    if layout == "nc1hwc2":
        raw = [ref.to_nc1hwc2(r, 16, 127 if dtype == "int8" else 1e4) for r in raw]
    det = decode_yolov5(raw, qp, conf=0.3, input_size=hw, num_classes=80)
    assert_same(det, want)


def test_yolov5_logits_custom_anchors_and_auto():
    hw = (64, 64)
    rng = np.random.default_rng(3)
    outs = [rng.normal(-2, 2, (1, 2 * 7, 64 // s, 64 // s)).astype(F32) for s in (8, 16, 32)]
    anchors = [[(5, 6), (7, 8)], [(20, 21), (30, 31)], [(50, 40), (60, 70)]]
    want = ref.detect(ref.yolov5_candidates(outs, np.array(anchors, F32), 0.3, hw, logits=True), 0.45)
    assert len(want[1]) > 3
    det = decode_yolov5(outs, conf=0.3, input_size=hw, anchors=anchors, scores="logit")
    assert_same(det, want)
    assert detect_head(outs) == "yolov5"


def test_yolov5_objectness_boundary_and_empty():
    outs = make_v5(4, nc=2, n_hot=0)
    assert len(decode_yolov5(outs, input_size=(128, 160), conf=0.25)) == 0
    outs[0][0, 7 + 4, 1, 1] = F32(0.5)  # anchor 1, obj 0.5
    outs[0][0, 7 + 5:7 + 7, 1, 1] = F32(0.5)  # both classes 0.5: class 0 wins the tie
    det = decode_yolov5(outs, input_size=(128, 160), conf=0.25)
    assert det.scores.tolist() == [0.25] and det.class_ids.tolist() == [0]
    assert det.anchor_index.tolist() == [(1 * 16 + 1) * 20 + 1]
    assert len(decode_yolov5(outs, input_size=(128, 160), conf=0.2500001)) == 0


def test_yolov5_bad_inputs():
    outs = make_v5(5, nc=2)
    with pytest.raises(ValueError, match="3 YOLOv5 outputs"):
        decode_yolov5(outs[:2])
    with pytest.raises(ValueError, match="anchors of shape"):
        decode_yolov5(outs, anchors=[[1, 2]])
    bad = [o[:, :20].copy() for o in outs]
    with pytest.raises(ValueError, match="3 \\* \\(5 \\+ nc\\)"):
        decode_yolov5(bad)


# ---------------------------------------------------------------------------------------
# YOLOX


def make_yolox(seed, n=3549, nc=1, n_hot=20):
    rng = np.random.default_rng(seed)
    out = np.empty((1, n, 5 + nc), F32)
    out[0, :, :2] = rng.uniform(-0.5, 1.5, (n, 2))
    out[0, :, 2:4] = rng.normal(0.5, 1, (n, 2))
    out[0, :, 4] = rng.uniform(0, 0.05, n)
    out[0, :, 5:] = rng.uniform(0.3, 1, (n, nc))
    for i in rng.integers(0, n, n_hot):
        out[0, i, 4] = rng.uniform(0.5, 1)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8"])
def test_yolox_matches_reference(dtype):
    out = make_yolox(0, nc=3)
    qp = None
    if dtype == "int8":
        qp = (0.02, 0)
        out = ref.quantize(out, *qp)
    else:
        out = out.astype(dtype)
    deq = ref.dequantize(out, *(qp or (1, 0)))
    want = ref.detect(ref.yolox_candidates(deq, 0.3, (416, 416)), 0.45)
    assert len(want[1]) > 5
    det = decode_yolox(out, qp, conf=0.3)  # input size inferred: 416 from N = 3549
    assert_same(det, want, atol=2e-2)
    assert detect_head([out]) == "yolox"
    assert_same(decode([out], [qp] if qp else None, conf=0.3), want, atol=2e-2)


def test_yolox_no_grid_and_rectangular():
    out = make_yolox(1, n=20 * 15 + 10 * 7 + 5 * 3, nc=2)  # input (120, 160)
    want = ref.detect(ref.yolox_candidates(out, 0.3, (120, 160)), 0.45)
    assert_same(decode_yolox(out, conf=0.3, input_size=(120, 160)), want, atol=2e-2)
    plain = make_yolox(2, n=50, nc=2)
    plain[0, :, :4] = np.abs(plain[0, :, :4]) * 100
    want = ref.detect(ref.yolox_candidates(plain, 0.3, grid_decode=False), 0.45)
    assert_same(decode_yolox(plain, conf=0.3, grid_decode=False), want)
    with pytest.raises(ValueError, match="anchors for input"):
        decode_yolox(plain, conf=0.3)


# ---------------------------------------------------------------------------------------


def test_decode_auto_dispatch_and_errors():
    outs = make_v8(13)
    assert detect_head(outs) == "yolov8"
    assert_same(decode(outs, conf=0.3, input_size=(128, 160)), v8_reference(outs, 0.3, (128, 160)))
    with pytest.raises(ValueError, match="cannot tell"):
        decode(outs[:4])
    with pytest.raises(ValueError, match="expected head"):
        decode(outs, head="ssd")


@pytest.mark.parametrize("conf", [0.5, 0.3, 0.25, 0.0001, 1.0])
def test_flat_float16_threshold_exact_and_nan(conf):
    out = np.zeros((1, 7, 6), np.float16)
    out[0, 2:4] = 10
    at = np.float16(conf)
    if np.float32(at) < np.float32(conf):  # make `at` the smallest float16 >= conf
        at = np.nextafter(at, np.float16(2))
    below = np.nextafter(at, np.float16(-1))
    out[0, 4, 0] = at
    out[0, 5, 1] = below
    out[0, 4, 2] = np.nan
    out[0, 5, 2] = at  # NaN in another class does not hide this one
    out[0, 4:, 3] = np.nan
    out[0, 4, 4] = -np.inf
    out[0, 6, 5] = np.inf
    det = decode_yolov8_flat(out, conf=conf, iou=1.0, class_agnostic=True, transposed=False)
    want = ref.detect(ref.flat_candidates(out.astype(F32), conf), 1.0, agnostic=True)
    assert_same(det, want)
    assert det.anchor_index.tolist() == [5, 0, 2]


def test_yolov8_uint8_outputs():
    hw = (128, 160)
    outs = make_v8(14)
    qp = [(0.08, 128) if i % 3 == 0 else (1 / 255, 0) for i in range(9)]
    raw = [ref.quantize(o, *q, dtype=np.uint8) for o, q in zip(outs, qp)]
    deq = [ref.dequantize(r, *q) for r, q in zip(raw, qp)]
    want = v8_reference(deq, 0.3, hw)
    assert len(want[1]) > 5
    assert_same(decode_yolov8(raw, qp, conf=0.3, input_size=hw), want)


def test_core_decode_yolov8_refuses_views_on_different_grids():
    # The kernel reads box/score_sum at the class tensor's cells: a smaller box tensor was read
    # out of bounds when the private binding was called directly.
    from rknn_fast import _core
    box = np.zeros((1, 64, 1, 1), np.float32)
    cls = np.ones((1, 2, 40, 40), np.float32)
    bv = (box, (64, 1, 1, 1, 1, 1, 1), 1.0, 0)
    cv = (cls, (2, 40, 40, 1, 1600, 40, 1), 1.0, 0)
    with pytest.raises(ValueError, match="same grid"):
        _core.decode_yolov8([(bv, cv, None)], 0.5, False, 16, 640.0, 640.0, False, 0.45, 10, False, 0, False, True)


def test_core_views_with_overflowing_extent_are_refused():
    from rknn_fast import _core
    a = np.zeros((1, 6, 1), np.float32)
    huge = -(-(1 << 63) // 5)  # 5 * stride wraps int64 to a negative extent without the cap
    with pytest.raises(ValueError, match="2\\^30"):
        _core.decode_flat((a, (6, 1, 1, 1, huge, 1, 1), 1.0, 0), 0.5, False, 0.45, 10, False, 0, False, True)


def test_run_nms_false_returns_every_candidate_in_anchor_order():
    # What the docstrings now say: unsorted, max_detections/top_k not applied.
    f = np.zeros((1, 6, 8), np.float32)
    f[0, :4] = np.array([10, 10, 4, 4], np.float32)[:, None]
    f[0, 4] = [0.3, 0.9, 0.5, 0.1, 0.8, 0, 0, 0]
    d = rknn_fast.postprocess.decode_yolov8_flat(f, run_nms=False, max_detections=2, top_k=1)
    np.testing.assert_array_equal(d.anchor_index, [0, 1, 2, 4])
    np.testing.assert_allclose(d.scores, [0.3, 0.9, 0.5, 0.8])


@pytest.mark.parametrize("size", [(0, 0), (-640, 640), (639.5, 640)])
def test_yolov8_and_v5_refuse_bad_input_size(size):
    v8 = [np.zeros((1, c, g, g), np.float32) for g in (8, 4, 2) for c in (64, 2)]
    with pytest.raises(ValueError, match="input_size"):
        rknn_fast.postprocess.decode_yolov8(v8, input_size=size)
    v5 = [np.zeros((1, 3 * 7, g, g), np.float32) for g in (8, 4, 2)]
    with pytest.raises(ValueError, match="input_size"):
        rknn_fast.postprocess.decode_yolov5(v5, input_size=size)


def test_degenerate_boxes_are_dropped_before_nms():
    # Zero width, negative height and a normal box, all confident: only the normal one is a
    # candidate (with or without NMS); the reference applies the same rule.
    out = np.zeros((1, 4 + 2, 16), F32)
    out[0, :4, 0] = [100, 100, 0, 20]
    out[0, :4, 1] = [200, 200, 30, -5]
    out[0, :4, 2] = [300, 300, 30, 40]
    out[0, 4, :3] = 0.9
    for run_nms in (True, False):
        det = decode_yolov8_flat(out, conf=0.5, run_nms=run_nms)
        assert det.anchor_index.tolist() == [2]
    assert ref.flat_candidates(out, 0.5)[3].tolist() == [2]
