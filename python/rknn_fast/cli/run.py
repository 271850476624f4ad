"""``rknn-fast run MODEL INPUTS...``: run a pipeline on images, directories or videos.

Per image ``DIR/<stem>.png`` (the results drawn) and ``DIR/<stem>.json``; per video
``DIR/<stem>.mp4`` (annotated) and ``DIR/<stem>.jsonl`` (one JSON object per frame). The task
(``--task auto``) is told from the model's output shapes (:func:`detect_task`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import RknnError
from ..info import TensorInfo
from ._common import (EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, Progress, error, expand_inputs, is_onnx, parse_floats,
                      read_image, reason)

TASKS = ("detect", "segment", "instances", "text", "faces", "pose", "classify")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run a model's task on images, directories or videos; draw and save results",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("model", help="path of the .rknn file (or .onnx with --mean/--std: onnxruntime on this host)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, directories of images, video files")
    p.add_argument("--task", default="auto", choices=("auto",) + TASKS, help="what the model does (default auto)")
    p.add_argument("--names", metavar="FILE", help="class names, one per line")
    p.add_argument("--conf", type=float, help="score threshold (default: the pipeline's)")
    p.add_argument("--out", default="out", metavar="DIR", help="output directory (default out)")
    p.add_argument("--runtime", metavar="PATH|emulator", help="librknnrt to use")
    p.add_argument("--cores", default="auto", metavar="MASK", help="NPU core mask: auto, 0, 1, 2, 0_1, 0_1_2, all")
    p.add_argument("--mean", help="ONNX models: per-channel mean on 0..255 pixels, e.g. 0,0,0")
    p.add_argument("--std", help="ONNX models: per-channel std, e.g. 255,255,255")
    p.set_defaults(func=main)


def detect_task(outputs: Sequence[TensorInfo]) -> str:
    """The task of a model from its output shapes (logical, as :attr:`Model.outputs` gives them):

    * ``classify``: one output ``(1, C)`` or ``(1, C, 1, 1)``;
    * ``text``: one ``(1, 1, H, W)`` probability map (DBNet);
    * ``segment``: one ``(1, C, H, W)`` score map, C >= 2;
    * ``faces``: three 3-D outputs of widths 4, 2, 10 (RetinaFace) or two of 16 and 1 (BlazeFace);
    * ``pose``: a ``(1, K, 3, N)`` keypoint output;
    * ``instances``: 13 (YOLOv8-seg) or 7 (YOLOv5-seg) 4-D outputs with 32 prototypes last;
    * ``detect``: a YOLO head :func:`rknn_fast.postprocess.detection.detect_head_from_shapes`
      knows (YOLOv8 split, YOLOv5, flat, YOLOX).

    Raises ValueError (listing the shapes) when none fits.
    """
    from ..postprocess.detection import detect_head_from_shapes

    shapes = [tuple(int(d) for d in o.shape) for o in outputs]
    if len(shapes) == 1:
        s = shapes[0]
        if len(s) >= 2 and s[0] == 1 and all(d == 1 for d in s[2:]):
            return "classify"
        if len(s) == 4 and s[1] == 1:
            return "text"
        if len(s) == 4 and s[1] >= 2:
            return "segment"
    widths = sorted(s[-1] for s in shapes if len(s) == 3)
    if len(widths) == len(shapes) and widths in ([2, 4, 10], [1, 16]):
        return "faces"
    if any(len(s) == 4 and s[2] == 3 for s in shapes) and len(shapes) >= 2:
        return "pose"
    if len(shapes) in (7, 13) and all(len(s) == 4 for s in shapes) and shapes[-1][1] == 32:
        return "instances"
    try:
        detect_head_from_shapes(shapes)
        return "detect"
    except ValueError:
        pass
    raise ValueError(f"cannot tell the task from the output shapes {shapes}; pass --task")


def open_pipeline(task: str, model: Any, names: Optional[List[str]], conf: Optional[float]) -> Any:
    """The pipeline of ``task`` over an open Model (borrowed)."""
    from .. import tasks
    from ..detector import Detector

    kw: Dict[str, Any] = {}
    if conf is not None and task in ("detect", "instances", "faces", "pose"):
        kw["conf"] = conf
    if task == "detect":
        return Detector(model, names=names, **kw)
    if task == "instances":
        return tasks.InstanceSegmenter(model, names=names, **kw)
    if task == "faces":
        return tasks.FaceDetector(model, **kw)
    if task == "pose":
        return tasks.PoseEstimator(model, **kw)
    if task == "segment":
        return tasks.Segmenter(model, names=names)
    if task == "text":
        return tasks.TextDetector(model) if conf is None else tasks.TextDetector(model, box_thresh=conf)
    if task == "classify":
        return tasks.Classifier(model, names=names)
    raise ValueError(f"unknown task {task!r}")


def _round(a: Any, nd: int = 2) -> Any:
    return np.round(np.asarray(a, np.float64), nd).tolist()


def result_json(task: str, result: Any) -> Dict[str, Any]:
    """A JSON-able description of one pipeline result (pixels of the input image)."""
    if task in ("detect", "instances", "faces", "pose"):
        dets = []
        for i in range(len(result)):
            d: Dict[str, Any] = {"xyxy": _round(result.xyxy[i]), "score": round(float(result.scores[i]), 4),
                                 "class_id": int(result.class_ids[i]), "name": result.label(i)}
            if result.keypoints is not None:
                d["keypoints"] = _round(result.keypoints[i])
            if result.masks is not None:
                d["mask_pixels"] = int(np.count_nonzero(result.masks[i]))
            dets.append(d)
        return {"detections": dets}
    if task == "text":
        return {"text_boxes": [{"quad": _round(result.quads[i]), "xyxy": _round(result.xyxy[i]),
                                "score": round(float(result.scores[i]), 4)} for i in range(len(result))]}
    if task == "segment":
        ids, counts = np.unique(result, return_counts=True)
        total = int(result.size)
        return {"shape": list(result.shape),
                "classes": [{"class_id": int(c), "pixels": int(n), "fraction": round(int(n) / total, 4)}
                            for c, n in zip(ids, counts)]}
    if task == "classify":
        names = result.names
        return {"top": [{"class_id": int(c), "score": round(float(s), 5),
                         **({"name": str(names[k])} if names is not None else {})}
                        for k, (c, s) in enumerate(zip(result.class_ids, result.scores))]}
    raise ValueError(task)


def draw(task: str, pipe: Any, image: np.ndarray, result: Any) -> np.ndarray:
    """The result drawn on a copy of the BGR image."""
    import cv2

    if task in ("detect", "instances", "faces", "pose"):
        return np.asarray(result.draw(image))
    if task == "text":
        return np.asarray(result.draw(image))
    if task == "segment":
        return np.asarray(pipe.overlay(image, result))
    out = image.copy()
    scale = max(0.4, image.shape[0] / 600.0)
    y = int(28 * scale)
    for k, (c, s) in enumerate(zip(result.class_ids, result.scores)):
        label = str(result.names[k]) if result.names is not None else f"class {int(c)}"
        cv2.putText(out, f"{label}: {float(s):.3f}", (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                    max(1, int(3 * scale)), cv2.LINE_AA)
        cv2.putText(out, f"{label}: {float(s):.3f}", (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                    max(1, int(scale)), cv2.LINE_AA)
        y += int(28 * scale)
    return out


def _call(task: str, pipe: Any, image: np.ndarray) -> Any:
    return pipe(image)


def _unique_stem(path: str, used: Dict[str, int]) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    n = used.get(stem, 0)
    used[stem] = n + 1
    return stem if n == 0 else f"{stem}_{n}"


def _run_video(task: str, pipe: Any, path: str, out_dir: str, stem: str) -> int:
    import cv2

    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise ValueError(f"{path}: not a video OpenCV can read")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    writer = None
    frames = 0
    bar = Progress(total, os.path.basename(path))
    try:
        with open(os.path.join(out_dir, stem + ".jsonl"), "w") as jf:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                res = _call(task, pipe, frame)
                drawn = draw(task, pipe, frame, res)
                if writer is None:
                    h, w = drawn.shape[:2]
                    writer = cv2.VideoWriter(os.path.join(out_dir, stem + ".mp4"), cv2.VideoWriter.fourcc(*"mp4v"),
                                             fps, (w, h))
                writer.write(drawn)
                jf.write(json.dumps({"frame": frames, "time_s": round(frames / fps, 4), **result_json(task, res)})
                         + "\n")
                frames += 1
                bar.update()
    finally:
        bar.close()
        cap.release()
        if writer is not None:
            writer.release()
    return frames


def main(args: argparse.Namespace) -> int:
    import cv2

    from ..model import Model

    try:
        images, videos = expand_inputs(args.inputs)
        mean, std = parse_floats(args.mean, "--mean"), parse_floats(args.std, "--std")
        names: Optional[List[str]] = None
        if args.names:
            with open(args.names) as f:
                names = [line.strip() for line in f if line.strip()]
    except (ValueError, OSError) as e:
        error(reason(e))
        return EXIT_USAGE
    if not images and not videos:
        error("no images or videos among the inputs")
        return EXIT_USAGE
    onnx = is_onnx(args.model)
    if not onnx and (mean is not None or std is not None):
        error("--mean/--std apply to ONNX models (a .rknn carries its own)")
        return EXIT_USAGE
    try:
        kw: Dict[str, Any] = {"mean": mean, "std": std} if onnx else {"runtime": args.runtime,
                                                                       "core_mask": args.cores}
        model = Model(args.model, zero_copy=True, **kw)
    except RknnError as e:  # before OSError: RuntimeNotFoundError is both
        error(f"cannot open {args.model}: {reason(e, args.model)}")
        return EXIT_RUNTIME
    except (OSError, ValueError, TypeError) as e:
        error(f"cannot open {args.model}: {reason(e, args.model)}")
        return EXIT_USAGE
    with model:
        try:
            task = detect_task(model.outputs) if args.task == "auto" else args.task
            pipe = open_pipeline(task, model, names, args.conf)
        except (ValueError, TypeError) as e:
            error(reason(e))
            return EXIT_USAGE
        os.makedirs(args.out, exist_ok=True)
        used: Dict[str, int] = {}
        bar = Progress(len(images), "images")
        n_done = 0
        try:
            for path in images:
                try:
                    img = read_image(path)
                except ValueError as e:
                    error(str(e))
                    return EXIT_USAGE
                res = _call(task, pipe, img)
                stem = _unique_stem(path, used)
                cv2.imwrite(os.path.join(args.out, stem + ".png"), draw(task, pipe, img, res))
                doc = {"image": path, "model": args.model, "task": task, "size": [int(img.shape[1]), int(img.shape[0])],
                       **result_json(task, res)}
                with open(os.path.join(args.out, stem + ".json"), "w") as f:
                    json.dump(doc, f, indent=1)
                    f.write("\n")
                n_done += 1
                bar.update()
                if not bar.enabled:
                    base = os.path.join(args.out, stem)
                    print(f"{path}: {_summary(task, res)} -> {base}.png, {base}.json")
            bar.close()
            for path in videos:
                stem = _unique_stem(path, used)
                try:
                    frames = _run_video(task, pipe, path, args.out, stem)
                except ValueError as e:
                    error(str(e))
                    return EXIT_USAGE
                base = os.path.join(args.out, stem)
                print(f"{path}: {frames} frames -> {base}.mp4, {base}.jsonl")
        except RknnError as e:
            error(f"cannot run {args.model}: {reason(e, args.model)}")
            return EXIT_RUNTIME
        finally:
            pipe.close()
    sys.stdout.flush()
    return EXIT_OK


def _summary(task: str, res: Any) -> str:
    n = len(res)
    if task in ("detect", "instances", "faces", "pose"):
        return f"{n} {'face' if task == 'faces' else 'detection'}{'' if n == 1 else 's'}"
    if task == "text":
        return f"{n} text box{'' if n == 1 else 'es'}"
    if task == "segment":
        ids = np.unique(res)
        return f"{len(ids)} classes present"
    top = res.names[0] if res.names is not None else f"class {int(res.class_ids[0])}"
    return f"top-1 {top} ({float(res.scores[0]):.3f})"
