"""RKNNLite drop-in: contract of ../shared/rknn/RKNNLITE_API.md on the emulator."""

from __future__ import annotations

import logging
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import rknn_fast
from rknn_fast import errors
from rknn_fast.golden import read_golden
from rknn_fast.lite import RKNNLite
from rknn_fast.model import emulator_path

MODEL = "tiny_conv_rk3588_i8"
pytestmark = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")


@pytest.fixture(scope="module")
def model_path(models_dir):
    return str(models_dir / f"{MODEL}.rknn")


@pytest.fixture(scope="module")
def golden(models_dir):
    return read_golden(models_dir / f"{MODEL}.golden")


@pytest.fixture(autouse=True)
def emulator_env(models_dir, monkeypatch):
    # RKNNLite hands the runtime the model's bytes, so the emulator is told where the golden
    # set is (with a path it finds model.golden by itself).
    monkeypatch.setenv("RKNN_FAST_RUNTIME", "emulator")
    monkeypatch.setenv("RKNN_EMU_GOLDEN", str(models_dir / f"{MODEL}.golden"))


@pytest.fixture
def lite(model_path):
    r = RKNNLite()
    assert r.load_rknn(model_path) == 0
    assert r.init_runtime() == 0
    yield r
    r.release()


def test_constants():
    assert rknn_fast.RKNNLite is RKNNLite
    assert (RKNNLite.NPU_CORE_AUTO, RKNNLite.NPU_CORE_0, RKNNLite.NPU_CORE_1, RKNNLite.NPU_CORE_2) == (0, 1, 2, 4)
    assert (RKNNLite.NPU_CORE_0_1, RKNNLite.NPU_CORE_0_1_2, RKNNLite.NPU_CORE_ALL) == (3, 7, 0xFFFF)


def test_inference_float32_logical_matches_golden(lite, golden):
    for inputs, outputs in golden:
        outs = lite.inference(inputs=[inputs[0]])
        assert isinstance(outs, list) and len(outs) == 1
        assert outs[0].dtype == np.float32 and outs[0].shape == (1, 4, 32, 32)
        np.testing.assert_allclose(outs[0], outputs[0], atol=1e-5)


def test_independent_outputs_and_reuse(lite, golden):
    a = lite.inference(inputs=[golden[0][0][0]])[0]
    b = lite.inference(inputs=[golden[1][0][0]])[0]
    assert a is not b and not np.array_equal(a, b)
    np.testing.assert_allclose(a, golden[0][1][0], atol=1e-5)  # not overwritten
    c = lite.inference(inputs=[golden[0][0][0]], reuse_outputs=True)[0]
    d = lite.inference(inputs=[golden[1][0][0]], reuse_outputs=True)[0]
    assert c is d  # internal buffer, overwritten by the next call


def test_hwc_and_nchw_inputs(lite, golden, caplog):
    img = golden[2][0][0]
    want = golden[2][1][0]
    np.testing.assert_allclose(lite.inference(inputs=[img[0]])[0], want, atol=1e-5)
    nchw = img.transpose(0, 3, 1, 2)  # non-contiguous too: RKNNLite accepts it
    with caplog.at_level(logging.WARNING, logger="rknn_fast.lite"):
        out = lite.inference(inputs=[nchw], data_format="nchw")
    np.testing.assert_allclose(out[0], want, atol=1e-5)
    assert "NCHW" in caplog.text


def test_frame_id(lite, golden):
    outs = lite.inference(inputs=[golden[0][0][0]], get_frame_id=True)
    assert len(outs) == 2 and isinstance(outs[1], int)
    assert lite.get_frame_id() == outs[1]
    outs2 = lite.inference(inputs=[golden[0][0][0]], get_frame_id=True)
    assert outs2[1] > outs[1]


def test_sdk_version_and_platforms(lite, model_path):
    v = lite.get_sdk_version()
    assert isinstance(v, str) and "API" in v and "DRV" in v
    assert lite.list_support_target_platform() == ["rk3588"]
    assert RKNNLite().list_support_target_platform(model_path) == ["rk3588"]
    assert lite.list_devices() == []


def test_never_raises(model_path, golden, caplog, monkeypatch, tmp_path):
    monkeypatch.setenv("RKNN_FAST_RUNTIME", "emulator")
    r = RKNNLite()
    with caplog.at_level(logging.ERROR, logger="rknn_fast.lite"):
        assert r.load_rknn(str(tmp_path / "missing.rknn")) == -1
        assert r.init_runtime() == -1  # no model loaded
        assert r.inference(inputs=[golden[0][0][0]]) is None  # no runtime
        assert r.get_sdk_version() is None
        assert r.load_rknn(model_path) == 0
        assert r.init_runtime(core_mask=RKNNLite.NPU_CORE_0_1_2) == 0
        assert r.inference(inputs=[golden[0][0][0][:, :10]]) is None  # wrong shape
        assert r.inference(inputs=[golden[0][0][0], golden[0][0][0]]) is None  # wrong count
        assert r.inference(inputs=[golden[0][0][0].astype(np.int32)]) is None  # wrong dtype
        assert r.init_runtime(target="rk1808") == -1  # neither this board nor the model's platform
    assert "failed" in caplog.text
    r.release()
    r.release()  # idempotent
    assert r.inference(inputs=[golden[0][0][0]]) is None


def test_second_init_releases_previous(lite, golden):
    assert lite.init_runtime() == 0
    assert lite.init_runtime(async_mode=False, core_mask=RKNNLite.NPU_CORE_1) == 0
    np.testing.assert_allclose(lite.inference(inputs=[golden[0][0][0]])[0], golden[0][1][0], atol=1e-5)


def test_strict_mode_raises(model_path, golden, tmp_path, monkeypatch):
    monkeypatch.setenv("RKNN_FAST_RUNTIME", "emulator")
    r = RKNNLite(strict=True)
    with pytest.raises(FileNotFoundError):
        r.load_rknn(str(tmp_path / "missing.rknn"))
    assert r.load_rknn(model_path) == 0
    assert r.init_runtime() == 0
    with pytest.raises(TypeError):
        r.inference(inputs="not an array")
    with pytest.raises(ValueError, match="expected shape"):
        r.inference(inputs=[golden[0][0][0][:, :10]])
    r.release()
    with pytest.raises(ValueError, match="init_runtime"):
        r.inference(inputs=[golden[0][0][0]])


def test_runtime_missing_returns_minus_one(model_path, tmp_path, monkeypatch):
    monkeypatch.setenv("RKNN_FAST_RUNTIME", str(tmp_path / "none.so"))
    r = RKNNLite()
    assert r.load_rknn(model_path) == 0
    assert r.init_runtime() == -1
    with pytest.raises(errors.RuntimeNotFoundError):
        s = RKNNLite(strict=True)
        s.load_rknn(model_path)
        s.init_runtime()


def test_rknnlite_script_runs_with_import_changed(model_path, golden, tmp_path, data_dir):
    src = (data_dir / "lite_script.py").read_text()
    assert src.count("from rknnlite.api import RKNNLite") == 1
    script = tmp_path / "script.py"
    script.write_text(src.replace("from rknnlite.api import RKNNLite", "from rknn_fast.lite import RKNNLite"))
    frames = np.concatenate([inputs[0] for inputs, _ in golden])
    np.save(tmp_path / "in.npy", frames)
    env = dict(os.environ)  # RKNN_FAST_RUNTIME=emulator and RKNN_EMU_GOLDEN from the fixture
    r = subprocess.run([sys.executable, str(script), model_path, str(tmp_path / "in.npy"), str(tmp_path / "out.npz")],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("ok")
    got = np.load(tmp_path / "out.npz")
    for k, (_, outputs) in enumerate(golden):
        np.testing.assert_allclose(got[f"frame{k}_out0"], outputs[0], atol=1e-5)


def test_inputs_pass_through(lite, golden):
    img = golden[2][0][0]
    q = (img.astype(np.int16) - 128).astype(np.int8)
    out = lite.inference(inputs=[q], inputs_pass_through=[1])
    np.testing.assert_allclose(out[0], golden[2][1][0], atol=1e-5)


def test_int8_data_type_is_quantised_values(lite, golden):
    """data_type='int8' with an int8 array: quantised values of the int8 input (mean 0 /
    std 255, scale 1/255, zero point -128, so pixel p is p - 128), taken as they are
    without pass-through; the same pixels as uint8 give the same outputs."""
    for inputs, outputs in golden:
        q = (inputs[0].astype(np.int16) - 128).astype(np.int8)
        out = lite.inference(inputs=[q], data_type="int8")
        np.testing.assert_allclose(out[0], outputs[0], atol=1e-5)
        out = lite.inference(inputs=[inputs[0]], data_type="uint8")
        np.testing.assert_allclose(out[0], outputs[0], atol=1e-5)


def test_core_masks_by_platform(models_dir, tmp_path, caplog):
    single = RKNNLite()
    assert single.load_rknn(str(models_dir / "tiny_conv_rk3566_i8.rknn")) == 0
    assert single.init_runtime(core_mask=RKNNLite.NPU_CORE_AUTO) == 0
    assert single.init_runtime(core_mask=RKNNLite.NPU_CORE_0) == -1  # rk3566 has one core
    single.release()

    import rknn_builder

    path = tmp_path / "rk3576.rknn"
    path.write_bytes(rknn_builder.build(rknn_builder.tiny_conv(target_platform="rk3576")))
    dual = RKNNLite()
    assert dual.load_rknn(str(path)) == 0
    with caplog.at_level(logging.WARNING, logger="rknn_fast.lite"):
        assert dual.init_runtime(core_mask=RKNNLite.NPU_CORE_0_1_2) == 0
    assert "rk3576" in caplog.text
    assert dual._model is not None and dual._model.core_mask == RKNNLite.NPU_CORE_0_1
    assert dual.init_runtime(core_mask=RKNNLite.NPU_CORE_2) == 0
    assert dual._model.core_mask == RKNNLite.NPU_CORE_0
    dual.release()


def test_verbose_file_is_per_instance_and_closed_by_release(model_path, tmp_path):
    root_logger = logging.getLogger("rknn_fast.lite")
    handlers_before = list(root_logger.handlers)
    level_before = root_logger.level
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    a = RKNNLite(verbose=True, verbose_file=str(log_a))
    b = RKNNLite(verbose_file=str(log_b))
    assert a.load_rknn(str(model_path)) == 0
    assert b.load_rknn(str(tmp_path / "missing.rknn")) == -1
    # nothing added to the shared logger (each instance used to add an open FileHandler to it)
    assert root_logger.handlers == handlers_before and root_logger.level == level_before
    a.release()
    b.release()
    b.release()
    assert "loaded" in log_a.read_text() and "missing.rknn" not in log_a.read_text()
    assert "missing.rknn" in log_b.read_text() and "loaded" not in log_b.read_text()
    assert a._file_handler is None and b._file_handler is None


def test_data_format_per_input_is_applied_per_input(monkeypatch, lite):
    # A list of formats names each input's own layout: only the NCHW ones are transposed.
    import rknn_fast.model as model_mod
    seen = {}
    real_run = model_mod.Model.run

    def spy(self, *arrays, data_format=None, **kw):
        seen["shapes"], seen["fmt"] = [a.shape for a in arrays], data_format
        return real_run(self, *arrays, data_format=data_format, **kw)

    monkeypatch.setattr(model_mod.Model, "run", spy)
    model = lite._model
    spec = model.inputs[0]
    model._in_specs = model._in_specs * 2  # pretend two NHWC inputs of the same shape
    model.inputs = (spec, spec)
    _, h, w, c = spec.shape
    nchw = np.zeros((1, c, h, w), np.uint8)
    nhwc = np.zeros((1, h, w, c), np.uint8)
    lite.inference([nchw, nhwc], data_format=["nchw", "nhwc"])
    assert seen["fmt"] is None and seen["shapes"] == [(1, h, w, c), (1, h, w, c)]
    lite.inference([nchw, nchw], data_format="nchw")
    assert seen["fmt"] == "nchw"
