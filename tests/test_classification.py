"""Softmax + top-k classification."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import reference as ref
from rknn_fast import Classification
from rknn_fast.postprocess import classify, softmax


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8])
@pytest.mark.parametrize("c,k", [(1000, 5), (1, 5), (10, 10), (7, 3)])
def test_topk_matches_reference(dtype, c, k):
    rng = np.random.default_rng(c + k)
    if dtype == np.int8:
        q = rng.integers(-128, 128, (1, c)).astype(np.int8)
        res = classify(q, k, qparams=(0.1, 3))
        x = (q.astype(np.float64) - 3) * 0.1
    else:
        x = (rng.standard_normal((1, c)) * 4).astype(dtype)
        res = classify(x, k)
    ids, probs = ref.ref_softmax_topk(np.asarray(x, np.float64), k)
    assert isinstance(res, Classification) and len(res) == min(k, c)
    np.testing.assert_array_equal(res.class_ids, ids)
    np.testing.assert_allclose(res.scores, probs, rtol=1e-5)
    assert res.class_ids.dtype == np.int32 and res.scores.dtype == np.float32


def test_ties_lower_id_first_and_names():
    x = np.array([[1.0, 5.0, 5.0, 0.0, 5.0]], np.float32)
    res = classify(x, 2, names=["a", "b", "c", "d", "e"])
    assert res.class_ids.tolist() == [1, 2] and res.names == ["b", "c"]
    res = classify(x, 3, apply_softmax=False)
    assert res.scores.tolist() == [5.0, 5.0, 5.0] and res.class_ids.tolist() == [1, 2, 4]


def test_softmax_stable():
    p = softmax(np.array([1000.0, 1000.0, -1000.0], np.float32))
    np.testing.assert_allclose(p, [0.5, 0.5, 0.0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="qparams"):
        classify(np.zeros((1, 4), np.int8))
    with pytest.raises(TypeError):
        classify(np.zeros((1, 4), np.float64))
    with pytest.raises(ValueError):
        classify(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="names"):
        classify(np.zeros((1, 4), np.float32), names=["a"])
    with pytest.raises(ValueError, match="k"):
        classify(np.zeros((1, 4), np.float32), 0)


def test_threads():
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((1, 1000)).astype(np.float32) for _ in range(8)]
    with ThreadPoolExecutor(4) as ex:
        for x, r in zip(xs, ex.map(classify, xs)):
            assert r.class_ids.tolist() == ref.ref_softmax_topk(x, 5)[0].tolist()


def test_softmax_and_classify_refuse_garbage():
    with pytest.raises(TypeError, match="logits"):  # softmax(None) returned array(nan)
        softmax(None)
    with pytest.raises(TypeError, match="logits"):
        softmax(np.array(["a", "b"]))
    q = np.zeros((1, 4), np.int8)
    for bad in ((float("nan"), 0), (-1.0, 0), (0.1, 0.5)):
        with pytest.raises(ValueError, match="qparams"):
            classify(q, qparams=bad)
