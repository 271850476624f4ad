"""Decoders and letterbox on the recorded fixtures (real toolkit outputs, tests/data/models).

The golden outputs are float32 on each tensor's quantization grid; they are turned back into
the int8 the runtime would hand out (exactly: checked), decoded by the C++ kernels (NCHW and
NC1HWC2), and compared with the numpy reference decode of the same values.
"""

import json

import cv2
import numpy as np
import pytest

import rknn_fast
import reference as ref
from reference import assert_detections_match as assert_same
from rknn_fast import TensorInfo
from rknn_fast.golden import read_golden
from rknn_fast.postprocess import YOLOV5_ANCHORS, decode_yolov5, decode_yolov8, decode_yolox

F32 = np.float32


def load(models_dir, name):
    meta = json.loads((models_dir / f"{name}.json").read_text())
    records = read_golden(models_dir / f"{name}.golden")
    infos = [TensorInfo(name=o["name"], index=o["index"], shape=tuple(o["shape"]), layout="NCHW",
                        dtype=o["dtype"], scale=float(o["scale"]), zero_point=int(o["zero_point"]))
             for o in meta["outputs"]]
    return meta, records, infos


def as_runtime_outputs(outs, infos):
    """Golden float32 -> the dtype the runtime returns (int8 exactly requantized, or fp16)."""
    raw = []
    for o, info in zip(outs, infos):
        if info.dtype == "int8":
            q = np.round(o.astype(np.float64) / info.scale + info.zero_point)
            assert q.min() >= -128 and q.max() <= 127
            q = q.astype(np.int8)
            np.testing.assert_allclose(ref.dequantize(q, info.scale, info.zero_point), o, rtol=0, atol=1e-6)
            raw.append(q)
        else:
            h = o.astype(np.float16)
            assert np.array_equal(h.astype(F32), o)
            raw.append(h)
    return raw


def deq_all(raw, infos):
    return [ref.dequantize(r, i.scale, i.zero_point) if r.dtype == np.int8 else r.astype(F32)
            for r, i in zip(raw, infos)]


ALL = ["yolov8_rk3588_i8", "yolov8_rk3566_i8", "yolov8_rk3588_fp16", "yolov5_rk3588_i8",
       "ddddocr_det_rk3588_i8"]


@pytest.mark.parametrize("name", ALL)
def test_letterbox_reproduces_golden_input_bytes(models_dir, data_dir, name):
    meta, records, _ = load(models_dir, name)
    for rec, (ins, _) in zip(meta["golden"]["records"], records):
        bgr = cv2.imread(str(data_dir / rec["source_image"]), cv2.IMREAD_COLOR)
        lb = rec["letterbox"]
        buf = np.empty(ins[0].shape, np.uint8)  # (1, H, W, 3) like an input view
        _, t = rknn_fast.letterbox(bgr, dst=buf, pad_value=lb["pad_value"], bgr_to_rgb=True)
        np.testing.assert_array_equal(buf, ins[0])
        assert (t.offset_y, t.offset_x) == (lb["top"], lb["left"])
        assert t.resized_shape == tuple(lb["new_hw"]) and t.scale == pytest.approx(lb["r"])


@pytest.mark.parametrize("name", ["yolov8_rk3588_i8", "yolov8_rk3566_i8", "yolov8_rk3588_fp16"])
@pytest.mark.parametrize("layout", ["nchw", "nc1hwc2"])
def test_yolov8_fixture(models_dir, name, layout):
    meta, records, infos = load(models_dir, name)
    hw = tuple(meta["input_hw"])
    for _, outs in records:
        raw = as_runtime_outputs(outs, infos)
        deq = deq_all(raw, infos)
        want = ref.detect(ref.yolov8_candidates(deq[0::3], deq[1::3], deq[2::3], 0.25, hw), 0.45)
        assert len(want[1]) > 0
        if layout == "nc1hwc2":
            c2 = 16 if raw[0].dtype == np.int8 else 8
            raw = [ref.to_nc1hwc2(r, c2, 127 if r.dtype == np.int8 else 1e4) for r in raw]
        det = decode_yolov8(raw, infos, conf=0.25, iou=0.45, input_size=hw)
        assert_same(det, want)


def test_yolov5_fixture(models_dir):
    meta, records, infos = load(models_dir, "yolov5_rk3588_i8")
    hw = tuple(meta["input_hw"])
    raw = as_runtime_outputs(records[0][1], infos)
    deq = deq_all(raw, infos)
    want = ref.detect(ref.yolov5_candidates(deq, np.array(YOLOV5_ANCHORS, F32), 0.25, hw), 0.45)
    assert len(want[1]) > 0
    assert_same(decode_yolov5(raw, infos, conf=0.25, input_size=hw), want)
    nat = [ref.to_nc1hwc2(r, 16, 127) for r in raw]
    assert_same(decode_yolov5(nat, infos, conf=0.25, input_size=hw), want)
    assert_same(rknn_fast.postprocess.decode(raw, infos, conf=0.25, input_size=hw), want)


def test_ddddocr_yolox_fixture(models_dir, data_dir):
    meta, records, infos = load(models_dir, "ddddocr_det_rk3588_i8")
    raw = as_runtime_outputs(records[0][1], infos)
    deq = deq_all(raw, infos)
    want = ref.detect(ref.yolox_candidates(deq[0], 0.1, (416, 416)), 0.45)
    assert len(want[1]) >= 5  # a page of characters
    det = rknn_fast.postprocess.decode(raw, infos, conf=0.1, iou=0.45)  # head and size inferred
    assert_same(det, want, atol=2e-2)
    # Back to page.png coordinates: inside the image.
    bgr = cv2.imread(str(data_dir / "images/page.png"), cv2.IMREAD_COLOR)
    _, t = rknn_fast.letterbox(bgr, (416, 416), bgr_to_rgb=True)
    det_img = decode_yolox(raw[0], infos[0], conf=0.1, iou=0.45, transform=t)
    h, w = bgr.shape[:2]
    assert (det_img.xyxy[:, 0::2] <= w).all() and (det_img.xyxy[:, 1::2] <= h).all()
    np.testing.assert_allclose(det_img.xyxy, ref.unletterbox(want[0], t.scale, t.pad_x, t.pad_y, (h, w)),
                               atol=3e-2)
