"""Our ABI declarations (cpp/abi/rknn_abi.h) against the layouts measured on the real
runtime headers (tests/data/rknn_abi.json, a copy of ../shared/rknn/rknn_abi.json).

The extension reports sizeof/alignof/offsetof of every struct and field and the value of
every constant as this build's compiler sees them; each must equal the recorded value for
the host architecture (x86_64 and aarch64 share one layout).
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from rknn_fast import _core

DATA = Path(__file__).resolve().parent / "data"
ABI_JSON = json.loads((DATA / "rknn_abi.json").read_text())
HEADER = Path(__file__).resolve().parents[1] / "cpp" / "abi" / "rknn_abi.h"

HOST_TARGET = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
    platform.machine().lower()
)
pytestmark = pytest.mark.skipif(
    HOST_TARGET is None, reason=f"no recorded layout for {platform.machine()}"
)


@pytest.fixture(scope="module")
def layout() -> dict:
    return _core._abi_layout()


@pytest.fixture(scope="module")
def expected() -> dict:
    return ABI_JSON["targets"][HOST_TARGET]


def _struct_params(key: str) -> list[str]:
    return list(ABI_JSON["targets"]["x86_64"][key])


def test_x86_64_and_aarch64_layouts_are_recorded_identical() -> None:
    # The test relies on one layout for both 64-bit hosts; make that assumption fail loudly.
    a, b = ABI_JSON["targets"]["x86_64"], ABI_JSON["targets"]["aarch64"]
    for key in ("structs", "extra_structs", "constants", "extra_constants", "enum_sizes"):
        assert a[key] == b[key], key


@pytest.mark.parametrize("name", _struct_params("structs"))
def test_api_struct_layout(layout: dict, expected: dict, name: str) -> None:
    assert layout["structs"][name] == expected["structs"][name]


@pytest.mark.parametrize("name", _struct_params("extra_structs"))
def test_companion_struct_layout(layout: dict, expected: dict, name: str) -> None:
    assert layout["extra_structs"][name] == expected["extra_structs"][name]


def test_every_struct_is_declared(layout: dict, expected: dict) -> None:
    assert set(layout["structs"]) == set(expected["structs"])
    assert set(layout["extra_structs"]) == set(expected["extra_structs"])


def test_constants(layout: dict, expected: dict) -> None:
    assert layout["constants"] == expected["constants"]
    assert layout["extra_constants"] == expected["extra_constants"]


def test_enum_sizes(layout: dict, expected: dict) -> None:
    assert layout["enum_sizes"] == expected["enum_sizes"]


@pytest.mark.parametrize(
    "key",
    [
        "sizeof_rknn_context",
        "alignof_rknn_context",
        "pointer_size",
        "sizeof_long",
        "sizeof_rknn_matmul_ctx",
        "sizeof_rknn_custom_op_interal_context",
    ],
)
def test_scalar_sizes(layout: dict, expected: dict, key: str) -> None:
    assert layout[key] == expected[key]


def test_header_declares_all_functions_with_pointer_types() -> None:
    text = HEADER.read_text()
    names = list(ABI_JSON["function_signatures"]) + list(ABI_JSON["extra_functions"])
    assert len(ABI_JSON["function_signatures"]) == 23
    for name in names:
        assert f" {name}(" in text, f"{name} is not declared"
        assert f"(*{name}_fn)(" in text, f"{name}_fn pointer type is missing"


@pytest.mark.parametrize("std", ["c99", "c11"])
def test_header_compiles_as_c(tmp_path: Path, std: str) -> None:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "abi.c"
    src.write_text('#include "rknn_abi.h"\nint main(void) { rknn_init_fn f = rknn_init; return f == 0; }\n')
    subprocess.run(
        [cc, f"-std={std}", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fsyntax-only",
         f"-I{HEADER.parent}", str(src)],
        check=True,
    )
