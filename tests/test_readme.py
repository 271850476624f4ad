"""The README's "Use" snippet runs as written against the emulator fixtures.

The snippet is extracted from README.md (not mirrored), so a README edit that breaks it fails
here. Only the file names are mapped to fixtures: yolov8n.rknn -> the YOLOv8 fixture,
model.rknn -> the tiny conv fixture, street.jpg -> a photo written in the working directory;
``frame_nhwc_uint8`` and ``frame`` are the frames the prose refers to.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil

import numpy as np
import pytest

import rknn_fast
from rknn_fast.model import emulator_path

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"

pytestmark = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")


def _use_snippet() -> str:
    text = README.read_text()
    section = text.split("## Use", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "expected one python block in the README's Use section"
    return blocks[0]


def test_readme_use_snippet_runs(models_dir, tmp_path, monkeypatch):
    cv2 = pytest.importorskip("cv2")
    shutil.copy(models_dir / "yolov8_rk3588_i8.rknn", tmp_path / "yolov8n.rknn")
    shutil.copy(models_dir / "tiny_conv_rk3588_i8.rknn", tmp_path / "model.rknn")
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / "street.jpg"), rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RKNN_FAST_RUNTIME", "emulator")
    with rknn_fast.Model("model.rknn", runtime="emulator") as m:
        h, w, c = m.inputs[0].shape[1:]
    frame = rng.integers(0, 255, (h, w, c), dtype=np.uint8)
    scope = {"frame": frame, "frame_nhwc_uint8": frame[None]}
    exec(compile(_use_snippet(), str(README), "exec"), scope)
    dets, outs = scope["dets"], scope["outs"]
    assert isinstance(dets, rknn_fast.Detections)
    assert cv2.imread("out.png").shape == (480, 640, 3)
    assert isinstance(outs, list) and all(isinstance(o, np.ndarray) for o in outs)
    assert scope["RKNNLite"] is rknn_fast.RKNNLite


def test_readme_first_command_example_runs(tmp_path):
    # `python3 examples/detect.py --runtime emulator`: replays the recorded photo, writes the picture.
    import subprocess
    import sys
    script = README.parent / "examples" / "detect.py"
    r = subprocess.run([sys.executable, str(script), "--runtime", "emulator"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "replayed the outputs recorded for this photo" in r.stdout
    assert (tmp_path / "out" / "detections.png").stat().st_size > 0
