import pathlib

import pytest

DATA = pathlib.Path(__file__).resolve().parent / "data"
MODELS = DATA / "models"


def pytest_collection_modifyitems(config, items):
    # Tests marked `npu` need a real board with librknnrt and /dev/rknpu (or /dev/dri).
    on_board = pathlib.Path("/usr/lib/librknnrt.so").exists() and (
        pathlib.Path("/dev/rknpu").exists() or pathlib.Path("/sys/kernel/debug/rknpu").exists()
    )
    if on_board:
        return
    skip = pytest.mark.skip(reason="needs a Rockchip NPU board with librknnrt")
    for item in items:
        if "npu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def data_dir() -> pathlib.Path:
    return DATA


@pytest.fixture(scope="session")
def models_dir() -> pathlib.Path:
    return MODELS


@pytest.fixture
def clean_emulator():
    """A fresh emulator state (counters, faults, NPU time from the environment) for the test,
    and no NPU time or armed fault left behind for the next one."""
    from rknn_fast import emulator

    emulator.reset()
    yield
    emulator.set_npu_time_us(0)
    emulator.clear_faults()


def pytest_configure(config):
    # Most tests feed the emulator inputs it has no recording for on purpose (shapes, dtypes,
    # threading, decoding on synthetic maps): their synthetic outputs are expected, so the
    # EmulatorWarning that tells a user about them is silenced here. Tests of the warning
    # itself use pytest.warns, which sees it regardless (tests/test_newcomer.py).
    config.addinivalue_line("filterwarnings", "ignore::rknn_fast.errors.EmulatorWarning")
