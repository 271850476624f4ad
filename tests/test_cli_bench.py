"""`rknn-fast bench`: configurations, JSON schema, emulated NPU time, plot, errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from rknn_fast import emulator
from rknn_fast.cli import main
from rknn_fast.cli.bench import configurations
from rknn_fast.model import emulator_path

pytestmark = pytest.mark.skipif(not os.path.exists(emulator_path()), reason="emulator not built")
MODEL = "yolov8_rk3588_i8.rknn"
KEYS = {"cores", "contexts", "n", "p50_ms", "p90_ms", "p99_ms", "fps", "cpu_ms"}


@pytest.fixture(autouse=True)
def _clean_emulator():
    emulator.reset()
    yield
    emulator.reset()


def test_configurations_per_platform():
    assert configurations("sweep", "rk3588") == ["0", "1", "2", "0_1", "0_1_2", "pool"]
    assert configurations("sweep", "rk3576") == ["0", "1", "0_1", "pool"]
    assert configurations("sweep", "rk3566") == ["auto"]
    assert configurations("all", "rk3588") == ["pool"]
    assert configurations("0_1", "rk3588") == ["0_1"]
    with pytest.raises(ValueError, match="rk3566 has one core"):
        configurations("0_1", "rk3566")
    with pytest.raises(ValueError):
        configurations("3", "rk3588")


def test_json_schema_and_emulated_npu_time(models_dir, tmp_path, capsys):
    emulator.set_npu_time_us(5000)
    out = tmp_path / "b.json"
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator", "--cores", "0", "-n", "12",
                 "--warmup", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "p50 ms" in text and "memory:" in text
    doc = json.loads(out.read_text())
    assert set(doc) == {"model", "runtime", "platform", "results", "memory"}
    assert doc["platform"] == "rk3588" and doc["runtime"].startswith("emulator")
    (r,) = doc["results"]
    assert set(r) == KEYS and r["cores"] == "0" and r["contexts"] == 1 and r["n"] == 12
    # Each run waits for the emulated 5 ms NPU time: the median is at least that, and the
    # frames/s of one context cannot exceed 200. (No upper bound on time: the host is shared.)
    assert r["p50_ms"] >= 5.0 and r["fps"] <= 200.0
    assert r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"]
    assert r["cpu_ms"] >= 0
    mem = doc["memory"]
    assert set(mem) == {"weight_bytes", "internal_bytes", "rss_bytes"}
    assert mem["weight_bytes"] > 0 and mem["rss_bytes"] > 0


def test_sweep_measures_every_configuration(models_dir, capsys):
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator", "--cores", "sweep", "-n", "3",
                 "--warmup", "0", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["cores"] for r in doc["results"]] == ["0", "1", "2", "0_1", "0_1_2", "pool"]
    assert all(set(r) == KEYS and r["n"] == 3 for r in doc["results"])
    assert [r["contexts"] for r in doc["results"]] == [1, 1, 1, 1, 1, 3]


def test_contexts_per_core(models_dir, capsys):
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator", "--cores", "all", "--contexts", "2",
                 "-n", "4", "--warmup", "0", "--json", "-"]) == 0
    (r,) = json.loads(capsys.readouterr().out)["results"]
    assert (r["cores"], r["contexts"], r["n"]) == ("pool", 6, 4)


def test_pool_over_three_cores_beats_one_core(models_dir, capsys):
    # The tiny model: the emulator's own CPU time per run is small next to 5 ms of NPU time.
    tiny = str(models_dir / "tiny_conv_rk3588_i8.rknn")
    emulator.set_npu_time_us(5000)
    assert main(["bench", tiny, "--runtime", "emulator", "--cores", "0", "-n", "30", "--warmup", "2",
                 "--json", "-"]) == 0
    one = json.loads(capsys.readouterr().out)["results"][0]
    assert main(["bench", tiny, "--runtime", "emulator", "--cores", "all", "-n", "90", "--warmup", "3",
                 "--json", "-"]) == 0
    pool = json.loads(capsys.readouterr().out)["results"][0]
    assert pool["cores"] == "pool" and pool["contexts"] == 3 and pool["n"] == 90
    assert one["p50_ms"] >= 5.0
    # Three emulated cores run three frames at once: well above one core's frames/s
    # (about 3x on an idle host; 2x leaves room for a busy one).
    assert pool["fps"] > 2.0 * one["fps"]


def test_plot_is_written(models_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "b.png"
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator", "--cores", "0", "-n", "3",
                 "--warmup", "0", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_names_the_extra(models_dir, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator", "-n", "1", "--plot", "x.png"]) == 2
    assert "pip install 'rknn_fast[plot]'" in capsys.readouterr().err


def test_perf_prints_the_per_layer_table(models_dir, capsys):
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator", "-n", "2", "--warmup", "0",
                 "--perf"]) == 0
    out = capsys.readouterr().out
    with __import__("rknn_fast").Model(models_dir / MODEL, runtime="emulator", collect_perf=True) as m:
        m.run(np.zeros(m.inputs[0].shape, np.uint8))
        detail = m.perf_detail()
    assert detail and detail.splitlines()[0] in out  # the emulator's table says it has no layers
    assert "Total Operator Elapse Time" in out


@pytest.mark.parametrize("argv, code, msg", [
    (["--cores", "3"], 2, "--cores"),
    (["-n", "0"], 2, "expected -n >= 1"),
    (["--input", "/nonexistent.png"], 2, "no such file"),
])
def test_bad_arguments(models_dir, capsys, argv, code, msg):
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator"] + argv) == code
    assert msg in capsys.readouterr().err


def test_bad_runtime_is_exit_3(models_dir, tmp_path, capsys):
    assert main(["bench", str(models_dir / MODEL), "--runtime", str(tmp_path / "x.so"), "-n", "1"]) == 3
    err = capsys.readouterr().err
    assert err.count(str(models_dir / MODEL)) == 1


def test_input_image_is_letterboxed_and_used(models_dir, data_dir, capsys):
    emulator.reset_counters()
    assert main(["bench", str(models_dir / MODEL), "--runtime", "emulator", "-n", "4", "--warmup", "0",
                 "--input", str(data_dir / "images" / "astronaut.png"), "--json", "-"]) == 0
    # astronaut.png letterboxed is a recorded golden input: every run replays it.
    c = emulator.counters()
    assert c["golden_runs"] == 4 and c["synthetic_runs"] == 0


def test_progress_bar_only_when_asked_or_on_a_terminal():
    import io

    from rknn_fast.cli._common import Progress

    s = io.StringIO()
    p = Progress(4, "runs", stream=s)  # StringIO is not a terminal: silent
    p.update(4)
    p.close()
    assert s.getvalue() == ""
    p = Progress(4, "runs", stream=s, enabled=True)
    p.update(2)
    p.update(2)
    p.close()
    last = s.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("runs [" + "#" * 30 + "] 4/4")


def test_onnx_model_is_timed_on_the_host(models_dir, capsys):
    pytest.importorskip("onnxruntime")
    assert main(["bench", str(models_dir / "tiny_conv_rk3588_i8.onnx"), "-n", "3", "--warmup", "0",
                 "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runtime"].startswith("onnxruntime ") and doc["platform"] is None
    assert [r["cores"] for r in doc["results"]] == ["auto"] and doc["memory"]["weight_bytes"] is None
    assert main(["bench", str(models_dir / "tiny_conv_rk3588_i8.onnx"), "--cores", "0"]) == 2
