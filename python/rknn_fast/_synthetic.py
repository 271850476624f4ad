"""Telling a user that the emulator's outputs are synthetic (:class:`~rknn_fast.EmulatorWarning`).

The emulator replays recorded outputs only for recorded inputs; any other input gets
deterministic synthetic outputs that look like real ones (confident boxes, plausible maps). A
:class:`Watch` per emulator Model reads the emulator's ``synthetic_runs`` counter around runs
and warns once per Model when it moved. Reading it costs about 2 µs, so a Model checks each of
its first ``EVERY`` runs and then one run in ``EVERY`` (a Model fed recorded inputs for ever
pays about 0.3 µs per run); after the warning it stops reading.
"""

from __future__ import annotations

import ctypes
import os
import threading
import warnings
import weakref
from typing import Any, Callable, List, Optional

import numpy as np

from .errors import EmulatorWarning

_lock = threading.Lock()
_counter_fn: Optional[Any] = None

#: Runs checked one by one after open, then one run in EVERY.
EVERY = 16


def synthetic_runs(library: str) -> int:
    """The emulator's process-wide count of runs answered with synthetic outputs."""
    global _counter_fn
    fn = _counter_fn
    if fn is None:
        with _lock:
            if _counter_fn is None:
                # dlopen of the path the models use returns that very library (same state).
                f = ctypes.CDLL(library).rknn_emulator_control
                f.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]
                f.restype = ctypes.c_int
                _counter_fn = f
            fn = _counter_fn
    buf = ctypes.create_string_buffer(32)
    if fn(b"synthetic_runs", buf, 32) < 0:
        return -1  # an emulator without the command: never warn
    return int(buf.value)


def golden_path_for(model_path: Optional[str]) -> str:
    """Where the emulator looks for a model's golden set: ``<dir>/<name>.golden``."""
    if not model_path:
        return "<model>.golden"
    root, ext = os.path.splitext(model_path)
    return (root if ext.lower() == ".rknn" else model_path) + ".golden"


def message(model_path: Optional[str]) -> str:
    name = model_path or "a model opened from bytes"
    golden = golden_path_for(model_path)
    return (f"{name}: the emulator found no recorded input equal to this one, so the outputs are "
            "synthetic (deterministic values derived from the input bytes, not what the model computes). "
            "To replay real outputs, run the model on this input on a board (or in rknn-toolkit2's "
            "simulator) and save them with rknn_fast.golden.write_golden("
            f"{golden!r}, [(inputs, outputs)]); the emulator reads that file beside the model "
            "(docs/golden-format.md). Shown once per Model.")


class Watch:
    """Per emulator Model: warns once when one of its runs was synthetic."""

    __slots__ = ("_library", "_path", "_runs", "done", "__weakref__")

    def __init__(self, library: str, model_path: Optional[str]) -> None:
        self._library = library
        self._path = model_path
        self._runs = 0
        self.done = synthetic_runs(library) < 0

    def mark(self) -> int:
        """The counter before a run that is checked, -1 for a run that is not."""
        if self.done:
            return -1
        n = self._runs = self._runs + 1
        if n > EVERY and n % EVERY:
            return -1
        return synthetic_runs(self._library)

    def check(self, mark: int, stacklevel: int = 3) -> None:
        if self.done or mark < 0:
            return
        if synthetic_runs(self._library) > mark:
            self.done = True
            warnings.warn(message(self._path), EmulatorWarning, stacklevel=stacklevel)

    def wrap(self, model: Any, runner: Callable[..., List[np.ndarray]]) -> "WatchedRunner":
        """The zero-copy fast runner with the check around it; once warned, the Model gets the
        bare runner back (one C call per run again)."""
        return WatchedRunner(self, runner, model)


class WatchedRunner:
    """Callable standing in for a Model's fast runner until its Watch has warned. It holds the
    Model weakly and nothing refers back to it: no reference cycle keeps a context alive."""

    __slots__ = ("_watch", "_runner", "_model")

    def __init__(self, watch: Watch, runner: Callable[..., List[np.ndarray]], model: Any) -> None:
        self._watch = watch
        self._runner = runner
        self._model = weakref.ref(model)

    def __call__(self, *args: Any, **kwargs: Any) -> List[np.ndarray]:
        watch = self._watch
        mark = watch.mark()
        out = self._runner(*args, **kwargs)
        watch.check(mark)
        if watch.done:
            m = self._model()
            if m is not None:
                if m.__dict__.get("run") is self:
                    m.__dict__["run"] = self._runner
                if getattr(m, "_fast_run", None) is self:
                    m._fast_run = self._runner
        return out
