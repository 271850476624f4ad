"""rknn_fast.Pool on the emulator: results equal the sequential Model's, in order; faults fail
one frame only; close() resolves every frame and frees every context; thread safety."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import rknn_fast
from rknn_fast import emulator
from rknn_fast.errors import ModelClosedError, RknnInputInvalidError, RknnTimeoutError
from rknn_fast.pool import Pool, resolve_cores

RK3588 = "tiny_conv_rk3588_i8.rknn"
RK3566 = "tiny_conv_rk3566_i8.rknn"


pytestmark = pytest.mark.usefixtures("clean_emulator")


def _frames(n, seed=0, size=64):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def _sequential(path, frames, **kw):
    with rknn_fast.Model(path, runtime="emulator", **kw) as m:
        return [m.run(f, copy=True) for f in frames]


def _equal(a, b):
    return len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b))


def _live():
    c = emulator.counters()
    return c["contexts_live"], c["mems_live"]


@pytest.mark.parametrize("zero_copy", [True, False])
def test_map_equals_sequential_in_order(models_dir, zero_copy):
    path = models_dir / RK3588
    frames = _frames(24)
    want = _sequential(path, frames, zero_copy=zero_copy)
    assert not all(_equal(want[0], w) for w in want[1:])  # the frames give different outputs
    emulator.set_npu_time_us(2000)  # runs overlap across cores and finish out of order
    emulator.reset_counters()
    with Pool(path, runtime="emulator", zero_copy=zero_copy) as pool:
        assert len(pool) == 3 and pool.cores == [0, 1, 2]
        got = list(pool.map(frames))
        st = pool.stats()
    c = emulator.counters()
    assert len(got) == len(frames)
    assert all(_equal(g, w) for g, w in zip(got, want))
    assert st["frames"] == len(frames) and st["failures"] == 0
    assert sorted(ctx["core"] for ctx in st["contexts"]) == [0, 1, 2]
    # one file parse, the other two contexts duplicated; every core ran frames, concurrently
    assert c["model_parses"] == 1 and c["calls"]["rknn_dup_context"] == 2
    assert all(n > 0 for n in c["core_runs"])
    assert c["max_concurrent_runs"] >= 2
    assert st["latency_p50_ms"] >= 2.0 and st["latency_p99_ms"] >= st["latency_p50_ms"]


def test_unordered_map_yields_every_result(models_dir):
    path = models_dir / RK3588
    frames = _frames(15, seed=1)
    want = _sequential(path, frames, zero_copy=True)
    emulator.set_npu_time_us(1000)
    with Pool(path, runtime="emulator", contexts_per_core=2) as pool:
        assert len(pool) == 6
        got = list(pool.map(frames, ordered=False))
    assert len(got) == len(want)
    unmatched = list(range(len(want)))
    for g in got:
        k = next(i for i in unmatched if _equal(g, want[i]))
        unmatched.remove(k)
    assert unmatched == []


def test_submit_takes_tuples_and_results_are_fresh_arrays(models_dir):
    path = models_dir / RK3588
    frames = _frames(4, seed=2)
    want = _sequential(path, frames, zero_copy=True)
    with Pool(path, runtime="emulator", cores=2) as pool:
        assert pool.cores == [0, 1]
        futs = [pool.submit(f) for f in frames]
        outs = [f.result(timeout=30) for f in futs]
        mapped = list(pool.map([(f,) for f in frames]))  # tuples of inputs
        nhwc = pool.submit(frames[0][None]).result()  # (1, H, W, C) as well
    assert all(_equal(o, w) for o, w in zip(outs, want))
    assert all(_equal(o, w) for o, w in zip(mapped, want))
    assert _equal(nhwc, want[0])
    assert outs[0][0] is not outs[1][0] and outs[0][0].flags.owndata


def test_fault_fails_only_that_frame_and_fatal_context_is_recreated(models_dir):
    path = models_dir / RK3588
    frames = _frames(9, seed=3)
    want = _sequential(path, frames, zero_copy=True)
    before = _live()
    with Pool(path, runtime="emulator") as pool:
        emulator.inject_fault("run=4 code=-2")  # RKNN_ERR_TIMEOUT: fatal, the context is re-created
        futs = [pool.submit(f) for f in frames]
        errors = [f.exception(timeout=30) for f in futs]
        failed = [i for i, e in enumerate(errors) if e is not None]
        assert len(failed) == 1
        assert isinstance(errors[failed[0]], RknnTimeoutError) and errors[failed[0]].code == -2
        for i, f in enumerate(futs):
            if i not in failed:
                assert _equal(f.result(), want[i])
        st = pool.stats()
        assert (st["frames"], st["failures"], st["recreated"]) == (8, 1, 1)
        # the pool goes on, the re-created context included
        assert all(_equal(g, w) for g, w in zip(pool.map(frames), want))
        emulator.inject_fault("run=1 code=-8")  # RKNN_ERR_INPUT_INVALID: not fatal
        with pytest.raises(RknnInputInvalidError):
            pool.submit(frames[0]).result()
        assert pool.stats()["recreated"] == 1
        assert _equal(pool.submit(frames[1]).result(), want[1])
    assert _live() == before


def test_map_raises_the_failed_frames_error(models_dir):
    # One context: frames run in submission order, so the second rknn_run is frame 1 (with
    # several contexts the order of run calls across workers is not fixed).
    frames = _frames(6, seed=4)
    want = _sequential(models_dir / RK3588, frames, zero_copy=True)
    with Pool(models_dir / RK3588, cores=[0], runtime="emulator") as pool:
        emulator.inject_fault("run=2 code=-8")
        got = []
        with pytest.raises(RknnInputInvalidError):
            for out in pool.map(frames):
                got.append(out)
        assert len(got) == 1 and _equal(got[0], want[0])  # frame 0 yielded, frame 1 raised


def test_close_with_frames_in_flight_resolves_every_future_and_frees_everything(models_dir):
    path = models_dir / RK3588
    frames = _frames(12, seed=5)
    want = _sequential(path, frames, zero_copy=True)
    before = _live()
    emulator.set_npu_time_us(20000)
    pool = Pool(path, runtime="emulator", max_in_flight=12)
    assert _live()[0] == before[0] + 3
    futs = [pool.submit(f) for f in frames]
    assert not all(f.done() for f in futs)
    pool.close()
    assert all(f.done() for f in futs)
    assert all(_equal(f.result(), w) for f, w in zip(futs, want))
    assert _live() == before
    with pytest.raises(ModelClosedError):
        pool.submit(frames[0])
    with pytest.raises(ModelClosedError):
        pool.map(frames)
    pool.close()  # idempotent


def test_several_threads_submitting_to_one_pool(models_dir):
    path = models_dir / RK3588
    frames = _frames(10, seed=6)
    want = _sequential(path, frames, zero_copy=True)
    emulator.set_npu_time_us(500)
    results = {}
    errors = []
    with Pool(path, runtime="emulator", contexts_per_core=2) as pool:
        def worker(t):
            try:
                futs = [pool.submit(frames[(t + k) % len(frames)]) for k in range(len(frames))]
                results[t] = [f.result(timeout=60) for f in futs]
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert pool.stats()["frames"] == 40
    assert errors == []
    for t, outs in results.items():
        assert all(_equal(o, want[(t + k) % len(frames)]) for k, o in enumerate(outs))


def test_early_closed_map_releases_its_frames(models_dir):
    emulator.set_npu_time_us(20000)
    consumed = []

    def source():
        for i, f in enumerate(_frames(50, seed=7)):
            consumed.append(i)
            yield f

    with Pool(models_dir / RK3588, runtime="emulator", max_in_flight=6) as pool:
        gen = pool.map(source())
        next(gen)
        next(gen)
        gen.close()
        assert len(consumed) <= 2 + 6  # bounded by max_in_flight, not the whole source
        assert pool._core.queued == 0  # the frames not yet started were taken out of the queue
        deadline = time.monotonic() + 10
        while pool._core.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool._core.running == 0
        done = pool.stats()["frames"]
        assert done < len(consumed) or done <= 2 + 3
        assert len(list(pool.map(_frames(3, seed=8)))) == 3  # still usable


def test_cancel_takes_a_queued_frame_out(models_dir):
    emulator.set_npu_time_us(30000)
    with Pool(models_dir / RK3588, runtime="emulator", cores=1, max_in_flight=8) as pool:
        futs = [pool.submit(f) for f in _frames(4, seed=9)]
        assert futs[-1].cancel() and futs[-1].cancelled()
        assert all(f.result(timeout=30) is not None for f in futs[:-1])
        assert pool.stats()["frames"] == 3


def test_rk3566_all_cores_is_its_one_core(models_dir):
    path = models_dir / RK3566
    frames = _frames(6, seed=10)
    want = _sequential(path, frames, zero_copy=True)
    emulator.set_npu_time_us(1000)
    with Pool(path, runtime="emulator", contexts_per_core=2) as pool:
        assert pool.cores == [0] and len(pool) == 2
        assert all(_equal(g, w) for g, w in zip(pool.map(frames), want))
        assert pool.context(0).core_mask == 0  # single-core SoCs take no core mask
    with pytest.raises(ValueError, match="rk3566 has NPU cores 0..0"):
        Pool(path, runtime="emulator", cores=[1])
    with pytest.raises(ValueError, match="1..1 cores"):
        Pool(path, runtime="emulator", cores=3)


def test_pool_from_an_open_model_leaves_it_open(models_dir):
    path = models_dir / RK3588
    frames = _frames(3, seed=11)
    with rknn_fast.Model(path, runtime="emulator") as m:  # copy mode; the pool binds its own buffers
        want = [m.run(f, copy=True) for f in frames]
        with Pool(m, cores=[0, 2]) as pool:
            assert [pool.context(i).core_mask for i in range(2)] == [1, 4]
            got = list(pool.map(frames))
        assert not m.closed
        assert all(_equal(m.run(f, copy=True), w) for f, w in zip(frames, want))
        with pytest.raises(ValueError, match="Model options apply"):
            Pool(m, priority="low")
    zc = _sequential(path, frames, zero_copy=True)
    assert all(_equal(g, w) for g, w in zip(got, zc))


def test_pool_arguments_are_checked(models_dir):
    path = models_dir / RK3588
    with pytest.raises(TypeError, match="unexpected keyword argument 'prority'"):
        Pool(path, runtime="emulator", prority="low")
    with pytest.raises(TypeError, match="core_mask"):
        Pool(path, runtime="emulator", core_mask="0")
    with pytest.raises(ValueError, match="contexts_per_core"):
        Pool(path, runtime="emulator", contexts_per_core=0)
    with pytest.raises(ValueError, match="max_in_flight"):
        Pool(path, runtime="emulator", max_in_flight=0)
    with pytest.raises(ValueError, match="distinct"):
        Pool(path, runtime="emulator", cores=[0, 0])
    with pytest.raises(ValueError, match="priority"):
        Pool(path, runtime="emulator", priority="urgent")
    with Pool(path, runtime="emulator", cores=1) as pool:
        with pytest.raises(ValueError, match="expected shape"):
            pool.submit(np.zeros((32, 32, 3), np.uint8))
        with pytest.raises(TypeError, match="hold uint8"):
            pool.submit(np.zeros((64, 64, 3), np.float32))
        with pytest.raises(ValueError, match="expected 1 inputs"):
            pool.submit()


def test_resolve_cores():
    assert resolve_cores("all", "rk3588") == [0, 1, 2]
    assert resolve_cores("all", "rk3576") == [0, 1]
    assert resolve_cores("all", "rk3566") == [0]
    assert resolve_cores(2, "rk3588") == [0, 1]
    assert resolve_cores([2, 0], "rk3588") == [2, 0]
    for bad in (0, 4, [3], [], "some", True):
        with pytest.raises((ValueError, TypeError)):
            resolve_cores(bad, "rk3588")


def test_emulated_npu_time_is_a_wait_and_cores_overlap(models_dir):
    """The emulator holds a core for the NPU time without burning CPU, and runs on different
    cores overlap: what makes the pool's speedups measurable on x86."""
    import resource

    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    frames = _frames(6, seed=12)
    emulator.set_npu_time_us(50000)
    with Pool(models_dir / RK3588, runtime="emulator") as pool:
        emulator.reset_counters()
        c0 = cpu()
        assert len(list(pool.map(frames))) == 6
        used = cpu() - c0
        st = pool.stats()
    c = emulator.counters()
    assert c["max_concurrent_runs"] == 3 and sum(c["core_runs"]) == 6 and min(c["core_runs"]) >= 1
    assert used < 0.1  # 6 runs x 50 ms of "NPU" = 0.3 s waited, not computed
    assert all(ctx["busy_s"] >= 0.1 for ctx in st["contexts"])
    assert all(0.0 < core["busy"] <= 1.0 for core in st["cores"].values())
