"""Prepared decoders (rknn_fast.postprocess.Decoder) against scalar C++ baselines of the model
zoo demos' algorithms, and the per-frame cost breakdown of Detector.

Run: python bench/bench_decoders.py [--quick]

Baselines: bench/baselines/vendor_yolo.cpp (ours: the model-zoo C demo algorithm re-written
from its description, see the file's header), compiled here with the system C++ compiler at
-O2 and called through ctypes; each baseline times itself in a C loop (no ctypes overhead in
its figure). rknn_fast is timed from Python through a Decoder call (everything a caller pays:
the C++-side checks, the kernel with the GIL released, the Detections object). Both sides get
the same int8 (flat head: float32) outputs; every figure is thread CPU time (the machine
may be shared: wall time would count other processes) and are first checked to give the same detections
(same count, classes and scores; boxes within 1e-3 px: the DFL exponentials come from a
lookup table in rknn_fast and from expf in the baseline). NMS: class-aware, IoU > 0.45, legacy
"+1" pixel convention (plus_one=True) like the demo.

Also printed: the kernel alone (DetectionPlan.time_run, a C++ loop), hence the Python-side
share of a call; the kernel under each SIMD path; Detector.__call__ per frame on the YOLOv8
fixture with the emulator's skip_compute, against letterbox + decode kernel.
Saves JSON to bench/results/bench_decoders.json.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import rknn_fast
from rknn_fast import TensorInfo, _core, emulator
from rknn_fast.golden import read_golden
from rknn_fast.postprocess import YOLOV5_ANCHORS, Decoder

HERE = pathlib.Path(__file__).resolve().parent
MODELS = HERE.parent / "tests" / "data" / "models"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from bench_detection import make_flat, make_v8_int8  # noqa: E402
import reference as ref  # noqa: E402

RESULTS = []
I8P = ctypes.POINTER(ctypes.c_int8)


def build_baseline() -> ctypes.CDLL:
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        sys.exit("bench_decoders: no C++ compiler (c++/g++/clang++) found for the baselines")
    out = pathlib.Path(tempfile.mkdtemp(prefix="rknn_fast_baselines_")) / "vendor_yolo.so"
    subprocess.run([cxx, "-O2", "-std=c++17", "-shared", "-fPIC", "-o", str(out),
                    str(HERE / "baselines" / "vendor_yolo.cpp")], check=True)
    return ctypes.CDLL(str(out))


def med(fn, repeat: int, inner: int) -> float:
    """Median thread CPU seconds per call (all sides are timed in thread CPU time, so that other
    processes on a loaded machine do not count; C++ loops use CLOCK_THREAD_CPUTIME_ID)."""
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.thread_time()
        for _ in range(inner):
            fn()
        ts.append((time.thread_time() - t0) / inner)
    return statistics.median(ts)


def us(t: float) -> str:
    return f"{t * 1e6:8.2f} us"


def ptr(a: np.ndarray, t=ctypes.c_float):
    return a.ctypes.data_as(ctypes.POINTER(t))


def load_fixture(name: str):
    meta = json.loads((MODELS / f"{name}.json").read_text())
    infos = [TensorInfo(name=o["name"], index=o["index"], shape=tuple(o["shape"]), layout="NCHW", dtype=o["dtype"],
                        scale=float(o["scale"]), zero_point=int(o["zero_point"])) for o in meta["outputs"]]
    outs = read_golden(MODELS / f"{name}.golden")[0][1]
    raw = [np.round(o.astype(np.float64) / i.scale + i.zero_point).astype(np.int8) for o, i in zip(outs, infos)]
    return raw, infos


class Baseline:
    """Calls one baseline function; returns (boxes, scores, classes) and seconds per call."""

    def __init__(self, fn, args, repeat: int) -> None:
        self.fn, self.args, self.repeat = fn, args, repeat
        self.boxes = np.zeros((4096, 4), np.float32)
        self.scores = np.zeros(4096, np.float32)
        self.classes = np.zeros(4096, np.int32)

    def run(self, repeat: int):
        sec = ctypes.c_double()
        n = self.fn(*self.args, ptr(self.boxes), ptr(self.scores), ptr(self.classes, ctypes.c_int32),
                    repeat, ctypes.byref(sec))
        return (self.boxes[:n].copy(), self.scores[:n].copy(), self.classes[:n].copy()), sec.value


def compare(case: str, det, base) -> None:
    b, s, c = base
    assert len(det) == len(s) > 0, f"{case}: {len(det)} detections vs {len(s)} in the baseline"
    np.testing.assert_array_equal(det.class_ids, c, err_msg=case)
    np.testing.assert_array_equal(det.scores, s, err_msg=case)
    np.testing.assert_allclose(det.xyxy, b, rtol=0, atol=1e-3, err_msg=case)


def measure(case: str, dec: Decoder, outs, baseline: Baseline, repeat: int, goal: float = 3.0) -> None:
    det = dec(outs)
    base, _ = baseline.run(1)
    compare(case, det, base)
    inner = 200
    ours = med(lambda: dec(outs), repeat, inner)
    plan = dec._plan
    kernel = statistics.median(plan.time_run(outs, None, inner) for _ in range(repeat))
    base_t = statistics.median(baseline.run(inner)[1] for _ in range(repeat))
    levels = {}
    for lvl in _core.simd_supported():
        _core.set_simd_level(lvl)
        det_l = dec(outs)
        assert all(np.array_equal(getattr(det_l, f), getattr(det, f)) for f in ("xyxy", "scores", "class_ids")), lvl
        levels[lvl] = statistics.median(plan.time_run(outs, None, inner) for _ in range(max(3, repeat // 2)))
    _core.set_simd_level(_core.simd_supported()[-1])
    ratio = base_t / ours
    py = ours - kernel
    print(f"{case:<42} Decoder {us(ours)} (kernel {us(kernel)}, Python {us(py)}) | C++ baseline {us(base_t)} | "
          f"{ratio:5.1f}x (goal >= {goal:g}x: {'ok' if ratio >= goal else 'BELOW GOAL'})  [{len(det)} dets]")
    print(f"{'':<42} kernel by SIMD path: " + ", ".join(f"{k} {v * 1e6:.2f} us" for k, v in levels.items()))
    RESULTS.append(dict(case=case, decoder_s=ours, kernel_s=kernel, python_s=py, baseline="C++ -O2 model-zoo algorithm",
                        baseline_s=base_t, ratio=ratio, goal=goal, detections=len(det),
                        kernel_by_simd_s=levels))


def v8_case(lib, case, outs, qps, per, repeat, input_hw):
    scales = np.array([q[0] for q in qps], np.float32)
    zps = np.array([q[1] for q in qps], np.int32)
    hs = np.array([outs[b * per].shape[2] for b in range(3)], np.int32)
    ws = np.array([outs[b * per].shape[3] for b in range(3)], np.int32)
    ptrs = (I8P * len(outs))(*[o.ctypes.data_as(I8P) for o in outs])
    nc = outs[1].shape[1]
    reg = outs[0].shape[1] // 4
    fn = lib.baseline_yolov8_i8
    fn.restype = ctypes.c_int
    args = (ptrs, ptr(scales), ptr(zps, ctypes.c_int32), per, ptr(hs, ctypes.c_int32), ptr(ws, ctypes.c_int32),
            nc, reg, input_hw[0], input_hw[1], ctypes.c_float(0.25), ctypes.c_float(0.45), 1, 300)
    dec = Decoder(qps, "yolov8", conf=0.25, iou=0.45, plus_one=True, max_detections=300, input_size=input_hw)
    measure(case, dec, outs, Baseline(fn, args, repeat), repeat)


def v5_case(lib, case, outs, qps, repeat, input_hw):
    scales = np.array([q[0] for q in qps], np.float32)
    zps = np.array([q[1] for q in qps], np.int32)
    hs = np.array([o.shape[2] for o in outs], np.int32)
    ws = np.array([o.shape[3] for o in outs], np.int32)
    anchors = np.ascontiguousarray(np.asarray(YOLOV5_ANCHORS, np.float32).reshape(-1))
    ptrs = (I8P * 3)(*[o.ctypes.data_as(I8P) for o in outs])
    nc = outs[0].shape[1] // 3 - 5
    fn = lib.baseline_yolov5_i8
    fn.restype = ctypes.c_int
    args = (ptrs, ptr(scales), ptr(zps, ctypes.c_int32), ptr(hs, ctypes.c_int32), ptr(ws, ctypes.c_int32), 3, nc,
            ptr(anchors), input_hw[0], input_hw[1], ctypes.c_float(0.25), ctypes.c_float(0.45), 1, 300)
    dec = Decoder(qps, "yolov5", conf=0.25, iou=0.45, plus_one=True, max_detections=300, input_size=input_hw)
    measure(case, dec, outs, Baseline(fn, args, repeat), repeat)


def make_v5_int8(seed: int = 0, hot: int = 100, nc: int = 80):  # hot: in all branches
    rng = np.random.default_rng(seed)
    outs, qps = [], []
    for s in (8, 16, 32):
        h = w = 640 // s
        a = rng.uniform(0, 0.02, (1, 3 * (5 + nc), h, w)).astype(np.float32)
        for k in range(3):
            a[0, k * (5 + nc): k * (5 + nc) + 4] = rng.uniform(0, 1, (4, h, w))
        for _ in range(hot // 3):
            k, y, x = rng.integers(3), rng.integers(h), rng.integers(w)
            a[0, k * (5 + nc) + 4, y, x] = rng.uniform(0.5, 1)
            a[0, k * (5 + nc) + 5 + rng.integers(nc), y, x] = rng.uniform(0.5, 1)
        q = (1 / 255, -128)
        outs.append(ref.quantize(a, *q))
        qps.append(q)
    return outs, qps


def bench_detector(repeat: int) -> None:
    import cv2

    frame = cv2.imread(str(MODELS.parent / "images" / "astronaut.png"))  # the fixture's photo
    with rknn_fast.Detector(MODELS / "yolov8_rk3588_i8.rknn", runtime="emulator") as det:
        det(frame)  # a computed run: its outputs stay in the zero-copy buffers
        emulator.control("set skip_compute=1")
        try:
            inner = 100
            total = med(lambda: det(frame), repeat, inner)
            buf = np.empty_like(det.model.input_view(0))
            letter = med(lambda: rknn_fast.letterbox(frame, dst=buf, convention=det.convention,
                                                     pad_value=det.pad_value, bgr_to_rgb=True), repeat, inner)
            run = med(lambda: det.model.run(), repeat, inner)
            outs = det.model.run()
            t = det.last_transform
            lb = (t.pad_x, t.pad_y, t.scale, t.src_shape[1], t.src_shape[0])
            kernel = statistics.median(det._decoder._plan.time_run(outs, lb, inner) for _ in range(repeat))
        finally:
            emulator.control("set skip_compute=0")
    over = total - letter - kernel
    print(f"{'Detector.__call__ yolov8_rk3588_i8 astronaut':<42} {us(total)} = letterbox {us(letter)} + decode kernel "
          f"{us(kernel)} + overhead {us(over)} (of which Model.run with skip_compute {us(run)}) "
          f"(goal overhead <= 10 us: {'ok' if over <= 10e-6 else 'ABOVE GOAL'})")
    RESULTS.append(dict(case="Detector.__call__ yolov8_rk3588_i8", total_s=total, letterbox_s=letter, kernel_s=kernel,
                        overhead_s=over, model_run_skip_compute_s=run, goal_overhead_s=10e-6))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    repeat = 5 if args.quick else 15
    lib = build_baseline()
    print(f"rknn_fast {rknn_fast.__version__}, {platform.machine()}, SIMD paths {_core.simd_supported()} "
          f"(default {_core.simd_level()}); median of {repeat}")

    raw, infos = load_fixture("yolov8_rk3588_i8")
    v8_case(lib, "yolov8 split int8 fixture (160, 9 outputs)", raw, [(i.scale, i.zero_point) for i in infos], 3,
            repeat, tuple(int(v) * 8 for v in raw[0].shape[2:4]))
    outs, qps = make_v8_int8(hot=34)  # per branch: ~100 hot cells in all
    v8_case(lib, "yolov8 split int8 640 nc80 ~100 hot cells", outs, qps, 3, repeat, (640, 640))
    six = [o for i, o in enumerate(outs) if i % 3 != 2]
    v8_case(lib, "yolov8 6-output int8 640 nc80 (no score_sum)", six, [q for i, q in enumerate(qps) if i % 3 != 2],
            2, repeat, (640, 640))

    raw, infos = load_fixture("yolov5_rk3588_i8")
    v5_case(lib, "yolov5 int8 fixture (160)", raw, [(i.scale, i.zero_point) for i in infos], repeat,
            tuple(int(v) * 8 for v in raw[0].shape[2:4]))
    outs, qps = make_v5_int8()
    v5_case(lib, "yolov5 int8 640 nc80 ~100 hot cells", outs, qps, repeat, (640, 640))

    raw, infos = load_fixture("ddddocr_det_rk3588_i8")
    x = raw[0]
    n, f = x.shape[1], x.shape[2]
    side = int(round((n / sum(1.0 / (s * s) for s in (8, 16, 32))) ** 0.5))
    fn = lib.baseline_yolox_i8
    fn.restype = ctypes.c_int
    bargs = (ptr(x, ctypes.c_int8), ctypes.c_float(infos[0].scale), infos[0].zero_point, n, f - 5, side, side,
             ctypes.c_float(0.25), ctypes.c_float(0.45), 1, 300)
    dec = Decoder([(infos[0].scale, infos[0].zero_point)], "yolox", conf=0.25, iou=0.45, plus_one=True,
                  input_size=(side, side))
    measure(f"yolox int8 fixture ddddocr ({side}, N={n})", dec, [x], Baseline(fn, bargs, repeat), repeat)

    flat = make_flat()
    fn = lib.baseline_flat_f32
    fn.restype = ctypes.c_int
    bargs = (ptr(flat), flat.shape[1], flat.shape[2], ctypes.c_float(0.25), ctypes.c_float(0.45), 1, 300)
    dec = Decoder(None, "flat", conf=0.25, iou=0.45, plus_one=True, scores="prob")
    measure("flat (1, 84, 8400) float32", dec, [flat], Baseline(fn, bargs, repeat), repeat)

    bench_detector(repeat)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / "bench_decoders.json"
    path.write_text(json.dumps(dict(machine=platform.machine(), results=RESULTS), indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
