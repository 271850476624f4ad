"""Typing checked in CI (STYLE.md practice 9): mypy over the package with the configuration
in pyproject.toml, mypy.stubtest of python/rknn_fast/_core.pyi against the compiled
extension, and the typing markers shipped in the installed package.

Needs mypy (in the ``test`` extra) and the source tree next to the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import rknn_fast

ROOT = Path(__file__).resolve().parents[1]
HAS_SOURCES = (ROOT / "pyproject.toml").is_file() and (ROOT / "python" / "rknn_fast").is_dir()

mypy_missing = False
try:
    import mypy  # noqa: F401
except ImportError:
    mypy_missing = True

pytestmark = [
    pytest.mark.skipif(mypy_missing, reason="mypy is not installed (pip install '.[test]' brings it)"),
    pytest.mark.skipif(not HAS_SOURCES, reason="needs the source tree (pyproject.toml, python/rknn_fast)"),
]


def _run(args: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MYPY_CACHE_DIR=str(cache))
    # From the repository root, so that pyproject.toml's [tool.mypy] applies; `rknn_fast` is
    # not importable from there (it lives in python/), so runtime imports get the installed one.
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def test_mypy_passes_on_the_package(mypy_cache: Path) -> None:
    r = _run(["mypy"], mypy_cache)
    assert r.returncode == 0, f"mypy found problems:\n{r.stdout}{r.stderr}"
    assert "Success" in r.stdout


def test_core_stub_matches_the_extension(mypy_cache: Path) -> None:
    r = _run(["mypy.stubtest", "rknn_fast._core", "--mypy-config-file", "pyproject.toml",
              "--allowlist", "tests/stubtest_allowlist.txt"], mypy_cache)
    assert r.returncode == 0, f"python/rknn_fast/_core.pyi differs from the built extension:\n{r.stdout}{r.stderr}"


def test_mypy_catches_a_misuse(mypy_cache: Path, tmp_path: Path) -> None:
    """The stubs are really in use: a wrong call into the public API and into _core is reported."""
    sample = tmp_path / "misuse.py"
    sample.write_text(
        "import rknn_fast\n"
        "from rknn_fast import _core\n"
        "m = rknn_fast.Model('m.rknn', zero_copy='yes')\n"
        "outs: int = m.run()\n"
        "_core.Session.run_bound(1)\n")
    r = _run(["mypy", "--config-file", "pyproject.toml", str(sample)], mypy_cache)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'Argument "zero_copy" to "Model" has incompatible type "str"' in r.stdout
    assert 'Incompatible types in assignment (expression has type "list[ndarray' in r.stdout
    assert "run_bound" in r.stdout


def test_installed_package_ships_typing_markers() -> None:
    pkg = Path(rknn_fast.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_core.pyi").is_file()
