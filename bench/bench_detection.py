"""Detection post-processing benchmarks, each against a named baseline on the same data.

Run: python bench/bench_detection.py [--quick]
Prints one line per case (median time per call, ratio vs the baseline) after checking that
both produce the same result, and saves JSON to bench/results/bench_detection.json.

Cases:
1. YOLOv8 model-zoo split head, int8, 640x640, 80 classes, decode + NMS:
   rknn_fast vs numpy (the model-zoo Python demo's algorithm, vectorized: dequantize all
   outputs, DFL for every cell, threshold, per-class NMS).
2. Ultralytics flat head (1, 84, 8400) fp32 (and fp16) decode + NMS: rknn_fast vs
   edgefirst-decoder (same thresholds, max 300 detections, no pre-NMS cap).
3. NMS on 5000 boxes (class-agnostic): rknn_fast.nms vs cv2.dnn.NMSBoxes.
4. Letterbox 1920x1080 -> 640x640: rknn_fast.letterbox into a preallocated buffer vs the
   cv2 Python letterbox (cv2.resize + cv2.copyMakeBorder).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import statistics
import sys
import time

import numpy as np

import rknn_fast
from rknn_fast.postprocess import decode_yolov8, decode_yolov8_flat

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import reference as ref  # noqa: E402

F32 = np.float32


def timeit(fn, repeat: int, inner: int = 1) -> float:
    """Median seconds per call over `repeat` runs of `inner` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def fmt(t: float) -> str:
    return f"{t * 1e6:9.1f} us" if t < 1e-3 else f"{t * 1e3:9.2f} ms"


RESULTS = []


def report(case: str, ours: float, base_name: str, base: float, goal: float, extra: str = "") -> None:
    ratio = base / ours
    ok = "ok" if ratio >= goal else "BELOW GOAL"
    print(f"{case:<44} rknn_fast {fmt(ours)} | {base_name} {fmt(base)} | {ratio:7.1f}x "
          f"(goal >= {goal:g}x: {ok}){extra}")
    RESULTS.append(dict(case=case, rknn_fast_s=ours, baseline=base_name, baseline_s=base,
                        ratio=ratio, goal=goal))


# ---------------------------------------------------------------------------------------
# 1. YOLOv8 split head int8


def make_v8_int8(seed: int = 0, hot: int = 60):
    rng = np.random.default_rng(seed)
    outs, qp = [], []
    for s in (8, 16, 32):
        h = w = 640 // s
        box = rng.normal(0, 3, (1, 64, h, w)).astype(F32)
        cls = rng.uniform(0, 0.003, (1, 80, h, w)).astype(F32)
        for _ in range(hot):
            y, x, c = rng.integers(h), rng.integers(w), rng.integers(80)
            cls[0, c, y, x] = rng.uniform(0.1, 0.99)
        ssum = np.clip(cls.sum(axis=1, keepdims=True), 0, 1)
        for arr, q in ((box, (0.08, 3)), (cls, (1 / 255, -128)), (ssum, (1 / 255, -128))):
            outs.append(ref.quantize(arr, *q))
            qp.append(q)
    return outs, qp


def numpy_yolov8(outs, qp, conf=0.25, iou=0.45, max_det=300):
    """Model-zoo Python demo algorithm, vectorized numpy (float32), same rules as ours."""
    boxes_all, scores_all, cls_all = [], [], []
    for b in range(3):
        box = ref.dequantize(outs[3 * b], *qp[3 * b])[0]
        cls = ref.dequantize(outs[3 * b + 1], *qp[3 * b + 1])[0]
        ssum = ref.dequantize(outs[3 * b + 2], *qp[3 * b + 2])[0, 0]
        _, h, w = cls.shape
        # DFL for every cell, as the demo does (softmax over 16 bins of each side).
        d = box.reshape(4, 16, h, w)
        e = np.exp(d - d.max(axis=1, keepdims=True))
        dist = (e * np.arange(16, dtype=F32)[None, :, None, None]).sum(1) / e.sum(1)
        gy, gx = np.mgrid[0:h, 0:w].astype(F32) + F32(0.5)
        s = F32(640 / w)
        xyxy = np.stack([(gx - dist[0]) * s, (gy - dist[1]) * s,
                         (gx + dist[2]) * s, (gy + dist[3]) * s], -1).reshape(-1, 4)
        best_c = cls.argmax(0).reshape(-1)
        best = cls.max(0).reshape(-1)
        keep = (best >= F32(conf)) & (ssum.reshape(-1) >= F32(conf))
        boxes_all.append(xyxy[keep])
        scores_all.append(best[keep])
        cls_all.append(best_c[keep])
    boxes = np.concatenate(boxes_all)
    scores = np.concatenate(scores_all)
    classes = np.concatenate(cls_all)
    keep = []
    for c in np.unique(classes):  # per-class greedy NMS (numpy, like the demo's nms_boxes)
        idx = np.nonzero(classes == c)[0]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        while idx.size:
            i = idx[0]
            keep.append(i)
            b, o = boxes[i], boxes[idx[1:]]
            iw = np.maximum(0, np.minimum(b[2], o[:, 2]) - np.maximum(b[0], o[:, 0]))
            ih = np.maximum(0, np.minimum(b[3], o[:, 3]) - np.maximum(b[1], o[:, 1]))
            inter = iw * ih
            union = (b[2] - b[0]) * (b[3] - b[1]) + (o[:, 2] - o[:, 0]) * (o[:, 3] - o[:, 1]) - inter
            idx = idx[1:][inter / union <= iou]
    keep = np.array(keep, dtype=np.int64)
    keep = keep[np.argsort(-scores[keep], kind="stable")][:max_det]
    return boxes[keep], scores[keep], classes[keep]


def bench_yolov8(repeat: int) -> None:
    outs, qp = make_v8_int8()
    det = decode_yolov8(outs, qp, conf=0.25, iou=0.45)
    nb, ns, nc = numpy_yolov8(outs, qp)
    order = np.lexsort((det.class_ids, -det.scores))
    norder = np.lexsort((nc, -ns))
    assert len(det) == len(ns) > 0, (len(det), len(ns))
    np.testing.assert_array_equal(det.class_ids[order], nc[norder])
    np.testing.assert_array_equal(det.scores[order], ns[norder])
    np.testing.assert_allclose(det.xyxy[order], nb[norder], atol=1e-2)
    ours = timeit(lambda: decode_yolov8(outs, qp, conf=0.25, iou=0.45), repeat, 20)
    base = timeit(lambda: numpy_yolov8(outs, qp), max(3, repeat // 4))
    report("yolov8 split int8 640 nc80 decode+NMS", ours, "numpy demo", base, 100,
           f"  [{len(det)} dets]")


# ---------------------------------------------------------------------------------------
# 2. Flat head vs edgefirst-decoder


def make_flat(seed: int = 0, n: int = 8400, nc: int = 80, hot: int = 150):
    rng = np.random.default_rng(seed)
    out = np.empty((1, 4 + nc, n), F32)
    out[0, 0:2] = rng.uniform(0, 640, (2, n))
    out[0, 2:4] = rng.uniform(4, 200, (2, n))
    out[0, 4:] = rng.uniform(0, 0.05, (nc, n))
    for _ in range(hot):
        out[0, 4 + rng.integers(nc), rng.integers(n)] = rng.uniform(0.1, 1.0)
    return out


def bench_flat(repeat: int) -> None:
    try:
        from edgefirst.decoder import Decoder, Nms, Output
        from edgefirst.tensor import Tensor, TensorMemory
    except ImportError as e:  # pragma: no cover - environment dependent
        print(f"flat head vs edgefirst-decoder: skipped ({e}); pip install edgefirst-decoder")
        return
    for dtype in ("float32", "float16"):
        out = make_flat().astype(dtype)
        dec = Decoder.new_from_outputs([Output.detection(shape=list(out.shape))],
                                       score_threshold=0.25, iou_threshold=0.45, nms=Nms.ClassAware)
        dec.max_det = 300
        dec.pre_nms_top_k = 0  # no pre-NMS cap: same candidate set as ours
        t = Tensor(list(out.shape), dtype, mem=TensorMemory.MEM)
        t.from_numpy(out)
        eb, es, ec, _ = dec.decode([t], max_boxes=300)
        det = decode_yolov8_flat(out, conf=0.25, iou=0.45, max_detections=300)
        order, eorder = np.lexsort((det.class_ids, -det.scores)), np.lexsort((ec, -es))
        assert len(det) == len(es) > 0, (len(det), len(es))
        np.testing.assert_array_equal(det.class_ids[order], ec[eorder].astype(np.int32))
        np.testing.assert_allclose(det.scores[order], es[eorder], rtol=1e-6)
        np.testing.assert_allclose(det.xyxy[order], eb[eorder], rtol=1e-5, atol=1e-2)
        ours = timeit(lambda: decode_yolov8_flat(out, conf=0.25, iou=0.45), repeat, 20)
        base = timeit(lambda: dec.decode([t], max_boxes=300), repeat, 20)

        def with_copy():
            t.from_numpy(out)
            dec.decode([t], max_boxes=300)

        base_copy = timeit(with_copy, repeat, 20)
        report(f"flat (1,84,8400) {dtype} decode+NMS", ours, "edgefirst", base, 2,
               f"  [{len(det)} dets; edgefirst incl. from_numpy {fmt(base_copy).strip()}]")


# ---------------------------------------------------------------------------------------
# 3. NMS vs cv2.dnn.NMSBoxes


def bench_nms(repeat: int) -> None:
    import cv2

    rng = np.random.default_rng(1)
    n = 5000
    xy = rng.uniform(0, 600, (n, 2)).astype(F32)
    wh = rng.uniform(10, 120, (n, 2)).astype(F32)
    boxes = np.concatenate([xy, xy + wh], 1)
    xywh = np.concatenate([xy, wh], 1)
    scores = rng.uniform(0.01, 1, n).astype(F32)
    ours_keep = rknn_fast.nms(boxes, scores, 0.45, 0.0, max_detections=0)
    cv_keep = np.asarray(cv2.dnn.NMSBoxes(xywh, scores, 0.0, 0.45)).reshape(-1)
    assert ours_keep.tolist() == cv_keep.tolist(), "kept sets differ"
    ours = timeit(lambda: rknn_fast.nms(boxes, scores, 0.45, 0.0, max_detections=0), repeat, 5)
    base = timeit(lambda: cv2.dnn.NMSBoxes(xywh, scores, 0.0, 0.45), repeat, 5)
    report("NMS 5000 boxes class-agnostic", ours, "cv2.dnn.NMSBoxes", base, 2,
           f"  [{len(ours_keep)} kept, identical order]")


# ---------------------------------------------------------------------------------------
# 4. Letterbox


def bench_letterbox(repeat: int) -> None:
    img = np.random.default_rng(2).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    buf = np.empty((1, 640, 640, 3), np.uint8)  # stands for a zero-copy input view
    rknn_fast.letterbox(img, dst=buf)
    want, *_ = ref.letterbox_ultralytics(img, (640, 640), 114)
    np.testing.assert_array_equal(buf[0], want)
    ours = timeit(lambda: rknn_fast.letterbox(img, dst=buf), repeat, 10)
    base = timeit(lambda: ref.letterbox_ultralytics(img, (640, 640), 114), repeat, 10)
    report("letterbox 1920x1080 -> 640x640 (ultralytics)", ours, "cv2 letterbox", base, 1,
           "  [byte-identical]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    repeat = 5 if args.quick else 21
    import cv2

    print(f"rknn_fast {rknn_fast.__version__}, numpy {np.__version__}, cv2 {cv2.__version__}, "
          f"{platform.machine()} ({platform.processor() or 'cpu'}); median of {repeat}")
    bench_yolov8(repeat)
    bench_flat(repeat)
    bench_nms(repeat)
    bench_letterbox(repeat)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / "bench_detection.json"
    path.write_text(json.dumps(dict(machine=platform.machine(), results=RESULTS), indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
