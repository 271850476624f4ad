"""Per-call time of the task pipelines against the same steps written by hand.

Run: python bench/bench_pipelines.py [--quick]

For each fixture (through the emulator, which replays the recorded outputs of the photo),
the two steps a pipeline owns around the runtime, each timed on its own:
* preprocess: ``pipeline.preprocess(frame)`` (letterbox straight into the zero-copy input
  buffer) vs the fixture tool's letterbox (cv2.resize + cv2.copyMakeBorder + cv2.cvtColor);
* decode: the pipeline's decode of the zero-copy (NPU-native NC1HWC2) outputs vs the same
  rknn_fast decoder on the copy API's logical outputs ("by hand": Model.run(img) + decoder).
Both full paths are first checked to give the same result. The emulator's run itself is
not compared (it says nothing about an NPU; its time is printed for reference).
Saves JSON to bench/results/bench_pipelines.json.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import statistics
import time

import cv2
import numpy as np

import rknn_fast
from rknn_fast import LetterboxTransform
from rknn_fast.postprocess import classify, decode_dbnet, decode_retinaface, decode_yolov8_pose, decode_yolov8_seg, segment

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"


def timeit(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def by_hand_letterbox(model: rknn_fast.Model, frame: np.ndarray):
    h, w = frame.shape[:2]
    H, W = model.inputs[0].shape[1:3]
    r = min(H / h, W / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (W - nw) / 2, (H - nh) / 2
    img = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    img = cv2.copyMakeBorder(img, int(round(dh - 0.1)), int(round(dh + 0.1)), int(round(dw - 0.1)),
                             int(round(dw + 0.1)), cv2.BORDER_CONSTANT, value=(114, 114, 114))
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img, LetterboxTransform((h, w), (H, W), r, dw, dh)


def by_hand(model: rknn_fast.Model, frame: np.ndarray):
    img, t = by_hand_letterbox(model, frame)
    return model.run(img), t


def qp(info):
    return info.scale, info.zero_point


CASES = {
    "TextDetector ppocr_det page.png": (
        rknn_fast.TextDetector, "ppocr_det_rk3588_i8", "page.png",
        lambda m, o, t: decode_dbnet(o[0], transform=t, qparams=qp(m.outputs[0])),
        lambda a, b: np.array_equal(a.quads, b.quads)),
    "Segmenter semseg astronaut.png": (
        rknn_fast.Segmenter, "semseg_rk3588_i8", "astronaut.png",
        lambda m, o, t: segment(o[0], transform=t),
        np.array_equal),
    "InstanceSegmenter yolov8_seg coffee.png": (
        rknn_fast.InstanceSegmenter, "yolov8_seg_rk3588_i8", "coffee.png",
        lambda m, o, t: decode_yolov8_seg(o, m.outputs, transform=t),
        lambda a, b: np.array_equal(a.masks, b.masks) and np.allclose(a.xyxy, b.xyxy, atol=1e-3)),
    "FaceDetector retinaface astronaut.png": (
        rknn_fast.FaceDetector, "retinaface_rk3588_i8", "astronaut.png",
        lambda m, o, t: decode_retinaface(*o, transform=t, qparams=[qp(i) for i in m.outputs]),
        lambda a, b: np.allclose(a.xyxy, b.xyxy, atol=1e-3)),
    "PoseEstimator yolov8_pose astronaut.png": (
        rknn_fast.PoseEstimator, "yolov8_pose_rk3588_i8", "astronaut.png",
        lambda m, o, t: decode_yolov8_pose(o[:3], o[3], qparams=[qp(i) for i in m.outputs[:3]],
                                           keypoint_qparams=qp(m.outputs[3]), transform=t),
        lambda a, b: np.allclose(a.keypoints, b.keypoints, atol=1e-3)),
    "Classifier classifier chelsea.png": (
        rknn_fast.Classifier, "classifier_rk3588_i8", "chelsea.png",
        lambda m, o, t: classify(o[0], 5, apply_softmax=False),
        lambda a, b: np.array_equal(a.class_ids, b.class_ids)),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 20 if args.quick else 100
    results = []
    for case, (cls, name, photo, decode, same) in CASES.items():
        path = DATA / "models" / f"{name}.rknn"
        frame = cv2.imread(str(DATA / "images" / photo), cv2.IMREAD_COLOR)
        with cls(path, runtime="emulator") as pipe, rknn_fast.Model(path, runtime="emulator") as model:
            def manual():
                outs, t = by_hand(model, frame)
                return decode(model, outs, t)
            assert same(pipe(frame), manual()), case
            t = pipe.preprocess(frame)
            native = pipe.model.run()
            img, _ = rknn_fast.letterbox(frame, pipe.input_size, bgr_to_rgb=True)
            logical = [o.copy() for o in model.run(img)]
            pre, pre_base = timeit(lambda: pipe.preprocess(frame), repeat), timeit(lambda: by_hand_letterbox(model, frame), repeat)
            dec = timeit(lambda: pipe._decode(native, t), repeat)
            dec_base = timeit(lambda: decode(model, logical, t), repeat)
            run_zc, run_copy = timeit(lambda: pipe.model.run(), repeat), timeit(lambda: model.run(img), repeat)
        ours, base = pre + dec, pre_base + dec_base
        print(f"{case:<40} preprocess {pre * 1e3:6.3f} vs {pre_base * 1e3:6.3f} ms | decode {dec * 1e3:6.3f} vs "
              f"{dec_base * 1e3:6.3f} ms | sum {base / ours:4.2f}x  [emulator run {run_zc * 1e3:.2f} / {run_copy * 1e3:.2f} ms]")
        results.append(dict(case=case, preprocess_s=pre, preprocess_baseline_s=pre_base, decode_s=dec,
                            decode_baseline_s=dec_base, rknn_fast_s=ours, baseline_s=base, ratio=base / ours,
                            baseline="by hand: cv2 resize+copyMakeBorder+cvtColor, copy API logical outputs, same decoder",
                            emulator_run_zero_copy_s=run_zc, emulator_run_copy_s=run_copy))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_pipelines.json").write_text(json.dumps(dict(machine=platform.machine(), results=results), indent=2))


if __name__ == "__main__":
    main()
