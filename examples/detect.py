"""Detect objects in a photo and write it with the boxes drawn.

    python3 examples/detect.py --runtime emulator        # the shipped model and photo
    python3 examples/detect.py model.rknn photo.jpg out.png --conf 0.25

Defaults: the real ddddocr YOLOX-style detector (tests/data/models/ddddocr_det_rk3588_i8.rknn,
MIT) on tests/data/images/page.png, writing out/detections.png. On x86, ``--runtime emulator``
replays the outputs rknn-toolkit2's simulator recorded for that photo; on a board leave it
out to use librknnrt.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib

import cv2

import rknn_fast

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_model = str(DATA / "models" / "ddddocr_det_rk3588_i8.rknn")
    ap.add_argument("model", nargs="?", default=default_model,
                    help="a detector .rknn (YOLOv8/YOLO11, flat, YOLOv5 or YOLOX head; default: "
                         "the shipped ddddocr text detector)")
    ap.add_argument("image", nargs="?", default=str(DATA / "images" / "page.png"),
                    help="photo to detect in, any format OpenCV reads (default: tests/data/images/page.png)")
    ap.add_argument("out", nargs="?", default="out/detections.png",
                    help="where to write the photo with the boxes drawn (default: out/detections.png)")
    ap.add_argument("--runtime", default=None, help="librknnrt path or 'emulator'")
    ap.add_argument("--conf", type=float, default=0.3, help="score threshold (default 0.3)")
    ap.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold (default 0.45)")
    ap.add_argument("--head", default="auto",
                    help="'auto' (told from the output shapes), 'yolov8', 'flat', 'yolov5' or 'yolox'")
    args = ap.parse_args()

    frame = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if frame is None:
        raise SystemExit(f"cannot read {args.image}")
    if args.runtime == "emulator":
        from rknn_fast import emulator

        emulator.reset_counters()
    names = ["text"] if args.model == default_model else None  # ddddocr: one class, text
    with rknn_fast.Detector(args.model, head=args.head, conf=args.conf, iou=args.iou,
                            runtime=args.runtime, names=names) as detector:
        dets = detector(frame)
    for i in range(len(dets)):
        x1, y1, x2, y2 = dets.xyxy[i]
        print(f"{dets.label(i):>8} {dets.scores[i]:.2f}  ({x1:.0f}, {y1:.0f}, {x2:.0f}, {y2:.0f})")
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    # A small photo is drawn enlarged (nearest pixels, boxes scaled alike) so that the labels
    # fit beside the objects instead of covering them.
    k = max(1, 1024 // max(frame.shape[:2]))
    if k > 1:
        frame = cv2.resize(frame, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)
        dets = dataclasses.replace(dets, xyxy=dets.xyxy * k)
    cv2.imwrite(args.out, dets.draw(frame, thickness=1))
    print(f"{len(dets)} detections ({detector.head} head) -> {args.out}")
    if args.runtime == "emulator":
        replayed = emulator.counters()["golden_runs"] > 0
        print("emulator: " + ("replayed the outputs recorded for this photo" if replayed else
                              "synthetic outputs (this input matches no recording: boxes are meaningless)"))


if __name__ == "__main__":
    main()
