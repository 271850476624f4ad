"""End to end through the emulator: each task pipeline on the recorded source photo of its
fixture. The emulator must replay the golden record (counters), and the pipeline's result
must equal the reference decode (tests/reference.py) of the same golden tensors, mapped to
the photo with the letterbox parameters the fixture tool recorded (not the pipeline's own)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

import reference as ref
import rknn_builder as B
import rknn_fast
from emu_control import Emulator
from rknn_fast.errors import ModelClosedError
from rknn_fast.golden import read_golden
from rknn_fast.pipeline import ImagePipeline


@pytest.fixture(scope="module")
def emu():
    return Emulator()


class Golden:
    """One golden record of a fixture: float outputs, photo (BGR) and recorded letterbox."""

    def __init__(self, models_dir, data_dir, name, record=0):
        self.path = models_dir / f"{name}.rknn"
        meta = json.loads((models_dir / f"{name}.json").read_text())
        self.meta = meta
        self.record = record
        self.outs = [o.astype(np.float32) for o in read_golden(models_dir / f"{name}.golden")[record][1]]
        rec = meta["golden"]["records"][record]
        self.photo = cv2.imread(str(data_dir / rec["source_image"]), cv2.IMREAD_COLOR)
        lb = rec["letterbox"]
        (h, w), (nh, nw) = lb["dst_hw"], lb["new_hw"]
        self.src_hw = tuple(lb["src_hw"])
        assert self.photo.shape[:2] == self.src_hw
        self.dst_hw = (h, w)
        self.r, self.pad_x, self.pad_y = lb["r"], (w - nw) / 2, (h - nh) / 2

    def points(self, xy):
        """Model pixels (..., 2) -> photo pixels, clipped (the demos' mapping)."""
        p = np.array(xy, np.float64)
        p[..., 0] = np.clip((p[..., 0] - self.pad_x) / self.r, 0, self.src_hw[1])
        p[..., 1] = np.clip((p[..., 1] - self.pad_y) / self.r, 0, self.src_hw[0])
        return p

    def boxes(self, xyxy):
        return ref.unletterbox(np.asarray(xyxy, np.float64).reshape(-1, 4), self.r, self.pad_x, self.pad_y, self.src_hw)


def run_checked(emu, pipe, g, **kw):
    """Calls ``pipe`` on the golden photo and checks the emulator replayed that record."""
    emu.reset_counters()
    res = pipe(g.photo, **kw)
    c = emu.counters()
    assert (c["golden_runs"], c["synthetic_runs"], c["last_golden_record"]) == (1, 0, g.record)
    return res


ZC = pytest.mark.parametrize("zero_copy", [True, False], ids=["zero_copy", "copy"])


# --------------------------------------------------------------------------- text (DBNet)


@ZC
def test_text_detector_replays_ppocr_on_page(emu, models_dir, data_dir, zero_copy):
    g = Golden(models_dir, data_dir, "ppocr_det_rk3588_i8")
    # The fixture was recorded from the ultralytics letterbox of the RGB photo, border 114.
    assert (g.meta["golden"]["records"][0]["letterbox"]["pad_value"], g.pad_x, g.pad_y) == (114, 0, 80.5)
    with rknn_fast.TextDetector(g.path, runtime="emulator", zero_copy=zero_copy) as td:
        got = run_checked(emu, td, g)
    expect = ref.ref_dbnet(g.outs[0][0, 0])
    assert len(got) == len(expect) >= 3
    quads = g.points(np.array([q for q, _ in expect]).reshape(-1, 4, 2))
    canon = lambda qs: np.array([q[np.lexsort((q[:, 1], q[:, 0]))] for q in qs])  # noqa: E731
    np.testing.assert_allclose(canon(got.quads), canon(quads), atol=0.05)
    np.testing.assert_allclose(got.scores, [s for _, s in expect], atol=1e-4)
    np.testing.assert_allclose(got.xyxy, np.concatenate([quads.min(1), quads.max(1)], 1), atol=0.05)
    assert got.quads.dtype == np.float32 and got.xyxy.shape == (len(got), 4)


def test_text_detector_options_change_the_result(models_dir, data_dir):
    g = Golden(models_dir, data_dir, "ppocr_det_rk3588_i8")
    with rknn_fast.TextDetector(g.path, runtime="emulator", box_thresh=1.01) as td:
        assert len(td(g.photo)) == 0  # no mean probability reaches 1.01
    with rknn_fast.TextDetector(g.path, runtime="emulator", unclip_ratio=0.5) as td:
        small = td(g.photo)
    expect = ref.ref_dbnet(g.outs[0][0, 0], unclip_ratio=0.5)
    assert len(small) == len(expect)


# --------------------------------------------------------------------------- semantic segmentation


@ZC
def test_segmenter_nearest_replays_semseg(emu, models_dir, data_dir, zero_copy):
    g = Golden(models_dir, data_dir, "semseg_rk3588_i8")
    with rknn_fast.Segmenter(g.path, runtime="emulator", zero_copy=zero_copy) as seg:
        cmap = run_checked(emu, seg, g)
    assert cmap.shape == g.src_hw and cmap.dtype == np.uint8
    scores = g.outs[0][0]  # (21, 40, 40) on the model's 160x160 input
    mh, mw = scores.shape[1:]
    a = mw / g.dst_hw[1]
    expect = ref.ref_resample_nearest(ref.ref_argmax(scores), g.r * a, g.pad_x * a, g.r * mh / g.dst_hw[0],
                                      g.pad_y * mh / g.dst_hw[0], *g.src_hw)
    np.testing.assert_array_equal(cmap, expect)
    assert len(np.unique(cmap)) > 1


def test_segmenter_bilinear_and_overlay(emu, models_dir, data_dir):
    g = Golden(models_dir, data_dir, "semseg_rk3588_i8")
    pal = np.zeros((21, 3), np.uint8)
    pal[:, 0] = 255  # pure red in RGB
    with rknn_fast.Segmenter(g.path, runtime="emulator", mode="bilinear", palette=pal) as seg:
        cmap = run_checked(emu, seg, g)
        a = 40 / 160
        vals = ref.ref_bilinear(g.outs[0][0], g.r * a, g.pad_x * a, g.r * a, g.pad_y * a, *g.src_hw)
        s = np.sort(vals, axis=0)
        clear = s[-1] - s[-2] > 1e-3
        assert clear.mean() > 0.9
        np.testing.assert_array_equal(cmap[clear], vals.argmax(0)[clear])
        out = seg.overlay(g.photo, cmap, alpha=1.0)
    fg = cmap != 0
    assert fg.any() and (~fg).any()
    np.testing.assert_array_equal(out[fg], np.array([0, 0, 255], np.uint8)[None].repeat(fg.sum(), 0))  # BGR red
    np.testing.assert_array_equal(out[~fg], g.photo[~fg])


# --------------------------------------------------------------------------- instance segmentation


@ZC
def test_instance_segmenter_replays_yolov8_seg(emu, models_dir, data_dir, zero_copy):
    g = Golden(models_dir, data_dir, "yolov8_seg_rk3588_i8")
    assert g.pad_y > 0  # coffee.png is letterboxed: the masks must undo the padding
    o = g.outs
    cands = ref.yolov8_candidates([o[0], o[4], o[8]], [o[1], o[5], o[9]], [o[2], o[6], o[10]], 0.25, (160, 160))
    b, s, c, a = ref.detect(cands, 0.45)
    assert len(s) >= 1
    with rknn_fast.InstanceSegmenter(g.path, runtime="emulator", zero_copy=zero_copy, names=["n"] * 80) as seg:
        assert seg.head == "yolov8"
        det, cmap = run_checked(emu, seg, g, class_map=True)
        det2 = seg(g.photo)  # Detections only
    np.testing.assert_array_equal(det.anchor_index, a)
    np.testing.assert_array_equal(det.class_ids, c)
    np.testing.assert_allclose(det.scores, s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(det.xyxy, g.boxes(b), atol=5e-2)
    assert det.masks.shape == (len(det),) + g.src_hw and det.masks.dtype == bool and det.masks.any()
    flat = np.concatenate([o[i][0].reshape(32, -1) for i in (3, 7, 11)], 1)
    expect, logits = ref.ref_instance_masks(o[12][0], 0, flat[:, a].T, None, b.astype(np.float64), (160, 160),
                                            g.r, g.pad_x, g.pad_y, g.src_hw)
    diff = det.masks != expect
    # int8 (pipeline) and float (reference) logits agree in sign except within rounding of 0
    tiny = np.abs(logits) <= 1e-4 * np.abs(logits[np.isfinite(logits)]).max()
    assert not (diff & ~tiny).any(), f"{diff.sum()} mask pixels differ"
    np.testing.assert_array_equal(cmap, ref.ref_merged_class_map(det.masks, det.class_ids))
    assert isinstance(det2, rknn_fast.Detections) and det2.names is not None
    np.testing.assert_array_equal(det2.masks, det.masks)


# --------------------------------------------------------------------------- faces


@ZC
def test_face_detector_replays_retinaface(emu, models_dir, data_dir, zero_copy):
    g = Golden(models_dir, data_dir, "retinaface_rk3588_i8")
    boxes, scores, lm, _ = ref.ref_retinaface(*g.outs, (320, 320), 0.5)
    keep = ref.nms(boxes.astype(np.float32), scores.astype(np.float32), 0.4, max_detections=128)
    assert len(keep) >= 1
    with rknn_fast.FaceDetector(g.path, runtime="emulator", zero_copy=zero_copy) as fd:
        assert fd.head == "retinaface"
        det = run_checked(emu, fd, g)
    assert len(det) == len(keep) and det.label(0) == "face"
    np.testing.assert_allclose(det.scores, scores[keep], rtol=1e-5)
    np.testing.assert_allclose(det.xyxy, g.boxes(boxes[keep]), rtol=1e-4, atol=1e-2)
    assert det.keypoints.shape == (len(det), 5, 2)
    np.testing.assert_allclose(det.keypoints, g.points(lm[keep]), rtol=1e-4, atol=1e-2)


def test_face_detector_thresholds(emu, models_dir, data_dir):
    g = Golden(models_dir, data_dir, "retinaface_rk3588_i8")
    boxes, scores, _, _ = ref.ref_retinaface(*g.outs, (320, 320), 0.8)
    keep = ref.nms(boxes.astype(np.float32), scores.astype(np.float32), 0.2, max_detections=3)
    with rknn_fast.FaceDetector(g.path, 0.8, 0.2, runtime="emulator", max_detections=3) as fd:
        det = run_checked(emu, fd, g)
    assert len(det) == len(keep) <= 3
    np.testing.assert_allclose(det.scores, scores[keep], rtol=1e-5)


def _blazeface_model(tmp_path):
    """A BlazeFace-shaped .rknn (input 128x128, regressors (1,896,16), scores (1,896,1)); no
    golden file, so the emulator returns its synthetic outputs (uniform int8)."""
    images = B.Tensor("input", (1, 3, 128, 128), (1, 1, 128, 128, 3), kind=1, scale=[1 / 255], zero_point=[-128],
                      size=3 * 128 * 128, io_dtype="int8", io_layout="NHWC")
    # Scores in [-6.4, 6.35] (about 40% of the anchors pass 0.75); regressors in [0, 63.75] px.
    scores = B.Tensor("classificators", (1, 896, 1), (1, 896, 1), kind=2, scale=[0.05], zero_point=[0],
                      size=896, io_dtype="int8")
    reg = B.Tensor("regressors", (1, 896, 16), (1, 896, 16), kind=2, scale=[0.25], zero_point=[-128],
                   size=896 * 16, io_dtype="int8")
    path = tmp_path / "blazeface.rknn"
    path.write_bytes(B.build(B.Model(inputs=[images], outputs=[scores, reg])))  # scores first: order is found
    return path


def test_face_detector_blazeface_synthetic(emu, tmp_path, data_dir):
    photo = cv2.imread(str(data_dir / "images/coffee.png"), cv2.IMREAD_COLOR)
    with rknn_fast.FaceDetector(_blazeface_model(tmp_path), runtime="emulator", pad_value=0) as fd:
        assert fd.head == "blazeface"
        emu.reset_counters()
        (raw_scores, raw_reg), t = fd.infer(photo)
        det = fd(photo)
        c = emu.counters()
    assert (c["golden_runs"], c["synthetic_runs"]) == (0, 2)
    # reference (MediaPipe's rules, the defaults): dequantise, anchors, sigmoid >= 0.5, decode,
    # boxes with w <= 0 or h <= 0 dropped, weighted NMS 0.3 (boxes and keypoints blended with the
    # scores), letterbox undone
    s = (raw_scores.reshape(-1).astype(np.float64)) * 0.05
    r = (raw_reg.reshape(-1, 16).astype(np.float64) + 128) * 0.25
    a = ref.ref_blazeface_anchors_front()
    prob = 1 / (1 + np.exp(-s))
    sel = np.flatnonzero((prob >= 0.5) & (r[:, 2] > 0) & (r[:, 3] > 0))
    assert np.count_nonzero(prob >= 0.5) > len(sel)  # some zero sizes (q = -128) were dropped
    cx, cy = r[sel, 0] + a[sel, 0] * 128, r[sel, 1] + a[sel, 1] * 128
    w, h = r[sel, 2], r[sel, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    kp = r[sel, 4:].reshape(-1, 6, 2) + a[sel, None, :2] * 128
    top, wboxes, wkp = ref.weighted_nms(boxes, prob[sel], 0.3, extra=kp.reshape(-1, 12), max_detections=100)
    assert 1 <= len(top) == len(det)
    h0, w0 = photo.shape[:2]
    rr = min(128 / h0, 128 / w0)
    px, py = (128 - round(w0 * rr)) / 2, (128 - round(h0 * rr)) / 2
    assert (t.pad_x, t.pad_y) == (px, py) and py > 0
    np.testing.assert_allclose(det.scores, prob[sel][top], rtol=1e-6)
    np.testing.assert_allclose(det.xyxy, ref.unletterbox(wboxes, rr, px, py, (h0, w0)), atol=1e-3)
    wkp = wkp.reshape(-1, 6, 2)
    kx = np.clip((wkp[:, :, 0] - px) / rr, 0, w0)
    ky = np.clip((wkp[:, :, 1] - py) / rr, 0, h0)
    np.testing.assert_allclose(det.keypoints, np.stack([kx, ky], -1), atol=1e-3)
    # nms="plain": the best box of each group as it is.
    with rknn_fast.FaceDetector(_blazeface_model(tmp_path), runtime="emulator", pad_value=0, nms="plain") as fd:
        plain = fd(photo)
    keep = ref.nms(boxes.astype(np.float32), prob[sel].astype(np.float32), 0.3, max_detections=100)
    np.testing.assert_allclose(plain.scores, prob[sel][keep], rtol=1e-6)
    np.testing.assert_allclose(plain.xyxy, ref.unletterbox(boxes[keep], rr, px, py, (h0, w0)), atol=1e-3)
    with pytest.raises(ValueError, match="nms"):
        rknn_fast.FaceDetector(_blazeface_model(tmp_path), runtime="emulator", nms="soft")


# --------------------------------------------------------------------------- pose


@ZC
def test_pose_estimator_replays_yolov8_pose(emu, models_dir, data_dir, zero_copy):
    g = Golden(models_dir, data_dir, "yolov8_pose_rk3588_i8")
    boxes, scores, anchor = ref.ref_yolov8_pose(g.outs[:3], [(1.0, 0)] * 3, 0.5, (160, 160))
    keep = ref.nms(boxes.astype(np.float32), scores.astype(np.float32), 0.4)
    assert len(keep) >= 1
    with rknn_fast.PoseEstimator(g.path, runtime="emulator", zero_copy=zero_copy) as pe:
        assert pe.reg_max == 16
        det = run_checked(emu, pe, g)
    assert len(det) == len(keep) and det.label(0) == "person"
    np.testing.assert_allclose(det.scores, scores[keep], rtol=1e-5)
    np.testing.assert_allclose(det.xyxy, g.boxes(boxes[keep]), rtol=1e-4, atol=1e-2)
    kp = g.outs[3][0][:, :, anchor[keep]].transpose(2, 0, 1).astype(np.float64)
    kp[..., :2] = g.points(kp[..., :2])
    assert det.keypoints.shape == (len(det), 17, 3)
    np.testing.assert_allclose(det.keypoints, kp, rtol=1e-5, atol=1e-3)


# --------------------------------------------------------------------------- classification


@ZC
@pytest.mark.parametrize("record", [0, 1])
def test_classifier_replays_both_photos(emu, models_dir, data_dir, zero_copy, record):
    g = Golden(models_dir, data_dir, "classifier_rk3588_i8", record)
    names = [f"class{i}" for i in range(1000)]
    probs = g.outs[0].reshape(-1).astype(np.float64)
    assert abs(probs.sum() - 1) < 0.01  # the model ends with a softmax: "auto" keeps the values
    expect = sorted(range(1000), key=lambda i: (-probs[i], i))[:3]
    with rknn_fast.Classifier(g.path, k=3, names=names, runtime="emulator", zero_copy=zero_copy) as clf:
        got = run_checked(emu, clf, g)
    assert got.class_ids.tolist() == expect
    assert got.names == [names[i] for i in expect]
    np.testing.assert_allclose(got.scores, probs[expect], rtol=1e-6)
    with rknn_fast.Classifier(g.path, k=1000, softmax=True, runtime="emulator", zero_copy=zero_copy) as clf:
        got = run_checked(emu, clf, g)
    ids, p = ref.ref_softmax_topk(probs, 1000)
    np.testing.assert_allclose(got.scores, p, rtol=1e-5)
    np.testing.assert_array_equal(np.sort(got.class_ids), np.arange(1000))
    assert got.names is None


# --------------------------------------------------------------------------- shared behaviour

ALL = [
    (rknn_fast.TextDetector, "ppocr_det_rk3588_i8"),
    (rknn_fast.Segmenter, "semseg_rk3588_i8"),
    (rknn_fast.InstanceSegmenter, "yolov8_seg_rk3588_i8"),
    (rknn_fast.FaceDetector, "retinaface_rk3588_i8"),
    (rknn_fast.PoseEstimator, "yolov8_pose_rk3588_i8"),
    (rknn_fast.Classifier, "classifier_rk3588_i8"),
    (rknn_fast.Detector, "yolov8_rk3588_i8"),
]
IDS = [c.__name__ for c, _ in ALL]


@pytest.mark.parametrize("cls,name", ALL, ids=IDS)
def test_bad_images_raise_clear_errors(models_dir, cls, name):
    with cls(models_dir / f"{name}.rknn", runtime="emulator") as p:
        assert isinstance(p, ImagePipeline)
        with pytest.raises(TypeError, match=r"expected a uint8 image \(h, w, 3\), got float32"):
            p(np.zeros((20, 30, 3), np.float32))
        with pytest.raises(TypeError, match="got list"):
            p([[0, 0, 0]])
        with pytest.raises(ValueError, match=r"got shape \(20, 30\).*COLOR_GRAY2BGR"):
            p(np.zeros((20, 30), np.uint8))
        with pytest.raises(ValueError, match=r"got shape \(20, 30, 4\).*BGRA2BGR"):
            p(np.zeros((20, 30, 4), np.uint8))
        with pytest.raises(ValueError, match="non-empty"):
            p(np.zeros((0, 30, 3), np.uint8))
        with pytest.raises(ValueError, match=r"got shape \(1, 20, 30, 3\)"):
            p(np.zeros((1, 20, 30, 3), np.uint8))
        assert p.last_transform is None  # nothing reached the model
        # a strided (non-contiguous) frame is fine: letterbox reads it through OpenCV
        p(np.zeros((40, 60, 3), np.uint8)[::2, ::2])


@pytest.mark.parametrize("cls,name", ALL, ids=IDS)
def test_closed_pipeline(models_dir, data_dir, cls, name):
    photo = cv2.imread(str(data_dir / "images/astronaut.png"), cv2.IMREAD_COLOR)
    p = cls(models_dir / f"{name}.rknn", runtime="emulator")
    p(photo)
    p.close()
    assert p.closed and p.model.closed and "closed" in repr(p)
    with pytest.raises(ModelClosedError, match=f"{cls.__name__} is closed"):
        p(photo)
    p.close()  # idempotent
    # a borrowed model outlives the pipeline
    model = rknn_fast.Model(models_dir / f"{name}.rknn", runtime="emulator", zero_copy=True)
    with cls(model) as q:
        q(photo)
    assert q.closed and not model.closed
    with pytest.raises(ModelClosedError):
        q(photo)
    with cls(model) as q2:  # the model can serve a new pipeline
        q2(photo)
    model.close()


WRONG = [
    (rknn_fast.Segmenter, "yolov8_rk3588_i8", "expected one score output"),
    (rknn_fast.InstanceSegmenter, "yolov8_rk3588_i8", "cannot tell the segmentation head"),
    (rknn_fast.TextDetector, "semseg_rk3588_i8", "expected one probability map output"),
    (rknn_fast.FaceDetector, "classifier_rk3588_i8", "cannot tell the face head"),
    (rknn_fast.PoseEstimator, "yolov8_seg_rk3588_i8", "expected YOLOv8-pose outputs"),
    (rknn_fast.Classifier, "semseg_rk3588_i8", "expected one score output"),
]


@pytest.mark.parametrize("cls,name,msg", WRONG, ids=[c.__name__ for c, _, _ in WRONG])
def test_wrong_model_is_refused_and_closed(emu, models_dir, cls, name, msg):
    live = emu.counters()["contexts_live"]
    with pytest.raises(ValueError, match=msg):
        cls(models_dir / f"{name}.rknn", runtime="emulator")
    assert emu.counters()["contexts_live"] == live  # the model it opened was closed again


def test_bad_arguments(models_dir):
    seg = models_dir / "semseg_rk3588_i8.rknn"
    with pytest.raises(ValueError, match="mode"):
        rknn_fast.Segmenter(seg, mode="cubic", runtime="emulator")
    with pytest.raises(ValueError, match="palette"):
        rknn_fast.Segmenter(seg, palette=np.zeros((5, 3), np.uint8), runtime="emulator")
    with pytest.raises(ValueError, match="convention"):
        rknn_fast.Segmenter(seg, convention="center", runtime="emulator")
    with pytest.raises(ValueError, match="pad_value"):
        rknn_fast.Segmenter(seg, pad_value=300, runtime="emulator")
    with pytest.raises(ValueError, match="head"):
        rknn_fast.InstanceSegmenter(seg, head="yolov7", runtime="emulator")
    with pytest.raises(ValueError, match="head"):
        rknn_fast.FaceDetector(seg, head="mtcnn", runtime="emulator")
    with pytest.raises(ValueError, match="score_mode"):
        rknn_fast.TextDetector(seg, score_mode="exact", runtime="emulator")
    clf = models_dir / "classifier_rk3588_i8.rknn"
    with pytest.raises(ValueError, match="k as an integer"):
        rknn_fast.Classifier(clf, k=0, runtime="emulator")
    with pytest.raises(ValueError, match="softmax"):
        rknn_fast.Classifier(clf, softmax="yes", runtime="emulator")
    with pytest.raises(ValueError, match="expected 1000 names, got 2"):
        rknn_fast.Classifier(clf, names=["a", "b"], runtime="emulator")


def test_threads_share_one_pipeline(emu, models_dir, data_dir):
    """Calls from several threads on one pipeline are serialised: every call gets its own
    photo's result (two photos alternate, each replaying its own golden record)."""
    g = [Golden(models_dir, data_dir, "classifier_rk3588_i8", r) for r in (0, 1)]
    with rknn_fast.Classifier(g[0].path, k=5, runtime="emulator") as clf:
        expect = [clf(x.photo) for x in g]
        assert expect[0].class_ids.tolist() != expect[1].class_ids.tolist()
        emu.reset_counters()
        start = threading.Barrier(4)

        def work(i):
            start.wait()
            return [(j % 2, clf(g[j % 2].photo)) for j in range(i, i + 6)]

        with ThreadPoolExecutor(4) as ex:
            results = [r for rs in ex.map(work, range(4)) for r in rs]
    for k, res in results:
        np.testing.assert_array_equal(res.class_ids, expect[k].class_ids)
        np.testing.assert_array_equal(res.scores, expect[k].scores)
    c = emu.counters()
    assert (c["golden_runs"], c["synthetic_runs"]) == (24, 0)


def test_threads_with_one_pipeline_each(emu, models_dir, data_dir):
    g = Golden(models_dir, data_dir, "semseg_rk3588_i8")
    with rknn_fast.Segmenter(g.path, runtime="emulator") as seg:
        expect = seg(g.photo)

    def work(_):
        with rknn_fast.Segmenter(g.path, runtime="emulator") as s:
            return [s(g.photo) for _ in range(3)]

    with ThreadPoolExecutor(3) as ex:
        for maps in ex.map(work, range(3)):
            for m in maps:
                np.testing.assert_array_equal(m, expect)


def test_infer_returns_raw_outputs_and_transform(models_dir, data_dir):
    g = Golden(models_dir, data_dir, "semseg_rk3588_i8")
    with rknn_fast.Segmenter(g.path, runtime="emulator", zero_copy=False) as seg:
        (out,), t = seg.infer(g.photo)
    np.testing.assert_array_equal(ref.dequantize(out, *_qp(seg.model.outputs[0])), g.outs[0])
    assert (t.src_shape, t.dst_shape) == (g.src_hw, g.dst_hw)


def _qp(info):
    return info.scale, info.zero_point


def test_draw_helpers(models_dir, data_dir):
    import dataclasses

    g = Golden(models_dir, data_dir, "yolov8_seg_rk3588_i8")
    with rknn_fast.InstanceSegmenter(g.path, runtime="emulator") as seg:
        det = seg(g.photo)
    before = g.photo.copy()
    with_masks = det.draw(g.photo)
    no_masks = det.draw(g.photo, mask_alpha=0)
    np.testing.assert_array_equal(g.photo, before)  # drawn on a copy
    diff = (with_masks != no_masks).any(-1)
    union = det.masks.any(0)
    assert diff.sum() > 0.5 * union.sum() and not (diff & ~union).any()
    with pytest.raises(ValueError, match="masks of the image's size"):
        det.draw(g.photo[:10])

    p = Golden(models_dir, data_dir, "yolov8_pose_rk3588_i8")
    with rknn_fast.PoseEstimator(p.path, runtime="emulator") as pe:
        people = pe(p.photo)
    a = people.draw(p.photo, keypoint_threshold=-np.inf)
    b = dataclasses.replace(people, keypoints=None).draw(p.photo)
    diff = (a != b).any(-1)
    ys, xs = np.nonzero(diff)
    kp = people.keypoints.reshape(-1, 3)
    near = np.min(np.hypot(xs[:, None] - kp[None, :, 0], ys[:, None] - kp[None, :, 1]), axis=1)
    assert diff.any() and near.max() <= 5  # dots of radius 3 around the keypoints only
    high = people.draw(p.photo, keypoint_threshold=np.inf)
    np.testing.assert_array_equal(high, b)

    t = Golden(models_dir, data_dir, "ppocr_det_rk3588_i8")
    with rknn_fast.TextDetector(t.path, runtime="emulator") as td:
        boxes = td(t.photo)
    out = boxes.draw(t.photo, color=(0, 0, 255), thickness=1)
    changed = (out != t.photo).any(-1)
    assert changed.any() and (out[changed] == (0, 0, 255)).all()
    x1, y1, x2, y2 = np.rint(boxes.xyxy[0]).astype(int)
    assert not changed[y1 + 3:y2 - 3, x1 + 3:x2 - 3].all()  # outlines, not filled
    with pytest.raises(TypeError, match="uint8"):
        boxes.draw(t.photo.astype(np.float32))


def _doc_snippets():
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parent.parent / "docs/pipelines.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("code", _doc_snippets(),
                         ids=lambda c: next(ln for ln in c.splitlines() if "rknn_fast." in ln and "import" not in ln)
                         .strip()[:30])
def test_docs_snippets_run(emu, data_dir, tmp_path, monkeypatch, capsys, code):
    """Every snippet of docs/pipelines.md runs as written (fixture paths resolved, pictures
    written to a temporary directory) and every run replays a golden record."""
    monkeypatch.chdir(tmp_path)
    emu.reset_counters()
    exec(compile(code.replace('"tests/data/', f'"{data_dir}/'), "docs/pipelines.md", "exec"), {})
    c = emu.counters()
    assert c["golden_runs"] >= 1 and c["synthetic_runs"] == 0
    assert not list(tmp_path.glob("*.png"))  # pictures go to out/, not the working directory
    written = list((tmp_path / "out").glob("*.png"))
    assert written or "imwrite" not in code
    for p in written:
        assert cv2.imread(str(p)) is not None


def test_docs_have_a_snippet_per_pipeline():
    joined = "\n".join(_doc_snippets())
    for cls in ("Segmenter", "InstanceSegmenter", "TextDetector", "FaceDetector", "PoseEstimator", "Classifier"):
        assert f"rknn_fast.{cls}(" in joined


def _yolov5_seg_model(tmp_path):
    """A YOLOv5-seg-shaped .rknn at 160 (det (1,255,H,W) + coefficients (1,96,H,W) per stride,
    prototypes (1,32,40,40)), no golden file: the emulator returns synthetic int8 outputs."""
    images = B.Tensor("images", (1, 3, 160, 160), (1, 1, 160, 160, 3), kind=1, scale=[1 / 255], zero_point=[-128],
                      size=3 * 160 * 160, io_dtype="int8", io_layout="NHWC")
    outs = []
    for s in (20, 10, 5):
        # det: values in [0, 1] as after the sigmoid; coefficients around 0 with a stride's own zero point
        outs.append(B.Tensor(f"det_{s}", (1, 255, s, s), (1, 16, s, s, 16), kind=2, scale=[1 / 255], zero_point=[-128],
                             size=16 * s * s * 16, io_dtype="int8", io_layout="NCHW"))
        outs.append(B.Tensor(f"coef_{s}", (1, 96, s, s), (1, 6, s, s, 16), kind=2, scale=[0.02], zero_point=[s - 10],
                             size=6 * s * s * 16, io_dtype="int8", io_layout="NCHW"))
    outs.append(B.Tensor("proto", (1, 32, 40, 40), (1, 2, 40, 40, 16), kind=2, scale=[0.03], zero_point=[3],
                         size=2 * 40 * 40 * 16, io_dtype="int8", io_layout="NCHW"))
    path = tmp_path / "yolov5_seg.rknn"
    path.write_bytes(B.build(B.Model(inputs=[images], outputs=outs)))
    return path


@ZC
def test_instance_segmenter_yolov5_seg_synthetic(emu, tmp_path, data_dir, zero_copy):
    from rknn_fast.postprocess import YOLOV5_ANCHORS

    photo = cv2.imread(str(data_dir / "images/coffee.png"), cv2.IMREAD_COLOR)
    path = _yolov5_seg_model(tmp_path)
    with rknn_fast.InstanceSegmenter(path, runtime="emulator", zero_copy=False) as seg:
        raw, t = seg.infer(photo)  # logical NCHW int8
        qps = [(o.scale, o.zero_point) for o in seg.model.outputs]
    with rknn_fast.InstanceSegmenter(path, runtime="emulator", zero_copy=zero_copy, conf=0.9,
                                     max_detections=12) as seg:
        assert seg.head == "yolov5"
        emu.reset_counters()
        det, cmap = seg(photo, class_map=True)
        assert emu.counters()["synthetic_runs"] == 1
    f = [ref.dequantize(r, *q) for r, q in zip(raw, qps)]
    cands = ref.yolov5_candidates([f[0], f[2], f[4]], np.array(YOLOV5_ANCHORS, np.float32), 0.9, (160, 160))
    b, s, c, a = ref.detect(cands, 0.45, max_detections=12)
    assert len(det) == len(s) == 12
    np.testing.assert_array_equal(det.anchor_index, a)
    np.testing.assert_allclose(det.scores, s, rtol=1e-5)
    np.testing.assert_allclose(det.xyxy, ref.unletterbox(b, t.scale, t.pad_x, t.pad_y, photo.shape[:2]), atol=5e-2)
    # coefficients of anchor a at cell (y, x) of stride level l: channels 32a..32a+31
    coeffs = []
    for idx in a:
        for lv, n in enumerate((20, 10, 5)):
            if idx < 3 * n * n:
                anc, cell = divmod(int(idx), n * n)
                coeffs.append(f[2 * lv + 1][0, 32 * anc:32 * anc + 32, cell // n, cell % n])
                break
            idx -= 3 * n * n
    expect, logits = ref.ref_instance_masks(f[6][0], 0, np.array(coeffs), None, b.astype(np.float64), (160, 160),
                                            t.scale, t.pad_x, t.pad_y, photo.shape[:2])
    tiny = np.abs(logits) <= 1e-4 * np.abs(logits[np.isfinite(logits)]).max()
    assert det.masks.any() and not ((det.masks != expect) & ~tiny).any()
    np.testing.assert_array_equal(cmap, ref.ref_merged_class_map(det.masks, det.class_ids))


@pytest.mark.parametrize("layout", ["native", "nhwc", "logical"])
@pytest.mark.parametrize("cls,name", ALL, ids=IDS)
def test_borrowed_model_any_output_layout(models_dir, data_dir, cls, name, layout):
    """A Model opened with any output layout gives the same result as the default pipeline."""
    g = Golden(models_dir, data_dir, name)
    with cls(g.path, runtime="emulator") as p:
        expect = p(g.photo)
    with rknn_fast.Model(g.path, runtime="emulator", zero_copy=True, output_layout=layout) as model:
        with cls(model) as p:
            got = p(g.photo)
    if isinstance(expect, np.ndarray):
        np.testing.assert_array_equal(got, expect)
        return
    for field in ("xyxy", "quads", "scores", "class_ids", "masks", "keypoints"):
        if getattr(expect, field, None) is not None:
            np.testing.assert_allclose(getattr(got, field), getattr(expect, field), rtol=1e-6, atol=1e-6)


def test_one_channel_model_takes_grayscale_frames(emu, tmp_path, data_dir):
    images = B.Tensor("gray", (1, 1, 32, 32), (1, 1, 32, 32, 1), kind=1, scale=[1 / 255], zero_point=[-128],
                      size=32 * 32, io_dtype="int8", io_layout="NHWC")
    scores = B.Tensor("scores", (1, 3, 8, 8), (1, 1, 8, 8, 16), kind=2, scale=[0.1], zero_point=[0],
                      size=8 * 8 * 16, io_dtype="int8", io_layout="NCHW")
    path = tmp_path / "gray_seg.rknn"
    path.write_bytes(B.build(B.Model(inputs=[images], outputs=[scores])))
    gray = cv2.imread(str(data_dir / "images/coffee.png"), cv2.IMREAD_GRAYSCALE)
    lb, r, dw, dh = ref.letterbox_ultralytics(gray, (32, 32))
    with rknn_fast.Segmenter(path, runtime="emulator") as seg:
        assert seg.channels == 1
        cmap = seg(gray)
        np.testing.assert_array_equal(seg.model.input_view(0)[0, :, :, 0], lb)
        np.testing.assert_array_equal(seg(gray[:, :, None]), cmap)  # (h, w, 1) too
        with pytest.raises(ValueError, match=r"expected a \(h, w\) or \(h, w, 1\) image"):
            seg(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
        (raw,), t = seg.infer(gray)
    assert cmap.shape == gray.shape
    logical = ref.from_nc1hwc2(raw, 3)[0]
    a = 8 / 32
    expect = ref.ref_resample_nearest(ref.ref_argmax(logical.astype(np.int64)), r * a, dw * a, r * a, dh * a, *gray.shape)
    np.testing.assert_array_equal(cmap, expect)


def test_pipeline_follows_a_rebound_zero_copy_input(models_dir):
    # A borrowed zero-copy Model rebound to a dma-buf after the pipeline was made: frames must
    # land in the buffer the NPU reads (they went to the old, unbound one).
    import os
    with rknn_fast.Model(models_dir / "classifier_rk3588_i8.rknn", runtime="emulator", zero_copy=True) as m:
        clf = rknn_fast.Classifier(m)
        fd = os.memfd_create("frame")
        try:
            size = m.input_view(0).nbytes
            os.ftruncate(fd, size)
            view = m.bind_input_fd(0, fd, size)
            h, w = clf.input_size
            frame = np.full((h, w, 3), 77, np.uint8)
            clf(frame)
            assert (view == 77).all()
            assert os.pread(fd, 16, 0) == bytes([77]) * 16
        finally:
            del view
            os.close(fd)
