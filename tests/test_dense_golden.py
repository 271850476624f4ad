"""Dense decoders on recorded simulator outputs of the fixture models (tests/data/models).

The golden outputs are float32 on each int8 tensor's grid; requantising them gives the raw
int8 buffers the runtime returns, so both the int8 and the float paths run on real model
outputs. References: tests/reference.py (independent numpy implementations).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import reference as ref
from rknn_fast import LetterboxTransform
from rknn_fast.golden import read_golden
from rknn_fast.postprocess import (
    argmax_classes,
    classify,
    decode_dbnet,
    decode_retinaface,
    decode_yolov8_pose,
    decode_yolov8_seg,
    segment,
)


def load(models_dir, name):
    path = models_dir / f"{name}.golden"
    if not path.exists():
        pytest.skip(f"fixture {name} not present")
    meta = json.loads((models_dir / f"{name}.json").read_text())
    _, outs = read_golden(path)[0]
    qps = [(o["scale"], o["zero_point"]) for o in meta["outputs"]]
    lb = meta["golden"]["records"][0]["letterbox"]
    (h, w), (nh, nw) = lb["dst_hw"], lb["new_hw"]
    transform = LetterboxTransform(tuple(lb["src_hw"]), (h, w), lb["r"], (w - nw) / 2, (h - nh) / 2)
    raw = [ref.quantize(o, s, z) if m["dtype"] == "int8" else o.astype(np.float16)
           for o, (s, z), m in zip(outs, qps, meta["outputs"])]
    for o, r, (s, z), m in zip(outs, raw, qps, meta["outputs"]):
        if m["dtype"] == "int8":  # the golden floats sit exactly on the int8 grid
            np.testing.assert_allclose(ref.dequantize(r, s, z), o, rtol=1e-5, atol=1e-6)
    return outs, raw, qps, transform


def test_ppocr_dbnet_text_boxes(models_dir):
    outs, raw, qps, tr = load(models_dir, "ppocr_det_rk3588_i8")
    res = decode_dbnet(raw[0], qparams=qps[0], transform=tr)
    res_f = decode_dbnet(outs[0], transform=tr)
    np.testing.assert_array_equal(res.quads, res_f.quads)
    assert len(res) >= 3  # a scanned page: several text lines
    expect = ref.ref_dbnet(outs[0][0, 0])
    assert len(expect) == len(res)
    quads = np.array([q for q, _ in expect], np.float64).reshape(-1, 4, 2)
    quads[..., 0] = np.clip((quads[..., 0] - tr.pad_x) / tr.scale, 0, tr.src_shape[1])
    quads[..., 1] = np.clip((quads[..., 1] - tr.pad_y) / tr.scale, 0, tr.src_shape[0])
    canon = lambda qs: np.array([q[np.lexsort((q[:, 1], q[:, 0]))] for q in qs])  # noqa: E731
    np.testing.assert_allclose(canon(res.quads), canon(quads), atol=0.05)
    np.testing.assert_allclose(res.scores, [s for _, s in expect], atol=1e-4)
    h, w = tr.src_shape
    assert (res.xyxy[:, 0::2] <= w).all() and (res.xyxy[:, 1::2] <= h).all()


def test_semseg_argmax_and_upsampling(models_dir):
    outs, raw, _, tr = load(models_dir, "semseg_rk3588_i8")
    cmap = argmax_classes(raw[0])
    np.testing.assert_array_equal(cmap, ref.ref_argmax(raw[0][0].astype(np.int64)))
    np.testing.assert_array_equal(argmax_classes(ref.to_nc1hwc2(raw[0], 16), "NC1HWC2", classes=21), cmap)
    # float outputs: same argmax except where quantised ties were broken the same way
    np.testing.assert_array_equal(argmax_classes(outs[0]), cmap)
    up = segment(raw[0], transform=tr, mode="bilinear")
    assert up.shape == tuple(tr.src_shape)
    a = 40 / 160
    vals = ref.ref_bilinear(raw[0][0].astype(np.float64), tr.scale * a, tr.pad_x * a, tr.scale * a, tr.pad_y * a, *tr.src_shape)
    s = np.sort(vals, axis=0)
    clear = s[-1] - s[-2] > 1e-3
    np.testing.assert_array_equal(up[clear], vals.argmax(0)[clear])
    assert len(np.unique(up)) > 1


def test_retinaface_faces(models_dir):
    outs, raw, qps, tr = load(models_dir, "retinaface_rk3588_i8")
    det = decode_retinaface(*raw, qparams=qps, transform=tr, conf=0.5, iou=0.4)
    det_f = decode_retinaface(*outs, transform=tr, conf=0.5, iou=0.4)
    np.testing.assert_allclose(det.xyxy, det_f.xyxy, rtol=1e-5, atol=1e-4)
    boxes, scores, lm, _ = ref.ref_retinaface(*outs, (320, 320), 0.5)
    keep = ref.nms(boxes.astype(np.float32), scores.astype(np.float32), 0.4, max_detections=128)
    assert len(det) == len(keep) >= 1
    np.testing.assert_allclose(det.xyxy, ref.unletterbox(boxes[keep], tr.scale, tr.pad_x, tr.pad_y, tr.src_shape),
                               rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(det.keypoints, np.clip((lm[keep] - 0.0) / tr.scale, 0, 288), rtol=1e-4, atol=1e-2)


def test_yolov8_pose(models_dir):
    outs, raw, qps, tr = load(models_dir, "yolov8_pose_rk3588_i8")
    det = decode_yolov8_pose(raw[:3], raw[3], qparams=qps[:3], keypoint_qparams=qps[3], conf=0.5, iou=0.4,
                             transform=tr)
    boxes, scores, anchor = ref.ref_yolov8_pose(outs[:3], [(1.0, 0)] * 3, 0.5, (160, 160))
    keep = ref.nms(boxes.astype(np.float32), scores.astype(np.float32), 0.4)
    assert len(det) == len(keep) >= 1
    np.testing.assert_allclose(det.xyxy, ref.unletterbox(boxes[keep], tr.scale, 0, 0, tr.src_shape), rtol=1e-4, atol=1e-2)
    kp = outs[3][0][:, :, anchor[keep]].transpose(2, 0, 1).astype(np.float64)
    kp[..., :2] = np.clip(kp[..., :2] / tr.scale, 0, 288)
    np.testing.assert_allclose(det.keypoints, kp, rtol=1e-5, atol=1e-3)


def test_yolov8_seg_masks(models_dir):
    outs, raw, qps, tr = load(models_dir, "yolov8_seg_rk3588_i8")
    det, cmap = decode_yolov8_seg(raw, qps, conf=0.25, transform=tr, class_map=True)
    det_f = decode_yolov8_seg(outs, conf=0.25, transform=tr)
    assert len(det) == len(det_f) >= 1
    np.testing.assert_allclose(det.xyxy, det_f.xyxy, rtol=1e-4, atol=1e-3)
    assert det.masks.shape == (len(det),) + tuple(tr.src_shape) and det.masks.any()
    # reference from dequantised coefficients of the same cells
    flat = np.concatenate([outs[i][0].reshape(32, -1) for i in (3, 7, 11)], 1)
    model_boxes = tr.boxes_to_model(det.xyxy)
    boxes_model = np.asarray(model_boxes, np.float64)
    expect, logits = ref.ref_instance_masks(outs[12][0], 0, flat[:, det.anchor_index].T, None, boxes_model,
                                            (160, 160), tr.scale, tr.pad_x, tr.pad_y, tr.src_shape)
    diff = det.masks != expect
    assert not (diff & (np.abs(logits) > 1e-3 * np.abs(logits[np.isfinite(logits)]).max())).any()
    # float path: identical masks up to logits at ~0
    assert (det.masks != det_f.masks).mean() < 1e-3
    np.testing.assert_array_equal(cmap, ref.ref_merged_class_map(det.masks, det.class_ids))


def test_classifier_top5(models_dir):
    outs, raw, _, _ = load(models_dir, "classifier_rk3588_i8")
    res = classify(raw[0], 5, apply_softmax=False)
    probs = raw[0].astype(np.float64).reshape(-1)
    expect = sorted(range(probs.size), key=lambda i: (-probs[i], i))[:5]
    assert res.class_ids.tolist() == expect
    np.testing.assert_allclose(res.scores.sum(), probs[expect].sum(), rtol=1e-3)


def test_yolov8_seg_native_nc1hwc2_equals_nchw(models_dir):
    _, raw, qps, tr = load(models_dir, "yolov8_seg_rk3588_i8")
    native = [ref.to_nc1hwc2(r, 16) for r in raw]
    a = decode_yolov8_seg(raw, qps, transform=tr)
    b = decode_yolov8_seg(native, qps, transform=tr, num_classes=80, reg_max=16)
    np.testing.assert_array_equal(a.xyxy, b.xyxy)
    np.testing.assert_array_equal(a.masks, b.masks)
