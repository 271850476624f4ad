"""The librknnrt emulator (rknn_fast/librknnrt_emulator.so), driven directly through ctypes.

Every exported function is exercised, including its error paths, against independent
expectations: the fixture's recorded golden outputs (quantised here in numpy), a Python
re-implementation of the synthetic-output rule (docs/emulator.md), the fixture's toolkit
record (tests/data/models/*.json) for attributes, and hand-built layouts.
"""

from __future__ import annotations

import ctypes as C
import json
import mmap
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import emu_ctypes as E
import reference as ref
import rknn_builder as B
import rknn_fast
from rknn_fast.golden import read_golden, write_golden

# The installed emulator; RKNN_FAST_EMULATOR_LIB points the tests at another build (e.g. one
# with sanitizers, see docs/emulator.md).
LIB_PATH = Path(os.environ.get("RKNN_FAST_EMULATOR_LIB",
                               Path(rknn_fast.__file__).resolve().parent / "librknnrt_emulator.so"))
MODELS = Path(__file__).resolve().parent / "data" / "models"
TINY = MODELS / "tiny_conv_rk3588_i8.rknn"
TINY_GOLDEN = MODELS / "tiny_conv_rk3588_i8.golden"
TINY_RECORD = json.loads((MODELS / "tiny_conv_rk3588_i8.json").read_text())

I8, U8, F32, F16 = E.RKNN_TENSOR_INT8, E.RKNN_TENSOR_UINT8, E.RKNN_TENSOR_FLOAT32, E.RKNN_TENSOR_FLOAT16
NCHW, NHWC, NC1HWC2, UNDEF = E.RKNN_TENSOR_NCHW, E.RKNN_TENSOR_NHWC, E.RKNN_TENSOR_NC1HWC2, E.RKNN_TENSOR_UNDEFINED


@pytest.fixture(scope="module")
def lib() -> C.CDLL:
    return E.load(LIB_PATH)


@pytest.fixture(autouse=True)
def clean_emulator(lib: C.CDLL, monkeypatch: pytest.MonkeyPatch):
    for name in ("RKNN_EMU_NPU_TIME_US", "RKNN_EMU_FAULTS", "RKNN_EMU_GOLDEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RKNN_EMU_LOG", "0")
    E.control(lib, "reset")
    yield
    E.control(lib, "fault clear")


# --------------------------------------------------------------------------------------
# Helpers


class Session:
    """One emulated context with small conveniences; every call returns the raw code."""

    def __init__(self, lib: C.CDLL, model: "str | Path | bytes" = TINY, flags: int = 0, extend=None):
        self.lib = lib
        self.ctx = E.rknn_context()
        if isinstance(model, bytes):
            self._model = C.create_string_buffer(model, len(model))
            rc = lib.rknn_init(C.byref(self.ctx), self._model, len(model), flags, extend)
        else:
            rc = lib.rknn_init(C.byref(self.ctx), str(model).encode(), 0, flags, extend)
        assert rc == E.RKNN_SUCC, f"rknn_init returned {rc}"

    def close(self) -> None:
        if self.ctx.value:
            assert self.lib.rknn_destroy(self.ctx) == E.RKNN_SUCC
            self.ctx.value = 0

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def attr(self, cmd: int, index: int = 0) -> E.rknn_tensor_attr:
        a = E.rknn_tensor_attr(index=index)
        rc = self.lib.rknn_query(self.ctx, cmd, C.byref(a), C.sizeof(a))
        assert rc == E.RKNN_SUCC, f"query {cmd} returned {rc}"
        return a

    def set_input(self, arr: np.ndarray, type_: int, fmt: int, pass_through: int = 0, index: int = 0) -> int:
        arr = np.ascontiguousarray(arr)
        inp = E.rknn_input(index=index, buf=arr.ctypes.data, size=arr.nbytes, pass_through=pass_through,
                           type=type_, fmt=fmt)
        return self.lib.rknn_inputs_set(self.ctx, 1, C.byref(inp))

    def run(self, extend: "E.rknn_run_extend | None" = None) -> int:
        return self.lib.rknn_run(self.ctx, C.byref(extend) if extend is not None else None)

    def get(self, index: int = 0, want_float: bool = False, extend=None) -> np.ndarray:
        """Output `index` through rknn_outputs_get (runtime-allocated), copied, then released."""
        out = E.rknn_output(want_float=int(want_float), is_prealloc=0, index=index)
        rc = self.lib.rknn_outputs_get(self.ctx, 1, C.byref(out), extend)
        assert rc == E.RKNN_SUCC, f"rknn_outputs_get returned {rc}"
        data = C.string_at(out.buf, out.size)
        assert self.lib.rknn_outputs_release(self.ctx, 1, C.byref(out)) == E.RKNN_SUCC
        return np.frombuffer(data, dtype=np.float32 if want_float else np.int8).copy()


def mem_array(mem: "C._Pointer", nbytes: int, dtype=np.uint8, offset: int = 0) -> np.ndarray:
    """A numpy view of a tensor mem's data (virt_addr + offset)."""
    base = mem.contents.virt_addr + mem.contents.offset + offset
    return np.ctypeslib.as_array(C.cast(base, C.POINTER(C.c_uint8)), shape=(nbytes,)).view(dtype)


def golden_records():
    return read_golden(TINY_GOLDEN)


def out_qparams():
    o = TINY_RECORD["outputs"][0]
    return float(np.float32(o["scale"])), int(o["zero_point"])


def quantize_ref(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    """int8 quantisation with round half away from zero and saturation."""
    v = np.asarray(x, dtype=np.float64) / np.float64(np.float32(scale))
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(r + zp, -128, 127).astype(np.int8)


def dequantize_ref(q: np.ndarray, scale: float, zp: int) -> np.ndarray:
    return (q.astype(np.float32) - np.float32(zp)) * np.float32(scale)


MASK64 = (1 << 64) - 1


def fnv1a64(data: bytes, h: int) -> int:
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def splitmix64(state: int) -> "tuple[int, int]":
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def synthetic_int8_ref(model_inputs: "list[bytes]", out_index: int, n: int) -> "tuple[int, np.ndarray]":
    """The documented synthetic-output rule for an int8 output."""
    h = 0xCBF29CE484222325
    for data in model_inputs:
        h = fnv1a64(data, h)
    state = h ^ ((0x9E3779B97F4A7C15 * (out_index + 1)) & MASK64)
    out = np.empty(n, dtype=np.int8)
    for i in range(n):
        state, r = splitmix64(state)
        out[i] = (r & 0xFF) - 128
    return h, out


def tiny_model_bytes(image_nhwc_u8: np.ndarray) -> bytes:
    """Model-domain bytes of the tiny model's input: mean 0 / std 255 then int8 with
    scale 1/255, zp -128 (= pixel - 128), in the logical NCHW order."""
    q = image_nhwc_u8.astype(np.int16) - 128
    return q.astype(np.int8).transpose(0, 3, 1, 2).tobytes()


def nc1hwc2_to_nchw(buf: np.ndarray, native_dims, c: int) -> np.ndarray:
    n, c1, h, w, c2 = native_dims
    x = buf.reshape(n, c1, h, w, c2).transpose(0, 1, 4, 2, 3).reshape(n, c1 * c2, h, w)
    return x[:, :c]


def platform_model(platform: str, **kw) -> bytes:
    return B.build(B.tiny_conv(target_platform=platform, **kw))


# --------------------------------------------------------------------------------------
# ABI mirrors and exported symbols


def test_ctypes_mirrors_match_abi_json() -> None:
    import platform

    target = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        platform.machine().lower())
    if target is None:
        pytest.skip("no recorded layout for this host")
    expected = E.ABI["targets"][target]["structs"]
    assert set(E.STRUCTS) == set(expected)
    for name, cls in E.STRUCTS.items():
        assert C.sizeof(cls) == expected[name]["size"], name
        assert C.alignment(cls) == expected[name]["align"], name
        for field, offset in expected[name]["fields"].items():
            assert getattr(cls, field).offset == offset, f"{name}.{field}"
            assert getattr(cls, field).size == expected[name]["field_sizes"][field], f"{name}.{field}"


def test_exports_exactly_the_runtime_api() -> None:
    # The rknn_api.h functions except rknn_create_mem_from_mb_blk (no real build exports it),
    # the companion matmul/custom-op functions (stubs) and the control function; the
    # comparison with a real build's list is in test_emulator_identity.py.
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not available")
    out = subprocess.run([nm, "-D", "--defined-only", str(LIB_PATH)], check=True, capture_output=True,
                         text=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.strip()}
    expected = (set(E.ABI["function_signatures"]) - {"rknn_create_mem_from_mb_blk"}) | set(E.ABI["extra_functions"])
    assert exported == expected | {"rknn_emulator_control"}
    assert len(E.ABI["function_signatures"]) == 23


# --------------------------------------------------------------------------------------
# rknn_init / rknn_destroy / rknn_dup_context


def test_init_from_path_and_bytes(lib: C.CDLL) -> None:
    with Session(lib, TINY) as s:
        assert s.ctx.value != 0
    with Session(lib, TINY.read_bytes()) as s:
        io = E.rknn_input_output_num()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_IN_OUT_NUM, C.byref(io), C.sizeof(io)) == 0
        assert (io.n_input, io.n_output) == (1, 1)
    assert E.counters(lib)["contexts_live"] == 0


@pytest.mark.parametrize(
    "data",
    [b"", b"not a model at all", b"RKNN" + bytes(60), TINY.read_bytes()[:200], os.urandom(4096)],
    ids=["empty-path", "text", "header-only", "truncated", "random"],
)
def test_init_refuses_non_rknn(lib: C.CDLL, data: bytes) -> None:
    ctx = E.rknn_context(0)
    buf = C.create_string_buffer(data, max(len(data), 1))
    assert lib.rknn_init(C.byref(ctx), buf, len(data), 0, None) == E.RKNN_ERR_MODEL_INVALID
    assert ctx.value == 0


def test_init_argument_errors(lib: C.CDLL, tmp_path: Path) -> None:
    ctx = E.rknn_context()
    assert lib.rknn_init(None, str(TINY).encode(), 0, 0, None) == E.RKNN_ERR_PARAM_INVALID
    assert lib.rknn_init(C.byref(ctx), None, 0, 0, None) == E.RKNN_ERR_PARAM_INVALID
    missing = str(tmp_path / "missing.rknn").encode()
    assert lib.rknn_init(C.byref(ctx), missing, 0, 0, None) == E.RKNN_ERR_MODEL_INVALID
    # RKNN_FLAG_SHARE_WEIGHT_MEM needs extend->ctx naming a live context.
    flag = E.RKNN_FLAG_SHARE_WEIGHT_MEM
    assert lib.rknn_init(C.byref(ctx), str(TINY).encode(), 0, flag, None) == E.RKNN_ERR_PARAM_INVALID
    ext = E.rknn_init_extend(ctx=0xDEAD)
    assert lib.rknn_init(C.byref(ctx), str(TINY).encode(), 0, flag, C.byref(ext)) == E.RKNN_ERR_CTX_INVALID
    with Session(lib) as base:
        ext = E.rknn_init_extend(ctx=base.ctx.value)
        with Session(lib, TINY, flags=flag, extend=C.byref(ext)) as shared:
            assert shared.ctx.value != base.ctx.value


def test_corrupt_golden_set_is_refused(lib: C.CDLL, tmp_path: Path) -> None:
    model = tmp_path / "m.rknn"
    shutil.copy(TINY, model)
    golden = TINY_GOLDEN.read_bytes()
    ctx = E.rknn_context()
    for bad in (golden[:-1], golden[:30], b"RKGOLD02" + golden[8:]):
        (tmp_path / "m.golden").write_bytes(bad)
        assert lib.rknn_init(C.byref(ctx), str(model).encode(), 0, 0, None) == E.RKNN_ERR_MODEL_INVALID
    # A golden set of another model (2 inputs per record) does not fit this one.
    x = np.zeros((1, 64, 64, 3), np.uint8)
    write_golden(tmp_path / "m.golden", [([x, x], [np.zeros((1, 4, 32, 32), np.float32)])])
    assert lib.rknn_init(C.byref(ctx), str(model).encode(), 0, 0, None) == E.RKNN_ERR_MODEL_INVALID


def test_destroy_and_invalid_handles(lib: C.CDLL) -> None:
    s = Session(lib)
    handle = s.ctx.value
    s.close()
    assert lib.rknn_destroy(handle) == E.RKNN_ERR_CTX_INVALID
    assert lib.rknn_destroy(0) == E.RKNN_ERR_CTX_INVALID


INVALID = E.rknn_context(0xBAD)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.rknn_query(INVALID, E.RKNN_QUERY_IN_OUT_NUM, C.byref(E.rknn_input_output_num()), 8),
        lambda lib: lib.rknn_inputs_set(INVALID, 1, C.byref(E.rknn_input())),
        lambda lib: lib.rknn_set_batch_core_num(INVALID, 1),
        lambda lib: lib.rknn_set_core_mask(INVALID, 0),
        lambda lib: lib.rknn_run(INVALID, None),
        lambda lib: lib.rknn_wait(INVALID, None),
        lambda lib: lib.rknn_outputs_get(INVALID, 1, C.byref(E.rknn_output()), None),
        lambda lib: lib.rknn_outputs_release(INVALID, 1, C.byref(E.rknn_output())),
        lambda lib: lib.rknn_destroy_mem(INVALID, None),
        lambda lib: lib.rknn_set_weight_mem(INVALID, None),
        lambda lib: lib.rknn_set_internal_mem(INVALID, None),
        lambda lib: lib.rknn_set_io_mem(INVALID, None, None),
        lambda lib: lib.rknn_set_input_shape(INVALID, None),
        lambda lib: lib.rknn_set_input_shapes(INVALID, 1, None),
        lambda lib: lib.rknn_mem_sync(INVALID, None, 1),
        lambda lib: lib.rknn_dup_context(C.byref(INVALID), C.byref(E.rknn_context())),
        lambda lib: lib.rknn_destroy(INVALID),
    ],
)
def test_invalid_context_is_refused(lib: C.CDLL, call) -> None:
    assert call(lib) == E.RKNN_ERR_CTX_INVALID


def test_invalid_context_gives_no_memory(lib: C.CDLL) -> None:
    assert not lib.rknn_create_mem(INVALID, 64)
    assert not lib.rknn_create_mem2(INVALID, 64, 0)
    assert not lib.rknn_create_mem_from_phys(INVALID, 0x1000, C.c_void_p(0x1000), 64)
    assert not lib.rknn_create_mem_from_fd(INVALID, 0, None, 64, 0)


def test_dup_context_shares_the_parsed_model(lib: C.CDLL) -> None:
    with Session(lib) as s:
        parses = E.counters(lib)["model_parses"]
        dup = E.rknn_context()
        assert lib.rknn_dup_context(C.byref(s.ctx), C.byref(dup)) == 0
        assert E.counters(lib)["model_parses"] == parses  # weights shared, nothing re-read
        assert dup.value not in (0, s.ctx.value)
        assert lib.rknn_dup_context(None, C.byref(dup)) == E.RKNN_ERR_PARAM_INVALID
        # The duplicate runs independently of the original.
        x = np.random.default_rng(1).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
        d = Session.__new__(Session)
        d.lib, d.ctx = lib, dup
        assert d.set_input(x, U8, NHWC) == 0 and d.run() == 0
        assert s.set_input(x, U8, NHWC) == 0 and s.run() == 0
        assert np.array_equal(d.get(), s.get())
        d.close()


# --------------------------------------------------------------------------------------
# rknn_query


def test_query_attrs_match_the_toolkit_record(lib: C.CDLL) -> None:
    rin, rout = TINY_RECORD["inputs"][0], TINY_RECORD["outputs"][0]
    with Session(lib) as s:
        a = s.attr(E.RKNN_QUERY_INPUT_ATTR)
        assert a.name.decode() == rin["name"]
        n, c, h, w = rin["shape"]
        assert a.shape() == [n, h, w, c] and a.fmt == NHWC  # 4-D image inputs are NHWC
        assert (a.type, a.qnt_type) == (I8, E.RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC)
        assert a.zp == rin["zero_point"] and a.scale == pytest.approx(rin["scale"], rel=1e-6)
        assert a.n_elems == n * c * h * w and a.size == a.n_elems

        o = s.attr(E.RKNN_QUERY_OUTPUT_ATTR)
        assert o.name.decode() == rout["name"] and o.shape() == rout["shape"] and o.fmt == NCHW
        assert o.zp == rout["zero_point"] and o.scale == pytest.approx(rout["scale"], rel=1e-6)
        assert o.n_elems == int(np.prod(rout["shape"])) and o.size == o.n_elems
        assert o.size_with_stride >= o.size

        nat = s.attr(E.RKNN_QUERY_NATIVE_OUTPUT_ATTR)
        assert nat.shape() == rout["log_native_shape"] and nat.fmt == NC1HWC2
        assert nat.size_with_stride == int(np.prod(rout["log_native_shape"]))
        assert s.attr(E.RKNN_QUERY_NATIVE_NC1HWC2_OUTPUT_ATTR).shape() == rout["log_native_shape"]
        nhwc = s.attr(E.RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR)
        n, c, h, w = rout["shape"]
        assert nhwc.shape() == [n, h, w, c] and nhwc.fmt == NHWC
        nin = s.attr(E.RKNN_QUERY_NATIVE_INPUT_ATTR)
        assert nin.fmt == NHWC and nin.shape() == [1, 64, 64, 3]
        # Static model: the CURRENT_* queries equal the normal and native ones.
        for cur, ref in ((E.RKNN_QUERY_CURRENT_INPUT_ATTR, E.RKNN_QUERY_INPUT_ATTR),
                         (E.RKNN_QUERY_CURRENT_OUTPUT_ATTR, E.RKNN_QUERY_OUTPUT_ATTR),
                         (E.RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR, E.RKNN_QUERY_NATIVE_INPUT_ATTR),
                         (E.RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR, E.RKNN_QUERY_NATIVE_OUTPUT_ATTR)):
            assert bytes(s.attr(cur)) == bytes(s.attr(ref))


def test_query_errors(lib: C.CDLL) -> None:
    with Session(lib) as s:
        a = E.rknn_tensor_attr(index=0)
        q = lib.rknn_query
        assert q(s.ctx, E.RKNN_QUERY_INPUT_ATTR, C.byref(a), C.sizeof(a) - 4) == E.RKNN_ERR_PARAM_INVALID
        assert q(s.ctx, E.RKNN_QUERY_INPUT_ATTR, None, C.sizeof(a)) == E.RKNN_ERR_PARAM_INVALID
        a.index = 1
        assert q(s.ctx, E.RKNN_QUERY_INPUT_ATTR, C.byref(a), C.sizeof(a)) == E.RKNN_ERR_PARAM_INVALID
        assert q(s.ctx, E.RKNN_QUERY_NATIVE_OUTPUT_ATTR, C.byref(a), C.sizeof(a)) == E.RKNN_ERR_PARAM_INVALID
        buf = C.create_string_buffer(64)
        assert q(s.ctx, E.RKNN_QUERY_DEVICE_MEM_INFO, buf, 64) == E.RKNN_ERR_PARAM_INVALID
        assert q(s.ctx, E.RKNN_QUERY_CMD_MAX, buf, 64) == E.RKNN_ERR_PARAM_INVALID
        # Static-shape model: the real runtime refuses the dynamic range query like this.
        rng = E.rknn_input_range(index=0)
        assert q(s.ctx, E.RKNN_QUERY_INPUT_DYNAMIC_RANGE, C.byref(rng), C.sizeof(rng)) == E.RKNN_ERR_MODEL_INVALID
        # PERF_DETAIL needs RKNN_FLAG_COLLECT_PERF_MASK.
        pd = E.rknn_perf_detail()
        assert q(s.ctx, E.RKNN_QUERY_PERF_DETAIL, C.byref(pd), C.sizeof(pd)) == E.RKNN_ERR_PARAM_INVALID


def test_query_versions_mem_custom_string_perf(lib: C.CDLL) -> None:
    E.control(lib, "set npu_time_us=1500")
    with Session(lib, flags=E.RKNN_FLAG_COLLECT_PERF_MASK) as s:
        v = E.rknn_sdk_version()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_SDK_VERSION, C.byref(v), C.sizeof(v)) == 0
        assert b"emulator" in v.api_version and b"emulator" in v.drv_version
        ms = E.rknn_mem_size()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_MEM_SIZE, C.byref(ms), C.sizeof(ms)) == 0
        assert ms.total_weight_size >= TINY.stat().st_size and ms.total_internal_size > 0
        assert ms.total_dma_allocated_size >= ms.total_weight_size + ms.total_internal_size
        cs = E.rknn_custom_string()
        cs.string = b"junk"
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_CUSTOM_STRING, C.byref(cs), C.sizeof(cs)) == 0
        assert cs.string == b""  # the fixture carries no custom string
        pr = E.rknn_perf_run()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_PERF_RUN, C.byref(pr), C.sizeof(pr)) == 0
        assert pr.run_duration == 0  # nothing ran yet
        assert s.run() == 0
        s.get()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_PERF_RUN, C.byref(pr), C.sizeof(pr)) == 0
        assert pr.run_duration == 1500  # the emulated NPU time
        pd = E.rknn_perf_detail()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_PERF_DETAIL, C.byref(pd), C.sizeof(pd)) == 0
        text = C.string_at(pd.perf_data, pd.data_len).decode()
        assert "Total Operator Elapse Time(us): 1500" in text and len(text) == pd.data_len


# --------------------------------------------------------------------------------------
# Golden replay and synthetic outputs


@pytest.mark.parametrize("record", range(3))
def test_golden_replay_is_exact(lib: C.CDLL, record: int) -> None:
    ins, outs = golden_records()[record]
    scale, zp = out_qparams()
    q_ref = quantize_ref(outs[0], scale, zp).ravel()
    with Session(lib) as s:
        assert s.set_input(ins[0], U8, NHWC) == 0
        assert s.run() == 0
        assert np.array_equal(s.get(), q_ref)
        got = s.get(want_float=True)
        assert np.array_equal(got, dequantize_ref(q_ref, scale, zp))
        # The fixture's outputs lie on the int8 grid: want_float gives them back exactly.
        np.testing.assert_array_equal(got, outs[0].ravel())
    c = E.counters(lib)
    assert (c["golden_runs"], c["synthetic_runs"], c["last_golden_record"]) == (1, 0, record)


@pytest.mark.parametrize("variant", ["u8-nchw", "f32-nhwc", "f16-nchw", "i8-passthrough"])
def test_golden_matches_after_input_conversion(lib: C.CDLL, variant: str) -> None:
    ins, outs = golden_records()[1]
    x = ins[0]
    with Session(lib) as s:
        if variant == "u8-nchw":
            rc = s.set_input(x.transpose(0, 3, 1, 2), U8, NCHW)
        elif variant == "f32-nhwc":
            rc = s.set_input(x.astype(np.float32), F32, NHWC)
        elif variant == "f16-nchw":
            rc = s.set_input(x.transpose(0, 3, 1, 2).astype(np.float16), F16, NCHW)
        else:  # already quantised by the caller: pixel/255 with scale 1/255, zp -128
            rc = s.set_input((x.astype(np.int16) - 128).astype(np.int8), I8, NCHW, pass_through=1)
        assert rc == 0 and s.run() == 0
        np.testing.assert_array_equal(s.get(want_float=True), outs[0].ravel())
    assert E.counters(lib)["last_golden_record"] == 1


def test_golden_from_bytes_uses_RKNN_EMU_GOLDEN(lib: C.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    ins, outs = golden_records()[0]
    with Session(lib, TINY.read_bytes()) as s:  # no golden set for a model given as bytes
        assert s.set_input(ins[0], U8, NHWC) == 0 and s.run() == 0
    assert E.counters(lib)["synthetic_runs"] == 1
    monkeypatch.setenv("RKNN_EMU_GOLDEN", str(TINY_GOLDEN))
    with Session(lib, TINY.read_bytes()) as s:
        assert s.set_input(ins[0], U8, NHWC) == 0 and s.run() == 0
        np.testing.assert_array_equal(s.get(want_float=True), outs[0].ravel())
    monkeypatch.delenv("RKNN_EMU_GOLDEN")
    E.control(lib, f"set golden={TINY_GOLDEN}")
    with Session(lib, TINY.read_bytes()) as s:
        assert s.set_input(ins[0], U8, NHWC) == 0 and s.run() == 0
    assert E.counters(lib)["golden_runs"] == 2


def test_golden_recorded_in_the_models_quantised_type(lib: C.CDLL, tmp_path: Path) -> None:
    """A golden record whose input is INT8 (the model's quantised type, e.g. recorded from a
    runtime fed pre-quantised values) holds quantised values, like a caller's INT8 input: it
    matches the same pixels given as UINT8 and the same INT8 values."""
    ins, outs = golden_records()[0]
    q = ref.quantize_input(ins[0], [0, 0, 0], [255, 255, 255], 1 / 255, -128)
    assert np.array_equal(q, (ins[0].astype(np.int16) - 128).astype(np.int8))
    path = tmp_path / "int8.golden"
    write_golden(path, [([(q.transpose(0, 3, 1, 2).copy(), "NCHW")], [outs[0]])])
    E.control(lib, f"set golden={path}")
    with Session(lib, TINY.read_bytes()) as s:
        assert s.set_input(ins[0], U8, NHWC) == 0 and s.run() == 0
        np.testing.assert_array_equal(s.get(want_float=True), outs[0].ravel())
        assert s.set_input(q, I8, NHWC) == 0 and s.run() == 0
        np.testing.assert_array_equal(s.get(want_float=True), outs[0].ravel())
    assert E.counters(lib)["golden_runs"] == 2


def test_synthetic_outputs_follow_the_documented_rule(lib: C.CDLL) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    y = x.copy()
    y[0, 10, 20, 1] ^= 1  # one pixel differs
    with Session(lib) as s:
        assert s.set_input(x, U8, NHWC) == 0 and s.run() == 0
        out_x = s.get()
        h, ref = synthetic_int8_ref([tiny_model_bytes(x)], 0, 4096)
        assert int(E.counters(lib)["last_input_hash"], 16) == h
        np.testing.assert_array_equal(out_x, ref)
        # Same input again (by another route): same outputs. One pixel off: different ones.
        assert s.set_input(x.transpose(0, 3, 1, 2), U8, NCHW) == 0 and s.run() == 0
        np.testing.assert_array_equal(s.get(), out_x)
        assert s.set_input(y, U8, NHWC) == 0 and s.run() == 0
        out_y = s.get()
        assert not np.array_equal(out_x, out_y)
        np.testing.assert_array_equal(out_y, synthetic_int8_ref([tiny_model_bytes(y)], 0, 4096)[1])
        # want_float dequantises the synthetic int8 values.
        scale, zp = out_qparams()
        np.testing.assert_array_equal(s.get(want_float=True), dequantize_ref(out_y, scale, zp))
    c = E.counters(lib)
    assert (c["synthetic_runs"], c["golden_runs"]) == (3, 0)


def test_synthetic_float16_model(lib: C.CDLL) -> None:
    m = B.tiny_conv()
    for t in m.inputs + m.outputs:
        t.dtype, t.scale, t.zero_point, t.qnt_type, t.io_dtype = B.DTYPE_FLOAT16, None, None, None, "float16"
    with Session(lib, B.build(m)) as s:
        o = s.attr(E.RKNN_QUERY_OUTPUT_ATTR)
        assert o.type == F16 and o.size == o.n_elems * 2
        x = np.random.default_rng(3).random((1, 64, 64, 3), dtype=np.float32)
        assert s.set_input(x, F32, NHWC) == 0 and s.run() == 0
        f = s.get(want_float=True)
        out = E.rknn_output(want_float=0, index=0)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == 0
        raw = np.frombuffer(C.string_at(out.buf, out.size), np.float16)
        lib.rknn_outputs_release(s.ctx, 1, C.byref(out))
        np.testing.assert_array_equal(f, raw.astype(np.float32))
        assert np.all((f >= -1) & (f < 1)) and np.unique(f).size > 100


ALL_FIXTURES = sorted(p.stem for p in MODELS.glob("*.rknn") if p.with_suffix(".golden").exists())


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_replays_its_golden_set(lib: C.CDLL, name: str) -> None:
    """Each fixture (rk3588 / rk3566, int8 / fp16): attributes as the toolkit recorded them,
    every golden record replayed exactly through rknn_outputs_get, and the same outputs in
    the native layout through zero-copy memory."""
    from rknn_fast.golden import read_golden_tensors

    record = json.loads((MODELS / f"{name}.json").read_text())
    with Session(lib, MODELS / f"{name}.rknn") as s:
        io = E.rknn_input_output_num()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_IN_OUT_NUM, C.byref(io), C.sizeof(io)) == 0
        assert (io.n_input, io.n_output) == (len(record["inputs"]), len(record["outputs"]))
        quantised, natives, mems = [], [], []
        for k, r in enumerate(record["outputs"]):
            a = s.attr(E.RKNN_QUERY_OUTPUT_ATTR, k)
            assert a.name.decode() == r["name"] and a.shape() == r["shape"]
            assert a.type == {"int8": I8, "float16": F16}[r["dtype"]]
            if a.type == I8:
                assert a.zp == r["zero_point"] and a.scale == pytest.approx(r["scale"], rel=1e-6)
            nat = s.attr(E.RKNN_QUERY_NATIVE_OUTPUT_ATTR, k)
            mem = lib.rknn_create_mem(s.ctx, nat.size_with_stride)
            assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(nat)) == 0
            natives.append(nat)
            mems.append(mem)
        for ins, outs in read_golden_tensors(MODELS / f"{name}.golden"):
            arr = (E.rknn_input * len(ins))()
            keep = [np.ascontiguousarray(t.data) for t in ins]
            for k, (t, x) in enumerate(zip(ins, keep)):
                typ = {np.dtype(np.uint8): U8, np.dtype(np.float32): F32}[x.dtype]
                arr[k] = E.rknn_input(index=k, buf=x.ctypes.data, size=x.nbytes, type=typ, fmt=t.fmt)
            assert lib.rknn_inputs_set(s.ctx, len(ins), arr) == 0 and s.run() == 0
            for k, (t, r) in enumerate(zip(outs, record["outputs"])):
                got = s.get(k, want_float=True)
                if r["dtype"] == "int8":
                    q = quantize_ref(t.data, r["scale"], r["zero_point"])
                    expected = dequantize_ref(q, r["scale"], r["zero_point"])
                    raw = q.view(np.uint8)
                else:
                    q = t.data.astype(np.float16)
                    expected = q.astype(np.float32)
                    raw = q.view(np.uint8)
                np.testing.assert_array_equal(got, expected.ravel())
                np.testing.assert_array_equal(got, t.data.astype(np.float32).ravel())  # on the grid
                nat = natives[k]
                size = q.dtype.itemsize
                buf = mem_array(mems[k], nat.size_with_stride).view(q.dtype)
                if nat.fmt == NC1HWC2:
                    buf = nc1hwc2_to_nchw(buf, nat.shape(), r["shape"][1])
                np.testing.assert_array_equal(buf.reshape(-1).view(np.uint8)[: raw.size], raw.reshape(-1),
                                              err_msg=f"native output {k} ({size}-byte elements)")
        assert E.counters(lib)["synthetic_runs"] == 0
        for mem in mems:
            assert lib.rknn_destroy_mem(s.ctx, mem) == 0


def _fixture_input(name: str) -> dict:
    return json.loads((MODELS / f"{name}.json").read_text())["inputs"][0]


INT8_FIXTURES = [n for n in ALL_FIXTURES if _fixture_input(n)["dtype"] == "int8"]


def _first_record(name: str):
    from rknn_fast.golden import read_golden_tensors

    ins, outs = read_golden_tensors(MODELS / f"{name}.golden")[0]
    assert len(ins) == 1 and ins[0].data.dtype == np.uint8 and ins[0].fmt == NHWC
    return ins[0].data, [t.data for t in outs]


def _assert_replayed(s: "Session", outs) -> None:
    for k, want in enumerate(outs):
        np.testing.assert_array_equal(s.get(k, want_float=True), want.astype(np.float32).ravel())
    c = E.counters(s.lib)
    assert c["synthetic_runs"] == 0 and c["last_golden_record"] == 0


@pytest.mark.parametrize("name", INT8_FIXTURES)
def test_input_in_the_models_quantised_type_is_taken_as_quantised(lib: C.CDLL, name: str) -> None:
    """The recorded pixels of an int8 fixture, quantised with the input's mean/std/scale/zero
    point (an independent reference), given as INT8 *without* pass_through replay the golden
    outputs: through rknn_inputs_set (NHWC and NCHW) and through memory bound with the normal
    attr (INT8 NCHW) and the native attr (INT8 NHWC). Before issue 14 these values were
    normalised and quantised a second time."""
    r = _fixture_input(name)
    pixels, outs = _first_record(name)
    q = ref.quantize_input(pixels, r["mean"], r["std"], r["scale"], r["zero_point"])  # NHWC int8
    with Session(lib, MODELS / f"{name}.rknn") as s:
        assert s.set_input(q, I8, NHWC) == 0 and s.run() == 0
        _assert_replayed(s, outs)
        E.control(lib, "reset_counters")
        assert s.set_input(q.transpose(0, 3, 1, 2), I8, NCHW) == 0 and s.run() == 0
        _assert_replayed(s, outs)
        for cmd in (E.RKNN_QUERY_INPUT_ATTR, E.RKNN_QUERY_NATIVE_INPUT_ATTR):
            E.control(lib, "reset_counters")
            a = s.attr(cmd)
            assert a.type == I8 and a.pass_through == 0
            mem = lib.rknn_create_mem(s.ctx, a.size_with_stride)
            try:
                if a.fmt == NCHW:
                    mem_array(mem, q.nbytes, np.int8)[:] = q.transpose(0, 3, 1, 2).ravel()
                else:
                    assert a.fmt == NHWC
                    n, h, w, c = q.shape
                    ws = a.w_stride or w
                    view = mem_array(mem, n * h * ws * c, np.int8).reshape(n, h, ws, c)
                    view[:, :, :w] = q
                assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(a)) == 0
                assert s.run() == 0
                _assert_replayed(s, outs)
            finally:
                lib.rknn_inputs_set(s.ctx, 1, C.byref(E.rknn_input(index=0, buf=pixels.ctypes.data,
                                                                   size=pixels.nbytes, type=U8, fmt=NHWC)))
                assert lib.rknn_destroy_mem(s.ctx, mem) == 0


@pytest.mark.parametrize("name", ALL_FIXTURES)
@pytest.mark.parametrize("typ", ["u8", "f32", "f16"])
def test_pixels_and_float_values_are_normalised_then_quantised(lib: C.CDLL, name: str, typ: str) -> None:
    """A type other than the model's quantised one holds values before normalisation: UINT8
    pixels, and the same pixels as FLOAT32 / FLOAT16 values, replay through rknn_inputs_set
    and through bound memory (normal attr with its type changed), for int8 and float16 models
    alike (a float model has no quantised type, so FLOAT16 values are normalised too)."""
    pixels, outs = _first_record(name)
    dtype, code = {"u8": (np.uint8, U8), "f32": (np.float32, F32), "f16": (np.float16, F16)}[typ]
    x = np.ascontiguousarray(pixels.astype(dtype))
    with Session(lib, MODELS / f"{name}.rknn") as s:
        assert s.set_input(x, code, NHWC) == 0 and s.run() == 0
        _assert_replayed(s, outs)
        E.control(lib, "reset_counters")
        a = s.attr(E.RKNN_QUERY_INPUT_ATTR)
        a.type, a.fmt, a.w_stride = code, NHWC, 0
        mem = lib.rknn_create_mem(s.ctx, x.nbytes)
        try:
            mem_array(mem, x.nbytes, dtype)[:] = x.ravel()
            assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(a)) == 0
            assert s.run() == 0
            _assert_replayed(s, outs)
        finally:
            assert s.set_input(x, code, NHWC) == 0  # unbinds before the memory goes
            assert lib.rknn_destroy_mem(s.ctx, mem) == 0


# --------------------------------------------------------------------------------------
# rknn_inputs_set / rknn_outputs_get / rknn_outputs_release


def test_inputs_set_errors_leave_the_input_unchanged(lib: C.CDLL) -> None:
    x = np.random.default_rng(2).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    with Session(lib) as s:
        assert s.set_input(x, U8, NHWC) == 0
        before = E.counters(lib)["inputs_set_bytes"]
        arr = (E.rknn_input * 2)()
        assert lib.rknn_inputs_set(s.ctx, 1, None) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_inputs_set(s.ctx, 0, arr) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_inputs_set(s.ctx, 2, arr) == E.RKNN_ERR_PARAM_INVALID  # model has 1 input
        z = np.zeros((1, 64, 64, 3), np.uint8)
        assert s.set_input(z, U8, NHWC, index=1) == E.RKNN_ERR_INPUT_INVALID
        assert s.set_input(z[:, :32], U8, NHWC) == E.RKNN_ERR_PARAM_INVALID  # too small
        assert s.set_input(z, 99, NHWC) == E.RKNN_ERR_INPUT_INVALID
        assert s.set_input(z, U8, NC1HWC2) == E.RKNN_ERR_INPUT_INVALID
        inp = E.rknn_input(index=0, buf=None, size=12288, type=U8, fmt=NHWC)
        assert lib.rknn_inputs_set(s.ctx, 1, C.byref(inp)) == E.RKNN_ERR_PARAM_INVALID
        assert E.counters(lib)["inputs_set_bytes"] == before
        assert s.run() == 0
        np.testing.assert_array_equal(s.get(), synthetic_int8_ref([tiny_model_bytes(x)], 0, 4096)[1])


def test_outputs_get_buffers(lib: C.CDLL) -> None:
    ins, outs = golden_records()[0]
    scale, zp = out_qparams()
    q_ref = quantize_ref(outs[0], scale, zp).ravel()
    with Session(lib) as s:
        out = E.rknn_output(index=0)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == E.RKNN_ERR_FAIL  # no run yet
        assert s.set_input(ins[0], U8, NHWC) == 0 and s.run() == 0
        c0 = E.counters(lib)["outputs_get_bytes"]
        # is_prealloc: written into the caller's buffer.
        buf = np.full(4096 * 4, 0x55, np.uint8)
        out = E.rknn_output(want_float=1, is_prealloc=1, index=0, buf=buf.ctypes.data, size=buf.nbytes)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == 0
        np.testing.assert_array_equal(buf.view(np.float32), dequantize_ref(q_ref, scale, zp))
        assert out.buf == buf.ctypes.data
        # A preallocated buffer that is too small is refused and left untouched.
        small = np.full(4096 * 4 - 1, 0x55, np.uint8)
        out = E.rknn_output(want_float=1, is_prealloc=1, index=0, buf=small.ctypes.data, size=small.nbytes)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == E.RKNN_ERR_PARAM_INVALID
        assert np.all(small == 0x55)
        # is_prealloc=0 with a caller pointer: replaced by a runtime buffer, never written.
        mine = np.full(4096, 0x55, np.uint8)
        out = E.rknn_output(want_float=0, is_prealloc=0, index=0, buf=mine.ctypes.data, size=mine.nbytes)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == 0
        assert out.buf != mine.ctypes.data and out.size == 4096
        assert np.all(mine == 0x55)
        np.testing.assert_array_equal(np.frombuffer(C.string_at(out.buf, out.size), np.int8), q_ref)
        assert lib.rknn_outputs_release(s.ctx, 1, C.byref(out)) == 0
        assert lib.rknn_outputs_release(s.ctx, 1, C.byref(out)) == 0  # twice is harmless
        assert E.counters(lib)["outputs_get_bytes"] - c0 == 4096 * 4 + 4096
        # Argument errors.
        out = E.rknn_output(index=3)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == E.RKNN_ERR_OUTPUT_INVALID
        assert lib.rknn_outputs_get(s.ctx, 0, C.byref(out), None) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_outputs_get(s.ctx, 2, (E.rknn_output * 2)(), None) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_outputs_get(s.ctx, 1, None, None) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_outputs_release(s.ctx, 1, None) == E.RKNN_ERR_PARAM_INVALID


# --------------------------------------------------------------------------------------
# rknn_run / rknn_wait: frame ids, non-blocking runs, timeouts, async mode


def test_frame_ids_and_non_blocking_run(lib: C.CDLL) -> None:
    ins, outs = golden_records()[2]
    E.control(lib, "set npu_time_us=20000")
    with Session(lib) as s:
        assert s.set_input(ins[0], U8, NHWC) == 0
        ext = E.rknn_run_extend()
        assert s.run(ext) == 0 and ext.frame_id == 1
        ext = E.rknn_run_extend(non_block=1)
        assert s.run(ext) == 0 and ext.frame_id == 2
        wait = E.rknn_run_extend()
        assert lib.rknn_wait(s.ctx, C.byref(wait)) == 0 and wait.frame_id == 2
        oext = E.rknn_output_extend()
        np.testing.assert_array_equal(s.get(want_float=True, extend=C.byref(oext)), outs[0].ravel())
        assert oext.frame_id == 2
        # rknn_outputs_get waits for a non-blocking run by itself.
        ext = E.rknn_run_extend(non_block=1)
        assert s.run(ext) == 0 and ext.frame_id == 3
        s.get(extend=C.byref(oext))
        assert oext.frame_id == 3
        assert lib.rknn_wait(s.ctx, None) == 0  # nothing in flight


def test_wait_and_run_timeouts(lib: C.CDLL) -> None:
    E.control(lib, "set npu_time_us=300000")
    with Session(lib) as s:
        ext = E.rknn_run_extend(non_block=1)
        assert s.run(ext) == 0
        assert lib.rknn_wait(s.ctx, C.byref(E.rknn_run_extend(timeout_ms=5))) == E.RKNN_ERR_TIMEOUT
        assert lib.rknn_wait(s.ctx, C.byref(E.rknn_run_extend())) == 0
        # A blocking run with a timeout shorter than the NPU time times out; the frame still
        # completes and its outputs can be read afterwards.
        ext = E.rknn_run_extend(timeout_ms=5)
        assert s.run(ext) == E.RKNN_ERR_TIMEOUT
        oext = E.rknn_output_extend()
        s.get(extend=C.byref(oext))
        assert oext.frame_id == ext.frame_id == 2


def test_async_mode_returns_the_previous_frame(lib: C.CDLL) -> None:
    recs = golden_records()
    with Session(lib, flags=E.RKNN_FLAG_ASYNC_MASK) as s:
        oext = E.rknn_output_extend()
        for k in range(3):
            assert s.set_input(recs[k][0][0], U8, NHWC) == 0 and s.run() == 0
            got = s.get(want_float=True, extend=C.byref(oext))
            expected = max(k - 1, 0)  # the first call has no previous frame
            assert oext.frame_id == expected + 1
            np.testing.assert_array_equal(got, recs[expected][1][0].ravel())


# --------------------------------------------------------------------------------------
# Memory


def test_create_mem_is_real_shared_memory(lib: C.CDLL) -> None:
    with Session(lib) as s:
        mem = lib.rknn_create_mem(s.ctx, 4096)
        assert mem and mem.contents.size == 4096 and mem.contents.offset == 0
        assert mem.contents.flags == E.RKNN_TENSOR_MEMORY_FLAGS_ALLOC_INSIDE
        assert mem.contents.phys_addr != 0
        # The fd is a real memfd mapped at virt_addr: writes through one show in the other.
        fd = mem.contents.fd
        view = mem_array(mem, 4096)
        view[:5] = [1, 2, 3, 4, 5]
        assert os.pread(fd, 5, 0) == bytes([1, 2, 3, 4, 5])
        assert lib.rknn_destroy_mem(s.ctx, mem) == 0
        assert lib.rknn_destroy_mem(s.ctx, mem) == E.RKNN_ERR_PARAM_INVALID  # already gone
        with pytest.raises(OSError):
            os.fstat(fd)  # closed by rknn_destroy_mem
        assert not lib.rknn_create_mem(s.ctx, 0)
        m2 = lib.rknn_create_mem2(s.ctx, 100, E.RKNN_FLAG_MEMORY_NON_CACHEABLE)
        assert m2 and m2.contents.size == 100
        assert lib.rknn_destroy_mem(0, m2) == 0
        assert not lib.rknn_create_mem2(s.ctx, 1 << 33, 0)
        assert not lib.rknn_create_mem2(s.ctx, 100, 0x100)  # unknown flag
        assert not lib.rknn_create_mem2(s.ctx, 100, 3)  # cacheable and non-cacheable
    # Without a context only with RKNN_MEM_FLAG_ALLOC_NO_CONTEXT.
    assert not lib.rknn_create_mem2(0, 64, 0)
    m3 = lib.rknn_create_mem2(0, 64, E.RKNN_MEM_FLAG_ALLOC_NO_CONTEXT)
    assert m3 and lib.rknn_destroy_mem(0, m3) == 0
    assert E.counters(lib)["mems_live"] == 0


def test_create_mem_from_fd_and_phys(lib: C.CDLL) -> None:
    fd = os.memfd_create("caller_buffer")
    os.ftruncate(fd, 8192)
    mm = mmap.mmap(fd, 8192)
    base = C.addressof(C.c_char.from_buffer(mm))
    try:
        with Session(lib) as s:
            mem = lib.rknn_create_mem_from_fd(s.ctx, fd, C.c_void_p(base), 1000, 4096)
            assert mem and mem.contents.virt_addr == base and mem.contents.offset == 4096
            assert mem.contents.fd == fd and mem.contents.flags == E.RKNN_TENSOR_MEMORY_FLAGS_FROM_FD
            assert lib.rknn_destroy_mem(s.ctx, mem) == 0
            os.fstat(fd)  # the caller's fd stays open
            # Without virt_addr the runtime maps the fd itself.
            mem = lib.rknn_create_mem_from_fd(s.ctx, fd, None, 1000, 4096)
            assert mem and mem.contents.virt_addr not in (None, base)
            mm[4096:4099] = b"abc"
            assert bytes(mem_array(mem, 3)) == b"abc"
            assert lib.rknn_destroy_mem(s.ctx, mem) == 0
            assert not lib.rknn_create_mem_from_fd(s.ctx, -1, None, 1000, 0)
            assert not lib.rknn_create_mem_from_fd(s.ctx, 987654, None, 1000, 0)
            assert not lib.rknn_create_mem_from_fd(s.ctx, fd, None, 0, 0)
            assert not lib.rknn_create_mem_from_fd(s.ctx, fd, None, 10, -1)
            ph = lib.rknn_create_mem_from_phys(s.ctx, 0x12340000, C.c_void_p(base), 256)
            assert ph and ph.contents.phys_addr == 0x12340000 and ph.contents.virt_addr == base
            assert ph.contents.flags == E.RKNN_TENSOR_MEMORY_FLAGS_FROM_PHYS
            assert lib.rknn_destroy_mem(s.ctx, ph) == 0
            assert not lib.rknn_create_mem_from_phys(s.ctx, 0x12340000, None, 256)
    finally:
        mm.close()
        os.close(fd)


def test_mem_sync_is_counted_and_checked(lib: C.CDLL) -> None:
    with Session(lib) as s:
        mem = lib.rknn_create_mem(s.ctx, 64)
        assert lib.rknn_mem_sync(s.ctx, mem, E.RKNN_MEMORY_SYNC_TO_DEVICE) == 0
        assert lib.rknn_mem_sync(0, mem, E.RKNN_MEMORY_SYNC_FROM_DEVICE) == 0  # ctx may be 0
        assert lib.rknn_mem_sync(s.ctx, mem, E.RKNN_MEMORY_SYNC_BIDIRECTIONAL) == 0
        assert lib.rknn_mem_sync(s.ctx, mem, 0) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_mem_sync(s.ctx, mem, 4) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_mem_sync(s.ctx, None, 1) == E.RKNN_ERR_PARAM_INVALID
        bogus = E.rknn_tensor_mem()
        assert lib.rknn_mem_sync(s.ctx, C.byref(bogus), 1) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_destroy_mem(s.ctx, C.byref(bogus)) == E.RKNN_ERR_PARAM_INVALID
        lib.rknn_destroy_mem(s.ctx, mem)
    c = E.counters(lib)
    assert (c["mem_sync_calls"], c["mem_sync_to_device"], c["mem_sync_from_device"]) == (3, 2, 2)


def test_zero_copy_io_with_conversions(lib: C.CDLL) -> None:
    """Input bound as UINT8 NHWC; outputs bound as native NC1HWC2 int8, NHWC float32 and
    NCHW float32: each gets the golden output in its own layout, and nothing is copied
    through rknn_inputs_set / rknn_outputs_get."""
    ins, outs = golden_records()[0]
    scale, zp = out_qparams()
    q_ref = quantize_ref(outs[0], scale, zp)  # (1, 4, 32, 32)
    f_ref = dequantize_ref(q_ref, scale, zp)
    with Session(lib) as s:
        in_attr = s.attr(E.RKNN_QUERY_NATIVE_INPUT_ATTR)
        in_attr.type, in_attr.fmt = U8, NHWC
        in_mem = lib.rknn_create_mem(s.ctx, in_attr.size_with_stride)
        mem_array(in_mem, ins[0].nbytes)[:] = ins[0].ravel()
        assert lib.rknn_set_io_mem(s.ctx, in_mem, C.byref(in_attr)) == 0

        nat = s.attr(E.RKNN_QUERY_NATIVE_OUTPUT_ATTR)
        nat_mem = lib.rknn_create_mem(s.ctx, nat.size_with_stride)
        mem_array(nat_mem, nat.size_with_stride)[:] = 0x77
        assert lib.rknn_set_io_mem(s.ctx, nat_mem, C.byref(nat)) == 0
        E.control(lib, "reset_counters")
        assert s.run() == 0
        native = mem_array(nat_mem, nat.size_with_stride, np.int8)
        np.testing.assert_array_equal(nc1hwc2_to_nchw(native, nat.shape(), 4), q_ref)
        assert np.all(native.reshape(nat.shape())[:, :, :, :, 4:] == 0)  # channel padding
        c = E.counters(lib)
        assert (c["inputs_set_bytes"], c["outputs_get_bytes"]) == (0, 0)
        assert c["io_mem_input_bytes"] == 64 * 64 * 3 and c["io_mem_output_bytes"] == nat.size_with_stride

        # The same output as float32 NHWC (rebinding) and as float32 NCHW in an imported fd
        # at an offset.
        nhwc = s.attr(E.RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR)
        nhwc.type = F32
        f_mem = lib.rknn_create_mem(s.ctx, 4096 * 4)
        assert lib.rknn_set_io_mem(s.ctx, f_mem, C.byref(nhwc)) == 0
        assert s.run() == 0
        np.testing.assert_array_equal(mem_array(f_mem, 4096 * 4, np.float32),
                                      f_ref.transpose(0, 2, 3, 1).ravel())
        fd = os.memfd_create("out")
        os.ftruncate(fd, 4096 + 4096 * 4)
        mm = mmap.mmap(fd, 4096 + 4096 * 4)
        try:
            fd_mem = lib.rknn_create_mem_from_fd(s.ctx, fd, C.c_void_p(C.addressof(C.c_char.from_buffer(mm))),
                                                 4096 * 4, 4096)
            o = s.attr(E.RKNN_QUERY_OUTPUT_ATTR)
            o.type = F32
            assert lib.rknn_set_io_mem(s.ctx, fd_mem, C.byref(o)) == 0
            assert s.run() == 0
            np.testing.assert_array_equal(np.frombuffer(mm, np.float32, offset=4096), f_ref.ravel())
            assert lib.rknn_destroy_mem(s.ctx, fd_mem) == 0
        finally:
            mm.close()
            os.close(fd)
        for m in (in_mem, nat_mem, f_mem):
            assert lib.rknn_destroy_mem(s.ctx, m) == 0


def test_set_io_mem_pass_through_input_and_errors(lib: C.CDLL) -> None:
    ins, outs = golden_records()[2]
    with Session(lib) as s:
        a = s.attr(E.RKNN_QUERY_NATIVE_INPUT_ATTR)  # int8 NHWC, the model's own format
        a.pass_through = 1
        mem = lib.rknn_create_mem(s.ctx, a.size_with_stride)
        mem_array(mem, a.size, np.int8)[:] = (ins[0].astype(np.int16) - 128).astype(np.int8).ravel()
        assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(a)) == 0
        assert s.run() == 0
        np.testing.assert_array_equal(s.get(want_float=True), outs[0].ravel())
        # The same input imported from the caller's own fd, at an offset inside it.
        fd = os.memfd_create("input")
        os.ftruncate(fd, 256 + a.size)
        os.pwrite(fd, (ins[0].astype(np.int16) - 128).astype(np.int8).tobytes(), 256)
        fd_mem = lib.rknn_create_mem_from_fd(s.ctx, fd, None, a.size, 256)
        try:
            assert lib.rknn_set_io_mem(s.ctx, fd_mem, C.byref(a)) == 0
            assert s.run() == 0
            np.testing.assert_array_equal(s.get(want_float=True), outs[0].ravel())
            assert E.counters(lib)["last_golden_record"] == 2
        finally:
            assert lib.rknn_destroy_mem(s.ctx, fd_mem) == 0
            os.close(fd)
        # Errors: NULL attr, unknown mem, unknown name, index mismatch, too small, bad fmt.
        assert lib.rknn_set_io_mem(s.ctx, mem, None) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_set_io_mem(s.ctx, C.byref(E.rknn_tensor_mem()), C.byref(a)) == E.RKNN_ERR_PARAM_INVALID
        bad = E.rknn_tensor_attr.from_buffer_copy(a)
        bad.name = b"nope"
        assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(bad)) == E.RKNN_ERR_PARAM_INVALID
        bad = E.rknn_tensor_attr.from_buffer_copy(a)
        bad.index = 1
        assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(bad)) == E.RKNN_ERR_PARAM_INVALID
        bad = E.rknn_tensor_attr.from_buffer_copy(a)
        bad.type = F32  # needs 4x the bytes
        assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(bad)) == E.RKNN_ERR_PARAM_INVALID
        bad = E.rknn_tensor_attr.from_buffer_copy(a)
        bad.fmt = NC1HWC2  # the image input has no NC1HWC2 native layout
        assert lib.rknn_set_io_mem(s.ctx, mem, C.byref(bad)) == E.RKNN_ERR_PARAM_INVALID
        # Destroying a bound mem is safe: the mapping lives until the context lets go.
        assert lib.rknn_destroy_mem(s.ctx, mem) == 0
        assert s.run() == 0


def test_weight_and_internal_memory_outside(lib: C.CDLL) -> None:
    with Session(lib, flags=E.RKNN_FLAG_MEM_ALLOC_OUTSIDE) as s:
        ms = E.rknn_mem_size()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_MEM_SIZE, C.byref(ms), C.sizeof(ms)) == 0
        assert s.run() == E.RKNN_ERR_FAIL  # memory not provided yet
        small = lib.rknn_create_mem(s.ctx, 16)
        assert lib.rknn_set_weight_mem(s.ctx, small) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_set_weight_mem(s.ctx, None) == E.RKNN_ERR_PARAM_INVALID
        w = lib.rknn_create_mem(s.ctx, ms.total_weight_size)
        i = lib.rknn_create_mem(s.ctx, ms.total_internal_size)
        assert lib.rknn_set_weight_mem(s.ctx, w) == 0
        assert s.run() == E.RKNN_ERR_FAIL
        assert lib.rknn_set_internal_mem(s.ctx, i) == 0
        assert s.run() == 0
        for m in (small, w, i):
            lib.rknn_destroy_mem(s.ctx, m)
    with Session(lib, flags=E.RKNN_FLAG_COLLECT_MODEL_INFO_ONLY) as s:
        ms = E.rknn_mem_size()
        assert lib.rknn_query(s.ctx, E.RKNN_QUERY_MEM_SIZE, C.byref(ms), C.sizeof(ms)) == 0
        assert ms.total_weight_size > 0
        assert s.run() == E.RKNN_ERR_FAIL


# --------------------------------------------------------------------------------------
# Core masks, batch core number, input shapes


CORE_MASKS = {
    E.RKNN_NPU_CORE_AUTO: "auto", E.RKNN_NPU_CORE_0: "0", E.RKNN_NPU_CORE_1: "1",
    E.RKNN_NPU_CORE_2: "2", E.RKNN_NPU_CORE_0_1: "0_1", E.RKNN_NPU_CORE_0_1_2: "0_1_2",
    E.RKNN_NPU_CORE_ALL: "all", E.RKNN_NPU_CORE_UNDEFINED: "undefined", 8: "bit3",
}


@pytest.mark.parametrize("platform,cores", [("rk3588", 3), ("rk3576", 2), ("rk3566", 1), ("rk3568", 1), ("rk3562", 1)])
def test_core_mask_per_platform(lib: C.CDLL, platform: str, cores: int) -> None:
    with Session(lib, platform_model(platform)) as s:
        for mask in CORE_MASKS:
            rc = lib.rknn_set_core_mask(s.ctx, mask)
            if cores == 1:
                assert rc == E.RKNN_ERR_TARGET_PLATFORM_UNMATCH, CORE_MASKS[mask]
            elif mask in (E.RKNN_NPU_CORE_AUTO, E.RKNN_NPU_CORE_ALL) or (0 < mask < (1 << cores)):
                assert rc == 0, CORE_MASKS[mask]
                assert s.run() == 0
            else:
                assert rc == E.RKNN_ERR_FAIL, CORE_MASKS[mask]
        for n in range(0, 5):
            rc = lib.rknn_set_batch_core_num(s.ctx, n)
            if cores == 1:
                assert rc == E.RKNN_ERR_TARGET_PLATFORM_UNMATCH
            else:
                assert rc == (0 if 1 <= n <= cores else E.RKNN_ERR_PARAM_INVALID)


def test_core_mask_on_the_real_rk3566_fixture(lib: C.CDLL) -> None:
    with Session(lib, MODELS / "tiny_conv_rk3566_i8.rknn") as s:
        assert lib.rknn_set_core_mask(s.ctx, E.RKNN_NPU_CORE_0) == E.RKNN_ERR_TARGET_PLATFORM_UNMATCH
        assert lib.rknn_set_core_mask(s.ctx, E.RKNN_NPU_CORE_AUTO) == E.RKNN_ERR_TARGET_PLATFORM_UNMATCH
        assert s.run() == 0
    assert E.counters(lib)["core_runs"] == [1, 0, 0]


def test_set_input_shapes_fail_on_static_models(lib: C.CDLL) -> None:
    with Session(lib) as s:
        a = s.attr(E.RKNN_QUERY_INPUT_ATTR)
        assert lib.rknn_set_input_shape(s.ctx, C.byref(a)) == E.RKNN_ERR_MODEL_INVALID
        assert lib.rknn_set_input_shapes(s.ctx, 1, C.byref(a)) == E.RKNN_ERR_MODEL_INVALID
        assert lib.rknn_set_input_shape(s.ctx, None) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_set_input_shapes(s.ctx, 1, None) == E.RKNN_ERR_PARAM_INVALID
        assert lib.rknn_set_input_shapes(s.ctx, 2, C.byref(a)) == E.RKNN_ERR_PARAM_INVALID


# --------------------------------------------------------------------------------------
# Time and core queues


def run_concurrently(lib: C.CDLL, masks: "list[int]") -> dict:
    sessions = [Session(lib) for _ in masks]
    for s, mask in zip(sessions, masks):
        assert lib.rknn_set_core_mask(s.ctx, mask) == 0
    E.control(lib, "reset_counters")
    barrier = threading.Barrier(len(sessions))
    codes: "list[int]" = []

    def worker(s: Session) -> None:
        barrier.wait()
        codes.append(s.run())

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in sessions:
        s.close()
    assert codes == [0] * len(sessions)
    return E.counters(lib)


def test_contexts_on_one_core_serialise(lib: C.CDLL) -> None:
    E.control(lib, "set npu_time_us=100000")
    c = run_concurrently(lib, [E.RKNN_NPU_CORE_1] * 3)
    assert c["max_concurrent_runs"] == 1 and c["core_runs"] == [0, 3, 0]


def test_contexts_on_different_cores_overlap(lib: C.CDLL) -> None:
    E.control(lib, "set npu_time_us=300000")
    c = run_concurrently(lib, [E.RKNN_NPU_CORE_0, E.RKNN_NPU_CORE_1, E.RKNN_NPU_CORE_2])
    assert c["core_runs"] == [1, 1, 1] and c["max_concurrent_runs"] == 3


def test_multi_core_masks_hold_all_their_cores(lib: C.CDLL) -> None:
    E.control(lib, "set npu_time_us=100000")
    c = run_concurrently(lib, [E.RKNN_NPU_CORE_0_1_2, E.RKNN_NPU_CORE_0])
    assert c["max_concurrent_runs"] == 1 and c["core_runs"] == [2, 1, 1]


def test_auto_mask_spreads_over_free_cores(lib: C.CDLL) -> None:
    E.control(lib, "set npu_time_us=300000")
    c = run_concurrently(lib, [E.RKNN_NPU_CORE_AUTO] * 3)
    assert c["core_runs"] == [1, 1, 1] and c["max_concurrent_runs"] == 3


def test_threads_share_one_model_safely(lib: C.CDLL) -> None:
    """Eight threads, each with its own duplicated context, hammer the emulator with
    different inputs; every output must be the one its own input calls for."""
    base = Session(lib)
    rng = np.random.default_rng(11)
    images = [rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8) for _ in range(8)]
    expected = [synthetic_int8_ref([tiny_model_bytes(x)], 0, 4096)[1] for x in images]
    errors: "list[str]" = []

    def worker(k: int) -> None:
        dup = E.rknn_context()
        assert lib.rknn_dup_context(C.byref(base.ctx), C.byref(dup)) == 0
        s = Session.__new__(Session)
        s.lib, s.ctx = lib, dup
        for _ in range(5):
            if s.set_input(images[k], U8, NHWC) or s.run():
                errors.append(f"thread {k}: call failed")
            elif not np.array_equal(s.get(), expected[k]):
                errors.append(f"thread {k}: wrong output")
        s.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    base.close()
    assert errors == []
    assert E.counters(lib)["runs"] == 40


# --------------------------------------------------------------------------------------
# Faults, counters, control and environment


def test_run_fault_hits_the_given_run(lib: C.CDLL) -> None:
    E.control(lib, "fault run=3 code=-2")
    with Session(lib) as s:
        assert [s.run() for _ in range(5)] == [0, 0, E.RKNN_ERR_TIMEOUT, 0, 0]
    E.control(lib, "fault run=2 code=-9 count=2")
    with Session(lib) as s:
        assert [s.run() for _ in range(4)] == [0, E.RKNN_ERR_OUTPUT_INVALID, E.RKNN_ERR_OUTPUT_INVALID, 0]
    assert E.counters(lib)["runs_failed"] == 3


def test_init_and_other_faults(lib: C.CDLL) -> None:
    E.control(lib, "fault init code=-6")
    ctx = E.rknn_context()
    assert lib.rknn_init(C.byref(ctx), str(TINY).encode(), 0, 0, None) == E.RKNN_ERR_MODEL_INVALID
    with Session(lib) as s:  # one-shot: the next init works
        E.control(lib, "fault outputs_get code=-1")
        E.control(lib, "fault inputs_set code=-8")
        E.control(lib, "fault create_mem")
        assert s.set_input(np.zeros((1, 64, 64, 3), np.uint8), U8, NHWC) == E.RKNN_ERR_INPUT_INVALID
        assert s.run() == 0
        out = E.rknn_output(index=0)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == E.RKNN_ERR_FAIL
        assert not lib.rknn_create_mem(s.ctx, 64)
        mem = lib.rknn_create_mem(s.ctx, 64)
        assert mem
        lib.rknn_destroy_mem(s.ctx, mem)
        s.get()


def test_timeout_fault(lib: C.CDLL) -> None:
    E.control(lib, "fault timeout run=2 ms=50")
    with Session(lib) as s:
        assert s.run() == 0
        assert s.run() == E.RKNN_ERR_TIMEOUT
        out = E.rknn_output(index=0)
        assert lib.rknn_outputs_get(s.ctx, 1, C.byref(out), None) == E.RKNN_ERR_TIMEOUT
        assert s.run() == 0
        E.control(lib, "fault timeout ms=400")
        ext = E.rknn_run_extend(non_block=1)
        assert s.run(ext) == 0
        assert lib.rknn_wait(s.ctx, C.byref(E.rknn_run_extend(timeout_ms=20))) == E.RKNN_ERR_TIMEOUT
        E.control(lib, "fault clear")


def test_counters_and_reset(lib: C.CDLL) -> None:
    with Session(lib) as s:
        x = np.zeros((1, 64, 64, 3), np.uint8)
        assert s.set_input(x, U8, NHWC) == 0 and s.run() == 0
        s.get(want_float=True)
        c = E.counters(lib)
        assert c["calls"]["rknn_init"] == 1 and c["calls"]["rknn_run"] == 1
        assert c["calls"]["rknn_outputs_get"] == 1 and c["calls"]["rknn_outputs_release"] == 1
        assert set(c["calls"]) == set(E.API_FUNCTIONS)
        assert c["inputs_set_bytes"] == 64 * 64 * 3 and c["outputs_get_bytes"] == 4096 * 4
        assert c["runs"] == 1 and c["contexts_live"] == 1
        E.control(lib, "reset_counters")
        c = E.counters(lib)
        assert sum(c["calls"].values()) == 0 and c["inputs_set_bytes"] == 0 and c["runs"] == 0


def test_control_commands(lib: C.CDLL) -> None:
    assert "counters" in E.control(lib, "help")
    cfg = json.loads(E.control(lib, "config"))
    assert cfg["npu_time_us"] == 0 and cfg["faults"] == []
    E.control(lib, "set npu_time_us=1234")
    E.control(lib, "fault run=4 code=-3")
    cfg = json.loads(E.control(lib, "config"))
    assert cfg["npu_time_us"] == 1234 and cfg["faults"][0]["api"] == "rknn_run"
    assert cfg["faults"][0]["at"] == 4 and cfg["faults"][0]["code"] == -3
    for bad in ("", "bogus", "set npu_time_us=-1", "set nothing=1", "fault nosuch", "fault run=0",
                "fault run code=5", "fault run count=x"):
        with pytest.raises(RuntimeError):
            E.control(lib, bad)
    # Replies are truncated to the buffer, and the full length is returned (like snprintf).
    small = C.create_string_buffer(8)
    n = lib.rknn_emulator_control(b"counters", small, 8)
    assert n > 8 and len(small.value) == 7
    assert lib.rknn_emulator_control(b"counters", None, 0) == n
    assert lib.rknn_emulator_control(None, None, 0) == E.RKNN_ERR_PARAM_INVALID


def test_environment_configuration(tmp_path: Path) -> None:
    script = f"""
import ctypes as C, json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import emu_ctypes as E
lib = E.load({str(LIB_PATH)!r})
cfg = json.loads(E.control(lib, "config"))
ctx = E.rknn_context()
codes = [lib.rknn_init(C.byref(ctx), {str(TINY)!r}.encode(), 0, 0, None) for _ in range(2)]
runs = [lib.rknn_run(ctx, None) for _ in range(2)]
print(json.dumps({{"cfg": cfg, "codes": codes, "runs": runs}}))
"""
    env = dict(os.environ, RKNN_EMU_NPU_TIME_US="777", RKNN_EMU_LOG="0",
               RKNN_EMU_FAULTS="init code=-3; run=2 code=-4")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["cfg"]["npu_time_us"] == 777
    assert result["codes"] == [E.RKNN_ERR_DEVICE_UNAVAILABLE, 0]
    assert result["runs"] == [0, E.RKNN_ERR_MALLOC_FAIL]


def test_errors_are_logged_unless_silenced(tmp_path: Path) -> None:
    script = f"""
import ctypes as C, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import emu_ctypes as E
lib = E.load({str(LIB_PATH)!r})
lib.rknn_destroy(12345)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RKNN_EMU_")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert "rknn_destroy: invalid context" in out.stderr
    env["RKNN_EMU_LOG"] = "0"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stderr == ""


# --------------------------------------------------------------------------------------
# skip_compute (benchmarking aid)


def test_skip_compute_reuses_the_previous_outputs(lib: C.CDLL) -> None:
    (x,), _ = golden_records()[0]
    y = np.zeros_like(x)
    nbytes = 2 * 32 * 32 * 16
    with Session(lib) as s:
        assert s.set_input(y, U8, NHWC) == 0 and s.run() == 0
        out_y = s.get()
        out_mem = lib.rknn_create_mem(s.ctx, nbytes)
        a = s.attr(E.RKNN_QUERY_NATIVE_OUTPUT_ATTR)
        assert lib.rknn_set_io_mem(s.ctx, out_mem, C.byref(a)) == 0
        assert s.set_input(x, U8, NHWC) == 0 and s.run() == 0  # golden record 0, computed
        out_x, bound_x = s.get(), mem_array(out_mem, nbytes, np.int8).copy()
        assert not np.array_equal(out_x, out_y)
        E.control(lib, "set skip_compute=1")
        assert json.loads(E.control(lib, "config"))["skip_compute"] is True
        E.control(lib, "reset_counters")
        mem_array(out_mem, nbytes, np.int8)[...] = 5  # not overwritten by skipped runs
        for _ in range(3):  # y's frame, but no work: the previous (x) outputs come back
            assert s.set_input(y, U8, NHWC) == 0 and s.run() == 0
        c = E.counters(lib)
        assert (c["runs"], c["skipped_runs"], c["golden_runs"], c["synthetic_runs"]) == (3, 3, 0, 0)
        np.testing.assert_array_equal(s.get(), out_x)
        assert (mem_array(out_mem, nbytes, np.int8) == 5).all()
        # Off again: the next run computes y's outputs.
        E.control(lib, "set skip_compute=0")
        assert s.run() == 0
        np.testing.assert_array_equal(s.get(), out_y)
        assert E.counters(lib)["skipped_runs"] == 3
        assert not np.array_equal(mem_array(out_mem, nbytes, np.int8), bound_x)  # y's values now
        assert lib.rknn_destroy_mem(s.ctx, out_mem) == 0


def test_skip_compute_needs_a_successful_run_and_reset_clears_it(lib: C.CDLL) -> None:
    (x,), (want,) = golden_records()[0]
    E.control(lib, "set skip_compute=1")
    with Session(lib) as s:
        E.control(lib, "fault run code=-1")
        assert s.set_input(x, U8, NHWC) == 0 and s.run() == -1
        assert s.run() == 0  # nothing to reuse yet: computed
        np.testing.assert_array_equal(s.get(want_float=True), want.ravel())
        assert E.counters(lib)["skipped_runs"] == 0
    with pytest.raises(RuntimeError):
        E.control(lib, "set skip_compute=2")
    E.control(lib, "reset")
    assert json.loads(E.control(lib, "config"))["skip_compute"] is False
