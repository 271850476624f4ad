"""`rknn-fast compare`: on a fixture's ONNX and .rknn the cosines and errors are what the
simulator's golden outputs imply (computed here with onnxruntime and numpy directly), the
pre-processing comes from the .rknn, detection heads are matched, exit codes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from rknn_fast import emulator
from rknn_fast.cli import main
from rknn_fast.cli.compare import match_detections, recorded_preprocessing
from rknn_fast.golden import read_golden
from rknn_fast.model import emulator_path

pytestmark = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install 'rknn_fast[onnx]')")

FIXTURES = ["tiny_conv_rk3588_i8", "yolov8_rk3588_i8", "yolov5_rk3588_i8", "classifier_rk3588_i8",
            "retinaface_rk3588_i8"]


def _expected(models_dir, name):
    """Per output: (cosine, max_abs, mean_abs) of onnxruntime on the golden inputs vs the
    golden outputs, over all records, with the mean/std the toolkit reported."""
    meta = json.loads((models_dir / f"{name}.json").read_text())
    mean = np.asarray(meta["mean_values"][0], np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(meta["std_values"][0], np.float32).reshape(1, -1, 1, 1)
    sess = ort.InferenceSession(str(models_dir / f"{name}.onnx"), providers=["CPUExecutionProvider"])
    a, b = None, None
    records = read_golden(models_dir / f"{name}.golden")
    ours, gold = [[] for _ in records[0][1]], [[] for _ in records[0][1]]
    for (x,), outs in records:
        feed = (x.astype(np.float32).transpose(0, 3, 1, 2) - mean) / std
        got = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(feed, np.float32)})
        for k, (o, g) in enumerate(zip(got, outs)):
            ours[k].append(np.asarray(o, np.float64).ravel())
            gold[k].append(np.asarray(g, np.float64).ravel())
    result = []
    for k in range(len(ours)):
        a, b = np.concatenate(ours[k]), np.concatenate(gold[k])
        cos = float(a @ b / np.sqrt((a @ a) * (b @ b)))
        result.append((meta["outputs"][k]["name"], cos, float(np.abs(a - b).max()), float(np.abs(a - b).mean())))
    photos = [r["source_image"] for r in meta["golden"]["records"]]
    return result, photos


@pytest.mark.parametrize("name", FIXTURES)
def test_cosines_are_what_the_golden_outputs_imply(models_dir, data_dir, capsys, name):
    expected, photos = _expected(models_dir, name)
    emulator.reset_counters()
    rc = main(["compare", str(models_dir / f"{name}.onnx"), str(models_dir / f"{name}.rknn"), "--image",
               *[str(data_dir / p) for p in photos], "--runtime", "emulator", "--json", "-"])
    doc = json.loads(capsys.readouterr().out)
    # Every .rknn run replayed a recorded golden input: compare letterboxed exactly like the fixtures.
    assert emulator.counters()["synthetic_runs"] == 0
    assert [o["name"] for o in doc["outputs"]] == [e[0] for e in expected]
    for o, (_n, cos, max_abs, mean_abs) in zip(doc["outputs"], expected):
        assert o["cosine"] == pytest.approx(cos, abs=1e-6)
        assert o["max_abs"] == pytest.approx(max_abs, rel=1e-4, abs=1e-6)
        assert o["mean_abs"] == pytest.approx(mean_abs, rel=1e-4, abs=1e-7)
    worst = min(e[1] for e in expected)
    assert rc == (0 if worst >= 0.98 else 1) and doc["passed"] == (worst >= 0.98)
    assert doc["preprocessing"]["source"] == "file"


def test_preprocessing_is_read_from_the_rknn(models_dir):
    pre = recorded_preprocessing(str(models_dir / "classifier_rk3588_i8.rknn"))
    meta = json.loads((models_dir / "classifier_rk3588_i8.json").read_text())
    assert pre["mean"] == pytest.approx(meta["mean_values"][0]) and pre["std"] == pytest.approx(meta["std_values"][0])
    assert pre["rgb2bgr"] is False and pre["source"] == "file"


def test_text_report_and_min_cosine_exit_code(models_dir, data_dir, capsys):
    args = ["compare", str(models_dir / "yolov8_rk3588_i8.onnx"), str(models_dir / "yolov8_rk3588_i8.rknn"),
            "--image", str(data_dir / "images" / "astronaut.png"), "--runtime", "emulator"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "cls_s8" in out and "result: PASS" in out and "detections (conf 0.25)" in out
    assert main(args + ["--min-cosine", "0.99999"]) == 1
    out, err = capsys.readouterr()
    assert "result: FAIL" in out and "cosine below 0.99999" in err


def test_wrong_preprocessing_is_caught(models_dir, data_dir, capsys):
    # Feeding the classifier 0..1 pixels instead of ImageNet normalisation: the check must fail.
    assert main(["compare", str(models_dir / "classifier_rk3588_i8.onnx"),
                 str(models_dir / "classifier_rk3588_i8.rknn"), "--image", str(data_dir / "images" / "chelsea.png"),
                 "--runtime", "emulator", "--mean", "0", "--std", "1", "--json", "-"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["preprocessing"]["source"] == "command line" and doc["outputs"][0]["cosine"] < 0.98


def test_detection_agreement(models_dir, data_dir, capsys):
    assert main(["compare", str(models_dir / "yolov8_rk3588_i8.onnx"), str(models_dir / "yolov8_rk3588_i8.rknn"),
                 "--image", str(data_dir / "images" / "astronaut.png"), str(data_dir / "images" / "coffee.png"),
                 "--runtime", "emulator", "--json", "-"]) == 0
    det = json.loads(capsys.readouterr().out)["detections"]
    assert det["matched"] <= min(det["onnx"], det["rknn"]) and det["matched"] > 0
    assert det["agreement"] == pytest.approx(det["matched"] / max(det["onnx"], det["rknn"]))
    for im in det["images"]:
        # The confident detections of the float model are all found in the quantised one.
        strong = [d for d in im["onnx"] if d["score"] >= 0.5]
        assert strong and im["matched"] >= len(strong)


def test_match_detections_by_hand():
    from rknn_fast.results import Detections

    a = Detections(xyxy=np.array([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]], np.float32),
                   scores=np.array([0.9, 0.8, 0.7], np.float32), class_ids=np.array([1, 2, 3], np.int32))
    b = Detections(xyxy=np.array([[20, 20, 30, 31], [1, 0, 10, 10], [0, 0, 10, 10]], np.float32),
                   scores=np.array([0.9, 0.8, 0.7], np.float32), class_ids=np.array([2, 1, 4], np.int32))
    pairs = match_detections(a, b)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (1, 0)]
    assert pairs[0][2] == pytest.approx(0.9) and pairs[1][2] == pytest.approx(100 / 110)


def test_missing_onnxruntime_names_the_extra(models_dir, data_dir, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert main(["compare", str(models_dir / "tiny_conv_rk3588_i8.onnx"), str(models_dir / "tiny_conv_rk3588_i8.rknn"),
                 "--image", str(data_dir / "images" / "astronaut.png"), "--runtime", "emulator"]) == 2
    assert "pip install 'rknn_fast[onnx]'" in capsys.readouterr().err


def test_mismatched_models_exit_2(models_dir, data_dir, capsys):
    assert main(["compare", str(models_dir / "tiny_conv_rk3588_i8.onnx"), str(models_dir / "yolov8_rk3588_i8.rknn"),
                 "--image", str(data_dir / "images" / "astronaut.png"), "--runtime", "emulator"]) == 2
    assert "different inputs" in capsys.readouterr().err
