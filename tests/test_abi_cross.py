"""Our ABI declarations (cpp/abi/rknn_abi.h) checked at compile time for the real targets.

tests/test_abi.py checks the host build at run time; the boards are aarch64 (RK3588, RK3566,
RK3576) and armhf. Here every recorded layout of tests/data/rknn_abi.json (targets.aarch64,
targets.armhf: sizeof, alignof, every field offset and size, every constant, enum sizes,
rknn_context / pointer / long sizes) becomes a compile-time assertion, and the file is compiled
with the Debian cross compilers as C11 and as C++17. A wrong layout fails the compile.

Skipped (with the reason) when a cross compiler is not installed:
    apt-get install g++-aarch64-linux-gnu g++-arm-linux-gnueabihf
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABI_JSON = json.loads((ROOT / "tests" / "data" / "rknn_abi.json").read_text())
ABI_DIR = ROOT / "cpp" / "abi"

# Target name in the JSON -> GNU triplet of the Debian cross toolchain.
CROSS = {"aarch64": "aarch64-linux-gnu", "armhf": "arm-linux-gnueabihf"}

PRELUDE = """\
#include <stddef.h>
#include "rknn_abi.h"
#ifdef __cplusplus
#define RKNN_ALIGNOF(type) alignof(type)
#else
#define RKNN_ALIGNOF(type) _Alignof(type)
#endif
#define RKNN_FIELD_SIZE(type, field) sizeof(((type*)0)->field)
"""


def assertions(target: dict) -> list[str]:
    """One RKNN_CHECK line per recorded fact of a target layout."""
    lines: list[str] = []

    def check(expr: str, value: int) -> None:
        lines.append(f'RKNN_CHECK(({expr}) == {value}, "{expr} == {value}");')

    for key in ("structs", "extra_structs"):
        for name, s in target[key].items():
            check(f"sizeof({name})", s["size"])
            check(f"RKNN_ALIGNOF({name})", s["align"])
            for field, offset in s["fields"].items():
                check(f"offsetof({name}, {field})", offset)
            for field, size in s["field_sizes"].items():
                check(f"RKNN_FIELD_SIZE({name}, {field})", size)
    for key in ("constants", "extra_constants"):
        for name, value in target[key].items():
            check(name, value)
    for name, size in target["enum_sizes"].items():
        check(f"sizeof({name})", size)
    check("sizeof(rknn_context)", target["sizeof_rknn_context"])
    check("RKNN_ALIGNOF(rknn_context)", target["alignof_rknn_context"])
    check("sizeof(void*)", target["pointer_size"])
    check("sizeof(long)", target["sizeof_long"])
    check("sizeof(rknn_matmul_ctx)", target["sizeof_rknn_matmul_ctx"])
    check("sizeof(rknn_custom_op_interal_context)", target["sizeof_rknn_custom_op_interal_context"])
    return lines


def write_source(path: Path, lines: list[str], lang: str) -> Path:
    """The checks as one assertion per line (no macro around them, so that the compiler's
    error line is the failing check's own line in C and C++ alike)."""
    keyword = "_Static_assert(" if lang == "c" else "static_assert("
    path.write_text(PRELUDE + "".join(line.replace("RKNN_CHECK(", keyword, 1) + "\n" for line in lines))
    return path


def failed_checks(stderr: str, src: Path, lines: list[str]) -> set[str]:
    """The checks (as "expr == value") that the compiler reported failing, found by line number
    (GCC shortens long source lines in its messages)."""
    first = PRELUDE.count("\n") + 1  # line number of lines[0]
    found = set()
    for m in re.finditer(re.escape(src.name) + r":(\d+):\d+: error: static assert", stderr):
        line = lines[int(m.group(1)) - first]
        found.add(line.split('"')[1])
    return found


def compile_checks(triplet: str, lang: str, src: Path) -> subprocess.CompletedProcess:
    compiler = f"{triplet}-gcc" if lang == "c" else f"{triplet}-g++"
    std = "-std=c11" if lang == "c" else "-std=c++17"
    return subprocess.run(
        [compiler, std, "-x", "c" if lang == "c" else "c++", "-fsyntax-only",
         "-Wall", "-Wextra", "-Werror", f"-I{ABI_DIR}", str(src)],
        capture_output=True, text=True,
    )


def require_compiler(triplet: str, lang: str) -> None:
    compiler = f"{triplet}-gcc" if lang == "c" else f"{triplet}-g++"
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not installed (apt-get install g++-{triplet})")


TARGET_PARAMS = [pytest.param(t, lang, id=f"{t}-{lang}") for t in CROSS for lang in ("c", "c++")]


@pytest.mark.parametrize(("target", "lang"), TARGET_PARAMS)
def test_recorded_layout_compiles_for_target(tmp_path: Path, target: str, lang: str) -> None:
    triplet = CROSS[target]
    require_compiler(triplet, lang)
    lines = assertions(ABI_JSON["targets"][target])
    assert len(lines) > 400  # every struct field, constant and size is covered
    src = write_source(tmp_path / "abi_checks.c", lines, lang)
    r = compile_checks(triplet, lang, src)
    assert r.returncode == 0, r.stderr[-4000:]


@pytest.mark.parametrize("lang", ["c", "c++"])
def test_host_layout_compiles_natively(tmp_path: Path, lang: str) -> None:
    # The same generated file for the x86_64 host compiler (cheap, and keeps the generator honest).
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("host is not x86_64")
    compiler = "gcc" if lang == "c" else "g++"
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not installed")
    src = write_source(tmp_path / "abi_checks.c", assertions(ABI_JSON["targets"]["x86_64"]), lang)
    std = "-std=c11" if lang == "c" else "-std=c++17"
    r = subprocess.run([compiler, std, "-x", lang, "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
                        f"-I{ABI_DIR}", str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-4000:]


@pytest.mark.parametrize(("target", "lang"), TARGET_PARAMS)
def test_a_wrong_layout_fails_to_compile(tmp_path: Path, target: str, lang: str) -> None:
    # The checks can fail: one deliberately wrong offset is reported by name.
    triplet = CROSS[target]
    require_compiler(triplet, lang)
    layout = ABI_JSON["targets"][target]["structs"]["rknn_input"]
    wrong = dict(ABI_JSON["targets"][target])
    wrong["structs"] = dict(wrong["structs"])
    wrong["structs"]["rknn_input"] = {**layout, "fields": {**layout["fields"], "buf": layout["fields"]["buf"] + 4}}
    lines = assertions(wrong)
    src = write_source(tmp_path / "abi_wrong.c", lines, lang)
    r = compile_checks(triplet, lang, src)
    assert r.returncode != 0
    assert failed_checks(r.stderr, src, lines) == {f"offsetof(rknn_input, buf) == {layout['fields']['buf'] + 4}"}


@pytest.mark.parametrize("lang", ["c", "c++"])
def test_armhf_build_rejects_the_64_bit_layout(tmp_path: Path, lang: str) -> None:
    # armhf really differs (32-bit pointers and rknn_context): the aarch64 facts must not pass there.
    require_compiler(CROSS["armhf"], lang)
    lines = assertions(ABI_JSON["targets"]["aarch64"])
    src = write_source(tmp_path / "abi_64_on_32.c", lines, lang)
    r = compile_checks(CROSS["armhf"], lang, src)
    assert r.returncode != 0
    failed = failed_checks(r.stderr, src, lines)
    for expected_failure in ("sizeof(rknn_context) == 8", "sizeof(rknn_input) == 32",
                             "offsetof(rknn_input, buf) == 8", "sizeof(void*) == 8"):
        assert expected_failure in failed
    # ...and nothing that the JSON records as equal on both targets.
    same = set(lines) & set(assertions(ABI_JSON["targets"]["armhf"]))
    assert not failed & {line.split('"')[1] for line in same}
