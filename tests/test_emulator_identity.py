"""The emulator as a client sees it: version strings, embedded version, exported symbols,
unsupported companion APIs, golden sets found by content, board (SoC) emulation."""

from __future__ import annotations

import ctypes as C
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import rknn_fast
from rknn_fast import emulator, errors
from rknn_fast.golden import golden_fingerprint, model_fingerprint, read_golden, read_golden_tensors, write_golden
from rknn_fast.lite import RKNNLite

import emu_ctypes as E
from conftest import MODELS

SYMBOLS = Path(__file__).resolve().parent / "data" / "librknnrt_symbols"
I8 = MODELS / "tiny_conv_rk3588_i8.rknn"
FP16 = MODELS / "tiny_conv_rk3588_fp16.rknn"  # same input shape as I8, other outputs
RK3566 = MODELS / "tiny_conv_rk3566_i8.rknn"

# "x.y.z (<build>@<date>)" with no further '.': how RKNNLite reads the API version.
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+) \(([^.()\s]+)@([^.()\s]+)\)$")


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for var in ("RKNN_EMU_GOLDEN", "RKNN_EMU_GOLDEN_PATH", "RKNN_EMU_SOC"):
        monkeypatch.delenv(var, raising=False)
    emulator.reset()
    yield
    emulator.reset()


def _names(path: Path) -> set:
    return {line.split()[0] for line in path.read_text().splitlines() if line.strip()}


def _exported() -> set:
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not available")
    out = subprocess.run([nm, "-D", "--defined-only", emulator.library_path()], check=True,
                         capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


# ---------------------------------------------------------------------------------- identity

def test_version_strings_parse_as_x_y_z():
    with rknn_fast.Model(I8, runtime="emulator") as m:
        for text in (m.sdk_version.api, m.sdk_version.driver, m.runtime_version):
            match = VERSION_RE.match(text)
            assert match, text
            major, minor, patch = text.split(".")  # RKNNLite's parse: exactly three parts
            assert int(major) >= 0 and int(minor) >= 0 and patch.split(" ")[0].isdigit()
            assert "emulator" in match.group(4)
        # The embedded "librknnrt version: " string is the API version.
        assert m.runtime_version == m.sdk_version.api
        assert m.sdk_version.api.startswith("2.3.2 ")


def test_embedded_version_string_is_in_the_file():
    data = Path(emulator.library_path()).read_bytes()
    at = data.index(b"librknnrt version: ")
    text = data[at:data.index(b"\0", at)].decode()
    assert VERSION_RE.match(text[len("librknnrt version: "):]), text


def test_exports_a_real_librknnrt_symbol_set():
    exported = _exported() - {"rknn_emulator_control"}
    real = _names(SYMBOLS / "librknnrt-1.5.2-aarch64.txt")
    additions = _names(SYMBOLS / "header-2.3.2-additions.txt")
    assert len(real) == 25 and "rknn_matmul_run" in real
    missing = real - exported
    assert not missing, f"a real 1.5.2 build exports {sorted(missing)}"
    extra = exported - real - additions
    assert not extra, f"no real build is known to export {sorted(extra)}"
    assert additions <= exported
    assert "rknn_create_mem_from_mb_blk" not in exported
    assert "rknn_destory_mem" not in exported
    # Nothing but C API names (no C++ symbols leak).
    assert all(name.startswith("rknn_") for name in _exported())


def test_matmul_and_custom_op_are_not_supported(capfd):
    lib = C.CDLL(emulator.library_path())
    ctx = C.c_uint64(0)
    calls = {
        "rknn_matmul_create": lambda f: f(C.byref(ctx), None, None),
        "rknn_matmul_run": lambda f: f(C.c_uint64(1)),
        "rknn_matmul_destroy": lambda f: f(C.c_uint64(1)),
        "rknn_matmul_set_core_mask": lambda f: f(C.c_uint64(1), 1),
        "rknn_register_custom_ops": lambda f: f(C.c_uint64(1), None, 0),
    }
    for name, call in calls.items():
        fn = getattr(lib, name)
        fn.restype = C.c_int
        assert call(fn) == E.RKNN_ERR_FAIL, name
    lib.rknn_custom_op_get_op_attr.restype = None
    lib.rknn_custom_op_get_op_attr(None, b"x", None)  # void: logs only
    err = capfd.readouterr().err
    for name in list(calls) + ["rknn_custom_op_get_op_attr"]:
        assert f"{name}: not supported by the emulator" in err


# --------------------------------------------------------------------------- golden by content

def _run_golden(model_src, golden_src):
    """Runs every recorded input; returns (outputs, counters)."""
    records = read_golden(golden_src)
    emulator.reset_counters()
    got = []
    with rknn_fast.Model(model_src, runtime="emulator", float_outputs=True) as m:
        for inputs, _ in records:
            got.append(m.run(*inputs, copy=True))
    return got, emulator.counters()


def _assert_replayed(got, golden_src):
    for outs, (_, want) in zip(got, read_golden(golden_src)):
        assert len(outs) == len(want)
        for o, w in zip(outs, want):
            assert np.array_equal(o, w)


def test_golden_found_by_fingerprint_for_bytes_and_paths(tmp_path, monkeypatch):
    # Two models with the same input shape, their goldens in one directory, the models in
    # another: each model (by bytes and by path) replays its own set, never the other's.
    gdir, mdir = tmp_path / "goldens", tmp_path / "models"
    gdir.mkdir()
    mdir.mkdir()
    for src, name in ((I8, "a.golden"), (FP16, "b.golden")):
        shutil.copy(src.with_suffix(".golden"), gdir / name)
        shutil.copy(src, mdir / src.name)
        assert golden_fingerprint(gdir / name) == model_fingerprint(src)
    monkeypatch.setenv("RKNN_EMU_GOLDEN_PATH", f"{tmp_path / 'nowhere'}:{gdir}")
    for src, golden in ((I8, gdir / "a.golden"), (FP16, gdir / "b.golden")):
        for model_src in (src.read_bytes(), mdir / src.name):
            got, c = _run_golden(model_src, golden)
            assert c["golden_runs"] == len(got) and c["synthetic_runs"] == 0, (src.name, type(model_src))
            _assert_replayed(got, golden)


def test_golden_path_lists_files_too(tmp_path, monkeypatch):
    fp16_golden = tmp_path / "x.golden"
    shutil.copy(FP16.with_suffix(".golden"), fp16_golden)
    monkeypatch.setenv("RKNN_EMU_GOLDEN_PATH", str(fp16_golden))
    got, c = _run_golden(FP16.read_bytes(), fp16_golden)
    assert c["golden_runs"] == len(got)
    # The I8 model's bytes do not match that file's fingerprint: synthetic outputs.
    got, c = _run_golden(I8.read_bytes(), I8.with_suffix(".golden"))
    assert c["golden_runs"] == 0 and c["synthetic_runs"] == len(got)


def test_without_a_match_outputs_are_synthetic(tmp_path):
    got, c = _run_golden(I8.read_bytes(), I8.with_suffix(".golden"))
    assert c["golden_runs"] == 0 and c["synthetic_runs"] == len(got)


def test_sibling_with_another_models_fingerprint_is_skipped(tmp_path):
    model = tmp_path / "m.rknn"
    shutil.copy(I8, model)
    shutil.copy(FP16.with_suffix(".golden"), tmp_path / "m.golden")  # FP16's set beside I8
    got, c = _run_golden(model, I8.with_suffix(".golden"))
    assert c["golden_runs"] == 0 and c["synthetic_runs"] == len(got)


def test_model_directory_is_searched_by_fingerprint(tmp_path):
    model = tmp_path / "renamed.rknn"
    shutil.copy(I8, model)
    shutil.copy(I8.with_suffix(".golden"), tmp_path / "recorded_on_board.golden")
    got, c = _run_golden(model, I8.with_suffix(".golden"))
    assert c["golden_runs"] == len(got)
    _assert_replayed(got, I8.with_suffix(".golden"))


def test_old_golden_without_fingerprint_works_beside_its_model(tmp_path, monkeypatch):
    model = tmp_path / "m.rknn"
    shutil.copy(I8, model)
    records = read_golden_tensors(I8.with_suffix(".golden"))
    write_golden(tmp_path / "m.golden", records)  # no model=: an old-style file
    assert golden_fingerprint(tmp_path / "m.golden") is None
    got, c = _run_golden(model, tmp_path / "m.golden")
    assert c["golden_runs"] == len(got)
    # Not found for bytes, even listed in RKNN_EMU_GOLDEN_PATH: nothing ties it to the model.
    monkeypatch.setenv("RKNN_EMU_GOLDEN_PATH", str(tmp_path))
    got, c = _run_golden(I8.read_bytes(), tmp_path / "m.golden")
    assert c["golden_runs"] == 0


def test_write_golden_records_the_fingerprint(tmp_path):
    records = read_golden_tensors(I8.with_suffix(".golden"))
    for model in (I8, str(I8), I8.read_bytes()):
        write_golden(tmp_path / "g.golden", records, model=model)
        assert golden_fingerprint(tmp_path / "g.golden") == model_fingerprint(I8)
        assert len(golden_fingerprint(tmp_path / "g.golden")) == 32
        back = read_golden_tensors(tmp_path / "g.golden")
        assert all(np.array_equal(a.data, b.data) for (ia, _), (ib, _) in zip(records, back) for a, b in zip(ia, ib))
    import hashlib
    assert model_fingerprint(I8) == hashlib.sha256(I8.read_bytes()).digest()
    with pytest.raises(TypeError):
        write_golden(tmp_path / "g.golden", records, model=12)
    with pytest.raises(ValueError):
        write_golden(tmp_path / "g.golden", records, model=b"")


def test_lite_replays_the_golden_beside_a_model_loaded_by_path(tmp_path):
    model = tmp_path / "m.rknn"
    shutil.copy(I8, model)
    records = read_golden_tensors(I8.with_suffix(".golden"))
    write_golden(tmp_path / "m.golden", records)  # fingerprint-less: needs the path form
    lite = RKNNLite(runtime="emulator")
    assert lite.load_rknn(str(model)) == 0
    assert lite.init_runtime() == 0
    emulator.reset_counters()
    for (inputs, outputs) in read_golden(tmp_path / "m.golden"):
        outs = lite.inference(inputs=[inputs[0]])
        assert np.array_equal(outs[0], outputs[0])
    assert emulator.counters()["golden_runs"] == len(records)
    lite.release()


# ------------------------------------------------------------------------------ board (SoC)

def test_model_for_another_platform_fails_with_target_platform_unmatch(monkeypatch, capfd):
    monkeypatch.setenv("RKNN_EMU_SOC", "rk3566")
    with pytest.raises(errors.RknnError) as ei:
        rknn_fast.Model(I8, runtime="emulator")
    assert ei.value.code == -13
    assert "This rknn model is for rk3588, but current platform is rk3566" in capfd.readouterr().err
    lib = E.load(emulator.library_path())
    ctx = E.rknn_context()
    data = I8.read_bytes()
    assert lib.rknn_init(C.byref(ctx), data, len(data), 0, None) == E.RKNN_ERR_TARGET_PLATFORM_UNMATCH
    assert lib.rknn_init(C.byref(ctx), str(I8).encode(), 0, 0, None) == -13


@pytest.mark.parametrize("soc,model", [("rk3566", RK3566), ("rk3568", RK3566), ("RK3588", I8), ("rk3588s", I8)])
def test_model_runs_on_its_soc_and_rk3566_rk3568_share_models(monkeypatch, soc, model):
    monkeypatch.setenv("RKNN_EMU_SOC", soc)
    got, c = _run_golden(model, model.with_suffix(".golden"))
    assert c["golden_runs"] == len(got)
    _assert_replayed(got, model.with_suffix(".golden"))


def test_core_masks_are_checked_against_the_soc(monkeypatch):
    lib = E.load(emulator.library_path())
    ctx = E.rknn_context()
    monkeypatch.setenv("RKNN_EMU_SOC", "rk3568")
    assert lib.rknn_init(C.byref(ctx), str(RK3566).encode(), 0, 0, None) == 0
    try:
        assert lib.rknn_set_core_mask(ctx, 1) == E.RKNN_ERR_TARGET_PLATFORM_UNMATCH  # single-core NPU
    finally:
        lib.rknn_destroy(ctx)
    monkeypatch.setenv("RKNN_EMU_SOC", "rk3588")
    for mask in (1, 2, 4, 3, 7, 0xFFFF):
        with rknn_fast.Model(I8, runtime="emulator", core_mask=mask) as m:
            assert m.core_mask == mask
    assert lib.rknn_init(C.byref(ctx), str(I8).encode(), 0, 0, None) == 0
    try:
        assert lib.rknn_set_core_mask(ctx, 8) == E.RKNN_ERR_FAIL  # rk3588 has cores 0..2
        assert lib.rknn_set_core_mask(ctx, 4) == 0
    finally:
        lib.rknn_destroy(ctx)


def test_lite_target_names_this_board_or_the_models_platform(monkeypatch, tmp_path, caplog):
    import logging

    import rknn_fast.lite as lite_mod

    compatible = tmp_path / "compatible"
    compatible.write_bytes(b"rockchip,rk3568-evb1-ddr4-v10\0rockchip,rk3568\0")
    monkeypatch.setattr(lite_mod, "_DEVICE_TREE_COMPATIBLE", str(compatible))
    lite = RKNNLite(runtime="emulator")
    assert lite.load_rknn(str(RK3566)) == 0
    assert lite.init_runtime(target="RK3568") == 0  # the board
    assert lite.init_runtime(target="rk3566") == 0  # the model's platform
    with caplog.at_level(logging.ERROR, logger="rknn_fast.lite"):
        assert lite.init_runtime(target="rk3588") == -1
    assert "'rk3588' is neither this board's SoC (rk3568) nor the model's platform (rk3566)" in caplog.text
    lite.release()


def test_lite_accepts_a_bare_array_with_a_warning(caplog):
    import logging

    (inputs, outputs), *_ = read_golden(I8.with_suffix(".golden"))
    lite = RKNNLite(runtime="emulator")
    assert lite.load_rknn(str(I8)) == 0
    assert lite.init_runtime() == 0
    with caplog.at_level(logging.WARNING, logger="rknn_fast.lite"):
        outs = lite.inference(inputs=inputs[0])
    assert "bare array" in caplog.text
    assert np.array_equal(outs[0], outputs[0])
    lite.release()


# ------------------------------------------------------------------------------------ loader

def _shim(tmp_path, *defines):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / ("shim" + "".join(defines) + ".so")
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-I", str(root / "cpp"),
                    str(root / "tests" / "data" / "old_runtime_shim.c"), "-o", str(out), "-ldl", *defines],
                   check=True, capture_output=True)
    return out


def test_loader_minimum_is_1_3_0(tmp_path, monkeypatch):
    monkeypatch.setenv("RKNN_SHIM_TARGET", emulator.library_path())
    # A 1.3.0/1.4.0-like runtime loads; the newer functions are reported missing.
    with rknn_fast.Model(I8, runtime=str(_shim(tmp_path))) as m:
        f = m.runtime_functions
        assert f["rknn_set_core_mask"] and f["rknn_set_batch_core_num"]
        assert not f["rknn_mem_sync"] and not f["rknn_create_mem2"] and not f["rknn_set_input_shapes"]
    # 1.2.0 spells rknn_destory_mem: refused, saying what is missing and the minimum.
    with pytest.raises(errors.RuntimeNotFoundError, match=r"librknnrt \(>= 1\.3\.0\): missing rknn_destroy_mem"):
        rknn_fast.Model(I8, runtime=str(_shim(tmp_path, "-DV120")))
