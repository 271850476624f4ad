"""ONNX models behind the :class:`~rknn_fast.Model` API, run by onnxruntime on the host CPU.

``rknn_fast.Model("model.onnx", mean=[...], std=[...])`` returns an :class:`OnnxModel`: it
takes and returns what a Model of the converted .rknn takes and returns, so every pipeline
(``Detector("model.onnx", mean=..., std=...)``) runs on a PC with real inference and moves to
the board by changing the file name:

* **Image inputs** (4-D with 1, 3 or 4 channels) are NHWC ``(1, H, W, C)`` like the .rknn's:
  uint8 pixels (or int8/float16/float32 values on the same 0..255 scale), normalised as
  ``(x - mean) / std`` per channel, then transposed to the NCHW float32 the ONNX model takes,
  exactly what rknn-toolkit2's ``config(mean_values=..., std_values=...)`` makes the NPU do.
  Channels are fed in the order given (RGB for the pipelines). Other inputs are passed in
  the ONNX model's own shape, converted to its dtype, without normalisation.
* **Outputs** are float32 in the logical layout (NCHW for 4-D; no quantisation:
  ``TensorInfo.qnt_type == "none"``), reused between calls unless ``copy=True``, like the
  copy mode of a .rknn Model.
* **Zero-copy is emulated**: with ``zero_copy=True``, :meth:`input_view` is a host array the
  caller writes into and ``run()`` without arguments runs on it; :meth:`output_view` is the
  output array. Nothing is bound to an NPU: the "native" layout is the logical one.

Dynamic input dimensions: the batch is 1; spatial sizes must be given as ``input_size=(H, W)``.
Needs onnxruntime: ``pip install 'rknn_fast[onnx]'``.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import ModelClosedError
from ..info import TensorInfo
from ..model import Model, SdkVersion

__all__ = ["OnnxModel", "import_onnxruntime"]

_ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
    "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(int16)": np.int16,
    "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(bool)": np.bool_,
}
_ACCEPTED = tuple(np.dtype(d) for d in (np.uint8, np.int8, np.float16, np.float32))


def import_onnxruntime() -> Any:
    """``import onnxruntime``, or an ImportError naming the extra that installs it."""
    try:
        import onnxruntime
    except ImportError as e:
        raise ImportError("running an ONNX model needs onnxruntime, which is not installed: "
                          "pip install 'rknn_fast[onnx]' (or pip install onnxruntime)") from e
    return onnxruntime


def _per_channel(value: Union[None, float, Sequence[float]], c: int, default: float, what: str) -> np.ndarray:
    if value is None:
        return np.full(c, default, np.float32)
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, c)
    if arr.size != c or not np.all(np.isfinite(arr)):
        raise ValueError(f"expected {what} as one number or {c} finite numbers (one per channel), got {value!r}")
    if what == "std" and np.any(arr == 0):
        raise ValueError(f"expected non-zero std values, got {value!r}")
    return arr.astype(np.float32)


class _Input:
    __slots__ = ("index", "name", "onnx_shape", "dtype", "image", "shape", "mean", "std")

    def __init__(self, index: int, name: str, onnx_shape: Tuple[int, ...], dtype: np.dtype) -> None:
        self.index, self.name, self.onnx_shape, self.dtype = index, name, onnx_shape, dtype
        self.image = len(onnx_shape) == 4 and onnx_shape[1] in (1, 3, 4) and dtype.kind == "f"
        n, c = onnx_shape[0], onnx_shape[1] if len(onnx_shape) > 1 else 0
        self.shape = (n, onnx_shape[2], onnx_shape[3], c) if self.image else onnx_shape
        self.mean = np.zeros(0, np.float32)
        self.std = np.ones(0, np.float32)


class OnnxModel(Model):
    """An ONNX model run by onnxruntime (CPU) behind the :class:`~rknn_fast.Model` API.

    Args:
        model: path of a ``.onnx`` file.
        mean, std: per-channel normalisation of image inputs, ``(x - mean) / std`` on 0..255
            pixels (what the .rknn was converted with: rknn-toolkit2's ``mean_values`` /
            ``std_values``). One number or one per channel; default mean 0, std 1.
        input_size: ``(H, W)`` for image inputs whose spatial size the ONNX file leaves open.
        zero_copy: emulate the zero-copy API (:meth:`input_view`, ``run()`` without inputs).
        output_layout: ``"logical"`` / ``"native"`` (the same here: NCHW for 4-D) or ``"nhwc"``.
        providers: onnxruntime execution providers (default CPU).
        runtime, core_mask, priority, float_outputs, async_mode, collect_perf, flags: accepted
            for signature compatibility with .rknn Models; NPU-only settings are ignored
            (outputs are float32 anyway).
    """

    def __init__(
        self,
        model: Union[str, "os.PathLike[str]"],
        *,
        mean: Union[None, float, Sequence[float]] = None,
        std: Union[None, float, Sequence[float]] = None,
        input_size: Optional[Tuple[int, int]] = None,
        runtime: Optional[str] = None,
        core_mask: Union[str, int, Sequence[int]] = "auto",
        priority: str = "high",
        zero_copy: bool = False,
        output_layout: Optional[str] = None,
        float_outputs: bool = False,
        async_mode: bool = False,
        collect_perf: bool = False,
        flags: int = 0,
        providers: Optional[Sequence[str]] = None,
    ) -> None:
        self._sess: Any = None
        self._fast_run = None
        ort = import_onnxruntime()
        if output_layout is None:
            output_layout = "logical"
        if output_layout not in ("logical", "native", "nhwc"):
            raise ValueError(f"expected output_layout 'logical', 'native' or 'nhwc', got {output_layout!r}")
        path = os.fspath(model)
        if not isinstance(path, str):
            path = os.fsdecode(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no such ONNX model: {path}")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        try:
            sess = ort.InferenceSession(path, opts, providers=list(providers or ["CPUExecutionProvider"]))
        except Exception as e:  # onnxruntime raises its own exception types
            raise ValueError(f"onnxruntime cannot load {path}: {e}") from None
        self._path = path
        self._summary = None
        self._core_mask = 0
        self._zero_copy = bool(zero_copy)
        self._output_layout = output_layout
        self._float_outputs = True
        self._lock = threading.Lock()
        self._bytes_copied = 0
        self._emu_watch = None
        self._ort_version = str(getattr(ort, "__version__", "?"))
        self._ins = [self._input(i, a, input_size) for i, a in enumerate(sess.get_inputs())]
        for spec in self._ins:
            if spec.image:
                c = spec.shape[3]
                spec.mean = _per_channel(mean, c, 0.0, "mean")
                spec.std = _per_channel(std, c, 1.0, "std")
        if not any(s.image for s in self._ins) and (mean is not None or std is not None):
            raise ValueError("mean/std apply to image inputs (4-D, 1/3/4 channels), and this model has none")
        self.inputs: Tuple[TensorInfo, ...] = tuple(
            TensorInfo(name=s.name, index=s.index, shape=s.shape, layout="NHWC" if s.image else _layout(s.shape),
                       dtype=s.dtype.name, native_shape=s.shape,
                       native_layout="NHWC" if s.image else _layout(s.shape),
                       size=int(np.prod(s.shape)) * s.dtype.itemsize) for s in self._ins)
        self._out_names = [o.name for o in sess.get_outputs()]
        # Output shapes may be dynamic: learn them from one run on zeros.
        first = sess.run(self._out_names, {s.name: np.zeros(s.onnx_shape, s.dtype) for s in self._ins})
        self.outputs: Tuple[TensorInfo, ...] = tuple(
            TensorInfo(name=n, index=i, shape=tuple(int(d) for d in a.shape), layout=_layout(a.shape),
                       dtype="float32", native_shape=tuple(int(d) for d in a.shape), native_layout=_layout(a.shape),
                       size=int(a.size) * 4, size_with_stride=int(a.size) * 4)
            for i, (n, a) in enumerate(zip(self._out_names, first)))
        nhwc = output_layout == "nhwc"
        self._outputs = [np.empty(_nhwc(o.shape) if nhwc else o.shape, np.float32) for o in self.outputs]
        self._in_views = [np.zeros(s.shape, np.uint8 if s.image else s.dtype) for s in self._ins]
        self.sdk_version = SdkVersion(f"onnxruntime {self._ort_version}", "none (host CPU)")
        self.mem_size: Optional[Dict[str, int]] = None
        self.custom_string = ""
        self.runtime_path = "onnxruntime"
        self._sess = sess

    @staticmethod
    def _input(i: int, a: Any, input_size: Optional[Tuple[int, int]]) -> _Input:
        dtype = np.dtype(_ORT_TYPES.get(a.type, np.float32))
        dims = list(a.shape)
        if dims and not isinstance(dims[0], int):
            dims[0] = 1
        if len(dims) == 4 and input_size is not None:
            h, w = (int(v) for v in input_size)
            dims[2] = dims[2] if isinstance(dims[2], int) and dims[2] > 0 else h
            dims[3] = dims[3] if isinstance(dims[3], int) and dims[3] > 0 else w
        if not all(isinstance(d, int) and d > 0 for d in dims):
            raise ValueError(f"input {i} ({a.name}) has dynamic dimensions {a.shape}: pass input_size=(H, W)")
        return _Input(i, a.name, tuple(int(d) for d in dims), dtype)

    # ------------------------------------------------------------------ running

    def _feed(self, spec: _Input, a: Any, data_format: Optional[str]) -> np.ndarray:
        if not isinstance(a, np.ndarray):
            raise TypeError(f"input {spec.index} ({spec.name}): expected numpy.ndarray, got {type(a).__name__}")
        if spec.image:
            if a.dtype not in _ACCEPTED:
                raise TypeError(f"input {spec.index} ({spec.name}): expected dtype "
                                f"{', '.join(d.name for d in _ACCEPTED)}, got {a.dtype}")
            n, h, w, c = spec.shape
            want = (n, c, h, w) if data_format == "nchw" else spec.shape
            if a.shape != want and a.shape != want[1:]:
                raise ValueError(f"input {spec.index} ({spec.name}): expected shape {want} or {want[1:]}, "
                                 f"got {a.shape}")
            x = a.reshape(want).astype(np.float32)
            if data_format != "nchw":
                x = x.transpose(0, 3, 1, 2)
            x = (x - spec.mean.reshape(1, c, 1, 1)) / spec.std.reshape(1, c, 1, 1)
            return np.ascontiguousarray(x, dtype=spec.dtype)
        if a.shape != spec.onnx_shape and a.shape != spec.onnx_shape[1:]:
            raise ValueError(f"input {spec.index} ({spec.name}): expected shape {spec.onnx_shape}, got {a.shape}")
        return np.ascontiguousarray(a.reshape(spec.onnx_shape), dtype=spec.dtype)

    def run(self, *inputs: np.ndarray, data_format: Optional[str] = None, copy: bool = False,
            pass_through: Optional[Sequence[bool]] = None) -> List[np.ndarray]:
        """Runs one inference; same arguments and results as :meth:`Model.run` (outputs
        float32, logical layout; reused arrays unless ``copy=True``). ``pass_through`` (NPU
        native bytes) does not apply to ONNX models."""
        sess = self._sess
        if sess is None:
            raise ModelClosedError("the Model is closed")
        if data_format is not None and data_format not in ("nhwc", "nchw"):
            raise ValueError(f"expected data_format 'nhwc' or 'nchw', got {data_format!r}")
        if pass_through is not None and any(pass_through):
            raise ValueError("pass_through (NPU-native input bytes) does not apply to ONNX models")
        if not inputs:
            if not self._zero_copy:
                raise ValueError(f"expected {len(self._ins)} inputs, got 0")
            inputs = tuple(self._in_views)
        if len(inputs) != len(self._ins):
            raise ValueError(f"expected {len(self._ins)} inputs, got {len(inputs)}")
        feed = {s.name: self._feed(s, a, data_format) for s, a in zip(self._ins, inputs)}
        with self._lock:
            outs = sess.run(self._out_names, feed)
            for dst, o in zip(self._outputs, outs):
                o = np.asarray(o)
                np.copyto(dst, o.transpose(0, 2, 3, 1) if dst.ndim == 4 and self._output_layout == "nhwc" else o,
                          casting="unsafe")
            return [o.copy() for o in self._outputs] if copy else list(self._outputs)

    def benchmark(self, n: int = 100, warmup: int = 10, *, inputs: Optional[Sequence[np.ndarray]] = None,
                  npu_time: bool = True) -> Dict[str, Any]:
        """Times ``n`` runs after ``warmup`` (a Python loop around onnxruntime); the same dict
        as :meth:`Model.benchmark` with ``npu_us`` all -1 (no NPU)."""
        self._check_open()
        if not isinstance(n, int) or n < 1 or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"expected n >= 1 and warmup >= 0, got n={n!r}, warmup={warmup!r}")
        args = tuple(inputs) if inputs is not None else tuple(
            np.zeros(s.shape, np.uint8 if s.image else s.dtype) for s in self._ins)
        for _ in range(warmup):
            self.run(*args)
        lat = np.empty(n, np.float64)
        for i in range(n):
            t0 = time.perf_counter_ns()
            self.run(*args)
            lat[i] = (time.perf_counter_ns() - t0) / 1000.0
        return {"latency_us": lat, "npu_us": np.full(n, -1, np.int64), "mean_us": float(lat.mean()),
                "median_us": float(np.median(lat)), "p99_us": float(np.percentile(lat, 99)),
                "npu_mean_us": None, "perf_detail": ""}

    # ------------------------------------------------------------------ zero-copy emulation

    def input_view(self, index: int = 0) -> np.ndarray:
        """Host array of input ``index`` (NHWC uint8 for image inputs) that ``run()`` without
        arguments reads; needs ``zero_copy=True`` like on the NPU."""
        self._check_open()
        if not self._zero_copy:
            raise ValueError("input_view() needs Model(..., zero_copy=True)")
        self._check_index(index, len(self._in_views), "input")
        return self._in_views[index]

    def output_view(self, index: int = 0) -> np.ndarray:
        """The reused output array ``index`` (logical layout, float32)."""
        self._check_open()
        if not self._zero_copy:
            raise ValueError("output_view() needs Model(..., zero_copy=True)")
        self._check_index(index, len(self._outputs), "output")
        return self._outputs[index]

    def input_buffer(self, index: int = 0) -> Dict[str, int]:
        raise ValueError("input_buffer(): an ONNX model has no NPU (dma-buf) buffers")

    def bind_input_fd(self, index: int, fd: int, size: int, offset: int = 0) -> np.ndarray:
        raise ValueError("bind_input_fd(): an ONNX model has no NPU (dma-buf) buffers")

    # ------------------------------------------------------------------ what the runtime says

    @property
    def runtime_functions(self) -> Dict[str, bool]:
        return {}

    @property
    def is_emulator(self) -> bool:
        return False

    @property
    def runtime_version(self) -> str:
        """onnxruntime's version."""
        return self._ort_version

    @property
    def last_frame_id(self) -> int:
        return 0

    @property
    def last_runtime_us(self) -> float:
        return 0.0

    @property
    def last_runtime_window_ns(self) -> Tuple[int, int]:
        return (0, 0)

    def native_attrs(self) -> Dict[str, List[Dict[str, Any]]]:
        raise ValueError("native_attrs(): an ONNX model has no NPU tensor attributes")

    def perf_run_us(self) -> int:
        return -1

    def perf_detail(self) -> str:
        return ""

    def close(self) -> None:
        """Releases the onnxruntime session. Idempotent."""
        self._sess = None

    def __repr__(self) -> str:
        state = "closed" if self._sess is None else ("zero-copy (emulated)" if self._zero_copy else "copy")
        return f"<rknn_fast.Model {self._path} onnxruntime inputs={[i.shape for i in self.inputs]} {state}>"


def _layout(shape: Sequence[int]) -> str:
    return "NCHW" if len(shape) == 4 else "UNDEFINED"


def _nhwc(shape: Tuple[int, ...]) -> Tuple[int, ...]:
    return (shape[0], shape[2], shape[3], shape[1]) if len(shape) == 4 else shape
