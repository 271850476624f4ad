"""rknn_fast.Model on the emulator: attributes, copy and zero-copy runs against the golden
outputs, conversions, dma-buf input, core masks, bad inputs, threads, memory."""

from __future__ import annotations

import gc
import os
import threading

import numpy as np
import pytest

import rknn_fast
from rknn_fast import errors
from rknn_fast.golden import read_golden
from rknn_fast.model import emulator_path, parse_core_mask

from conftest import MODELS
from reference_runtime import dequantize

MODEL = "tiny_conv_rk3588_i8"

pytestmark = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")


@pytest.fixture(scope="module")
def model_path(models_dir):
    return models_dir / f"{MODEL}.rknn"


@pytest.fixture(scope="module")
def golden(models_dir):
    return read_golden(models_dir / f"{MODEL}.golden")


@pytest.fixture
def model(model_path):
    with rknn_fast.Model(model_path, runtime="emulator") as m:
        yield m


def quantize(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


# ---------------------------------------------------------------------------- attributes


def test_tensor_info_matches_file(model, model_path):
    info = rknn_fast.inspect(model_path)
    assert len(model.inputs) == len(info.inputs) == 1
    assert len(model.outputs) == len(info.outputs) == 1
    for got, want in zip(model.inputs + model.outputs, info.inputs + info.outputs):
        assert got.name == want.name
        assert got.index == want.index
        assert got.shape == want.shape
        assert got.layout == want.layout
        assert got.dtype == want.dtype
        assert got.qnt_type == want.qnt_type
        assert got.scale == pytest.approx(want.scale, rel=1e-6)
        assert got.zero_point == want.zero_point
        assert got.size == want.size
        assert got.size_with_stride == want.size_with_stride
        assert got.w_stride == want.w_stride
        assert got.h_stride == want.h_stride
    # The runtime's native output layout is the file's; the native input query answers NHWC.
    assert model.outputs[0].native_shape == info.outputs[0].native_shape == (1, 2, 32, 32, 16)
    assert model.outputs[0].native_layout == "NC1HWC2"
    assert model.inputs[0].native_shape == (1, 64, 64, 3) and model.inputs[0].native_layout == "NHWC"


@pytest.mark.parametrize("fixture", sorted(p.stem for p in MODELS.glob("*.rknn")))
def test_inspect_and_running_model_describe_tensors_identically(fixture):
    # One TensorInfo meaning: what the file says (no runtime) equals what the runtime reports.
    path = MODELS / f"{fixture}.rknn"
    info = rknn_fast.inspect(path)
    with rknn_fast.Model(path, runtime="emulator") as m:
        assert m.inputs == info.inputs
        assert m.outputs == info.outputs


def test_tensor_info_vs_toolkit_record(model, models_dir):
    # tests/data/models/<name>.json records what rknn-toolkit2 itself reported at conversion.
    import json

    meta = json.loads((models_dir / f"{MODEL}.json").read_text())
    i, o = model.inputs[0], model.outputs[0]
    mi, mo = meta["inputs"][0], meta["outputs"][0]
    assert (i.name, i.shape, i.layout, i.dtype) == (mi["name"], (1, 64, 64, 3), "NHWC", mi["dtype"])
    assert (i.zero_point, i.scale) == (mi["zero_point"], pytest.approx(mi["scale"], rel=1e-6))
    assert i.scale == pytest.approx(1 / 255, rel=1e-6)
    assert (o.name, o.shape, o.layout, o.dtype) == (mo["name"], tuple(mo["shape"]), "NCHW", mo["dtype"])
    assert (o.zero_point, o.scale) == (mo["zero_point"], pytest.approx(mo["scale"], rel=1e-6))
    assert o.size == 4096 and o.n_elems == 4096


def test_model_properties(model):
    assert model.target_platform == "rk3588"
    assert model.toolkit_version == "2.5.0"
    assert model.is_emulator
    assert model.runtime_path.endswith("librknnrt_emulator.so")
    assert isinstance(model.sdk_version, rknn_fast.SdkVersion)
    assert model.sdk_version.api and model.sdk_version.driver
    assert model.mem_size is None or model.mem_size["total_weight_size"] >= 0
    assert isinstance(model.custom_string, str)
    assert set(model.runtime_functions) >= {"rknn_mem_sync", "rknn_create_mem2", "rknn_set_core_mask"}


def test_open_from_bytes(model_path):
    with rknn_fast.Model(model_path.read_bytes(), runtime="emulator") as m:
        assert m.outputs[0].shape == (1, 4, 32, 32)


def test_env_var_emulator(model_path, monkeypatch):
    monkeypatch.setenv("RKNN_FAST_RUNTIME", "emulator")
    with rknn_fast.Model(model_path) as m:
        assert m.is_emulator


def test_corrupt_model_is_model_invalid(model_path):
    data = bytearray(model_path.read_bytes())
    data[:8] = b"\0" * 8
    with pytest.raises(errors.RknnError) as ei:
        rknn_fast.Model(bytes(data), runtime="emulator")
    assert ei.value.api == "rknn_init" and ei.value.code is not None and ei.value.code < 0


# ---------------------------------------------------------------------------- copy mode


def test_copy_run_golden_raw_and_float(model_path, golden):
    o = None
    with rknn_fast.Model(model_path, runtime="emulator") as raw_m, \
            rknn_fast.Model(model_path, runtime="emulator", float_outputs=True) as f_m:
        o = raw_m.outputs[0]
        for inputs, outputs in golden:
            img = inputs[0]
            assert img.dtype == np.uint8 and img.shape == (1, 64, 64, 3)
            (raw,) = raw_m.run(img)
            assert raw.dtype == np.int8 and raw.shape == (1, 4, 32, 32)
            assert np.array_equal(raw, quantize(outputs[0], o.scale, o.zero_point))
            (flt,) = f_m.run(img)
            assert flt.dtype == np.float32
            np.testing.assert_allclose(flt, outputs[0], atol=1e-5)
            np.testing.assert_allclose(dequantize(raw, o.scale, o.zero_point), flt, atol=1e-6)


def test_hwc_input_accepted(model, golden):
    img = golden[0][0][0]
    (a,) = model.run(img[0], copy=True)
    (b,) = model.run(img, copy=True)
    assert np.array_equal(a, b)


def test_nchw_input_with_data_format(model, golden):
    img = golden[1][0][0]
    (want,) = model.run(img, copy=True)
    nchw = np.ascontiguousarray(img.transpose(0, 3, 1, 2))
    (got,) = model.run(nchw, data_format="nchw", copy=True)
    assert np.array_equal(got, want)
    with pytest.raises(ValueError, match="expected shape"):
        model.run(nchw)  # NCHW without saying so


def test_outputs_are_reused_unless_copy(model, golden):
    (a,) = model.run(golden[0][0][0])
    a_saved = a.copy()
    (b,) = model.run(golden[1][0][0])
    assert b is a  # same preallocated array, overwritten
    assert not np.array_equal(a_saved, b)
    (c,) = model.run(golden[0][0][0], copy=True)
    assert c is not a and np.array_equal(c, a_saved)


def test_bad_inputs(model, golden):
    img = golden[0][0][0]
    with pytest.raises(TypeError, match="expected dtype"):
        model.run(img.astype(np.int32))
    with pytest.raises(TypeError, match="expected numpy.ndarray"):
        model.run(img.tolist())
    with pytest.raises(ValueError, match=r"expected shape \(1, 64, 64, 3\)"):
        model.run(img[:, :32])
    with pytest.raises(ValueError, match="C-contiguous"):
        model.run(np.zeros((1, 64, 128, 3), np.uint8)[:, :, ::2])
    with pytest.raises(ValueError, match="expected 1 inputs, got 2"):
        model.run(img, img)
    with pytest.raises(ValueError, match="expected 1 inputs, got 0"):
        model.run()
    with pytest.raises(ValueError, match="data_format"):
        model.run(img, data_format="chw")


def test_closed_model_raises(model_path, golden):
    m = rknn_fast.Model(model_path, runtime="emulator")
    m.close()
    m.close()  # idempotent
    assert m.closed
    with pytest.raises(errors.ModelClosedError):
        m.run(golden[0][0][0])
    with pytest.raises(ValueError):  # ModelClosedError is also a ValueError
        m.benchmark(1)
    with pytest.raises(errors.ModelClosedError):
        m.perf_run_us()
    with pytest.raises(errors.ModelClosedError):
        with m:
            pass


def test_context_manager_closes(model_path):
    with rknn_fast.Model(model_path, runtime="emulator") as m:
        assert not m.closed
    assert m.closed


def test_bad_options(model_path):
    with pytest.raises(ValueError, match="priority"):
        rknn_fast.Model(model_path, runtime="emulator", priority="urgent")
    with pytest.raises(ValueError, match="output_layout"):
        rknn_fast.Model(model_path, runtime="emulator", output_layout="chw")
    with pytest.raises(ValueError, match="needs zero_copy"):
        rknn_fast.Model(model_path, runtime="emulator", output_layout="native")


def test_priorities_open(model_path, golden):
    for p in ("high", "medium", "low"):
        with rknn_fast.Model(model_path, runtime="emulator", priority=p) as m:
            m.run(golden[0][0][0])


# ---------------------------------------------------------------------------- core masks


@pytest.mark.parametrize("mask,value", [("auto", 0), ("0", 1), ("1", 2), ("2", 4), ("0_1", 3), ("0_1_2", 7),
                                        ("all", 0xFFFF), ((0, 1), 3), ((2,), 4), (7, 7), ("NPU_CORE_0_1", 3)])
def test_core_mask_rk3588(model_path, golden, mask, value):
    assert parse_core_mask(mask, "rk3588") == value
    with rknn_fast.Model(model_path, runtime="emulator", core_mask=mask) as m:
        assert m.core_mask == value
        (out,) = m.run(golden[0][0][0])
        assert out.shape == (1, 4, 32, 32)


@pytest.mark.parametrize("platform,ok,bad", [
    ("rk3588", ["0", "1", "2", "0_1", "0_1_2"], []),
    ("rk3576", ["0", "1", "0_1"], ["2", "0_1_2"]),
    ("rk3566", [], ["0", "1", "2", "0_1", "0_1_2"]),
    ("rk3568", [], ["0"]),
    ("rv1106", [], ["0_1"]),
])
def test_core_masks_per_platform(platform, ok, bad):
    for m in ok + ["auto", "all"]:
        parse_core_mask(m, platform)
    for m in bad:
        with pytest.raises(ValueError, match=platform):
            parse_core_mask(m, platform)


def test_core_mask_bad_values():
    with pytest.raises(ValueError):
        parse_core_mask(5)
    with pytest.raises(ValueError):
        parse_core_mask("3")
    with pytest.raises(ValueError):
        parse_core_mask((0, 2))
    with pytest.raises(TypeError):
        parse_core_mask(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_core_mask(True)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- zero-copy


@pytest.fixture
def zc(model_path):
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True) as m:
        yield m


def test_zero_copy_views(zc):
    v = zc.input_view(0)
    assert v.dtype == np.uint8 and v.shape == (1, 64, 64, 3) and v.flags.writeable
    o = zc.output_view(0)
    assert o.dtype == np.int8 and o.shape == (1, 2, 32, 32, 16)
    buf = zc.input_buffer(0)
    assert buf["size"] >= 64 * 64 * 3


def test_zero_copy_golden_native(zc, golden):
    o = zc.outputs[0]
    for inputs, outputs in golden:
        zc.input_view(0)[...] = inputs[0]
        (native,) = zc.run()
        assert native is zc.output_view(0)
        logical = rknn_fast.convert.from_nc1hwc2(native, 4, 32)
        assert np.array_equal(logical, quantize(outputs[0], o.scale, o.zero_point))
    assert zc.bytes_copied == 0


@pytest.mark.parametrize("layout", ["logical", "nhwc", "native"])
@pytest.mark.parametrize("float_outputs", [False, True])
def test_zero_copy_layouts(model_path, golden, layout, float_outputs):
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True, output_layout=layout,
                         float_outputs=float_outputs) as m:
        o = m.outputs[0]
        for inputs, outputs in golden:
            (got,) = m.run(inputs[0])  # inputs given: copied into the bound buffer
            want = outputs[0] if float_outputs else quantize(outputs[0], o.scale, o.zero_point)
            if layout == "nhwc":
                want = want.transpose(0, 2, 3, 1)
            elif layout == "native":
                want = None
            if want is None:
                got = rknn_fast.convert.from_nc1hwc2(got, 4, 32, float32=float_outputs, scale=o.scale,
                                                     zero_point=o.zero_point) if got.dtype == np.int8 else got
                want = outputs[0] if float_outputs else quantize(outputs[0], o.scale, o.zero_point)
                if got.ndim == 5:  # float32 native: compare after relayout
                    got = rknn_fast.convert.from_nc1hwc2(np.ascontiguousarray(got), 4, 32)
            if float_outputs:
                np.testing.assert_allclose(got, want, atol=1e-5)
            else:
                assert np.array_equal(got, want)


def test_zero_copy_equals_copy_mode(model_path, golden):
    with rknn_fast.Model(model_path, runtime="emulator") as cm, \
            rknn_fast.Model(model_path, runtime="emulator", zero_copy=True, output_layout="logical") as zm:
        for inputs, _ in golden:
            zm.input_view(0)[...] = inputs[0]
            assert np.array_equal(zm.run()[0], cm.run(inputs[0])[0])


def test_views_outlive_close(model_path, golden):
    m = rknn_fast.Model(model_path, runtime="emulator", zero_copy=True)
    m.input_view(0)[...] = golden[0][0][0]
    (out,) = m.run()
    view = m.input_view(0)
    saved = out.copy()
    m.close()
    del m
    gc.collect()
    # The views keep their buffers (and the context) alive after close.
    assert np.array_equal(out, saved)
    view[...] = 7
    assert int(view.sum()) == 7 * view.size


def test_zero_copy_only_methods(model):
    with pytest.raises(ValueError, match="zero_copy=True"):
        model.input_view(0)
    with pytest.raises(ValueError, match="zero_copy=True"):
        model.bind_input_fd(0, 0, 10)


def test_zero_copy_bad_index(zc):
    with pytest.raises(IndexError):
        zc.input_view(1)
    with pytest.raises(IndexError):
        zc.output_view(-1)


def test_dma_buf_input_memfd(zc, golden):
    if not hasattr(os, "memfd_create"):
        pytest.skip("no memfd_create")
    o = zc.outputs[0]
    offset = 4096 + 64  # data does not start at the beginning of the buffer
    size = 64 * 64 * 3
    fd = os.memfd_create("rknn_fast_test_input")
    try:
        os.ftruncate(fd, offset + size)
        img = golden[2][0][0]
        os.pwrite(fd, img.tobytes(), offset)
        view = zc.bind_input_fd(0, fd, size, offset)
        assert np.array_equal(view, img)  # the view shows the fd's bytes at the offset
        (native,) = zc.run()
        got = rknn_fast.convert.from_nc1hwc2(native, 4, 32)
        assert np.array_equal(got, quantize(golden[2][1][0], o.scale, o.zero_point))
        # A new frame written through the fd (not through numpy) is what the next run sees.
        os.pwrite(fd, golden[0][0][0].tobytes(), offset)
        (native,) = zc.run()
        assert np.array_equal(rknn_fast.convert.from_nc1hwc2(native, 4, 32),
                              quantize(golden[0][1][0], o.scale, o.zero_point))
    finally:
        os.close(fd)
    with pytest.raises(ValueError, match="bytes"):
        zc.bind_input_fd(0, 0, 10)
    with pytest.raises(ValueError, match="non-negative"):
        zc.bind_input_fd(0, -1, size)


# ---------------------------------------------------------------------------- threads, memory, benchmark


@pytest.mark.parametrize("zero_copy", [False, True])
def test_threads_share_a_model(model_path, golden, zero_copy):
    kw = {"zero_copy": True, "output_layout": "logical"} if zero_copy else {}
    with rknn_fast.Model(model_path, runtime="emulator", **kw) as m:
        want = [m.run(inputs[0], copy=True)[0] for inputs, _ in golden]
        failures = []

        def work(k):
            for j in range(30):
                r = (k + j) % len(golden)
                (got,) = m.run(golden[r][0][0], copy=True)
                if not np.array_equal(got, want[r]):
                    failures.append((k, j))

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.parametrize("zero_copy,runs", [(False, 100_000), (True, 20_000)])
def test_runs_rss_flat(model_path, golden, zero_copy, runs):
    # The emulator itself takes ~0.1 ms per run here, so the zero-copy loop is shorter.
    img = golden[0][0][0]
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=zero_copy) as m:
        if zero_copy:
            m.input_view(0)[...] = img
            run = m.run
            for _ in range(2000):
                run()
            before = _rss_kb()
            for _ in range(runs):
                run()
        else:
            for _ in range(2000):
                m.run(img)
            before = _rss_kb()
            for _ in range(runs):
                m.run(img)
        after = _rss_kb()
    assert after - before < 1024, f"RSS grew by {after - before} kB over {runs} runs"


@pytest.mark.parametrize("zero_copy", [False, True])
def test_benchmark(model_path, zero_copy):
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=zero_copy, collect_perf=True) as m:
        r = m.benchmark(50, warmup=5)
        assert r["latency_us"].shape == (50,) and (r["latency_us"] > 0).all()
        assert r["npu_us"].shape == (50,)
        assert r["median_us"] > 0
        assert isinstance(r["perf_detail"], str)
    with pytest.raises(ValueError):
        m2 = rknn_fast.Model(model_path, runtime="emulator")
        try:
            m2.benchmark(0)
        finally:
            m2.close()


def test_frame_ids_increase(model, golden):
    model.run(golden[0][0][0])
    a = model.last_frame_id
    model.run(golden[0][0][0])
    assert model.last_frame_id > a


# ---------------------------------------------------------------------------- emulator counters and faults

from emu_control import Emulator  # noqa: E402
from test_runtime import ALL_CODES  # noqa: E402


@pytest.fixture
def emu():
    e = Emulator()
    e("fault clear")
    e.reset_counters()
    yield e
    e("fault clear")


def test_copy_run_does_no_queries_and_one_copy_each_way(model_path, golden, emu):
    with rknn_fast.Model(model_path, runtime="emulator") as m:
        emu.reset_counters()
        for _ in range(10):
            m.run(golden[0][0][0])
        c = emu.counters()
    calls = c["calls"]
    assert calls["rknn_query"] == 0  # every attribute was queried once, at open
    assert calls["rknn_inputs_set"] == calls["rknn_run"] == calls["rknn_outputs_get"] == 10
    assert c["inputs_set_bytes"] == 10 * 64 * 64 * 3  # the uint8 image, read once
    assert c["outputs_get_bytes"] == 10 * 4096  # int8 outputs written straight into our arrays


def test_zero_copy_run_copies_zero_bytes(model_path, golden, emu):
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True) as m:
        m.input_view(0)[...] = golden[0][0][0]
        emu.reset_counters()
        for _ in range(10):
            m.run()
        c = emu.counters()
        assert m.bytes_copied == 0
        funcs = m.runtime_functions
    calls = c["calls"]
    assert calls["rknn_query"] == calls["rknn_inputs_set"] == calls["rknn_outputs_get"] == 0
    assert c["inputs_set_bytes"] == 0 and c["outputs_get_bytes"] == 0
    assert calls["rknn_run"] == 10 and c["runs"] == 10
    assert c["golden_runs"] == 10  # the NPU saw the recorded frame through the bound buffer
    if funcs["rknn_mem_sync"] and funcs["rknn_create_mem2"]:
        assert c["mem_sync_to_device"] == 10 and c["mem_sync_from_device"] == 10


def test_zero_copy_conversion_is_counted(model_path, golden, emu):
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True, float_outputs=True,
                         output_layout="logical") as m:
        m.run(golden[0][0][0])
        # input copied in (12288 B) + fused relayout/dequantise out (4096 float32)
        assert m.bytes_copied == 64 * 64 * 3 + 4096 * 4
        assert emu.counters()["outputs_get_bytes"] == 0


@pytest.mark.parametrize("code", sorted(ALL_CODES))
def test_run_error_codes_map_to_classes(model, golden, emu, code):
    emu.fault(f"run code={code}")
    with pytest.raises(errors.RknnError) as ei:
        model.run(golden[0][0][0])
    e = ei.value
    assert type(e) is errors.error_class(code)
    assert e.code == code and e.api == "rknn_run" and e.code_name == ALL_CODES[code]
    # the model stays usable after a failed run
    assert model.run(golden[0][0][0])[0].shape == (1, 4, 32, 32)


@pytest.mark.parametrize("api,code,cls", [
    ("inputs_set", -8, errors.RknnInputInvalidError),
    ("outputs_get", -9, errors.RknnOutputInvalidError),
    ("outputs_get", -2, errors.RknnTimeoutError),
])
def test_copy_path_faults(model, golden, emu, api, code, cls):
    emu.fault(f"{api} code={code}")
    with pytest.raises(cls) as ei:
        model.run(golden[0][0][0])
    assert ei.value.api == f"rknn_{api}"


def test_zero_copy_run_fault(model_path, golden, emu):
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True) as m:
        emu.fault("run code=-3")
        with pytest.raises(errors.RknnDeviceUnavailableError):
            m.run()
        m.run()


@pytest.mark.parametrize("code", [-1, -6, -10, -11, -12, -13])
def test_init_faults_explain(model_path, emu, code):
    emu.fault(f"init code={code}")
    with pytest.raises(errors.RknnError) as ei:
        rknn_fast.Model(model_path, runtime="emulator")
    e = ei.value
    assert type(e) is errors.error_class(code) and e.api == "rknn_init"
    msg = str(e)
    assert "librknnrt_emulator.so" in msg  # names the runtime that refused the model
    assert errors.error_class(code).explanation.split(" ")[0] in msg
    if code in (-1, -6, -13):
        assert "rk3588" in msg  # what the file says it was built for


def test_allocation_failure_in_zero_copy(model_path, emu):
    emu.fault("create_mem2 code=-4")
    emu.fault("create_mem code=-4")
    with pytest.raises(errors.RknnMallocFailError):
        rknn_fast.Model(model_path, runtime="emulator", zero_copy=True)


def test_core_runs_follow_mask(model_path, golden, emu):
    with rknn_fast.Model(model_path, runtime="emulator", core_mask="2") as m:
        emu.reset_counters()
        m.run(golden[0][0][0])
        assert emu.counters()["core_runs"][2] >= 1


# ---------------------------------------------------------------------------- every fixture

import pathlib  # noqa: E402

ALL_FIXTURES = sorted(p.stem for p in (pathlib.Path(__file__).parent / "data" / "models").glob("*.rknn")
                      if p.with_suffix(".golden").exists())


def _raw_to_float(raw: np.ndarray, info) -> np.ndarray:
    if raw.dtype in (np.int8, np.uint8):
        return dequantize(raw, info.scale, info.zero_point)
    return raw.astype(np.float32)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_golden_copy_and_zero_copy(models_dir, name):
    path = models_dir / f"{name}.rknn"
    records = read_golden(models_dir / f"{name}.golden")
    with rknn_fast.Model(path, runtime="emulator") as raw_m, \
            rknn_fast.Model(path, runtime="emulator", float_outputs=True) as f_m, \
            rknn_fast.Model(path, runtime="emulator", zero_copy=True) as zc, \
            rknn_fast.Model(path, runtime="emulator", zero_copy=True, output_layout="logical",
                            float_outputs=True) as zf:
        assert [o.shape for o in raw_m.outputs] == [tuple(o.shape) for o in records[0][1]]
        for inputs, outputs in records:
            raws = raw_m.run(*inputs)
            floats = f_m.run(*inputs)
            for i, a in enumerate(inputs):
                zc.input_view(i)[...] = a.reshape(zc.input_view(i).shape)
            natives = zc.run()
            zfloats = zf.run(*inputs)
            for k, want in enumerate(outputs):
                info = raw_m.outputs[k]
                assert raws[k].dtype == np.dtype(info.dtype) and raws[k].shape == info.shape
                np.testing.assert_allclose(floats[k], want, atol=1e-5, err_msg=f"{name} output {k} float32")
                np.testing.assert_allclose(_raw_to_float(raws[k], info), want, atol=1e-5,
                                           err_msg=f"{name} output {k} raw")
                np.testing.assert_allclose(zfloats[k], want, atol=1e-5, err_msg=f"{name} output {k} zero-copy")
                native = natives[k]
                if native.ndim == 5:  # NC1HWC2 view: bring it to NCHW with the kernel
                    native = rknn_fast.convert.from_nc1hwc2(native, info.shape[1], info.shape[3])
                assert np.array_equal(native.reshape(raws[k].shape), raws[k]), f"{name} output {k} native view"


def test_init_failure_explains_toolkit_newer_than_runtime(model_path, tmp_path, monkeypatch):
    # A copy of the emulator that carries the version string real runtimes embed, and whose
    # rknn_init is armed (through the environment, read when this copy loads) to refuse.
    lib = tmp_path / "librknnrt.so"
    data = pathlib.Path(emulator_path()).read_bytes()
    key = b"librknnrt version: "
    at = data.index(key) + len(key)
    end = data.index(b"\0", at)
    fake = b"1.4.0 (a10f100eb@2022-09-09)"
    assert len(fake) <= end - at
    lib.write_bytes(data[:at] + fake + b"\0" * (end - at - len(fake)) + data[end:])
    monkeypatch.setenv("RKNN_EMU_FAULTS", "init code=-6")
    with pytest.raises(errors.RknnModelInvalidError) as ei:
        rknn_fast.Model(model_path, runtime=str(lib))
    msg = str(ei.value)
    assert "librknnrt version 1.4.0" in msg
    assert "converted by rknn-toolkit2 2.5.0, newer than this librknnrt 1.4.0" in msg
    assert "install librknnrt >= 2.5.0" in msg


def _build_shim(tmp_path, mini: bool):
    import shutil
    import subprocess

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    root = pathlib.Path(__file__).resolve().parent.parent
    out = tmp_path / ("librknnmrt_shim.so" if mini else "librknnrt_old_shim.so")
    cmd = [cc, "-shared", "-fPIC", "-O1", "-I", str(root / "cpp"), str(root / "tests" / "data" / "old_runtime_shim.c"),
           "-o", str(out), "-ldl"] + (["-DMINI"] if mini else [])
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def test_old_runtime_without_optional_functions(model_path, golden, tmp_path, monkeypatch):
    monkeypatch.setenv("RKNN_SHIM_TARGET", emulator_path())
    shim = _build_shim(tmp_path, mini=False)
    with rknn_fast.Model(model_path, runtime=str(shim), zero_copy=True) as m:
        f = m.runtime_functions
        assert not f["rknn_mem_sync"] and not f["rknn_create_mem2"] and not f["rknn_set_input_shapes"]
        assert f["rknn_set_core_mask"]
        # zero-copy still works: plain rknn_create_mem buffers, the runtime flushes caches itself
        m.input_view(0)[...] = golden[0][0][0]
        (native,) = m.run()
        o = m.outputs[0]
        assert np.array_equal(rknn_fast.convert.from_nc1hwc2(native, 4, 32), quantize(golden[0][1][0], o.scale, o.zero_point))
    with rknn_fast.Model(model_path, runtime=str(shim), core_mask="1") as m:
        assert m.run(golden[0][0][0])[0].shape == (1, 4, 32, 32)


def test_mini_runtime_core_mask_needs_newer(model_path, golden, tmp_path, monkeypatch):
    monkeypatch.setenv("RKNN_SHIM_TARGET", emulator_path())
    shim = _build_shim(tmp_path, mini=True)
    with pytest.raises(errors.RuntimeTooOldError, match=r"core_mask needs librknnrt >= .*rknn_set_core_mask"):
        rknn_fast.Model(model_path, runtime=str(shim), core_mask="0")
    with rknn_fast.Model(model_path, runtime=str(shim)) as m:  # auto: no call needed
        assert not m.runtime_functions["rknn_set_core_mask"]
        m.run(golden[0][0][0])


def test_benchmark_reports_npu_time_and_perf_detail(model_path, emu):
    emu("set npu_time_us=300")
    try:
        with rknn_fast.Model(model_path, runtime="emulator", collect_perf=True) as m:
            r = m.benchmark(5, warmup=1)
            assert r["npu_us"].tolist() == [300] * 5  # RKNN_QUERY_PERF_RUN per run
            assert r["npu_mean_us"] == 300
            assert (r["latency_us"] >= 300).all()
            assert "Total Operator Elapse Time(us): 300" in r["perf_detail"]
            assert m.perf_run_us() == 300
        with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True) as m:
            r = m.benchmark(3, warmup=0)
            assert r["npu_us"].tolist() == [300] * 3 and r["perf_detail"] == ""
    finally:
        emu("set npu_time_us=0")


def test_async_mode_returns_previous_frame(model_path, golden):
    with rknn_fast.Model(model_path, runtime="emulator", async_mode=True, float_outputs=True) as m:
        outs = [m.run(inputs[0], copy=True)[0] for inputs, _ in golden]
    np.testing.assert_allclose(outs[1], golden[0][1][0], atol=1e-5)  # one frame behind
    np.testing.assert_allclose(outs[2], golden[1][1][0], atol=1e-5)
    with pytest.raises(ValueError, match="async_mode"):
        rknn_fast.Model(model_path, runtime="emulator", async_mode=True, zero_copy=True)


def test_threads_are_serialised(model_path, golden, emu):
    with rknn_fast.Model(model_path, runtime="emulator") as m:
        emu.reset_counters()
        threads = [threading.Thread(target=lambda: [m.run(golden[0][0][0], copy=True) for _ in range(20)])
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        c = emu.counters()
    assert c["runs"] == 80 and c["max_concurrent_runs"] == 1


def test_pass_through_input(model, golden):
    # scale 1/255, zero point -128 and mean 0 / std 255: the quantised pixel is p - 128.
    img = golden[1][0][0]
    q = (img.astype(np.int16) - 128).astype(np.int8)
    (want,) = model.run(img, copy=True)
    (got,) = model.run(q, pass_through=[True], copy=True)
    assert np.array_equal(got, want)
    with pytest.raises(TypeError, match="native dtype int8"):
        model.run(img, pass_through=[True])
    with pytest.raises(ValueError, match="12288 bytes"):
        model.run(q[:, :32].copy(), pass_through=[True])
    with pytest.raises(ValueError, match="pass_through flags"):
        model.run(q, pass_through=[True, False])


@pytest.mark.parametrize("name", ["tiny_conv_rk3588_i8", "classifier_rk3588_i8"])
def test_int8_input_is_quantised_values(models_dir, name):
    """An int8 array given to an int8 model holds quantised values (the emulator's rule for
    the model's own quantised type): the recorded pixels quantised with the input's
    mean/std/scale/zero point (independent reference) give the golden outputs, NHWC and
    NCHW alike, without pass_through; uint8 pixels and float32 pixel values still do."""
    import json

    import reference as ref

    r = json.loads((models_dir / f"{name}.json").read_text())["inputs"][0]
    ins, outs = read_golden(models_dir / f"{name}.golden")[0]
    q = ref.quantize_input(ins[0], r["mean"], r["std"], r["scale"], r["zero_point"])
    assert not np.array_equal(q.view(np.uint8), ins[0])  # a different byte pattern than the pixels
    with rknn_fast.Model(models_dir / f"{name}.rknn", runtime="emulator", float_outputs=True) as m:
        for x, fmt in ((q, None), (np.ascontiguousarray(q.transpose(0, 3, 1, 2)), "nchw"), (ins[0], None),
                       (ins[0].astype(np.float32), None)):
            (got,) = m.run(x, data_format=fmt, copy=True)
            np.testing.assert_array_equal(got, outs[0], err_msg=f"{x.dtype} {fmt}")


def test_zero_copy_int8_input_view_holds_quantised_values():
    """A non-image int8 input: zero-copy binds it in the model's dtype, so input_view holds
    quantised values; the run equals copy mode with the same int8 array, with pass_through,
    and with the dequantised float32 values (real values, quantised by the runtime)."""
    import rknn_builder as B

    feat = B.Tensor("feat", (1, 16), (1, 16), kind=1, scale=[0.05], zero_point=[3], size=16,
                    io_dtype="int8", io_layout="UNDEFINED")
    out = B.Tensor("out", (1, 8), (1, 8), kind=2, scale=[0.1], zero_point=[0], size=8,
                   io_dtype="int8", io_layout="UNDEFINED")
    w = B.Tensor("w", (8, 16), None, kind=4, qnt_type="int8")
    data = B.build(B.Model(inputs=[feat], outputs=[out], internal=[w], generator=None))
    q = np.arange(-8, 8, dtype=np.int8).reshape(1, 16)
    real = (q.astype(np.float32) - np.float32(3)) * np.float32(0.05)
    with rknn_fast.Model(data, runtime="emulator") as copy_mode, \
            rknn_fast.Model(data, runtime="emulator", zero_copy=True) as zc:
        (want,) = copy_mode.run(q, pass_through=[True], copy=True)
        (as_int8,) = copy_mode.run(q, copy=True)
        (as_float,) = copy_mode.run(real, copy=True)
        (other,) = copy_mode.run(np.zeros_like(q), copy=True)
        view = zc.input_view(0)
        assert view.dtype == np.int8 and view.shape == (1, 16)
        view[:] = q
        (bound,) = zc.run()
        (written,) = zc.run(q)
    np.testing.assert_array_equal(as_int8, want)
    np.testing.assert_array_equal(as_float, want)
    np.testing.assert_array_equal(bound.reshape(want.shape), want)
    np.testing.assert_array_equal(written.reshape(want.shape), want)
    assert not np.array_equal(other, want)  # the outputs do follow the input


def test_single_core_platform_masks(models_dir, golden):
    path = models_dir / "tiny_conv_rk3566_i8.rknn"
    for mask in ("auto", "all"):
        with rknn_fast.Model(path, runtime="emulator", core_mask=mask) as m:
            assert m.target_platform == "rk3566"
            m.run(golden[0][0][0])
    with pytest.raises(ValueError, match="rk3566 has one core"):
        rknn_fast.Model(path, runtime="emulator", core_mask="0")


# ---------------------------------------------------------------------------- zero-copy fast path


def test_zero_copy_run_is_one_c_call(zc, golden):
    # Without conversions, run is the C runner installed on the instance. On the emulator it
    # is wrapped (a Python check of the synthetic-run counter) until the EmulatorWarning was
    # issued: a first run on the zeroed buffer (no recording) gets it.
    with pytest.warns(rknn_fast.EmulatorWarning):
        zc.run()
    assert "run" in vars(zc) and not hasattr(zc.run, "__code__") and callable(zc.run)
    assert type(zc.run).__name__ == "builtin_function_or_method"
    a, b = zc.run(), zc.run()
    assert isinstance(a, list) and a is not b  # a new list each call ...
    assert a[0] is b[0] is zc.output_view(0)  # ... of the same views
    # With arguments it is Model.run: inputs copied into the bound buffer, copy=True.
    o = zc.outputs[0]
    for inputs, outputs in golden:
        (native,) = zc.run(inputs[0])
        assert native is zc.output_view(0)
        (fresh,) = zc.run(copy=True)
        assert fresh is not native and np.array_equal(fresh, native)
        logical = rknn_fast.convert.from_nc1hwc2(fresh, 4, 32)
        assert np.array_equal(logical, quantize(outputs[0], o.scale, o.zero_point))
    with pytest.raises(ValueError, match="expected 1 inputs, got 2"):
        zc.run(golden[0][0][0], golden[0][0][0])
    with pytest.raises(TypeError):
        zc.run(no_such_option=1)


def test_zero_copy_runner_after_close_raises(model_path):
    m = rknn_fast.Model(model_path, runtime="emulator", zero_copy=True)
    run = m.run
    m.close()
    assert "run" not in vars(m)
    with pytest.raises(errors.ModelClosedError):
        m.run()
    with pytest.raises(errors.ModelClosedError):
        run()  # a runner kept from before close
    with pytest.raises(errors.ModelClosedError):
        run(np.zeros((64, 64, 3), np.uint8))


def test_zero_copy_model_has_no_reference_cycle(model_path):
    import weakref

    gc.disable()
    try:
        m = rknn_fast.Model(model_path, runtime="emulator", zero_copy=True)
        run = m.run
        m.run()
        ref = weakref.ref(m)
        del m
        assert ref() is None  # freed by reference counting alone
        with pytest.raises(ReferenceError):
            run(np.zeros((64, 64, 3), np.uint8))  # arguments need the (gone) Model
        assert run()[0].shape == (1, 2, 32, 32, 16)  # without: the session lives in the runner
    finally:
        gc.enable()


def test_subclass_run_is_not_replaced(model_path):
    class Traced(rknn_fast.Model):
        calls = 0

        def run(self, *inputs, **kw):  # type: ignore[override]
            Traced.calls += 1
            return super().run(*inputs, **kw)

    with Traced(model_path, runtime="emulator", zero_copy=True) as m:
        assert m.run()[0].shape == (1, 2, 32, 32, 16)
        assert Traced.calls == 1


def test_last_runtime_window(zc):
    import time

    t0 = time.perf_counter_ns()
    zc.run()
    t1 = time.perf_counter_ns()
    start, end = zc.last_runtime_window_ns
    assert t0 <= start <= end <= t1
    assert zc.last_runtime_us == pytest.approx((end - start) / 1000)


@pytest.mark.parametrize("fault, kwargs", [
    ("set_core_mask code=-1", {"core_mask": "0"}),
    ("query=5 code=-1", {}),
    ("set_io_mem code=-3", {"zero_copy": True}),
])
def test_failed_open_destroys_the_context_at_once(model_path, fault, kwargs):
    # A caller keeping the exception (and so the failed __init__ frame) must not keep the
    # NPU context alive: it is destroyed before the error propagates.
    from rknn_fast import emulator
    emulator.clear_faults()
    live = emulator.counters()["contexts_live"]
    emulator.inject_fault(fault)
    try:
        with pytest.raises(errors.RknnError) as info:
            rknn_fast.Model(model_path, runtime="emulator", **kwargs)
    finally:
        emulator.clear_faults()
    assert info.value is not None  # the traceback is still referenced here
    assert emulator.counters()["contexts_live"] == live


@pytest.mark.parametrize("flags", [-1, 2**32, 1.5, True, "8"])
def test_bad_init_flags(model_path, flags):
    with pytest.raises(ValueError, match="expected flags"):
        rknn_fast.Model(model_path, runtime="emulator", flags=flags)


def test_close_destroys_the_context_while_the_session_is_referenced(model_path):
    from rknn_fast import emulator
    live = emulator.counters()["contexts_live"]
    m = rknn_fast.Model(model_path, runtime="emulator")
    sess = m._sess  # e.g. kept by a traceback or a saved bound method
    m.close()
    assert emulator.counters()["contexts_live"] == live
    with pytest.raises(errors.ModelClosedError):
        sess.perf_run_us()
    with pytest.raises(errors.ModelClosedError):
        sess.set_core_mask(1)


def test_wrong_input_dtype_message_lists_each_dtype_once(model):
    spec = model.inputs[0]
    with pytest.raises(TypeError) as info:
        model.run(np.zeros(spec.shape, np.float64))
    msg = str(info.value)
    assert "expected dtype uint8, int8, float16, float32, got float64" in msg


def test_zero_copy_run_refuses_pass_through(model_path):
    # It was silently ignored: the bytes went through the normal conversion instead.
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True) as m:
        x = np.zeros(m.inputs[0].shape, np.uint8)
        with pytest.raises(ValueError, match="pass_through"):
            m.run(x, pass_through=[True])
        m.run(x, pass_through=[False])


def test_zero_copy_benchmark_refuses_inputs(model_path):
    # They were ignored silently (the bound buffers were timed).
    with rknn_fast.Model(model_path, runtime="emulator", zero_copy=True) as m:
        with pytest.raises(ValueError, match="inputs"):
            m.benchmark(2, 0, inputs=[np.zeros(m.inputs[0].shape, np.uint8)])
        assert len(m.benchmark(2, 0)["latency_us"]) == 2
