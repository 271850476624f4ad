"""`rknn-fast info`: file-only output, --json, and --runtime emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import rknn_fast
from rknn_fast.cli import main
from rknn_fast.model import emulator_path

MODEL = "tiny_conv_rk3588_i8.rknn"
needs_emulator = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")


def test_info_without_runtime(models_dir, capsys, monkeypatch):
    # No runtime anywhere: info must still work from the file alone.
    monkeypatch.setenv("RKNN_FAST_RUNTIME", "/nonexistent/librknnrt.so")
    assert main(["info", str(models_dir / MODEL)]) == 0
    out = capsys.readouterr().out
    assert "platform:  rk3588" in out
    assert "toolkit:   2.5.0" in out
    meta = json.loads((models_dir / MODEL.replace(".rknn", ".json")).read_text())
    i, o = meta["inputs"][0], meta["outputs"][0]
    assert f"[0] images: int8 NHWC (1, 64, 64, 3) scale={i['scale']:.6g} zp={i['zero_point']}" in out
    assert (f"[0] head: int8 NCHW (1, 4, 32, 32) scale={o['scale']:.6g} zp={o['zero_point']}  "
            "native NC1HWC2 (1, 2, 32, 32, 16)") in out
    assert "runtime:" not in out


def test_info_json_matches_inspect(models_dir, capsys):
    assert main(["info", "--json", str(models_dir / MODEL)]) == 0
    doc = json.loads(capsys.readouterr().out)
    info = rknn_fast.inspect(models_dir / MODEL)
    assert doc["file"]["target_platform"] == info.target_platform
    assert [t["name"] for t in doc["file"]["outputs"]] == [t.name for t in info.outputs]
    assert tuple(doc["file"]["outputs"][0]["native_shape"]) == info.outputs[0].native_shape
    assert "runtime" not in doc


def test_info_missing_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.rknn")]) == 2
    assert "nope.rknn" in capsys.readouterr().err


def test_info_not_a_model(tmp_path, capsys):
    p = tmp_path / "bad.rknn"
    p.write_bytes(b"not a model at all" * 10)
    assert main(["info", str(p)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_info_bad_runtime(models_dir, capsys, tmp_path):
    assert main(["info", str(models_dir / MODEL), "--runtime", str(tmp_path / "x.so")]) == 3
    assert "librknnrt" in capsys.readouterr().err


@needs_emulator
def test_info_with_emulator_runtime(models_dir, capsys):
    assert main(["info", str(models_dir / MODEL), "--runtime", "emulator"]) == 0
    out = capsys.readouterr().out
    assert "(emulator)" in out
    assert "api:" in out and "driver:" in out
    assert "output 0 native: NC1HWC2 (1, 2, 32, 32, 16)" in out
    assert "output 0 native_nhwc: NHWC (1, 32, 32, 4)" in out


@needs_emulator
def test_info_json_with_runtime(models_dir, capsys):
    assert main(["info", "--json", str(models_dir / MODEL), "--runtime", "emulator"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rt = doc["runtime"]
    assert rt["is_emulator"] is True
    assert rt["outputs"][0]["shape"] == doc["file"]["outputs"][0]["shape"]
    assert rt["native_attrs"]["output_native"][0]["dims"] == [1, 2, 32, 32, 16]


def test_console_script_entry_point(models_dir):
    r = subprocess.run([sys.executable, "-m", "rknn_fast.cli", "info", str(models_dir / MODEL)],
                       capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
    assert "rk3588" in r.stdout


def test_info_on_a_directory_is_an_error_message_not_a_traceback(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    assert "Is a directory" in capsys.readouterr().err
