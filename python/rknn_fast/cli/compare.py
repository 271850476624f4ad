"""``rknn-fast compare MODEL.onnx MODEL.rknn --image IMG...``: how far quantisation and
conversion moved the outputs.

Both models get the same input per image: the image letterboxed to the .rknn's input size,
RGB, NHWC uint8. The .rknn runs in the runtime (or the emulator) with float32 outputs; the
ONNX model runs with onnxruntime on the CPU with the pre-processing the .rknn records (its
conversion settings: per-channel mean/std and whether the toolkit swapped RGB to BGR), unless
``--mean``/``--std``/``--bgr`` override it. Per output (matched by name, else by position),
over all images together: cosine similarity, max and mean absolute error. For a detection
head both sides are also decoded (``Detector``, same thresholds) and their detections
matched (same class, IoU >= 0.5). Exit code 1 when an output's cosine is below
``--min-cosine``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import RknnError
from ._common import (EXIT_CHECK, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, error, letterboxed, parse_floats, read_image,
                      reason)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="ONNX (onnxruntime) vs .rknn outputs: cosine, errors, detections",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("onnx", help="the float ONNX model")
    p.add_argument("rknn", help="the .rknn converted from it")
    p.add_argument("--image", nargs="+", action="extend", required=True, metavar="IMG",
                   help="images to run both models on")
    p.add_argument("--runtime", metavar="PATH|emulator", help="librknnrt to run the .rknn with")
    p.add_argument("--mean", help="override the ONNX input mean (per channel, on 0..255 pixels)")
    p.add_argument("--std", help="override the ONNX input std (per channel)")
    p.add_argument("--bgr", choices=("auto", "yes", "no"), default="auto",
                   help="feed the ONNX model BGR (auto: as the .rknn's conversion recorded)")
    p.add_argument("--conf", type=float, default=0.25, help="score threshold of the detection comparison")
    p.add_argument("--min-cosine", type=float, default=0.98, help="exit 1 below this cosine (default 0.98)")
    p.add_argument("--json", metavar="FILE", help="write the comparison as JSON ('-' for stdout)")
    p.set_defaults(func=main)


def recorded_preprocessing(rknn_path: str) -> Dict[str, Any]:
    """Mean, std and RGB->BGR of the .rknn's first input as its conversion settings record
    them: ``{"mean", "std", "rgb2bgr", "source"}`` (``source`` = ``"file"`` or ``"default"``
    when the file does not say: mean 0, std 1, no swap)."""
    from .. import _core

    with open(rknn_path, "rb") as f:
        d = _core.parse_rknn(f.read())
    gen = d.get("generator") or ""
    try:
        settings = ast.literal_eval(gen) if gen else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        settings = None
    first = d["inputs"][0]["name"] if d.get("inputs") else None
    attrs = settings.get("attrs", {}) if isinstance(settings, dict) else {}
    a = attrs.get(first) if isinstance(attrs, dict) else None
    if isinstance(a, dict) and "mean" in a and "std" in a:
        return {"mean": [float(v) for v in a["mean"]], "std": [float(v) for v in a["std"]],
                "rgb2bgr": bool(a.get("rgb2bgr", False)), "source": "file"}
    return {"mean": [0.0], "std": [1.0], "rgb2bgr": False, "source": "default"}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two arrays taken as flat float64 vectors (1.0 when both are 0)."""
    x = np.asarray(a, np.float64).ravel()
    y = np.asarray(b, np.float64).ravel()
    nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if nx == 0.0 and ny == 0.0:
        return 1.0
    if nx == 0.0 or ny == 0.0:
        return 0.0
    return float(np.dot(x, y) / (nx * ny))


def output_metrics(name: str, onnx_out: Sequence[np.ndarray], rknn_out: Sequence[np.ndarray]) -> Dict[str, Any]:
    """Cosine, max and mean absolute error of one output over every image (concatenated)."""
    a = np.concatenate([np.asarray(o, np.float64).ravel() for o in onnx_out])
    b = np.concatenate([np.asarray(o, np.float64).ravel() for o in rknn_out])
    d = np.abs(a - b)
    return {"name": name, "cosine": cosine(a, b), "max_abs": float(d.max()) if d.size else 0.0,
            "mean_abs": float(d.mean()) if d.size else 0.0}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, float(x2 - x1)) * max(0.0, float(y2 - y1))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def match_detections(a: Any, b: Any, iou: float = 0.5) -> List[Tuple[int, int, float]]:
    """Greedy one-to-one matching of two Detections (highest scores first): pairs
    ``(i, j, iou)`` of the same class with IoU >= ``iou``."""
    used = set()
    pairs = []
    for i in np.argsort(-np.asarray(a.scores), kind="stable"):
        best, best_j = iou, -1
        for j in range(len(b)):
            if j in used or int(b.class_ids[j]) != int(a.class_ids[i]):
                continue
            v = _iou(a.xyxy[i], b.xyxy[j])
            if v >= best:
                best, best_j = v, j
        if best_j >= 0:
            used.add(best_j)
            pairs.append((int(i), best_j, best))
    return pairs


def _dets_json(d: Any) -> List[Dict[str, Any]]:
    return [{"xyxy": np.round(d.xyxy[i].astype(np.float64), 1).tolist(), "score": round(float(d.scores[i]), 4),
             "class_id": int(d.class_ids[i])} for i in range(len(d))]


def _pair_outputs(onnx_m: Any, rknn_m: Any) -> List[Tuple[int, int, str]]:
    on = [o.name for o in onnx_m.outputs]
    rn = [o.name for o in rknn_m.outputs]
    if sorted(on) == sorted(rn):
        return [(on.index(n), k, n) for k, n in enumerate(rn)]
    if len(on) != len(rn):
        raise ValueError(f"the models have different outputs: ONNX {on}, .rknn {rn}")
    return [(k, k, rn[k] if rn[k] == on[k] else f"{on[k]} / {rn[k]}") for k in range(len(rn))]


def main(args: argparse.Namespace) -> int:
    from ..model import Model

    try:
        images = [read_image(p) for p in args.image]
        mean, std = parse_floats(args.mean, "--mean"), parse_floats(args.std, "--std")
        pre = recorded_preprocessing(args.rknn)
    except (ValueError, OSError) as e:
        error(reason(e))
        return EXIT_USAGE
    if mean is not None:
        pre["mean"], pre["source"] = mean, "command line"
    if std is not None:
        pre["std"], pre["source"] = std, "command line"
    if args.bgr != "auto":
        pre["rgb2bgr"] = args.bgr == "yes"
    try:
        rknn_m = Model(args.rknn, runtime=args.runtime, float_outputs=True)
    except RknnError as e:  # before OSError: RuntimeNotFoundError is both
        error(f"cannot open {args.rknn}: {reason(e, args.rknn)}")
        return EXIT_RUNTIME
    except (OSError, ValueError) as e:
        error(f"cannot open {args.rknn}: {reason(e, args.rknn)}")
        return EXIT_USAGE
    with rknn_m:
        try:
            h, w, c = (int(v) for v in rknn_m.inputs[0].shape[1:])
            from ..backends.onnx import OnnxModel

            onnx_m = OnnxModel(args.onnx, mean=pre["mean"], std=pre["std"], input_size=(h, w))
        except ImportError as e:
            error(str(e))
            return EXIT_USAGE
        except (OSError, ValueError) as e:
            error(f"cannot open {args.onnx}: {reason(e, args.onnx)}")
            return EXIT_USAGE
        with onnx_m:
            if tuple(onnx_m.inputs[0].shape) != tuple(rknn_m.inputs[0].shape):
                error(f"the models take different inputs: ONNX {onnx_m.inputs[0].shape}, "
                      f".rknn {rknn_m.inputs[0].shape}")
                return EXIT_USAGE
            try:
                pairs = _pair_outputs(onnx_m, rknn_m)
            except ValueError as e:
                error(str(e))
                return EXIT_USAGE
            per_out_onnx: List[List[np.ndarray]] = [[] for _ in pairs]
            per_out_rknn: List[List[np.ndarray]] = [[] for _ in pairs]
            per_image: List[Dict[str, Any]] = []
            try:
                for path, img in zip(args.image, images):
                    x = letterboxed(img, rknn_m)
                    ro = rknn_m.run(x, copy=True)
                    oo = onnx_m.run(np.ascontiguousarray(x[..., ::-1]) if pre["rgb2bgr"] else x, copy=True)
                    rec: Dict[str, Any] = {"image": path, "outputs": []}
                    for k, (oi, ri, name) in enumerate(pairs):
                        a, b = oo[oi], ro[ri]
                        if a.size != b.size:
                            error(f"output {name}: ONNX gives {a.shape}, .rknn {b.shape}")
                            return EXIT_USAGE
                        a = a.reshape(b.shape)
                        per_out_onnx[k].append(a)
                        per_out_rknn[k].append(b)
                        rec["outputs"].append(output_metrics(name, [a], [b]))
                    per_image.append(rec)
                detection = _compare_detections(args, onnx_m, images, pre) if _is_detector(rknn_m) else None
            except RknnError as e:
                error(f"cannot run {args.rknn}: {reason(e, args.rknn)}")
                return EXIT_RUNTIME
    outputs = [output_metrics(name, per_out_onnx[k], per_out_rknn[k]) for k, (_o, _r, name) in enumerate(pairs)]
    worst = min(o["cosine"] for o in outputs)
    doc: Dict[str, Any] = {"onnx": args.onnx, "rknn": args.rknn, "images": list(args.image),
                           "preprocessing": pre, "outputs": outputs, "min_cosine": args.min_cosine,
                           "passed": worst >= args.min_cosine, "per_image": per_image}
    if detection is not None:
        doc["detections"] = detection
    if args.json == "-":
        print(json.dumps(doc, indent=2))
    else:
        _print_report(doc)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
    sys.stdout.flush()
    if worst < args.min_cosine:
        bad = [o["name"] for o in outputs if o["cosine"] < args.min_cosine]
        error(f"cosine below {args.min_cosine} for {', '.join(bad)}")
        return EXIT_CHECK
    return EXIT_OK


def _is_detector(m: Any) -> bool:
    from .run import detect_task

    try:
        return detect_task(m.outputs) == "detect"
    except ValueError:
        return False


def _compare_detections(args: argparse.Namespace, onnx_m: Any, images: List[np.ndarray],
                        pre: Dict[str, Any]) -> Dict[str, Any]:
    """Decode both sides with a Detector (same conf) on every image and match them."""
    from ..detector import Detector

    out: Dict[str, Any] = {"conf": args.conf, "images": []}
    total_a = total_b = total_m = 0
    with Detector(args.rknn, runtime=args.runtime, conf=args.conf) as dr, \
            Detector(onnx_m, conf=args.conf, rgb=pre["rgb2bgr"]) as do:
        for path, img in zip(args.image, images):
            a, b = do(img), dr(img)
            pairs = match_detections(a, b)
            total_a += len(a)
            total_b += len(b)
            total_m += len(pairs)
            out["images"].append({"image": path, "onnx": _dets_json(a), "rknn": _dets_json(b),
                                  "matched": len(pairs),
                                  "mean_iou": float(np.mean([p[2] for p in pairs])) if pairs else None,
                                  "max_score_diff": float(max((abs(float(a.scores[i]) - float(b.scores[j]))
                                                               for i, j, _ in pairs), default=0.0))})
    out.update(onnx=total_a, rknn=total_b, matched=total_m,
               agreement=total_m / max(total_a, total_b) if max(total_a, total_b) else 1.0)
    return out


def _print_report(doc: Dict[str, Any]) -> None:
    pre = doc["preprocessing"]
    print(f"onnx:   {doc['onnx']}")
    print(f"rknn:   {doc['rknn']}")
    print(f"images: {len(doc['images'])}; ONNX input: (x - mean) / std with mean {pre['mean']}, std {pre['std']}"
          f"{', RGB->BGR' if pre['rgb2bgr'] else ''} ({pre['source']})")
    width = max([len("output")] + [len(o["name"]) for o in doc["outputs"]])
    print(f"{'output':<{width}}  {'cosine':>8}  {'max abs':>10}  {'mean abs':>10}")
    for o in doc["outputs"]:
        flag = "" if o["cosine"] >= doc["min_cosine"] else "  < min"
        print(f"{o['name']:<{width}}  {o['cosine']:>8.5f}  {o['max_abs']:>10.5g}  {o['mean_abs']:>10.5g}{flag}")
    det = doc.get("detections")
    if det is not None:
        print(f"detections (conf {det['conf']}): ONNX {det['onnx']}, .rknn {det['rknn']}, matched {det['matched']} "
              f"(same class, IoU >= 0.5): agreement {det['agreement']:.2f}")
        for im in det["images"]:
            miou = f", mean IoU {im['mean_iou']:.3f}" if im["mean_iou"] is not None else ""
            print(f"  {im['image']}: ONNX {len(im['onnx'])}, .rknn {len(im['rknn'])}, matched {im['matched']}{miou}, "
                  f"max score difference {im['max_score_diff']:.3f}")
    print(f"result: {'PASS' if doc['passed'] else 'FAIL'} (min cosine {doc['min_cosine']})")
