"""End to end through the emulator: Detector(frame) on the shipped photos equals the reference
decode of the recorded (golden) outputs, mapped back to the photo."""

import json

import cv2
import numpy as np
import pytest

import rknn_fast
import reference as ref
from rknn_fast.golden import read_golden
from rknn_fast.postprocess import YOLOV5_ANCHORS

F32 = np.float32


def golden_reference(models_dir, name, record, conf, iou):
    meta = json.loads((models_dir / f"{name}.json").read_text())
    outs = read_golden(models_dir / f"{name}.golden")[record][1]
    hw = tuple(meta["input_hw"])
    if name.startswith("yolov8"):
        c = ref.yolov8_candidates(outs[0::3], outs[1::3], outs[2::3], conf, hw)
    elif name.startswith("yolov5"):
        c = ref.yolov5_candidates(outs, np.array(YOLOV5_ANCHORS, F32), conf, hw)
    else:
        c = ref.yolox_candidates(outs[0], conf, hw)
    return meta, ref.detect(c, iou)


CASES = [("ddddocr_det_rk3588_i8", 0, 0.1), ("yolov8_rk3588_i8", 0, 0.25), ("yolov8_rk3588_i8", 1, 0.25),
         ("yolov8_rk3588_fp16", 0, 0.25), ("yolov5_rk3588_i8", 0, 0.25)]


@pytest.mark.parametrize("name,record,conf", CASES)
@pytest.mark.parametrize("zero_copy", [True, False])
def test_detector_matches_golden_reference(models_dir, data_dir, name, record, conf, zero_copy):
    meta, (b, s, c, a) = golden_reference(models_dir, name, record, conf, 0.45)
    assert len(s) > 0
    photo = cv2.imread(str(data_dir / meta["golden"]["records"][record]["source_image"]), cv2.IMREAD_COLOR)
    with rknn_fast.Detector(models_dir / f"{name}.rknn", conf=conf, iou=0.45, runtime="emulator",
                            zero_copy=zero_copy) as det:
        assert det.head == ("yolox" if name.startswith("ddddocr") else name.split("_")[0])
        got = det(photo)
        t = det.last_transform
    np.testing.assert_array_equal(got.anchor_index, a)
    np.testing.assert_array_equal(got.class_ids, c)
    np.testing.assert_allclose(got.scores, s, rtol=1e-5, atol=1e-6)
    h, w = photo.shape[:2]
    np.testing.assert_allclose(got.xyxy, ref.unletterbox(b, t.scale, t.pad_x, t.pad_y, (h, w)), atol=5e-2)


def test_detector_with_open_model_and_draw(models_dir, data_dir, tmp_path):
    model = rknn_fast.Model(models_dir / "ddddocr_det_rk3588_i8.rknn", runtime="emulator", zero_copy=True)
    det = rknn_fast.Detector(model, conf=0.1, names=["char"])
    photo = cv2.imread(str(data_dir / "images/page.png"), cv2.IMREAD_COLOR)
    d = det(photo)
    assert len(d) > 0 and d.label(0) == "char"
    out = d.draw(photo)
    assert out.shape == photo.shape and (out != photo).any()
    assert cv2.imwrite(str(tmp_path / "page_boxes.png"), out)
    det.close()
    assert not model.closed  # not owned by the Detector
    model.close()
    assert "yolox" in repr(det)


def test_detector_bad_arguments(models_dir):
    with pytest.raises(ValueError, match="head"):
        rknn_fast.Detector(models_dir / "ddddocr_det_rk3588_i8.rknn", head="ssd", runtime="emulator")
    # A segmentation model: "auto" cannot tell a detection head, a forced one rejects the shapes.
    with pytest.raises(ValueError, match="cannot tell the detection head"):
        rknn_fast.Detector(models_dir / "semseg_rk3588_i8.rknn", runtime="emulator")
    # The decoder is prepared in the constructor: the wrong head is refused there, not at a frame.
    with pytest.raises(ValueError, match="flat head"):
        rknn_fast.Detector(models_dir / "semseg_rk3588_i8.rknn", runtime="emulator", head="flat")
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator") as det:
        with pytest.raises(TypeError, match="uint8 image"):
            det(np.zeros((10, 10, 3), np.float32))
