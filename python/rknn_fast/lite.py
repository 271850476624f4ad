"""A drop-in replacement for Rockchip's ``rknnlite.api.RKNNLite`` on top of :class:`Model`.

Change only the import line of an RKNNLite script::

    from rknn_fast.lite import RKNNLite      # was: from rknnlite.api import RKNNLite

Same constants, signatures and return codes: methods never raise (they log and return -1
or None), ``inference`` returns float32 arrays in the model's logical layout (NCHW for 4-D).
Underneath, all queries are done once at ``init_runtime`` and every call is one
``rknn_inputs_set`` + ``rknn_run`` + ``rknn_outputs_get`` straight into numpy arrays.
``RKNNLite(strict=True)`` raises the underlying exception instead of returning -1/None.

The runtime is found like :class:`Model` does (``RKNN_FAST_RUNTIME``, then librknnrt.so,
then /usr/lib/librknnrt.so); ``RKNNLite(runtime=...)`` picks one explicitly.

Where Rockchip's RKNNLite is lenient, so is this one: a bare array given to ``inference`` is
taken as a one-element list (with a warning), and ``init_runtime(target=...)`` accepts a
target naming this board's SoC or the model's platform (case-insensitive). A model loaded by
path is handed to the runtime by path, so the emulator replays the golden set beside it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from typing import Any, Callable, List, Optional, Sequence, TypeVar, Union

import numpy as np

from .model import Model, _file_summary

_log = logging.getLogger("rknn_fast.lite")

_DEVICE_TREE_COMPATIBLE = "/proc/device-tree/compatible"


def _board_soc() -> Optional[str]:
    """This board's SoC in lower case (``"rk3588"``), or None when it cannot be told.

    ``RKNN_EMU_SOC`` first (the SoC the emulator pretends to be), then the first
    ``rockchip,rkNNNN`` entry of the device tree's compatible list.
    """
    env = os.environ.get("RKNN_EMU_SOC", "").strip().lower()
    if env:
        return "rk3588" if env == "rk3588s" else env
    try:
        with open(_DEVICE_TREE_COMPATIBLE, "rb") as f:
            entries = f.read().split(b"\0")
    except OSError:
        return None
    for entry in entries:
        m = re.match(rb"rockchip,(rk\d+)", entry.strip().lower())
        if m:
            return m.group(1).decode()
    return None

F = TypeVar("F", bound=Callable[..., Any])


def _never_raises(failure: Any) -> Callable[[F], F]:
    """Logs any exception and returns ``failure`` (or re-raises in strict mode)."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(self: "RKNNLite", *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except Exception as e:
                if self._strict:
                    raise
                self._logger.error("%s failed: %s", fn.__name__, e)
                return failure

        return wrapper  # type: ignore[return-value]

    return deco


class RKNNLite:
    """RKNNLite-compatible runtime API: the methods and constants of rknn-toolkit-lite2's
    ``RKNNLite`` (0/-1 return codes, outputs or None from ``inference``); see docs/runtime.md."""

    NPU_CORE_AUTO = 0
    NPU_CORE_0 = 1
    NPU_CORE_1 = 2
    NPU_CORE_2 = 4
    NPU_CORE_0_1 = 3
    NPU_CORE_0_1_2 = 7
    NPU_CORE_ALL = 0xFFFF

    def __init__(self, verbose: bool = False, verbose_file: Optional[str] = None, *, strict: bool = False,
                 runtime: Optional[str] = None) -> None:
        self._strict = bool(strict)
        self._runtime = runtime
        self._model_bytes: Optional[bytes] = None
        self._model_path: Optional[str] = None
        self._model: Optional[Model] = None
        self._frame_id = 0
        self._verbose = bool(verbose)
        # One logger per instance, child of "rknn_fast.lite" but not registered with the logging
        # manager: verbose/verbose_file affect this instance only, and the file handler is closed
        # by release() instead of staying on a global logger (one open file per RKNNLite made).
        self._logger = logging.Logger(_log.name)
        self._logger.parent = _log
        self._logger.setLevel(logging.DEBUG if verbose else logging.NOTSET)
        self._file_handler: Optional[logging.FileHandler] = None
        if verbose_file:
            handler = logging.FileHandler(verbose_file)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            self._logger.addHandler(handler)
            self._file_handler = handler

    # ------------------------------------------------------------------ model and runtime

    @_never_raises(-1)
    def load_rknn(self, path: str, key_path: Optional[str] = None) -> int:
        """Reads the model file into memory. 0 on success, -1 if it cannot be read."""
        if key_path is not None:
            raise NotImplementedError("encrypted models (key_path) are not supported by rknn_fast")
        if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
            raise FileNotFoundError(f"model file {path!r} does not exist")
        with open(path, "rb") as f:
            self._model_bytes = f.read()
        self._model_path = os.fspath(path)
        self._logger.debug("loaded %s (%d bytes)", path, len(self._model_bytes))
        return 0

    @_never_raises(-1)
    def init_runtime(self, target: Optional[str] = None, device_id: Optional[str] = None, async_mode: bool = False,
                     core_mask: int = NPU_CORE_AUTO) -> int:
        """Creates the runtime context. -1 if no model is loaded or the runtime fails.

        ``target``: None, or the name of this board's SoC or of the model's platform (any
        case, e.g. ``"RK3588"``); anything else returns -1 with the reason logged (this
        runtime runs on the board only). ``device_id`` (adb devices) is not supported.
        """
        if self._model_bytes is None:
            raise ValueError("no model loaded: call load_rknn() first")
        if device_id is not None:
            raise ValueError("device_id (off-board adb devices) is not supported; run on the board")
        summary = _file_summary(self._model_bytes)
        platform = ((summary or {}).get("target_platform") or "").lower() or None
        if target is not None:
            board = _board_soc()
            if not isinstance(target, str) or target.strip().lower() not in {board, platform} - {None}:
                self._logger.error(
                    "init_runtime: target %r is neither this board's SoC (%s) nor the model's platform (%s); "
                    "rknn_fast runs models on the board itself", target, board or "unknown", platform or "unknown")
                return -1
        self._release_model()
        mask = int(core_mask)
        if (_board_soc() or platform) == "rk3576" and mask in (self.NPU_CORE_0_1_2, self.NPU_CORE_2):
            new = self.NPU_CORE_0_1 if mask == self.NPU_CORE_0_1_2 else self.NPU_CORE_0
            self._logger.warning("rk3576 has two NPU cores: core_mask %d mapped to %d", mask, new)
            mask = new
        # By path when the file is still there: the runtime then gets rknn_init's file form
        # (and the emulator finds the golden set beside the model).
        source: Union[bytes, str] = self._model_bytes
        if self._model_path is not None and os.path.isfile(self._model_path):
            source = self._model_path
        self._model = Model(source, runtime=self._runtime, core_mask=mask, priority="medium",
                            async_mode=bool(async_mode), float_outputs=True)
        return 0

    def _not_ready(self) -> str:
        if self._model_bytes is None:
            return "no model loaded: call load_rknn(path) first, then init_runtime()"
        return "runtime not initialised: call init_runtime() first"

    @_never_raises(None)
    def inference(self, inputs: Sequence[np.ndarray], data_type: Optional[Union[str, Sequence[str]]] = None,
                  data_format: Optional[Union[str, Sequence[str]]] = None,
                  inputs_pass_through: Optional[Sequence[int]] = None, get_frame_id: bool = False,
                  reuse_outputs: bool = False) -> Optional[List[Any]]:
        """Runs the model. Returns float32 outputs (logical layout), or None on failure.

        With ``reuse_outputs=True`` the arrays are internal buffers overwritten by the next
        call; otherwise each call returns independent arrays. ``get_frame_id=True`` appends
        the run's frame id to the returned list.

        The array dtype decides what the runtime is told (``data_type`` is checked for its
        count only). An int8 array for an int8 model (``data_type='int8'``) holds quantised
        values ``round((x - mean) / std / scale) + zero_point`` and is used as it is; uint8
        arrays are pixels and float32/float16 arrays values on the pixel scale, both
        normalised with the model's mean/std and quantised by the runtime.
        """
        model = self._model
        if model is None:
            raise ValueError(self._not_ready())
        if isinstance(inputs, np.ndarray):
            # Rockchip's RKNNLite takes a bare array as the only input; so does this one.
            self._logger.warning("inputs is a bare array, not a list: taken as the only input ([inputs])")
            inputs = [inputs]
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"inputs must be a list of numpy arrays, got {type(inputs).__name__}")
        n = len(model.inputs)
        passes = None
        if inputs_pass_through is not None:
            passes = [bool(p) for p in self._per_input(inputs_pass_through, n, "inputs_pass_through")]
        if len(inputs) != n:
            raise ValueError(f"expected {n} inputs, got {len(inputs)}")
        fmts = self._per_input(data_format, n, "data_format")
        if data_type is not None:
            self._per_input(data_type, n, "data_type")  # names only; the array dtype is what is sent
        arrays = []
        nchw = []
        for i, (a, fmt) in enumerate(zip(inputs, fmts)):
            a = np.asarray(a)
            if a.dtype == np.float64:
                a = a.astype(np.float32)
            a = np.ascontiguousarray(a)
            if fmt is not None and (not isinstance(fmt, str) or fmt.lower() not in ("nhwc", "nchw")):
                raise ValueError(f"data_format must be 'nhwc' or 'nchw', got {fmt!r}")
            is_nchw = (fmt is not None and fmt.lower() == "nchw" and a.ndim in (3, 4)
                       and model.inputs[i].layout == "NHWC")
            if is_nchw:
                self._logger.warning("input %d is NCHW but the model takes NHWC: it is transposed", i)
            nchw.append(is_nchw)
            arrays.append(a)
        if any(nchw) and not all(nchw):
            # Model.run takes one data_format for all inputs: transpose the NCHW ones here.
            arrays = [np.ascontiguousarray(np.moveaxis(a, -3, -1)) if t else a for a, t in zip(arrays, nchw)]
            nchw = [False]
        outputs = model.run(*arrays, data_format="nchw" if all(nchw) else None, copy=not reuse_outputs,
                            pass_through=passes if passes and any(passes) else None)
        self._frame_id = model.last_frame_id
        result: List[Any] = list(outputs)
        if get_frame_id:
            result.append(self._frame_id)
        return result

    @staticmethod
    def _per_input(value: Any, n: int, what: str) -> List[Any]:
        if value is None or isinstance(value, (str, int)):
            return [value] * n
        values = list(value)
        if len(values) != n:
            raise ValueError(f"{what}: expected {n} entries, got {len(values)}")
        return values

    def get_frame_id(self) -> int:
        """Frame id of the last inference."""
        return self._frame_id

    @_never_raises(None)
    def get_sdk_version(self) -> Optional[str]:
        """The runtime's API and driver versions (``RKNN_QUERY_SDK_VERSION``)."""
        if self._model is None:
            raise ValueError(self._not_ready())
        v = self._model.sdk_version
        return f"API: {v.api}\nDRV: {v.driver}"

    @_never_raises(None)
    def list_support_target_platform(self, rknn_model: Optional[str] = None) -> Optional[List[str]]:
        """Platforms the model file was compiled for (read from the file, no runtime needed)."""
        if rknn_model is not None:
            with open(rknn_model, "rb") as f:
                data = f.read()
        elif self._model_bytes is not None:
            data = self._model_bytes
        else:
            raise ValueError("no model: pass rknn_model or call load_rknn() first")
        summary = _file_summary(data)
        if summary is None:
            raise ValueError("not a readable .rknn file")
        platforms = list(summary.get("target_platforms") or ())
        if not platforms and summary.get("target_platform"):
            platforms = [summary["target_platform"]]
        self._logger.info("support target platform: %s", platforms)
        return platforms

    def list_devices(self) -> List[str]:
        """adb/ntb devices: none when running on the board itself."""
        self._logger.info("no devices (rknn_fast runs on the board)")
        return []

    def release(self) -> None:
        """Destroys the runtime context (and closes ``verbose_file``); safe to call more than once."""
        self._release_model()
        self._model_bytes = None
        self._model_path = None
        self._close_log_file()

    def _close_log_file(self) -> None:
        handler = self._file_handler
        if handler is not None:
            self._file_handler = None
            self._logger.removeHandler(handler)
            handler.close()

    def _release_model(self) -> None:
        if self._model is not None:
            self._model.close()
            self._model = None

    def __del__(self) -> None:
        try:
            self._release_model()
            self._close_log_file()
        except Exception:
            pass
