"""Frames/s on several NPU cores: rknn_fast.Pool and Detector(cores=...) against the usual
Python approach (a ThreadPoolExecutor of three rknn_fast.lite.RKNNLite instances pinned to
NPU_CORE_0/1/2 and fed round-robin).

Run: python bench/bench_pool.py [--seconds 2] [--npu-us 10000 2000] [--rss-frames 100000]

On the emulator (``runtime="emulator"``), whose per-core queues hold each run for the set NPU
time (a wait, no CPU burnt) and let runs on different cores overlap. The emulator's own
replay work is switched off for the timed runs (``skip_compute``: a context's later runs
reuse its first outputs), so that the CPU time measured is ours, not the emulator's.

Model: a 320x320 YOLOv8 (model-zoo split head, 9 int8 outputs, 80 classes) built for the
emulator with tests/rknn_builder.py (the fixtures' YOLOv8 is 160x160); frames are 480x360
BGR. Configurations: raw ``Pool.map`` (inputs already 320x320) and ``Detector.map`` (480x360
frames: letterbox + decode on the workers) on 1, 2, 3 cores x 1, 2 contexts per core, at
each NPU time; the RKNNLite thread pool beside them; an rk3566 Detector (one core,
contexts_per_core=2) and how busy it keeps its core; RSS before/after a long Pool.map.
Results are checked equal to the sequential path first. Prints frames/s, speedup over one
core, end-to-end latency p50/p99 (a frame taken from the source -> its result yielded) and
CPU time per frame; saves bench/results/bench_pool.json.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import resource
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, Iterator, List

import numpy as np

import rknn_fast
from rknn_fast import emulator
from rknn_fast.lite import RKNNLite
from rknn_fast.postprocess import decode_yolov8

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
import rknn_builder as B  # noqa: E402  (the tests' .rknn writer)


def yolov8_320(path: pathlib.Path, platform_name: str = "rk3588") -> pathlib.Path:
    """A 320x320 YOLOv8-shaped .rknn (model-zoo split head, NC1HWC2 int8 outputs). Its
    synthetic outputs give about 1% of the cells a score_sum above 0.25 and a few hundred
    class candidates per frame, so NMS has work to do."""
    images = B.Tensor("images", (1, 3, 320, 320), (1, 1, 320, 320, 3), kind=1, scale=[1 / 255],
                      zero_point=[-128], size=3 * 320 * 320, io_dtype="int8", io_layout="NHWC")
    outs = []
    for stride in (8, 16, 32):
        h = w = 320 // stride
        for name, c, scale, zp in (("box", 64, 0.045, 3), ("cls", 80, 0.26 / 255, -128),
                                   ("score_sum", 1, 0.2525 / 255, -128)):
            c1 = (c + 15) // 16
            outs.append(B.Tensor(f"{name}_s{stride}", (1, c, h, w), (1, c1, h, w, 16), kind=2, scale=[scale],
                                 zero_point=[zp], size=c1 * h * w * 16, io_dtype="int8", io_layout="NCHW"))
    path.write_bytes(B.build(B.Model(inputs=[images], outputs=outs, target_platform=platform_name)))
    return path


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(run: Callable[[Iterable[Any]], Iterator[Any]], items: List[Any], n: int) -> Dict[str, float]:
    """Feeds n items (cycling) through run(), which yields one result per item in order."""
    t_in: List[float] = []

    def source() -> Iterator[Any]:
        for k in range(n):
            t_in.append(time.perf_counter())
            yield items[k % len(items)]

    lat: List[float] = []
    c0, t0 = cpu_s(), time.perf_counter()
    for k, _ in enumerate(run(source())):
        lat.append(time.perf_counter() - t_in[k])
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    lat_ms = np.array(lat) * 1e3
    return {"frames": n, "fps": n / wall, "p50_ms": float(np.percentile(lat_ms, 50)),
            "p99_ms": float(np.percentile(lat_ms, 99)), "cpu_ms_per_frame": cpu / n * 1e3, "wall_s": wall}


class LiteThreadPool:
    """The usual approach: three RKNNLite on NPU_CORE_0/1/2 in a ThreadPoolExecutor, frame k on
    instance k % 3 (a lock per instance), a window of 2 x 3 frames in flight."""

    def __init__(self, path: str, n: int = 3) -> None:
        masks = [RKNNLite.NPU_CORE_0, RKNNLite.NPU_CORE_1, RKNNLite.NPU_CORE_2][:n]
        self.lites = []
        for mask in masks:
            lite = RKNNLite(runtime="emulator")
            assert lite.load_rknn(path) == 0 and lite.init_runtime(core_mask=mask) == 0
            self.lites.append(lite)
        self.locks = [threading.Lock() for _ in self.lites]
        self.executor = ThreadPoolExecutor(len(self.lites))

    def map(self, fn: Callable[[RKNNLite, Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        def job(k: int, item: Any) -> Any:
            with self.locks[k % len(self.lites)]:
                return fn(self.lites[k % len(self.lites)], item)

        window: List[Any] = []
        for k, item in enumerate(items):
            window.append(self.executor.submit(job, k, item))
            if len(window) >= 2 * len(self.lites):
                yield window.pop(0).result()
        for f in window:
            yield f.result()

    def close(self) -> None:
        self.executor.shutdown()
        for lite in self.lites:
            lite.release()


def lite_detect(lite: RKNNLite, frame: np.ndarray, infos: Any) -> rknn_fast.Detections:
    """What a user writes around RKNNLite: letterbox, inference (float outputs), decode."""
    img, t = rknn_fast.letterbox(frame, (320, 320), bgr_to_rgb=True)
    outs = lite.inference(inputs=[img])
    return decode_yolov8(outs, infos, conf=0.25, iou=0.45, input_size=(320, 320), transform=t)


def same_detections(a: rknn_fast.Detections, b: rknn_fast.Detections, atol: float = 0.0) -> bool:
    return (len(a.xyxy) == len(b.xyxy) and np.array_equal(a.class_ids, b.class_ids)
            and np.allclose(a.xyxy, b.xyxy, atol=atol) and np.allclose(a.scores, b.scores, atol=max(atol, 1e-6)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="about this long per configuration")
    ap.add_argument("--npu-us", type=int, nargs="+", default=[10000, 2000], help="emulated NPU times")
    ap.add_argument("--rss-frames", type=int, default=5000, help="frames of the RSS run (100000 for the issue)")
    ap.add_argument("--out", default=str(HERE / "results" / "bench_pool.json"))
    args = ap.parse_args()

    # The built model has no golden records: its synthetic outputs are what we want here.
    warnings.filterwarnings("ignore", category=rknn_fast.errors.EmulatorWarning)
    __import__("os").environ["RKNN_EMU_LOG"] = "0"  # read again by emulator.reset()
    emulator.control("set log=0")
    load0 = __import__("os").getloadavg()[0]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench_pool_"))
    path = str(yolov8_320(tmp / "yolov8_320_rk3588.rknn"))
    path3566 = str(yolov8_320(tmp / "yolov8_320_rk3566.rknn", "rk3566"))
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (360, 480, 3), dtype=np.uint8) for _ in range(8)]
    inputs = [rknn_fast.letterbox(f, (320, 320), bgr_to_rgb=True)[0] for f in frames]
    emulator.reset()

    # ------------------------------------------------ equality first (emulator replay on)
    with rknn_fast.Model(path, runtime="emulator", zero_copy=True) as m:
        want_raw = [m.run(x, copy=True) for x in inputs]
    with rknn_fast.Detector(path, runtime="emulator") as d:
        want_det = [d(f) for f in frames]
        infos = d.model.outputs
    with rknn_fast.Pool(path, runtime="emulator") as pool:
        assert all(all(np.array_equal(a, b) for a, b in zip(g, w)) for g, w in zip(pool.map(inputs), want_raw))
    with rknn_fast.Detector(path, runtime="emulator", cores="all") as d:
        assert all(same_detections(g, w) for g, w in zip(d.map(frames), want_det))
    lite_pool = LiteThreadPool(path)
    got = list(lite_pool.map(lambda lite, f: lite_detect(lite, f, infos), frames))
    # float (dequantised) outputs vs the int8 ones: same boxes up to float rounding
    assert all(same_detections(g, w, atol=1e-3) for g, w in zip(got, want_det)), "RKNNLite baseline differs"
    print(f"checked: Pool.map, Detector.map and the RKNNLite thread pool equal the sequential results "
          f"({len(frames)} frames, {np.mean([len(w.xyxy) for w in want_det]):.0f} boxes/frame)")

    emulator.control("set skip_compute=1")
    results: Dict[str, Any] = {"machine": platform.platform(), "cpus": len(__import__("os").sched_getaffinity(0)),
                               "model": "YOLOv8 320x320 int8 (built), frames 480x360", "runs": []}

    def record(kind: str, npu_us: int, label: str, r: Dict[str, float], base: float) -> None:
        r = dict(r, kind=kind, npu_us=npu_us, config=label, speedup=r["fps"] / base if base else 1.0)
        results["runs"].append(r)
        print(f"  {kind:14s} {label:22s} {r['fps']:8.1f} fps  x{r['speedup']:4.2f}  p50 {r['p50_ms']:6.1f} ms  "
              f"p99 {r['p99_ms']:6.1f} ms  cpu {r['cpu_ms_per_frame']:5.2f} ms/frame")

    for npu_us in args.npu_us:
        emulator.set_npu_time_us(npu_us)
        print(f"\nNPU time {npu_us / 1000:g} ms per run (rk3588, 3 cores)")
        for kind in ("Pool.map", "Detector.map"):
            base = 0.0
            for cores in (1, 2, 3):
                for cpc in (1, 2):
                    n = max(20, int(args.seconds * 1e6 / npu_us * cores))
                    if kind == "Pool.map":
                        with rknn_fast.Pool(path, runtime="emulator", cores=cores, contexts_per_core=cpc) as pool:
                            list(pool.map(inputs[:2 * len(pool)]))  # warm-up (first runs compute)
                            r = timed(pool.map, inputs, n)
                    else:
                        with rknn_fast.Detector(path, runtime="emulator", cores=cores, contexts_per_core=cpc) as d:
                            list(d.map(frames[:2 * len(d.pool)]))
                            r = timed(d.map, frames, n)
                    if cores == 1 and cpc == 1:
                        base = r["fps"]
                    record(kind, npu_us, f"{cores} core(s) x {cpc} ctx", r, base)
            # the usual approach, same work
            n = max(20, int(args.seconds * 1e6 / npu_us * 3))
            lp = LiteThreadPool(path)
            if kind == "Pool.map":
                fn = lambda lite, x: lite.inference(inputs=[x])  # noqa: E731
                items = inputs
            else:
                fn = lambda lite, f: lite_detect(lite, f, infos)  # noqa: E731
                items = frames
            list(lp.map(fn, items[:6]))
            r = timed(lambda src: lp.map(fn, src), items, n)
            lp.close()
            record(kind, npu_us, "RKNNLite x3 threads", r, base)

        # rk3566: one core, letterbox/decode overlapping the NPU run of the next frame
        for cpc in (1, 2):
            n = max(20, int(args.seconds * 1e6 / npu_us))
            with rknn_fast.Detector(path3566, runtime="emulator", cores="all", contexts_per_core=cpc) as d:
                list(d.map(frames[:2 * len(d.pool)]))
                before = d.pool.stats()
                r = timed(d.map, frames, n)
                after = d.pool.stats()
            busy = (after["cores"][0]["busy_s"] - before["cores"][0]["busy_s"]) / r["wall_s"]
            r["core_busy"] = busy
            record("rk3566 Detector", npu_us, f"1 core x {cpc} ctx", r, 0.0)
            print(f"  {'':14s} rk3566 core busy {busy * 100:.1f}%")

    # ------------------------------------------------ memory over a long run
    emulator.set_npu_time_us(0)
    with rknn_fast.Pool(path, runtime="emulator", contexts_per_core=2) as pool:
        list(pool.map(inputs * 10))
        rss0 = rss_mb()
        t0 = time.perf_counter()
        for _ in pool.map(inputs[k % len(inputs)] for k in range(args.rss_frames)):
            pass
        wall = time.perf_counter() - t0
        rss1 = rss_mb()
    results["load_average"] = [load0, __import__("os").getloadavg()[0]]
    results["rss"] = {"frames": args.rss_frames, "before_mb": rss0, "after_mb": rss1, "wall_s": wall}
    print(f"\nRSS over {args.rss_frames} Pool.map frames (NPU time 0): {rss0:.1f} MB -> {rss1:.1f} MB "
          f"({wall:.1f} s, {args.rss_frames / wall:.0f} fps)")
    lite_pool.close()
    c = emulator.counters()
    print(f"emulator after close: contexts_live={c['contexts_live']} mems_live={c['mems_live']}")
    emulator.control("set skip_compute=0")
    emulator.reset()

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
