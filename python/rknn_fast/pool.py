"""Keep every NPU core busy from one Python program: :class:`Pool`.

A pool opens ``contexts_per_core`` contexts of one model per NPU core (the first with
``rknn_init``, the others with ``rknn_dup_context``: the weights are shared), pins each to
its core with ``rknn_set_core_mask`` and serves each with its own C++ worker thread fed from
one bounded queue::

    with rknn_fast.Pool("yolov8.rknn", cores="all") as pool:     # rk3588: 3 contexts
        for outputs in pool.map(frames):                         # ordered like frames
            ...
        fut = pool.submit(frame)                                 # concurrent.futures.Future
        outputs = fut.result()

The workers hold no GIL while a context waits for the NPU, while a frame's inputs are
copied into its context's bound input buffers or its outputs out of the bound output
buffers. A frame that fails sets its future to the typed :class:`~rknn_fast.RknnError`; the
other frames and the pool go on, and a context that failed with a fatal code
(``RKNN_ERR_TIMEOUT``, ``RKNN_ERR_DEVICE_UNAVAILABLE``, ``RKNN_ERR_CTX_INVALID``) is
re-created before it takes its next frame. :meth:`Pool.close` (or leaving the ``with``)
finishes every frame in flight, then destroys every context.

The pipelines (:class:`~rknn_fast.Detector` and the others) take ``cores=`` and run their
letterbox and decode on the worker that owns the frame's context.
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
import queue
import threading
import time
import weakref
from typing import (Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar,
                    Union)

import numpy as np

from . import _core
from ._io import prepare_input
from .errors import ModelClosedError
from .model import Model, PathOrBytes, _read_model, _file_summary, platform_cores

__all__ = ["Pool", "PoolFuture", "resolve_cores"]

_T = TypeVar("_T")
_R = TypeVar("_R")
CoresArg = Union[str, int, Sequence[int]]
# Model arguments a pool sets itself (per context) or cannot honour.
_POOL_OWNED = ("core_mask", "runtime", "zero_copy", "async_mode")
_MODEL_OPTIONS = ("priority", "output_layout", "float_outputs", "collect_perf", "flags")


class PoolFuture(concurrent.futures.Future):  # type: ignore[type-arg]
    """A :class:`concurrent.futures.Future` of one pool frame. :meth:`cancel` also takes a
    frame that has not started out of the pool's queue."""

    _cancel_hook: Optional[Callable[[], None]] = None

    def cancel(self) -> bool:
        hook = self._cancel_hook
        if hook is not None:
            hook()
        return super().cancel()


def resolve_cores(cores: CoresArg, platform: Optional[str]) -> List[int]:
    """NPU core indices of ``cores`` on ``platform``: ``"all"`` (every core: rk3588 3, rk3576 2,
    other SoCs 1), an int count (the first n cores) or a list of core indices."""
    n = platform_cores(platform) or 1
    if isinstance(cores, str):
        if cores != "all":
            raise ValueError(f"expected cores='all', an int count or a list of core indices, got {cores!r}")
        return list(range(n))
    if isinstance(cores, bool):
        raise TypeError(f"expected cores='all', an int count or a list of core indices, got {cores!r}")
    if isinstance(cores, (int, np.integer)):
        if not 1 <= int(cores) <= n:
            raise ValueError(f"expected 1..{n} cores for {platform or 'this model'}, got {cores}")
        return list(range(int(cores)))
    if isinstance(cores, (list, tuple)):
        idx = list(cores)
        if not idx or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in idx):
            raise ValueError(f"expected a non-empty list of core indices, got {cores!r}")
        bad = [c for c in idx if not 0 <= int(c) < n]
        if bad:
            raise ValueError(f"{platform or 'this model'} has NPU cores 0..{n - 1}, got {bad}")
        if len(set(idx)) != len(idx):
            raise ValueError(f"expected distinct core indices, got {cores!r} (use contexts_per_core)")
        return [int(c) for c in idx]
    raise TypeError(f"expected cores='all', an int count or a list of core indices, got {type(cores).__name__}")


def bounded_map(submit: Callable[[_T], "concurrent.futures.Future[_R]"], iterable: Iterable[_T], ordered: bool,
                limit: int) -> Iterator[_R]:
    """Submits items with at most ``limit`` unfinished; yields results in order (``ordered``)
    or as they complete. Closing the generator early cancels the frames it still holds."""
    it = iter(iterable)
    pending: Deque["concurrent.futures.Future[_R]"] = collections.deque()
    completed: "queue.SimpleQueue[concurrent.futures.Future[_R]]" = queue.SimpleQueue()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < limit:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                fut = submit(item)
                if not ordered:
                    fut.add_done_callback(completed.put)
                pending.append(fut)
            if not pending:
                return
            if ordered:
                fut = pending.popleft()
            else:
                fut = completed.get()
                pending.remove(fut)
            yield fut.result()
    finally:
        for fut in pending:
            fut.cancel()


class Pool:
    """Contexts of one model on several NPU cores, each with its own C++ worker thread.

    Args:
        model: path of a .rknn file, its bytes, or an open :class:`Model` (its contexts are
            duplicated from it; it stays the caller's).
        cores: ``"all"`` (every core of the model's platform: rk3588 3, rk3576 2,
            rk3566/68/62 1), a list of core indices, or an int count (the first n cores).
        contexts_per_core: contexts per core; 2 lets one frame's CPU work (copies, or a
            pipeline's letterbox/decode) overlap the NPU run of the next on the same core.
        runtime: librknnrt to use when ``model`` is a path or bytes (``"emulator"`` on x86).
        zero_copy: run on bound buffers (default): a frame's inputs are copied into its
            context's input buffers and its outputs out of the output buffers, in C++ without
            the GIL. False uses ``rknn_inputs_set``/``rknn_outputs_get`` (the copy path).
        max_in_flight: frames :meth:`map` keeps unfinished, and frames the queue holds before
            :meth:`submit` blocks (default ``2 * len(pool)``).
        model_kwargs: further :class:`Model` arguments (``priority``, ``output_layout``,
            ``float_outputs``, ``collect_perf``, ``flags``).

    Results are what ``Model.run(..., copy=True)`` returns: a list of fresh arrays, one per
    output (native layout with ``zero_copy=True`` unless ``output_layout`` says otherwise).
    Thread-safe: any thread may submit. On single-core SoCs the contexts share the one core
    (``contexts_per_core=2`` still overlaps CPU work with the NPU).
    """

    def __init__(
        self,
        model: Union[Model, PathOrBytes],
        cores: CoresArg = "all",
        contexts_per_core: int = 1,
        *,
        runtime: Optional[str] = None,
        zero_copy: bool = True,
        max_in_flight: Optional[int] = None,
        **model_kwargs: Any,
    ) -> None:
        self._core: Any = None
        self._models: List[Model] = []
        self._closed = True
        for k in model_kwargs:
            if k in _POOL_OWNED:
                raise TypeError(f"Pool() sets {k!r} itself (use cores=, runtime=, zero_copy=)")
            if k not in _MODEL_OPTIONS:
                raise TypeError(f"Pool() got an unexpected keyword argument {k!r} (Model options: "
                                f"{', '.join(_MODEL_OPTIONS)})")
        if isinstance(contexts_per_core, bool) or not isinstance(contexts_per_core, (int, np.integer)) \
                or contexts_per_core < 1:
            raise ValueError(f"expected contexts_per_core as an integer >= 1, got {contexts_per_core!r}")
        if max_in_flight is not None and (isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int)
                                          or max_in_flight < 1):
            raise ValueError(f"expected max_in_flight as an integer >= 1 or None, got {max_in_flight!r}")

        self._bytes = b""
        if isinstance(model, Model):
            if model.closed:
                raise ModelClosedError("the Model is closed")
            if runtime is not None or model_kwargs:
                raise ValueError("runtime= and Model options apply when the pool opens the model (a path or "
                                 "bytes); the contexts of an open Model take its settings")
            platform = model.target_platform
            source: Optional[Model] = model
        else:
            data, path = _read_model(model)
            summary = _file_summary(data)
            platform = (summary.get("target_platform") or None) if summary is not None else None
            if path is None:
                self._bytes = data
            source = None
        core_list = resolve_cores(cores, platform)
        single = (platform_cores(platform) or 1) == 1
        # Contexts interleaved by core: c0, c1, c2, c0, c1, c2, ...
        self._ctx_cores: List[int] = [c for _ in range(int(contexts_per_core)) for c in core_list]
        self._masks = [0 if single else (1 << c) for c in self._ctx_cores]
        self._cores = core_list
        self._zero_copy = bool(zero_copy)
        self._source = source
        self._lock = threading.Lock()
        self._listeners: List[Callable[[int, Model], None]] = []
        try:
            for i, mask in enumerate(self._masks):
                if i == 0 and source is None:
                    first = Model(model, runtime=runtime, core_mask=mask, zero_copy=self._zero_copy,  # type: ignore[arg-type]
                                  **model_kwargs)
                    self._models.append(first)
                else:
                    base = source if source is not None else self._models[0]
                    self._models.append(base._duplicate(mask, zero_copy=self._zero_copy,
                                                        output_layout=model_kwargs.get("output_layout"),
                                                        model_bytes=self._bytes))
            self._max_in_flight = int(max_in_flight) if max_in_flight is not None else 2 * len(self._models)
            self_ref = weakref.ref(self)

            def recreate(i: int) -> Any:
                pool = self_ref()
                if pool is None:
                    raise ModelClosedError("the Pool is gone")
                return pool._recreate(i)

            self._core = _core.Pool([m._sess for m in self._models], list(self._ctx_cores), self._max_in_flight,
                                    recreate)
            for i in range(len(self._models)):
                self._set_buffers(i)
        except BaseException:
            if self._core is not None:
                self._core.close()
            for m in self._models:
                m.close()
            raise
        self._closed = False
        self._started = time.perf_counter_ns()
        self._finalizer = weakref.finalize(self, Pool._finalize, self._core, list(self._models))

    # ------------------------------------------------------------------ contexts

    @staticmethod
    def _finalize(core: Any, models: List[Model]) -> None:
        core.close()
        for m in models:
            m.close()

    def _set_buffers(self, i: int) -> None:
        m = self._models[i]
        if not m.zero_copy:
            return
        ins = []
        for mem, view in zip(m._in_mems, m._in_views):
            if view.flags.c_contiguous:
                ins.append((mem, 1, view.nbytes, view.nbytes))
            else:  # an image input with padded rows: (1, H, W, C) with row stride w_stride * C
                if view.ndim != 4 or view.shape[0] != 1:
                    raise ValueError(f"cannot copy into a {view.shape} input view with strides {view.strides}")
                row = view.shape[2] * view.shape[3] * view.itemsize
                ins.append((mem, view.shape[1], row, view.strides[1]))
        outs = [(mem, raw.nbytes) for mem, raw in zip(m._out_mems, m._out_raw)]
        self._core.set_buffers(i, ins, outs)

    def _recreate(self, i: int) -> Any:
        """Replaces context i after a fatal code (called on its worker)."""
        old = self._models[i]
        base = next((m for j, m in enumerate(self._models) if j != i and not m.closed), None)
        if base is None:
            base = self._source if self._source is not None and not self._source.closed else old
        new = base._duplicate(self._masks[i], zero_copy=self._zero_copy, output_layout=old._output_layout,
                              model_bytes=self._bytes)
        self._models[i] = new
        if base is not old:
            old.close()
        self._set_buffers(i)
        for listener in list(self._listeners):
            listener(i, new)
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, Pool._finalize, self._core, list(self._models))
        return new._sess

    def _on_recreate(self, listener: Callable[[int, Model], None]) -> None:
        """``listener(i, model)`` is called (on the worker) when context i is re-created."""
        self._listeners.append(listener)

    def context(self, index: int) -> Model:
        """The :class:`Model` of context ``index`` (for its attributes; running it directly
        while the pool works on it is not supported)."""
        if not isinstance(index, int) or not 0 <= index < len(self._models):
            raise IndexError(f"expected a context index in 0..{len(self._models) - 1}, got {index!r}")
        return self._models[index]

    # ------------------------------------------------------------------ frames

    def _check_open(self) -> Any:
        if self._closed:
            raise ModelClosedError("the Pool is closed")
        return self._core

    def _new_future(self) -> PoolFuture:
        return PoolFuture()

    def _attach(self, fut: PoolFuture, job_id: int) -> PoolFuture:
        core = self._core
        fut._cancel_hook = lambda: core.cancel(job_id) if not core.closed else None
        return fut

    def submit(self, *inputs: np.ndarray) -> "concurrent.futures.Future[List[np.ndarray]]":
        """Queues one frame (one array per model input, as :meth:`Model.run` takes them: image
        inputs uint8 NHWC ``(1, H, W, C)`` or ``(H, W, C)``, C-contiguous) and returns a
        future of its outputs. Blocks while the queue holds ``max_in_flight`` frames."""
        core = self._check_open()
        m = self._models[0]
        specs = m._in_specs
        if len(inputs) != len(specs):
            raise ValueError(f"expected {len(specs)} inputs, got {len(inputs)}")
        fut = self._new_future()
        if self._zero_copy:
            arrays = []
            for spec, view, a in zip(specs, m._in_views, inputs):
                arr, _t, _f = prepare_input(spec, a, None)
                if arr.dtype != view.dtype:
                    raise TypeError(f"input {spec.index} ({spec.name}): the pool's input buffers hold "
                                    f"{view.dtype}, got {arr.dtype}")
                arrays.append(arr)
            outs = [np.empty(o.shape, o.dtype) for o in m._outputs]
            post = None
            if m._needs_post:
                models = self._models

                def post(i: int) -> List[np.ndarray]:
                    mi = models[i]
                    for conv in mi._converters:
                        if conv is not None:
                            conv()
                    return [o.copy() for o in mi._outputs]
            job = core.submit_arrays(fut, arrays, outs, post)
        else:
            arrays, types, fmts = [], [], []
            for spec, a in zip(specs, inputs):
                arr, t, f = prepare_input(spec, a, None)
                arrays.append(arr)
                types.append(t)
                fmts.append(f)
            outs = [np.empty_like(o) for o in m._out_arrays]
            job = core.submit_copy(fut, arrays, types, fmts, outs, list(m._want_float))
        return self._attach(fut, job)

    def _submit_hooks(self, pre: Callable[[int], None], post: Callable[[int], _R]) -> "concurrent.futures.Future[_R]":
        """A frame of Python hooks on the bound buffers: ``pre(i)`` writes context i's inputs
        (:meth:`context`), ``post(i)`` reads its outputs and returns the result."""
        core = self._check_open()
        fut = self._new_future()
        return self._attach(fut, core.submit_hooks(fut, pre, post))

    def map(self, iterable: Iterable[Union[np.ndarray, Tuple[np.ndarray, ...]]], *,
            ordered: bool = True) -> Iterator[List[np.ndarray]]:
        """Runs every item (an input array, or a tuple of inputs) with at most
        ``max_in_flight`` frames unfinished, yielding the outputs in the items' order
        (``ordered=False``: as they complete). A failed frame raises its error from the
        generator. Closing the generator early cancels the frames not yet run."""
        self._check_open()

        def submit(item: Union[np.ndarray, Tuple[np.ndarray, ...]]) -> "concurrent.futures.Future[List[np.ndarray]]":
            return self.submit(*item) if isinstance(item, tuple) else self.submit(item)

        return bounded_map(submit, iterable, bool(ordered), self._max_in_flight)

    # ------------------------------------------------------------------ state

    @property
    def cores(self) -> List[int]:
        """NPU core indices the pool uses."""
        return list(self._cores)

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        """Number of contexts."""
        return len(self._models)

    def stats(self) -> Dict[str, Any]:
        """Counters since the pool opened: ``frames`` (succeeded), ``failures``, ``recreated``
        (contexts re-created), ``wall_s``, per context (``contexts``: core, frames, failures,
        busy_s), per core (``cores``: ``busy_s`` and ``busy`` = busy_s / wall_s), and the
        runtime time around ``rknn_run`` (mem syncs + run; ``rknn_inputs_set`` + run +
        ``rknn_outputs_get`` on the copy path) of the latest frames: ``latency_p50_ms``,
        ``latency_p99_ms`` (None before the first frame). A core's ``busy_s`` is the time at
        least one of its contexts was inside a run (so at most ``wall_s``); a context's
        ``busy_s`` sums its own runs (with several contexts per core, including the time a
        run waited for the core)."""
        raw = self._core.stats()
        wall = (time.perf_counter_ns() - self._started) / 1e9
        lat = np.concatenate([r["latency_ns"] for r in raw]) if raw else np.zeros(0, np.int64)
        per_core = {int(c): ns / 1e9 for c, ns in self._core.core_busy_ns()}
        return {
            "frames": int(sum(r["frames"] for r in raw)),
            "failures": int(sum(r["failures"] for r in raw)),
            "recreated": int(sum(r["recreated"] for r in raw)),
            "wall_s": wall,
            "contexts": [{"index": r["index"], "core": r["core"], "frames": r["frames"], "failures": r["failures"],
                          "recreated": r["recreated"], "busy_s": r["busy_ns"] / 1e9} for r in raw],
            "cores": {c: {"busy_s": b, "busy": b / wall if wall > 0 else 0.0} for c, b in sorted(per_core.items())},
            "latency_p50_ms": float(np.percentile(lat, 50)) / 1e6 if len(lat) else None,
            "latency_p99_ms": float(np.percentile(lat, 99)) / 1e6 if len(lat) else None,
        }

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Finishes every queued and running frame (each future resolves), then destroys
        every context. Idempotent; later submit/map raise :class:`ModelClosedError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._core.close()
        for m in self._models:
            m.close()
        self._finalizer.detach()

    def __enter__(self) -> "Pool":
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._models)} contexts"
        return f"<rknn_fast.Pool cores={self._cores} {state}>"
