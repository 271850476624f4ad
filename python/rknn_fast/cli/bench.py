"""``rknn-fast bench MODEL.rknn``: latency and throughput per NPU core configuration, memory.

Configurations (``--cores``):

* ``auto`` (default): one context, the runtime picks the core;
* ``0``, ``1``, ``2``, ``0_1``, ``0_1_2``: one context with that core mask
  (``Model(core_mask=...)``); the timing loop is :meth:`Model.benchmark` (C++, no Python per
  run): p50/p90/p99 of the wall time per run, frames/s = 1000 / mean latency;
* ``all``: a :class:`rknn_fast.Pool` with ``--contexts`` contexts on every core, frames
  submitted from one thread with the pool kept full: latency = submit to result, frames/s =
  frames / wall time;
* ``sweep``: every single core, every multi-core mask and the pool over all cores of the
  model's platform (just ``auto`` on single-core SoCs).

``cpu_ms`` is the process CPU time (all threads) per frame. Memory: the runtime's
``RKNN_QUERY_MEM_SIZE`` (weights, internal) and the process resident set size after
opening. ``--json FILE`` writes ``{"model", "runtime", "platform", "results": [{"cores",
"contexts", "n", "p50_ms", "p90_ms", "p99_ms", "fps", "cpu_ms"}...], "memory":
{"weight_bytes", "internal_bytes", "rss_bytes"}}``; ``--plot FILE.png``
(matplotlib: ``pip install 'rknn_fast[plot]'``) draws the latency distribution and the
frames/s per configuration.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import threading
import time
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import RknnError
from ._common import (EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, Progress, error, letterboxed, need_extra, read_image,
                      reason)

_MASKS = {2: ["0_1"], 3: ["0_1", "0_1_2"]}
_CHUNK = 100  # runs per Model.benchmark call (progress bar granularity)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("bench", help="latency, frames/s and memory per NPU core configuration",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("model", help="path of the .rknn file (or .onnx: onnxruntime on this host)")
    p.add_argument("--runtime", metavar="PATH|emulator", help="librknnrt to use (default: the usual search)")
    p.add_argument("--cores", default="auto", metavar="auto|0|1|2|0_1|0_1_2|all|sweep",
                   help="core configuration(s) to measure (default auto)")
    p.add_argument("--contexts", type=int, default=1, metavar="N",
                   help="contexts per core for the pool configuration (default 1)")
    p.add_argument("-n", "--runs", type=int, default=100, help="timed runs per configuration (default 100)")
    p.add_argument("--warmup", type=int, default=10, help="untimed runs first (default 10)")
    p.add_argument("--input", metavar="IMAGE", help="run on this image (letterboxed); default zeros")
    p.add_argument("--perf", action="store_true", help="also print the runtime's per-layer table (perf_detail)")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON ('-' for stdout)")
    p.add_argument("--plot", metavar="FILE.png", help="draw latency distribution and frames/s (needs matplotlib)")
    p.set_defaults(func=main)


def configurations(spec: str, platform: Optional[str]) -> List[str]:
    """The configurations ``--cores spec`` measures on ``platform`` (``"pool"`` = all cores)."""
    from ..model import parse_core_mask, platform_cores

    spec = spec.strip().lower()
    n = platform_cores(platform) or 1
    if spec == "sweep":
        if n == 1:
            return ["auto"]
        return [str(i) for i in range(n)] + _MASKS.get(n, []) + ["pool"]
    if spec == "all":
        return ["pool"]
    parse_core_mask(spec, platform)  # ValueError naming the problem
    return [spec]


def _stats(lat_ms: np.ndarray, n: int, fps: float, cpu_ms: float, cores: str, contexts: int) -> Dict[str, Any]:
    return {"cores": cores, "contexts": contexts, "n": int(n),
            "p50_ms": float(np.percentile(lat_ms, 50)), "p90_ms": float(np.percentile(lat_ms, 90)),
            "p99_ms": float(np.percentile(lat_ms, 99)), "fps": float(fps), "cpu_ms": float(cpu_ms)}


def _bench_model(m: Any, n: int, warmup: int, inputs: Optional[List[np.ndarray]], label: str) -> Tuple[np.ndarray, float]:
    """(latency ms per run, CPU ms per run) with Model.benchmark in chunks (progress bar)."""
    bar = Progress(n, label)
    lat: List[np.ndarray] = []
    cpu = 0.0
    left, first = n, True
    while left > 0:
        k = min(left, _CHUNK)
        c0 = time.process_time()
        r = m.benchmark(k, warmup if first else 0, inputs=inputs)
        cpu += time.process_time() - c0
        lat.append(np.asarray(r["latency_us"], np.float64) / 1000.0)
        left -= k
        first = False
        bar.update(k)
    bar.close()
    return np.concatenate(lat), cpu * 1000.0 / (n + warmup)


def _bench_pool(pool: Any, x: List[np.ndarray], n: int, warmup: int, label: str) -> Tuple[np.ndarray, float, float]:
    """(latency ms per frame, frames/s, CPU ms per frame) with the pool kept full."""
    window = max(2 * len(pool), 2)
    for f in [pool.submit(*x) for _ in range(warmup)]:
        f.result()
    done_at = np.zeros(n, np.int64)
    sent_at = np.zeros(n, np.int64)
    lock = threading.Lock()
    bar = Progress(n, label)
    inflight: Deque[Any] = collections.deque()
    c0, t0 = time.process_time(), time.perf_counter_ns()
    for i in range(n):
        if len(inflight) >= window:
            inflight.popleft().result()
        sent_at[i] = time.perf_counter_ns()
        fut = pool.submit(*x)

        def stamp(_f: Any, i: int = i) -> None:
            with lock:
                done_at[i] = time.perf_counter_ns()
                bar.update()
        fut.add_done_callback(stamp)
        inflight.append(fut)
    while inflight:
        inflight.popleft().result()
    wall = (time.perf_counter_ns() - t0) / 1e9
    cpu = time.process_time() - c0
    bar.close()
    return (done_at - sent_at) / 1e6, n / wall, cpu * 1000.0 / n


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _table(results: List[Dict[str, Any]]) -> str:
    head = f"{'cores':<8}{'contexts':>9}{'n':>7}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'frames/s':>11}{'cpu ms':>9}"
    rows = [head]
    for r in results:
        rows.append(f"{r['cores']:<8}{r['contexts']:>9}{r['n']:>7}{r['p50_ms']:>10.3f}{r['p90_ms']:>10.3f}"
                    f"{r['p99_ms']:>10.3f}{r['fps']:>11.1f}{r['cpu_ms']:>9.3f}")
    return "\n".join(rows)


def plot(path: str, results: List[Dict[str, Any]], latencies: List[np.ndarray], title: str) -> None:
    """Latency distribution (box plot) and frames/s per configuration, written to ``path``."""
    matplotlib = need_extra("matplotlib", "plot", "--plot")
    matplotlib.use("Agg")
    plt = need_extra("matplotlib.pyplot", "plot", "--plot")
    labels = [f"pool ×{r['contexts']}" if r["cores"] == "pool" else r["cores"] for r in results]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.boxplot(latencies, showfliers=False)
    a.set_xticks(range(1, len(labels) + 1), labels)
    a.set_ylabel("latency (ms)")
    a.set_xlabel("cores")
    a.set_title("latency per frame")
    b.bar(labels, [r["fps"] for r in results], color="tab:green")
    b.set_ylabel("frames/s")
    b.set_xlabel("cores")
    b.set_title("throughput")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(args: argparse.Namespace) -> int:
    from ..info import inspect
    from ..model import Model

    if args.runs < 1 or args.warmup < 0 or args.contexts < 1:
        error(f"expected -n >= 1, --warmup >= 0 and --contexts >= 1, got {args.runs}, {args.warmup}, {args.contexts}")
        return EXIT_USAGE
    if args.plot:
        try:
            need_extra("matplotlib", "plot", "--plot")
        except ImportError as e:
            error(str(e))
            return EXIT_USAGE
    onnx = args.model.lower().endswith(".onnx")
    platform: Optional[str] = None
    if not onnx:
        try:
            platform = inspect(args.model).target_platform or None
        except (OSError, ValueError) as e:
            error(f"cannot read {args.model}: {reason(e, args.model)}")
            return EXIT_USAGE
    try:
        configs = configurations(args.cores, platform)
    except (ValueError, TypeError) as e:
        error(f"--cores: {e}")
        return EXIT_USAGE
    if onnx and configs != ["auto"]:
        error("--cores applies to .rknn models (an ONNX model runs on this host's CPU)")
        return EXIT_USAGE
    image = None
    if args.input:
        try:
            image = read_image(args.input)
        except ValueError as e:
            error(str(e))
            return EXIT_USAGE

    results: List[Dict[str, Any]] = []
    latencies: List[np.ndarray] = []
    memory: Dict[str, Optional[int]] = {"weight_bytes": None, "internal_bytes": None, "rss_bytes": None}
    runtime_desc = ""
    perf_text = ""
    try:
        for cfg in configs:
            if cfg == "pool":
                from ..pool import Pool

                with Pool(args.model, cores="all", contexts_per_core=args.contexts, runtime=args.runtime) as pool:
                    ctx0 = pool.context(0)
                    x = [letterboxed(image, ctx0)] if image is not None else [
                        np.zeros(t.shape, np.uint8) for t in ctx0.inputs]
                    lat, fps, cpu = _bench_pool(pool, x, args.runs, args.warmup, f"pool {args.contexts}/core")
                results.append(_stats(lat, args.runs, fps, cpu, "pool", len(pool)))
                latencies.append(lat)
                continue
            kw: Dict[str, Any] = {} if onnx else {"runtime": args.runtime, "core_mask": cfg,
                                                  "collect_perf": bool(args.perf)}
            with Model(args.model, **kw) as m:
                if not runtime_desc:
                    runtime_desc = (f"onnxruntime {m.runtime_version} (host CPU)" if onnx else
                                    ("emulator" if m.is_emulator else m.runtime_path)
                                    + f" (librknnrt {m.runtime_version or m.sdk_version.api})")
                    ms = m.mem_size or {}
                    memory = {"weight_bytes": ms.get("total_weight_size"),
                              "internal_bytes": ms.get("total_internal_size"), "rss_bytes": _rss_bytes()}
                inputs = [letterboxed(image, m)] if image is not None else None
                lat, cpu = _bench_model(m, args.runs, args.warmup, inputs, f"cores {cfg}")
                if args.perf and not perf_text:
                    perf_text = m.perf_detail()
            results.append(_stats(lat, args.runs, 1000.0 / float(lat.mean()), cpu, cfg, 1))
            latencies.append(lat)
    except (RknnError, OSError) as e:
        error(f"cannot run {args.model}: {reason(e, args.model)}")
        return EXIT_RUNTIME
    except ValueError as e:
        error(f"{reason(e, args.model)}")
        return EXIT_USAGE

    doc = {"model": args.model, "runtime": runtime_desc or (args.runtime or "default"), "platform": platform,
           "results": results, "memory": memory}
    if args.json == "-":
        print(json.dumps(doc, indent=2))
    else:
        print(f"model:    {args.model} ({platform or 'host'})")
        print(f"runtime:  {doc['runtime']}")
        if results:
            print(_table(results))
        mem = [f"{k.replace('_bytes', '')} {v / 2**20:.2f} MiB" for k, v in memory.items() if v is not None]
        if mem:
            print("memory:   " + ", ".join(mem))
        if perf_text:
            print(perf_text)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
    if args.plot and results:
        plot(args.plot, results, latencies, os.path.basename(args.model))
        if args.json != "-":
            print(f"plot:     {args.plot}")
    sys.stdout.flush()
    return EXIT_OK
