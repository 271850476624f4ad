"""Detect objects in a photo and write it with the boxes drawn.

    python examples/detect.py tests/data/models/ddddocr_det_rk3588_i8.rknn \
        tests/data/images/page.png out/page_boxes.png --runtime emulator --conf 0.1

On x86 ``--runtime emulator`` replays the outputs recorded for the shipped fixtures (the
input must be the recorded photo); on a board leave it out to use librknnrt.
"""

from __future__ import annotations

import argparse
import pathlib

import cv2

import rknn_fast


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("out")
    ap.add_argument("--runtime", default=None, help="librknnrt path or 'emulator'")
    ap.add_argument("--conf", type=float, default=0.25)
    ap.add_argument("--iou", type=float, default=0.45)
    ap.add_argument("--head", default="auto")
    args = ap.parse_args()

    frame = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if frame is None:
        raise SystemExit(f"cannot read {args.image}")
    with rknn_fast.Detector(args.model, head=args.head, conf=args.conf, iou=args.iou,
                            runtime=args.runtime) as detector:
        dets = detector(frame)
    for i in range(len(dets)):
        x1, y1, x2, y2 = dets.xyxy[i]
        print(f"{dets.label(i):>8} {dets.scores[i]:.2f}  ({x1:.0f}, {y1:.0f}, {x2:.0f}, {y2:.0f})")
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, dets.draw(frame, thickness=1, font_scale=0.35))
    print(f"{len(dets)} detections ({detector.head} head) -> {args.out}")


if __name__ == "__main__":
    main()
