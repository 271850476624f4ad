"""`rknn-fast --version` and `info` as a new user meets it (issue 11, item 8): runtime failures
keep the file's details, dtype names in the runtime section, errors name the path once, and a
near miss of 'emulator' gets a suggestion."""

from __future__ import annotations

import json
import os

import pytest

import rknn_fast
from rknn_fast.cli import main
from rknn_fast.model import emulator_path

MODEL = "tiny_conv_rk3588_i8.rknn"
needs_emulator = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"rknn-fast {rknn_fast.__version__}"


def test_bad_runtime_still_prints_the_file_details(models_dir, tmp_path, capsys):
    assert main(["info", str(models_dir / MODEL), "--runtime", str(tmp_path / "nope.so")]) == 3
    out, err = capsys.readouterr()
    assert "platform:  rk3588" in out and "[0] head: int8 NCHW (1, 4, 32, 32)" in out
    assert "nope.so" in err and "cannot open the model" in err


def test_bad_runtime_json_has_file_and_runtime_error(models_dir, tmp_path, capsys):
    assert main(["info", "--json", str(models_dir / MODEL), "--runtime", str(tmp_path / "nope.so")]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["file"]["target_platform"] == "rk3588"
    assert "nope.so" in doc["runtime_error"] and "runtime" not in doc


def test_error_names_the_path_once(tmp_path, capsys):
    p = tmp_path / "bad.rknn"
    p.write_bytes(b"not a model at all" * 10)
    assert main(["info", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count(str(p)) == 1, err
    assert err.startswith(f"rknn-fast: cannot read {p}: ")


@needs_emulator
def test_runtime_section_has_version_and_dtype_names(models_dir, capsys):
    assert main(["info", str(models_dir / MODEL), "--runtime", "emulator"]) == 0
    out = capsys.readouterr().out
    with rknn_fast.Model(models_dir / MODEL, runtime="emulator") as m:
        version = m.runtime_version or m.sdk_version.api
    assert version and f"librknnrt version: {version}" in out
    assert "librknnrt version: ?" not in out
    assert "type=" not in out
    assert "output 0 native: NC1HWC2 (1, 2, 32, 32, 16) int8 size=" in out


@pytest.mark.parametrize("typo", ["emulatr", "Emulator", "emualtor"])
def test_near_miss_of_emulator_suggests_it(models_dir, monkeypatch, typo):
    monkeypatch.setenv("RKNN_FAST_RUNTIME", typo)
    with pytest.raises(rknn_fast.RknnError, match=r"Did you mean 'emulator'\?"):
        rknn_fast.Model(models_dir / MODEL)


def test_a_real_path_gets_no_emulator_suggestion(models_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("RKNN_FAST_RUNTIME", str(tmp_path / "librknnrt.so"))
    with pytest.raises(rknn_fast.RknnError) as e:
        rknn_fast.Model(models_dir / MODEL)
    assert "did you mean" not in str(e.value).lower()
