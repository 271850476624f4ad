"""The public rknn_fast.emulator control module, used the way a user's CI would."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rknn_fast
from rknn_fast import emulator
from rknn_fast.golden import read_golden
from rknn_fast.errors import RknnTimeoutError

from conftest import MODELS

TINY = MODELS / "tiny_conv_rk3588_i8.rknn"


@pytest.fixture(autouse=True)
def _clean_emulator():
    emulator.reset()
    yield
    emulator.reset()


def test_library_path_is_the_bundled_emulator():
    path = emulator.library_path()
    assert os.path.isabs(path) and os.path.isfile(path)
    assert os.path.basename(path) == "librknnrt_emulator.so"


def test_counters_tell_golden_from_synthetic_runs():
    (inputs, outputs), *_ = read_golden(TINY.with_suffix(".golden"))
    with rknn_fast.Model(TINY, runtime="emulator") as m:
        emulator.reset_counters()
        (got,) = m.run(inputs[0], copy=True)
        c = emulator.counters()
        assert (c["runs"], c["golden_runs"], c["synthetic_runs"]) == (1, 1, 0)
        info = m.outputs[0]
        np.testing.assert_array_equal(
            (got.astype(np.float32) - info.zero_point) * np.float32(info.scale), outputs[0])
        m.run(np.zeros_like(inputs[0]))
        c = emulator.counters()
        assert (c["runs"], c["golden_runs"], c["synthetic_runs"]) == (2, 1, 1)


def test_npu_time_is_reported_by_the_runtime():
    emulator.set_npu_time_us(1500)
    with rknn_fast.Model(TINY, runtime="emulator") as m:
        m.run(np.zeros(m.inputs[0].shape, np.uint8))
        assert m.perf_run_us() == 1500
    with pytest.raises(ValueError, match="non-negative"):
        emulator.set_npu_time_us(-1)


def test_injected_fault_surfaces_as_typed_error_then_clears():
    with rknn_fast.Model(TINY, runtime="emulator") as m:
        x = np.zeros(m.inputs[0].shape, np.uint8)
        emulator.inject_fault("run code=-2")
        with pytest.raises(RknnTimeoutError) as err:
            m.run(x)
        assert err.value.code == -2
        m.run(x)  # one failure only
        emulator.inject_fault("run code=-2")
        emulator.clear_faults()
        m.run(x)


def test_bad_commands_are_refused_clearly():
    with pytest.raises(ValueError, match="refused"):
        emulator.control("no_such_command")
    with pytest.raises(TypeError):
        emulator.control(42)  # type: ignore[arg-type]
    assert "counters" in emulator.control("help")


def test_set_npu_time_refuses_fractions_and_negatives():
    for bad in (1.5, -1, True, "10"):  # 1.5 was truncated to 1 silently
        with pytest.raises(ValueError, match="integer time"):
            emulator.set_npu_time_us(bad)
