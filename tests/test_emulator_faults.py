"""Emulator fault injection fires in every function it accepts a fault for (issue 12: faults
on mem_sync, destroy, outputs_release, destroy_mem and set_input_shapes were accepted and
shown as armed but never fired), and the binding's error paths that only a fault can reach
(rknn_mem_sync around a zero-copy run) raise a typed RknnError."""

from __future__ import annotations

import ctypes as C
import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import emu_ctypes as E
import rknn_fast
from rknn_fast import emulator
from rknn_fast.errors import RknnError

# The emulator the models load (so Model-level faults and ctypes calls share one state).
LIB_PATH = Path(os.environ.get("RKNN_FAST_EMULATOR_LIB", emulator.library_path()))
TINY = Path(__file__).resolve().parent / "data" / "models" / "tiny_conv_rk3588_i8.rknn"
CODE = -13  # not an error any of these calls returns by itself


@pytest.fixture(scope="module")
def lib() -> C.CDLL:
    return E.load(LIB_PATH)


@pytest.fixture(autouse=True)
def clean(lib: C.CDLL, monkeypatch: pytest.MonkeyPatch):
    for name in ("RKNN_EMU_NPU_TIME_US", "RKNN_EMU_FAULTS", "RKNN_EMU_GOLDEN"):
        monkeypatch.delenv(name, raising=False)
    E.control(lib, "set log=0")
    E.control(lib, "fault clear")
    yield
    E.control(lib, "fault clear")
    E.control(lib, "set log=1")


def init(lib: C.CDLL, flags: int = 0) -> E.rknn_context:
    ctx = E.rknn_context()
    assert lib.rknn_init(C.byref(ctx), str(TINY).encode(), 0, flags, None) == 0
    return ctx


def attr(lib: C.CDLL, ctx: E.rknn_context, cmd: int, index: int = 0) -> E.rknn_tensor_attr:
    a = E.rknn_tensor_attr(index=index)
    assert lib.rknn_query(ctx, cmd, C.byref(a), C.sizeof(a)) == 0
    return a


def set_zero_input(lib: C.CDLL, ctx: E.rknn_context) -> int:
    x = np.zeros((1, 64, 64, 3), np.uint8)
    inp = E.rknn_input(index=0, buf=x.ctypes.data, size=x.nbytes, type=E.RKNN_TENSOR_UINT8,
                       fmt=E.RKNN_TENSOR_NHWC)
    return lib.rknn_inputs_set(ctx, 1, C.byref(inp))


def armed(lib: C.CDLL) -> list:
    return json.loads(E.control(lib, "config"))["faults"]


# Each case: (api, setup(lib, ctx) -> call) where call() performs one call of `api` that
# succeeds without a fault and returns its status (int) or pointer.
def _case_destroy(lib, ctx):
    other = init(lib)
    return lambda: lib.rknn_destroy(other)  # a failed destroy keeps the context: the retry works


def _case_dup(lib, ctx):
    def call():
        dup = E.rknn_context()
        rc = lib.rknn_dup_context(C.byref(ctx), C.byref(dup))
        if rc == 0:
            lib.rknn_destroy(dup)
        return rc
    return call


def _case_init(lib, ctx):
    def call():
        c = E.rknn_context()
        rc = lib.rknn_init(C.byref(c), str(TINY).encode(), 0, 0, None)
        if rc == 0:
            lib.rknn_destroy(c)
        return rc
    return call


def _case_wait(lib, ctx):
    def call():
        ext = E.rknn_run_extend(non_block=1)
        assert lib.rknn_run(ctx, C.byref(ext)) == 0
        return lib.rknn_wait(ctx, C.byref(ext))
    return call


def _outputs_get(lib, ctx):
    assert lib.rknn_run(ctx, None) == 0
    out = E.rknn_output(index=0)
    rc = lib.rknn_outputs_get(ctx, 1, C.byref(out), None)
    return rc, out


def _case_outputs_get(lib, ctx):
    def call():
        rc, out = _outputs_get(lib, ctx)
        if rc == 0:
            lib.rknn_outputs_release(ctx, 1, C.byref(out))
        return rc
    return call


def _case_outputs_release(lib, ctx):
    def call():
        rc, out = _outputs_get(lib, ctx)
        assert rc == 0
        return lib.rknn_outputs_release(ctx, 1, C.byref(out))
    return call


def _mem_call(fn):
    """A creating call: returns 0 for a mem (destroyed again), the NULL pointer otherwise."""
    def call():
        mem = fn()
        if mem:
            return 0
        return None
    return call


def _case_create_mem_from_fd(lib, ctx):
    fd = os.memfd_create("fault_test")
    os.ftruncate(fd, 8192)
    return _mem_call(lambda: lib.rknn_create_mem_from_fd(ctx, fd, None, 1000, 0))


def _case_create_mem_from_phys(lib, ctx):
    buf = C.create_string_buffer(256)
    return _mem_call(lambda: lib.rknn_create_mem_from_phys(ctx, 0x12340000, C.addressof(buf), 256))


def _case_destroy_mem(lib, ctx):
    mem = lib.rknn_create_mem(ctx, 64)
    return lambda: lib.rknn_destroy_mem(ctx, mem)  # a failed destroy keeps the mem: the retry works


def _case_context_mem(weight: bool):
    def setup(lib, ctx):
        outside = init(lib, E.RKNN_FLAG_MEM_ALLOC_OUTSIDE)
        ms = E.rknn_mem_size()
        assert lib.rknn_query(outside, E.RKNN_QUERY_MEM_SIZE, C.byref(ms), C.sizeof(ms)) == 0
        size = ms.total_weight_size if weight else ms.total_internal_size
        mem = lib.rknn_create_mem(outside, max(size, 1))
        fn = lib.rknn_set_weight_mem if weight else lib.rknn_set_internal_mem
        return lambda: fn(outside, mem)
    return setup


def _case_set_io_mem(lib, ctx):
    a = attr(lib, ctx, E.RKNN_QUERY_NATIVE_INPUT_ATTR)
    a.type, a.fmt = E.RKNN_TENSOR_UINT8, E.RKNN_TENSOR_NHWC
    mem = lib.rknn_create_mem(ctx, a.size_with_stride)
    return lambda: lib.rknn_set_io_mem(ctx, mem, C.byref(a))


def _case_mem_sync(lib, ctx):
    mem = lib.rknn_create_mem(ctx, 64)
    return lambda: lib.rknn_mem_sync(ctx, mem, E.RKNN_MEMORY_SYNC_TO_DEVICE)


CASES: dict = {
    "init": _case_init,
    "dup_context": _case_dup,
    "destroy": _case_destroy,
    "query": lambda lib, ctx: lambda: lib.rknn_query(
        ctx, E.RKNN_QUERY_IN_OUT_NUM, C.byref(E.rknn_input_output_num()), C.sizeof(E.rknn_input_output_num)),
    "inputs_set": lambda lib, ctx: lambda: set_zero_input(lib, ctx),
    "set_batch_core_num": lambda lib, ctx: lambda: lib.rknn_set_batch_core_num(ctx, 1),
    "set_core_mask": lambda lib, ctx: lambda: lib.rknn_set_core_mask(ctx, 0),
    "run": lambda lib, ctx: lambda: lib.rknn_run(ctx, None),
    "wait": _case_wait,
    "outputs_get": _case_outputs_get,
    "outputs_release": _case_outputs_release,
    "create_mem_from_phys": _case_create_mem_from_phys,
    "create_mem_from_fd": _case_create_mem_from_fd,
    "create_mem": lambda lib, ctx: _mem_call(lambda: lib.rknn_create_mem(ctx, 64)),
    "create_mem2": lambda lib, ctx: _mem_call(lambda: lib.rknn_create_mem2(ctx, 64, 0)),
    "destroy_mem": _case_destroy_mem,
    "set_weight_mem": _case_context_mem(True),
    "set_internal_mem": _case_context_mem(False),
    "set_io_mem": _case_set_io_mem,
    "mem_sync": _case_mem_sync,
}
# Calls that fail by themselves (static-shape models): the fault still fires
# (its code instead of the natural one) and is consumed.
FAILING: dict = {
    "set_input_shape": lambda lib, ctx: lambda: lib.rknn_set_input_shape(
        ctx, C.byref(attr(lib, ctx, E.RKNN_QUERY_INPUT_ATTR))),
    "set_input_shapes": lambda lib, ctx: lambda: lib.rknn_set_input_shapes(
        ctx, 1, C.byref(attr(lib, ctx, E.RKNN_QUERY_INPUT_ATTR))),
}


def test_every_api_function_is_covered():
    assert sorted("rknn_" + n for n in list(CASES) + list(FAILING)) == sorted(E.API_FUNCTIONS)


def test_faults_on_functions_the_emulator_does_not_export_are_refused(lib: C.CDLL) -> None:
    # rknn_create_mem_from_mb_blk is declared by the headers but exported by no runtime:
    # a fault on it could never fire, so the name is refused rather than shown as armed.
    with pytest.raises(RuntimeError, match="unknown fault target"):
        E.control(lib, "fault create_mem_from_mb_blk")
    assert armed(lib) == []


@pytest.mark.parametrize("api", sorted(CASES))
def test_fault_fires_with_its_code_then_the_call_works(lib: C.CDLL, api: str) -> None:
    ctx = init(lib)
    try:
        assert set_zero_input(lib, ctx) == 0
        call: Callable[[], Any] = CASES[api](lib, ctx)
        E.control(lib, f"fault {api} code={CODE}")
        assert [f["api"] for f in armed(lib)] == ["rknn_" + api]
        got = call()
        assert got == (None if api.startswith("create_mem") else CODE), api
        assert armed(lib) == []  # spent
        assert call() == 0  # one failure only
    finally:
        lib.rknn_destroy(ctx)


@pytest.mark.parametrize("api", sorted(FAILING))
def test_fault_fires_in_calls_that_fail_anyway(lib: C.CDLL, api: str) -> None:
    ctx = init(lib)
    try:
        call = FAILING[api](lib, ctx)
        natural = call()
        assert natural not in (0, CODE)
        E.control(lib, f"fault {api} code={CODE}")
        got = call()
        if not api.startswith("create_mem"):
            assert got == CODE
        assert armed(lib) == []  # fired (and spent)
        assert call() == natural
    finally:
        lib.rknn_destroy(ctx)


@pytest.mark.parametrize("direction", ["to_device", "from_device"])
def test_model_zero_copy_run_raises_on_a_mem_sync_fault(direction: str) -> None:
    """The binding syncs cacheable input buffers before rknn_run and output buffers after it;
    a failing rknn_mem_sync surfaces as RknnError naming the call, and the model still runs."""
    with rknn_fast.Model(str(TINY), runtime="emulator", zero_copy=True) as m:
        x = np.zeros(m.inputs[0].shape, np.uint8)
        m.run(x)
        # one input, one output: the first sync is the input's, the second the output's
        emulator.inject_fault(f"mem_sync={1 if direction == 'to_device' else 2} code=-1")
        with pytest.raises(RknnError) as err:
            m.run(x)
        assert err.value.code == -1 and "rknn_mem_sync" in str(err.value)
        m.run(x)


def test_model_close_survives_a_destroy_fault() -> None:
    m = rknn_fast.Model(str(TINY), runtime="emulator")
    emulator.inject_fault("destroy code=-1")
    m.close()  # reported, not raised from a destructor
    assert "rknn_destroy" not in [f["api"] for f in json.loads(emulator.control("config"))["faults"]]


HUGE_INPUT = Path(__file__).resolve().parent / "data" / "fuzz" / "emulator_init_3gb_input.rknn"


def test_model_declaring_a_huge_tensor_is_refused_at_init(lib: C.CDLL) -> None:
    """Found by tests/cpp/fuzz/fuzz_emulator.cpp: a 19 KB mutant of tiny_conv declaring a
    (1, 64, 16774976, 3) input made rknn_init allocate 3.2 GB for the input buffer. The
    emulator now refuses tensors above 2^28 elements with RKNN_ERR_MODEL_INVALID."""
    info = rknn_fast.inspect(str(HUGE_INPUT))  # the reader itself reads the header fine
    assert info.inputs[0].shape == (1, 64, 16774976, 3)
    data = HUGE_INPUT.read_bytes()
    buf = C.create_string_buffer(data, len(data))
    ctx = E.rknn_context()
    assert lib.rknn_init(C.byref(ctx), buf, len(data), 0, None) == E.RKNN_ERR_MODEL_INVALID
    with pytest.raises(RknnError) as err:
        rknn_fast.Model(data, runtime="emulator")
    assert err.value.code == E.RKNN_ERR_MODEL_INVALID
