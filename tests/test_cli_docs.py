"""docs/cli.md shows real output: each documented command runs again here (from a directory
laid out like tests/data) with the documented exit code, and its deterministic output lines
appear as documented. Timing figures (bench) are checked for shape only."""

from __future__ import annotations

import os
import pathlib
import re
import shlex

import pytest

from rknn_fast import emulator
from rknn_fast.cli import main
from rknn_fast.model import emulator_path

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "cli.md"
pytestmark = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")


def _examples():
    out = []
    for block in re.findall(r"```console\n(.*?)```", DOC.read_text(), re.S):
        lines = block.rstrip("\n").split("\n")
        assert lines[0].startswith("$ ")
        out.append((lines[0][2:], lines[1:]))
    return out


EXAMPLES = _examples()


def test_every_command_is_documented():
    cmds = {shlex.split(c)[[w.startswith("rknn-fast") for w in shlex.split(c)].index(True) + 1] for c, _ in EXAMPLES}
    assert cmds == {"info", "compare", "run", "bench"}


@pytest.mark.parametrize("command, expected", EXAMPLES, ids=[c[:60] for c, _ in EXAMPLES])
def test_documented_output(command, expected, data_dir, tmp_path, monkeypatch, capsys):
    if "compare" in command:
        pytest.importorskip("onnxruntime")
    if "--plot" in command:
        pytest.importorskip("matplotlib")
    for sub in ("models", "images"):
        (tmp_path / sub).symlink_to(data_dir / sub)
    monkeypatch.chdir(tmp_path)
    words = shlex.split(command)
    while "=" in words[0]:  # VAR=value prefixes
        k, v = words.pop(0).split("=", 1)
        monkeypatch.setenv(k, v)
    emulator.reset()  # re-reads RKNN_EMU_*
    assert words[0] == "rknn-fast"
    argv = words[1:]
    bench = argv[0] == "bench"
    if bench:
        argv[argv.index("-n") + 1] = "3"
    try:
        rc = main(argv)
    finally:
        monkeypatch.delenv("RKNN_EMU_NPU_TIME_US", raising=False)
        emulator.reset()
    out, err = capsys.readouterr()
    got = out + err
    documented_rc = 1 if any(line.startswith("result: FAIL") for line in expected) else (
        3 if "cannot open the model" in "".join(expected) else 0)
    assert rc == documented_rc, got
    if bench:
        assert expected[2].split() == got.splitlines()[2].split()  # the table header
        assert [line.split()[0] for line in expected[3:9]] == [line.split()[0] for line in got.splitlines()[3:9]]
        return
    for line in expected:
        if line.startswith("...") or "..." in line:
            continue
        assert line in got, f"documented line not in the output:\n{line}\n--- got:\n{got}"


def test_python_snippet_runs(data_dir, monkeypatch):
    pytest.importorskip("onnxruntime")
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    monkeypatch.chdir(data_dir.parent.parent)
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)
    printed = re.search(r"# (\d+) (\d+) ", code)
    assert (len(scope["on_pc"]), len(scope["on_npu"])) == (int(printed.group(1)), int(printed.group(2)))
