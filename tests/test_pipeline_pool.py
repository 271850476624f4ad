"""Pipelines on several NPU cores (``cores=``), ``map``/``submit``, and the arguments every
pipeline shares (declared once in ImagePipeline, checked at construction)."""

from __future__ import annotations

import dataclasses
import inspect

import cv2
import numpy as np
import pytest

import rknn_fast
from rknn_fast import emulator
from rknn_fast.errors import ModelClosedError
from rknn_fast.pipeline import PIPELINE_OPTIONS, ImagePipeline

# (pipeline, fixture, photo whose golden record the emulator replays)
PIPELINES = [
    (rknn_fast.Detector, "yolov8_rk3588_i8", "astronaut.png"),
    (rknn_fast.Segmenter, "semseg_rk3588_i8", "astronaut.png"),
    (rknn_fast.InstanceSegmenter, "yolov8_seg_rk3588_i8", "coffee.png"),
    (rknn_fast.TextDetector, "ppocr_det_rk3588_i8", "page.png"),
    (rknn_fast.FaceDetector, "retinaface_rk3588_i8", "astronaut.png"),
    (rknn_fast.PoseEstimator, "yolov8_pose_rk3588_i8", "astronaut.png"),
    (rknn_fast.Classifier, "classifier_rk3588_i8", "chelsea.png"),
]
IDS = [p[0].__name__ for p in PIPELINES]


pytestmark = pytest.mark.usefixtures("clean_emulator")


def _same(a, b):
    """Equal results: arrays elementwise, dataclasses field by field."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _photos(data_dir, name, n_random=4):
    photo = cv2.imread(str(data_dir / "images" / name), cv2.IMREAD_COLOR)
    rng = np.random.default_rng(0)
    randoms = [rng.integers(0, 256, (90 + 7 * k, 120 + 11 * k, 3), dtype=np.uint8) for k in range(n_random)]
    # the golden photo (recorded outputs) between synthetic ones, and twice
    return [randoms[0], photo] + randoms[1:] + [photo]


@pytest.mark.parametrize("cls,fixture,photo", PIPELINES, ids=IDS)
def test_map_on_every_core_equals_sequential_calls(models_dir, data_dir, cls, fixture, photo):
    path = models_dir / f"{fixture}.rknn"
    frames = _photos(data_dir, photo)
    with cls(path, runtime="emulator") as seq:
        want = [seq(f) for f in frames]
    emulator.set_npu_time_us(1000)
    emulator.reset_counters()
    with cls(path, runtime="emulator", cores="all") as pipe:
        assert pipe.pool is not None and len(pipe.pool) == 3
        got = list(pipe.map(frames))
        futs = [pipe.submit(f) for f in frames]
        submitted = [f.result(timeout=60) for f in futs]
        called = pipe(frames[1])
        unordered = list(pipe.map(frames, ordered=False))
    c = emulator.counters()
    assert c["golden_runs"] >= 2  # the photo's record was replayed: real results, not only noise
    assert all(n > 0 for n in c["core_runs"])
    assert all(_same(g, w) for g, w in zip(got, want)) and len(got) == len(want)
    assert all(_same(g, w) for g, w in zip(submitted, want))
    assert _same(called, want[1])
    assert len(unordered) == len(want) and all(any(_same(u, w) for w in want) for u in unordered)


def test_map_and_submit_without_cores_run_in_the_calling_thread(models_dir, data_dir):
    frames = _photos(data_dir, "astronaut.png", n_random=2)
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator") as det:
        assert det.pool is None
        want = [det(f) for f in frames]
        fut = det.submit(frames[1])
        assert fut.done() and _same(fut.result(), want[1])
        assert all(_same(g, w) for g, w in zip(det.map(frames), want))
        with pytest.raises(TypeError):
            det.submit(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ModelClosedError, match="Detector is closed"):
        det.submit(frames[0])
    with pytest.raises(ModelClosedError, match="Detector is closed"):
        det.map(frames)


def test_rk3566_pipeline_with_all_cores_and_two_contexts(models_dir, data_dir):
    path = models_dir / "yolov8_rk3566_i8.rknn"
    frames = _photos(data_dir, "astronaut.png")
    with rknn_fast.Detector(path, runtime="emulator") as seq:
        want = [seq(f) for f in frames]
    emulator.set_npu_time_us(2000)
    with rknn_fast.Detector(path, runtime="emulator", cores="all", contexts_per_core=2) as det:
        assert det.pool.cores == [0] and len(det.pool) == 2
        got = list(det.map(frames * 3))
        st = det.pool.stats()
    assert all(_same(g, w) for g, w in zip(got, want * 3))
    assert st["frames"] == len(frames) * 3 and list(st["cores"]) == [0]


def test_pipeline_close_finishes_frames_and_frees_contexts(models_dir, data_dir):
    frames = _photos(data_dir, "astronaut.png")
    before = emulator.counters()
    emulator.set_npu_time_us(10000)
    det = rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator", cores="all",
                             contexts_per_core=2)
    futs = [det.submit(f) for f in frames]
    det.close()
    assert all(f.done() and f.exception() is None for f in futs)
    after = emulator.counters()
    assert (after["contexts_live"], after["mems_live"]) == (before["contexts_live"], before["mems_live"])
    with pytest.raises(ModelClosedError):
        det(frames[0])


def test_a_failing_frame_fails_only_its_future(models_dir, data_dir):
    frames = _photos(data_dir, "astronaut.png")
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator") as seq:
        want = [seq(f) for f in frames]
    with rknn_fast.Detector(models_dir / "yolov8_rk3588_i8.rknn", runtime="emulator", cores="all") as det:
        emulator.inject_fault("run=2 code=-7")  # RKNN_ERR_CTX_INVALID: that context is re-created
        futs = [det.submit(f) for f in frames]
        errs = [f.exception(timeout=60) for f in futs]
        assert sum(e is not None for e in errs) == 1
        assert all(_same(f.result(), w) for f, e, w in zip(futs, errs, want) if e is None)
        assert det.pool.stats()["recreated"] == 1
        assert all(_same(g, w) for g, w in zip(det.map(frames), want))


# --------------------------------------------------------------------------- arguments


def test_shared_arguments_are_declared_once_in_the_base():
    assert PIPELINE_OPTIONS == ("runtime", "zero_copy", "rgb", "convention", "pad_value", "core_mask", "priority",
                                "cores", "contexts_per_core", "mean", "std")
    for cls, _, _ in PIPELINES:
        own = inspect.signature(cls.__init__).parameters
        assert not set(own) & set(PIPELINE_OPTIONS), cls.__name__


@pytest.mark.parametrize("cls,fixture,photo", PIPELINES, ids=IDS)
def test_unknown_keyword_raises_at_construction_naming_the_pipeline(models_dir, cls, fixture, photo):
    before = emulator.counters()["contexts_live"]
    with pytest.raises(TypeError, match=rf"{cls.__name__}\(\) got unexpected keyword argument 'cnof'"):
        cls(models_dir / f"{fixture}.rknn", runtime="emulator", cnof=0.9)
    assert emulator.counters()["contexts_live"] == before  # nothing left open


def test_decoder_keywords_are_checked_against_the_decoder(models_dir, data_dir):
    path = models_dir / "yolov8_rk3588_i8.rknn"
    photo = cv2.imread(str(data_dir / "images/astronaut.png"), cv2.IMREAD_COLOR)
    with pytest.raises(TypeError, match=r"Detector\(\) got unexpected keyword argument 'num_clases' "
                                        r"\(did you mean 'num_classes'\?\)"):
        rknn_fast.Detector(path, runtime="emulator", num_clases=80)
    with pytest.raises(TypeError, match="'anchors'"):  # a YOLOv5 option on a YOLOv8 head
        rknn_fast.Detector(path, runtime="emulator", anchors=[[[10, 13]]])
    with pytest.raises(TypeError, match="'transform'"):  # set by the pipeline itself
        rknn_fast.Detector(path, runtime="emulator", transform=None)
    with rknn_fast.Detector(path, runtime="emulator") as a, \
            rknn_fast.Detector(path, runtime="emulator", num_classes=80, top_k=5) as b:
        assert b.decode_kwargs == {"num_classes": 80, "top_k": 5}
        assert 0 < len(b(photo)) <= 5 < len(a(photo))  # top_k: candidates kept before NMS
    with pytest.raises(TypeError, match=r"InstanceSegmenter\(\) got unexpected keyword argument 'maskz'"):
        rknn_fast.InstanceSegmenter(models_dir / "yolov8_seg_rk3588_i8.rknn", runtime="emulator", maskz=1)
    with pytest.raises(TypeError, match=r"FaceDetector\(\) got unexpected keyword argument 'anchors'"):
        rknn_fast.FaceDetector(models_dir / "retinaface_rk3588_i8.rknn", runtime="emulator", anchors=None)
    with rknn_fast.FaceDetector(models_dir / "retinaface_rk3588_i8.rknn", runtime="emulator",
                                model_shape=(320, 320)) as fd:
        assert fd.decode_kwargs == {"model_shape": (320, 320)}


def test_core_mask_and_priority_reach_the_model_and_are_checked_at_once(models_dir):
    rk3588 = models_dir / "yolov8_rk3588_i8.rknn"
    rk3566 = models_dir / "yolov8_rk3566_i8.rknn"
    with rknn_fast.Detector(rk3588, runtime="emulator", core_mask="0_1_2", priority="low") as det:
        assert det.model.core_mask == 7
        assert det.model._sess.flags & 0x3 == 0x2  # RKNN_FLAG_PRIORITY_LOW
    with rknn_fast.Classifier(models_dir / "classifier_rk3588_i8.rknn", runtime="emulator", core_mask=[2]) as c:
        assert c.model.core_mask == 4
    with pytest.raises(ValueError, match="rk3566 has one core"):
        rknn_fast.Detector(rk3566, runtime="emulator", core_mask="0_1_2")
    with pytest.raises(ValueError, match="priority"):
        rknn_fast.Segmenter(models_dir / "semseg_rk3588_i8.rknn", runtime="emulator", priority="urgent")
    with pytest.raises(ValueError, match="not both"):
        rknn_fast.Detector(rk3588, runtime="emulator", cores="all", core_mask="0")
    with pytest.raises(ValueError, match="rk3566 has NPU cores 0..0"):
        rknn_fast.Detector(rk3566, runtime="emulator", cores=[0, 1])
    with pytest.raises(ValueError, match="zero_copy"):
        rknn_fast.Detector(rk3588, runtime="emulator", cores="all", zero_copy=False)
    with pytest.raises(ValueError, match="contexts_per_core applies with cores"):
        rknn_fast.Detector(rk3588, runtime="emulator", contexts_per_core=2)
    with rknn_fast.Model(rk3588, runtime="emulator") as m:
        with pytest.raises(ValueError, match="set them on the Model"):
            rknn_fast.Detector(m, core_mask="0")
        with rknn_fast.Detector(m, cores=2) as det:  # a borrowed Model: the pool duplicates it
            assert det.model is m and det.pool.cores == [0, 1]
        assert not m.closed


def test_image_pipeline_base_rejects_unknown_keywords(models_dir):
    with pytest.raises(TypeError, match=r"ImagePipeline\(\) got unexpected keyword argument 'zero_cpy' "
                                        r"\(did you mean 'zero_copy'\?\)"):
        ImagePipeline(models_dir / "tiny_conv_rk3588_i8.rknn", runtime="emulator", zero_cpy=True)
