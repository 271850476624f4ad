"""`rknn-fast run`: task detection from output shapes, a PNG and a JSON per image for every task
among the fixtures (on their recorded photos: the emulator replays the simulator's outputs),
videos, directories, exit codes."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

import rknn_fast
from rknn_fast.cli import main
from rknn_fast.cli.run import detect_task
from rknn_fast.model import emulator_path

pytestmark = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")

CASES = [  # fixture, photo it was recorded with, task
    ("yolov8_rk3588_i8", "astronaut.png", "detect"),
    ("yolov5_rk3588_i8", "astronaut.png", "detect"),
    ("ddddocr_det_rk3588_i8", "page.png", "detect"),
    ("yolov8_seg_rk3588_i8", "coffee.png", "instances"),
    ("yolov8_pose_rk3588_i8", "astronaut.png", "pose"),
    ("retinaface_rk3588_i8", "astronaut.png", "faces"),
    ("blazeface_rk3588_i8", "astronaut.png", "faces"),
    ("semseg_rk3588_i8", "astronaut.png", "segment"),
    ("ppocr_det_rk3588_i8", "page.png", "text"),
    ("classifier_rk3588_i8", "chelsea.png", "classify"),
]


@pytest.mark.parametrize("name, photo, task", CASES)
def test_task_is_detected_from_output_shapes(models_dir, name, photo, task):
    assert detect_task(rknn_fast.inspect(models_dir / f"{name}.rknn").outputs) == task


def test_undetectable_task_names_the_shapes():
    from rknn_fast.info import TensorInfo

    outs = [TensorInfo("a", 0, (1, 7, 3), "UNDEFINED", "int8"), TensorInfo("b", 1, (5,), "UNDEFINED", "int8")]
    with pytest.raises(ValueError, match=r"\(1, 7, 3\).*pass --task"):
        detect_task(outs)


def _pipeline_result(name, task, image):
    from rknn_fast.cli.run import open_pipeline, result_json

    with rknn_fast.Model(f"tests/data/models/{name}.rknn", runtime="emulator", zero_copy=True) as m:
        with open_pipeline(task, m, None, None) as p:
            return result_json(task, p(image))


@pytest.mark.parametrize("name, photo, task", CASES)
def test_png_and_json_per_image(models_dir, data_dir, tmp_path, capsys, name, photo, task):
    img_path = data_dir / "images" / photo
    out = tmp_path / "out"
    assert main(["run", str(models_dir / f"{name}.rknn"), str(img_path), "--runtime", "emulator",
                 "--out", str(out)]) == 0
    stem = photo[:-4]
    drawn = cv2.imread(str(out / f"{stem}.png"))
    image = cv2.imread(str(img_path))
    assert drawn is not None and drawn.shape == image.shape
    assert not np.array_equal(drawn, image) or task == "segment"  # something was drawn
    doc = json.loads((out / f"{stem}.json").read_text())
    assert doc["task"] == task and doc["image"] == str(img_path)
    assert doc["size"] == [image.shape[1], image.shape[0]]
    # The JSON says what the pipeline itself returns on that photo.
    want = _pipeline_result(name, task, image)
    got = {k: v for k, v in doc.items() if k in want}
    assert got == want
    key = {"detect": "detections", "instances": "detections", "pose": "detections", "faces": "detections",
           "text": "text_boxes", "segment": "classes", "classify": "top"}[task]
    assert len(doc[key]) > 0
    assert f"{stem}.png" in capsys.readouterr().out


def test_detections_json_matches_detector_exactly(models_dir, data_dir, tmp_path):
    img_path = data_dir / "images" / "astronaut.png"
    assert main(["run", str(models_dir / "yolov8_rk3588_i8.rknn"), str(img_path), "--runtime", "emulator",
                 "--out", str(tmp_path), "--conf", "0.4"]) == 0
    doc = json.loads((tmp_path / "astronaut.json").read_text())
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator", conf=0.4) as d:
        dets = d(cv2.imread(str(img_path)))
    assert len(doc["detections"]) == len(dets) > 0
    for rec, i in zip(doc["detections"], range(len(dets))):
        np.testing.assert_allclose(rec["xyxy"], dets.xyxy[i], atol=0.006)
        assert rec["class_id"] == int(dets.class_ids[i]) and abs(rec["score"] - float(dets.scores[i])) < 1e-4
        assert rec["score"] >= 0.4


def test_names_file_labels_the_json(models_dir, data_dir, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"thing{i}" for i in range(80)) + "\n")
    assert main(["run", str(models_dir / "yolov8_rk3588_i8.rknn"), str(data_dir / "images" / "astronaut.png"),
                 "--runtime", "emulator", "--out", str(tmp_path), "--names", str(names)]) == 0
    doc = json.loads((tmp_path / "astronaut.json").read_text())
    assert all(d["name"] == f"thing{d['class_id']}" for d in doc["detections"])


def test_directory_and_video(models_dir, data_dir, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    img = cv2.imread(str(data_dir / "images" / "astronaut.png"))
    cv2.imwrite(str(src / "a.png"), img)
    cv2.imwrite(str(src / "b.jpg"), img[::2, ::2])
    (src / "notes.txt").write_text("ignored")
    video = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (img.shape[1], img.shape[0]))
    if not w.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    for k in range(3):
        w.write(np.roll(img, 8 * k, axis=1))
    w.release()
    out = tmp_path / "out"
    assert main(["run", str(models_dir / "yolov8_rk3588_i8.rknn"), str(src), str(video), "--runtime", "emulator",
                 "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["a.json", "a.png", "b.json", "b.png", "clip.jsonl", "clip.mp4"]
    lines = (out / "clip.jsonl").read_text().splitlines()
    assert [json.loads(line)["frame"] for line in lines] == [0, 1, 2]
    assert all("detections" in json.loads(line) for line in lines)
    cap = cv2.VideoCapture(str(out / "clip.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 3
    assert "3 frames" in capsys.readouterr().out


@pytest.mark.parametrize("inputs, extra, msg", [
    (["/nonexistent/x.png"], [], "no such file"),
    (["README.md"], [], "not an image"),
    (["tests/data/images/astronaut.png"], ["--task", "classify"], "expected one score output"),
    (["tests/data/images/astronaut.png"], ["--mean", "0,0,0"], "--mean/--std apply to ONNX"),
])
def test_usage_errors_exit_2(models_dir, tmp_path, capsys, inputs, extra, msg):
    assert main(["run", str(models_dir / "yolov8_rk3588_i8.rknn"), *inputs, "--runtime", "emulator",
                 "--out", str(tmp_path)] + extra) == 2
    assert msg in capsys.readouterr().err


def test_runtime_failure_exit_3(models_dir, tmp_path, capsys):
    assert main(["run", str(models_dir / "yolov8_rk3588_i8.rknn"), "tests/data/images/astronaut.png",
                 "--runtime", str(tmp_path / "x.so"), "--out", str(tmp_path)]) == 3


def test_onnx_model_runs_with_mean_std(models_dir, data_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    img_path = data_dir / "images" / "astronaut.png"
    assert main(["run", str(models_dir / "yolov8_rk3588_i8.onnx"), str(img_path), "--mean", "0,0,0",
                 "--std", "255,255,255", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "astronaut.json").read_text())
    with rknn_fast.Detector(rknn_fast.Model(models_dir / "yolov8_rk3588_i8.onnx", mean=0, std=255)) as d:
        dets = d(cv2.imread(str(img_path)))
    assert doc["task"] == "detect" and len(doc["detections"]) == len(dets) > 0
    assert [r["class_id"] for r in doc["detections"]] == dets.class_ids.tolist()


def test_real_face_detector_finds_the_face(models_dir, data_dir, tmp_path, capsys):
    # BlazeFace (a real pretrained model, converted by tools/make_fixtures.py): one face on
    # astronaut.png, where a person sees it (hand-measured: x 100..155, y 45..100).
    assert main(["run", str(models_dir / "blazeface_rk3588_i8.rknn"), str(data_dir / "images" / "astronaut.png"),
                 "--runtime", "emulator", "--out", str(tmp_path)]) == 0
    assert "astronaut.png: 1 face ->" in capsys.readouterr().out
    (face,) = json.loads((tmp_path / "astronaut.json").read_text())["detections"]
    x1, y1, x2, y2 = face["xyxy"]
    assert 90 <= x1 <= 112 and 145 <= x2 <= 165 and 35 <= y1 <= 57 and 90 <= y2 <= 110
    assert face["score"] > 0.9 and face["name"] == "face" and len(face["keypoints"]) == 6
