"""The ONNX host backend: ``Model("model.onnx", mean=, std=)`` runs onnxruntime behind the
Model API, and the pipelines on it agree with the .rknn (emulator replay of the simulator's
outputs) within quantisation error."""

from __future__ import annotations

import json
import os
import sys

import cv2
import numpy as np
import pytest

import rknn_fast
from rknn_fast.cli.compare import match_detections
from rknn_fast.errors import ModelClosedError
from rknn_fast.model import emulator_path

ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install 'rknn_fast[onnx]')")
needs_emulator = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")


def _reference(path, x_nhwc_uint8, mean, std):
    """onnxruntime on (x - mean) / std in NCHW, computed here independently."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    m = np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
    s = np.asarray(std, np.float32).reshape(1, -1, 1, 1)
    x = (x_nhwc_uint8.astype(np.float32).transpose(0, 3, 1, 2) - m) / s
    return sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x)})


def _photo(data_dir, name, size):
    img = cv2.imread(str(data_dir / "images" / name))
    x, _ = rknn_fast.letterbox(img, size, bgr_to_rgb=True)
    return np.ascontiguousarray(x[None])


def test_model_dispatches_to_onnxruntime(models_dir):
    m = rknn_fast.Model(models_dir / "yolov8_rk3588_i8.onnx", mean=0, std=255)
    assert isinstance(m, rknn_fast.Model) and type(m).__name__ == "OnnxModel"
    assert m.inputs[0].shape == (1, 160, 160, 3) and m.inputs[0].layout == "NHWC"
    assert [o.name for o in m.outputs][:3] == ["box_s8", "cls_s8", "score_sum_s8"]
    assert m.outputs[0].shape == (1, 64, 20, 20) and m.outputs[0].dtype == "float32"
    assert m.outputs[0].qnt_type == "none" and m.target_platform is None and not m.is_emulator
    m.close()
    assert m.closed


def test_run_matches_onnxruntime_with_mean_std(models_dir, data_dir):
    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    x = _photo(data_dir, "chelsea.png", (224, 224))
    with rknn_fast.Model(models_dir / "classifier_rk3588_i8.onnx", mean=mean, std=std) as m:
        (got,) = m.run(x)
        assert got.dtype == np.float32 and got.shape == (1, 1000)
        (want,) = _reference(models_dir / "classifier_rk3588_i8.onnx", x, mean, std)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        # (H, W, C) is accepted like on the NPU, and NCHW with data_format="nchw".
        np.testing.assert_allclose(m.run(x[0], copy=True)[0], want, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(m.run(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), data_format="nchw")[0],
                                   want, rtol=1e-5, atol=1e-7)


def test_outputs_are_reused_unless_copy(models_dir, data_dir):
    x = _photo(data_dir, "astronaut.png", (64, 64))
    with rknn_fast.Model(models_dir / "tiny_conv_rk3588_i8.onnx", std=255) as m:
        a = m.run(x)[0]
        b = m.run(np.zeros_like(x))[0]
        assert a is b
        c = m.run(x, copy=True)[0]
        assert c is not b and not np.shares_memory(c, b)


def test_zero_copy_is_emulated(models_dir, data_dir):
    x = _photo(data_dir, "astronaut.png", (64, 64))
    with rknn_fast.Model(models_dir / "tiny_conv_rk3588_i8.onnx", std=255, zero_copy=True) as m:
        view = m.input_view(0)
        assert view.shape == (1, 64, 64, 3) and view.dtype == np.uint8
        view[...] = x
        (out,) = m.run()
        assert out is m.output_view(0)
        (want,) = _reference(models_dir / "tiny_conv_rk3588_i8.onnx", x, 0, 255)
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    with rknn_fast.Model(models_dir / "tiny_conv_rk3588_i8.onnx") as m:
        with pytest.raises(ValueError, match="zero_copy=True"):
            m.input_view(0)


def test_nhwc_output_layout(models_dir, data_dir):
    x = _photo(data_dir, "coffee.png", (64, 64))
    with rknn_fast.Model(models_dir / "tiny_conv_rk3588_i8.onnx", std=255, output_layout="nhwc") as m:
        (out,) = m.run(x)
        (want,) = _reference(models_dir / "tiny_conv_rk3588_i8.onnx", x, 0, 255)
        np.testing.assert_allclose(out, want.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)


def test_bad_arguments(models_dir):
    p = models_dir / "tiny_conv_rk3588_i8.onnx"
    with pytest.raises(ValueError, match="one number or 3"):
        rknn_fast.Model(p, mean=[1, 2])
    with pytest.raises(ValueError, match="non-zero std"):
        rknn_fast.Model(p, std=0)
    with pytest.raises(FileNotFoundError):
        rknn_fast.Model(models_dir / "nope.onnx")
    with pytest.raises(TypeError):  # a .rknn carries its mean/std: the argument does not exist there
        rknn_fast.Model(models_dir / "tiny_conv_rk3588_i8.rknn", runtime="emulator", mean=0)
    with rknn_fast.Model(p) as m:
        with pytest.raises(ValueError, match=r"expected shape \(1, 64, 64, 3\)"):
            m.run(np.zeros((1, 32, 32, 3), np.uint8))
        with pytest.raises(TypeError, match="expected dtype"):
            m.run(np.zeros((1, 64, 64, 3), np.int32))
        with pytest.raises(ValueError, match="pass_through"):
            m.run(np.zeros((1, 64, 64, 3), np.uint8), pass_through=[True])
    with pytest.raises(ModelClosedError):
        m.run(np.zeros((1, 64, 64, 3), np.uint8))


def test_benchmark_has_the_model_keys(models_dir):
    with rknn_fast.Model(models_dir / "tiny_conv_rk3588_i8.onnx") as m:
        r = m.benchmark(5, 1)
    assert r["latency_us"].shape == (5,) and np.all(r["latency_us"] > 0)
    assert r["npu_mean_us"] is None and np.all(r["npu_us"] == -1)


def test_missing_onnxruntime_names_the_extra(models_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"pip install 'rknn_fast\[onnx\]'"):
        rknn_fast.Model(models_dir / "tiny_conv_rk3588_i8.onnx")


def test_dynamic_input_needs_input_size(models_dir, tmp_path):
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(models_dir / "tiny_conv_rk3588_i8.onnx"))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[0].dim_param, dims[2].dim_param, dims[3].dim_param = "n", "h", "w"
    model.graph.output[0].type.tensor_type.shape.Clear()
    p = tmp_path / "dyn.onnx"
    onnx.save(model, str(p))
    with pytest.raises(ValueError, match=r"input_size=\(H, W\)"):
        rknn_fast.Model(p)
    with rknn_fast.Model(p, input_size=(96, 128)) as m:
        assert m.inputs[0].shape == (1, 96, 128, 3) and m.outputs[0].shape == (1, 4, 48, 64)


@needs_emulator
@pytest.mark.parametrize("photo", ["astronaut.png", "coffee.png"])
def test_detector_on_onnx_agrees_with_the_rknn(models_dir, data_dir, photo):
    img = cv2.imread(str(data_dir / "images" / photo))
    meta = json.loads((models_dir / "yolov8_rk3588_i8.json").read_text())
    with rknn_fast.Detector(rknn_fast.Model(models_dir / "yolov8_rk3588_i8.onnx", mean=meta["mean_values"][0],
                                            std=meta["std_values"][0], zero_copy=True)) as d:
        on_pc = d(img)
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator") as d:
        on_npu = d(img)  # the simulator's recorded int8 outputs for this photo
    strong = np.flatnonzero(on_pc.scores >= 0.5)
    assert len(strong) > 0
    pairs = {i: (j, iou) for i, j, iou in match_detections(on_pc, on_npu)}
    for i in strong:
        # Every confident float detection is in the quantised model's, same class, nearly the
        # same box and score (quantisation moves scores by a few hundredths).
        assert i in pairs, (i, on_pc.xyxy[i], on_npu.xyxy)
        j, iou = pairs[i]
        assert iou >= 0.85
        assert abs(float(on_pc.scores[i]) - float(on_npu.scores[j])) <= 0.06


@needs_emulator
def test_classifier_on_onnx_agrees_with_the_rknn(models_dir, data_dir):
    img = cv2.imread(str(data_dir / "images" / "chelsea.png"))
    meta = json.loads((models_dir / "classifier_rk3588_i8.json").read_text())
    with rknn_fast.Classifier(rknn_fast.Model(models_dir / "classifier_rk3588_i8.onnx",
                                              mean=meta["mean_values"][0], std=meta["std_values"][0])) as c:
        a = c(img)
    with rknn_fast.Classifier(models_dir / "classifier_rk3588_i8.rknn", runtime="emulator") as c:
        b = c(img)
    assert int(a.class_ids[0]) == int(b.class_ids[0])
    np.testing.assert_allclose(a.scores[0], b.scores[0], rtol=0.05)


@needs_emulator
def test_pipelines_open_an_onnx_path_with_mean_std(models_dir, data_dir):
    img = cv2.imread(str(data_dir / "images" / "astronaut.png"))
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.onnx", mean=0, std=255) as d:
        assert type(d.model).__name__ == "OnnxModel" and d.model.zero_copy
        by_path = d(img)
        model = d.model
    assert model.closed  # the pipeline opened it, the pipeline closed it
    with rknn_fast.Detector(rknn_fast.Model(models_dir / "yolov8_rk3588_i8.onnx", mean=0, std=255)) as d:
        by_model = d(img)
    assert len(by_path) == len(by_model) > 0
    np.testing.assert_array_equal(by_path.xyxy, by_model.xyxy)
    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    with rknn_fast.Classifier(str(models_dir / "classifier_rk3588_i8.onnx"), mean=mean, std=std) as c:
        top = c(cv2.imread(str(data_dir / "images" / "chelsea.png")))
    with rknn_fast.Classifier(models_dir / "classifier_rk3588_i8.rknn", runtime="emulator") as c:
        assert int(c(cv2.imread(str(data_dir / "images" / "chelsea.png"))).class_ids[0]) == int(top.class_ids[0])


def test_pipeline_mean_std_only_for_onnx_paths(models_dir):
    with pytest.raises(ValueError, match="mean= and std= apply to an ONNX model"):
        rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator", mean=0)
    with pytest.raises(ValueError, match="cores= runs .rknn models"):
        rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.onnx", mean=0, std=255, cores="all")
