from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import rknn_fast
import reference as ref


def B(*rows):
    return np.array(rows, dtype=np.float32).reshape(-1, 4)


def S(*v):
    return np.array(v, dtype=np.float32)


def random_boxes(n, seed, n_classes=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 600, (n, 2)).astype(np.float32)
    wh = rng.uniform(5, 120, (n, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + wh], axis=1)
    scores = rng.uniform(0, 1, n).astype(np.float32)
    cls = rng.integers(0, n_classes, n).astype(np.int32) if n_classes else None
    return boxes, scores, cls


def test_iou_exactly_at_threshold_is_kept():
    # IoU([0,0,4,1], [0,0,2,1]) = 2 / 4 = 0.5 exactly: suppression needs IoU > thr.
    boxes, scores = B([0, 0, 4, 1], [0, 0, 2, 1]), S(0.9, 0.8)
    assert rknn_fast.nms(boxes, scores, 0.5).tolist() == [0, 1]
    assert rknn_fast.nms(boxes, scores, np.nextafter(np.float32(0.5), np.float32(0))).tolist() == [0]


def test_score_exactly_at_threshold_is_kept():
    boxes = B([0, 0, 1, 1], [10, 10, 11, 11], [20, 20, 21, 21])
    scores = S(0.25, np.nextafter(np.float32(0.25), np.float32(0)), 0.5)
    assert rknn_fast.nms(boxes, scores, 0.5, score_threshold=0.25).tolist() == [2, 0]


def test_equal_scores_keep_lower_index_first():
    boxes = B([0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60], [50, 50, 60, 60])
    scores = S(0.5, 0.5, 0.5, 0.7)
    assert rknn_fast.nms(boxes, scores, 0.5).tolist() == [3, 0]
    assert rknn_fast.nms(boxes, scores, 1.0).tolist() == [3, 0, 1, 2]


def test_class_aware_vs_agnostic():
    boxes = B([0, 0, 10, 10], [1, 1, 10, 10])
    scores = S(0.9, 0.8)
    cls = np.array([0, 1], np.int32)
    assert rknn_fast.nms(boxes, scores, 0.5, class_ids=cls).tolist() == [0, 1]
    assert rknn_fast.nms(boxes, scores, 0.5).tolist() == [0]
    assert rknn_fast.nms(boxes, scores, 0.5, class_ids=np.array([3, 3], np.int32)).tolist() == [0]


def test_plus_one_convention():
    # Touching unit boxes: no overlap in the continuous convention, IoU 2/6 with "+1".
    boxes, scores = B([0, 0, 1, 1], [1, 0, 2, 1]), S(0.9, 0.8)
    assert rknn_fast.nms(boxes, scores, 0.3).tolist() == [0, 1]
    assert rknn_fast.nms(boxes, scores, 0.3, plus_one=True).tolist() == [0]
    assert rknn_fast.nms(boxes, scores, 1 / 3, plus_one=True).tolist() == [0, 1]


def test_max_detections_and_top_k():
    boxes, scores, _ = random_boxes(200, 1)
    full = rknn_fast.nms(boxes, scores, 1.0, max_detections=0)
    assert full.tolist() == np.argsort(-scores, kind="stable").tolist()
    assert rknn_fast.nms(boxes, scores, 1.0, max_detections=7).tolist() == full[:7].tolist()
    assert rknn_fast.nms(boxes, scores, 1.0, top_k=5).tolist() == full[:5].tolist()
    got = rknn_fast.nms(boxes, scores, 0.3, top_k=50)
    np.testing.assert_array_equal(got, ref.nms(boxes, scores, 0.3, top_k=50))


def test_empty_and_one_box():
    e = rknn_fast.nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
    assert e.dtype == np.int64 and e.shape == (0,)
    assert rknn_fast.nms(B([1, 2, 3, 4]), S(0.1)).tolist() == [0]
    assert rknn_fast.nms(B([1, 2, 3, 4]), S(0.1), score_threshold=0.2).tolist() == []


@pytest.mark.parametrize("n,seed,classes,plus_one,iou", [
    (10, 0, 0, False, 0.45), (500, 1, 3, False, 0.5), (2000, 2, 0, True, 0.3),
    (10000, 3, 80, False, 0.45), (10000, 4, 0, False, 0.7),
])
def test_matches_reference(n, seed, classes, plus_one, iou):
    boxes, scores, cls = random_boxes(n, seed, classes)
    got = rknn_fast.nms(boxes, scores, iou, score_threshold=0.1, class_ids=cls,
                        max_detections=0, plus_one=plus_one)
    want = ref.nms(boxes, scores, iou, 0.1, cls, 0, plus_one=plus_one)
    np.testing.assert_array_equal(got, want)


def test_nan_scores_and_boxes_never_kept():
    boxes = B([0, 0, 10, 10], [0, 0, 10, 10], [np.nan, 0, 10, 10], [20, 20, 30, np.inf])
    scores = S(np.nan, 0.5, 0.9, 0.9)
    assert rknn_fast.nms(boxes, scores, 0.5).tolist() == [1]
    np.testing.assert_array_equal(rknn_fast.nms(boxes, scores, 0.5), ref.nms(boxes, scores, 0.5))


def test_degenerate_boxes_do_not_divide_by_zero():
    boxes = B([5, 5, 5, 5], [5, 5, 5, 5], [3, 3, 1, 1])
    assert rknn_fast.nms(boxes, S(0.9, 0.8, 0.7), 0.0).tolist() == [0, 1, 2]


def test_bad_inputs():
    boxes, scores, _ = random_boxes(4, 0)
    with pytest.raises(TypeError, match="float32 boxes"):
        rknn_fast.nms(boxes.astype(np.float64), scores)
    with pytest.raises(TypeError, match="float32 scores"):
        rknn_fast.nms(boxes, scores.astype(np.float16))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        rknn_fast.nms(boxes[:, :3].copy(), scores)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        rknn_fast.nms(boxes, scores[:3])
    with pytest.raises(TypeError, match="int32 class_ids"):
        rknn_fast.nms(boxes, scores, class_ids=np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="class_ids of shape"):
        rknn_fast.nms(boxes, scores, class_ids=np.zeros(3, np.int32))
    with pytest.raises(TypeError):
        rknn_fast.nms(boxes.tolist(), scores)


def test_non_contiguous_input_is_refused_and_an_explicit_copy_works():
    # No hidden copies: a strided view is an error naming the argument; the caller's own
    # visible copy gives the reference answer.
    boxes, scores, _ = random_boxes(50, 5)
    wide = np.zeros((50, 8), np.float32)
    wide[:, ::2] = boxes
    with pytest.raises(ValueError, match="boxes: expected a C-contiguous array"):
        rknn_fast.nms(wide[:, ::2], scores, 0.4)
    two = np.repeat(scores, 2)
    with pytest.raises(ValueError, match="scores: expected a C-contiguous array"):
        rknn_fast.nms(boxes, two[::2], 0.4)
    got = rknn_fast.nms(np.ascontiguousarray(wide[:, ::2]), scores, 0.4)
    np.testing.assert_array_equal(got, ref.nms(boxes, scores, 0.4))


def test_threads_release_the_gil_and_agree():
    data = [random_boxes(3000, s, 5) for s in range(8)]
    serial = [rknn_fast.nms(b, s, 0.5, class_ids=c) for b, s, c in data]
    with ThreadPoolExecutor(4) as ex:
        parallel = list(ex.map(lambda d: rknn_fast.nms(d[0], d[1], 0.5, class_ids=d[2]), data))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [-0.1, -1, 1.0001, 2.5, float("inf"), float("-inf")])
def test_iou_threshold_outside_0_1_is_rejected(bad):
    # issue 12: 2.5 and -1 were accepted (an IoU is in [0, 1]; -1 kept one box per class).
    boxes, scores, cls = random_boxes(30, 9, 4)
    with pytest.raises(ValueError, match=r"iou_threshold: expected a number in \[0, 1\]"):
        rknn_fast.nms(boxes, scores, bad, class_ids=cls)


@pytest.mark.parametrize("bad", [1, 0, "yes", None, [True], np.float32(1)])
def test_plus_one_must_be_a_bool(bad):
    # issue 12: any truthy object switched the legacy +1 convention on.
    boxes, scores, _ = random_boxes(30, 9, 4)
    with pytest.raises(TypeError, match="plus_one: expected True or False"):
        rknn_fast.nms(boxes, scores, 0.5, plus_one=bad)
    np.testing.assert_array_equal(rknn_fast.nms(boxes, scores, 0.5, plus_one=np.bool_(True)),
                                  ref.nms(boxes, scores, 0.5, 0.0, None, plus_one=True))


@pytest.mark.parametrize("kwargs, match", [
    ({"iou_threshold": float("nan")}, "iou_threshold"),
    ({"score_threshold": float("nan")}, "score_threshold"),
    ({"top_k": 0}, "top_k"),
    ({"top_k": -1}, "top_k"),
])
def test_nms_rejects_thresholds_that_would_silently_keep_or_drop_everything(kwargs, match):
    # NaN IoU suppressed nothing, NaN score threshold kept nothing, top_k=0 meant "no limit".
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    with pytest.raises(ValueError, match=match):
        rknn_fast.nms(boxes, scores, **kwargs)


def test_decoder_top_k_zero_is_rejected():
    flat = np.zeros((1, 6, 10), np.float32)
    with pytest.raises(ValueError, match="top_k"):
        rknn_fast.postprocess.decode_yolov8_flat(flat, top_k=0)


@pytest.mark.parametrize("bad", [float("inf"), 2.5, None, True])
def test_max_detections_must_be_an_integer(bad):
    # inf raised OverflowError (not a ValueError); 2.5 was truncated to 2 by nms().
    boxes = np.array([[0, 0, 10, 10]], np.float32)
    scores = np.array([0.9], np.float32)
    with pytest.raises(ValueError, match="max_detections"):
        rknn_fast.nms(boxes, scores, max_detections=bad)
    with pytest.raises(ValueError, match="max_detections"):
        rknn_fast.postprocess.decode_yolov8_flat(np.zeros((1, 6, 10), np.float32), max_detections=bad)

