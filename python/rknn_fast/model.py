"""Run a .rknn model on the NPU through librknnrt: :class:`Model`.

Two ways to run:

* **copy mode** (default): ``model.run(img)`` hands the caller's array to the runtime
  (``rknn_inputs_set``, the runtime's single input copy/conversion) and receives the outputs
  into arrays preallocated at open (``rknn_outputs_get`` with ``is_prealloc``, the single
  output copy). Nothing is queried per call.
* **zero-copy mode** (``zero_copy=True``): input and output buffers are allocated by the
  runtime and bound once (``rknn_create_mem`` + ``rknn_set_io_mem``). ``model.input_view(i)``
  is a writable numpy view of input ``i`` (NHWC uint8 for image inputs); ``model.run()``
  runs on whatever is in those buffers and returns numpy views of the output buffers. The
  binding copies zero bytes per call unless a conversion (``float_outputs`` or a logical
  layout the NPU does not produce natively) is asked for.

**Returned arrays are reused**: every call returns the same arrays (or views), overwritten by
the next call. Pass ``copy=True`` to ``run`` for fresh arrays (copy mode: the runtime writes
straight into them, still one copy).

Layouts: image inputs are NHWC ``(1, H, W, C)`` (``(H, W, C)`` is accepted);
``data_format="nchw"`` passes ``(1, C, H, W)`` arrays instead. Outputs are, by default, in the
model's own dtype (int8/uint8/float16, see :attr:`TensorInfo.scale` and ``zero_point``) and
its logical layout (NCHW for 4-D); ``float_outputs=True`` gives float32.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core, _synthetic
from ._init_errors import explain_init_error, read_summary
from .errors import ModelClosedError, RknnError
from .info import TensorInfo
from ._io import (_FMT_NAMES, _FMT_NC1HWC2, _FMT_NCHW, _FMT_NHWC, _KIND_NATIVE, _KIND_NATIVE_NHWC, _KIND_NORMAL,
                  _TYPE_TO_DTYPE, _TYPE_UINT8, _InputSpec, _c_strides, _make_converter, _tensor_info,
                  prepare_input, prepare_pass_through)

# rknn_init flags
_FLAG_PRIORITY = {"high": 0x0, "medium": 0x1, "low": 0x2}
_FLAG_ASYNC = 0x4
_FLAG_COLLECT_PERF = 0x8

#: Named core masks (rknn_core_mask values).
CORE_MASKS: Dict[str, int] = {
    "auto": 0,
    "0": 1,
    "1": 2,
    "2": 4,
    "0_1": 3,
    "0_1_2": 7,
    "all": 0xFFFF,
}
_NPU_CORES = {"rk3588": 3, "rk3576": 2}  # every other RKNPU2 SoC has one core

# Installed beside the extension module: the package folder of a wheel, the build tree of an
# editable install (`pip install --no-build-isolation -e .`), where python/rknn_fast has no copy.
_EMULATOR_PATH = os.path.join(os.path.dirname(os.path.abspath(_core.__file__)), "librknnrt_emulator.so")

PathOrBytes = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


class SdkVersion(NamedTuple):
    """What ``RKNN_QUERY_SDK_VERSION`` reports: runtime API and NPU driver versions."""

    api: str
    driver: str


def emulator_path() -> str:
    """Path of the librknnrt emulator bundled with the package (``runtime="emulator"``)."""
    return _EMULATOR_PATH


def _read_model(model: PathOrBytes) -> Tuple[bytes, Optional[str]]:
    if isinstance(model, bytes):
        return model, None
    if isinstance(model, (bytearray, memoryview)):
        return bytes(model), None
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        with open(path, "rb") as f:
            return f.read(), path
    raise TypeError(f"expected a path or the model's bytes, got {type(model).__name__}")


def _file_summary(data: bytes) -> Optional[Dict[str, Any]]:
    """The .rknn reader's view of the file (no runtime needed); None if it cannot parse it."""
    return read_summary(data)[0]


def platform_cores(platform: Optional[str]) -> Optional[int]:
    """Number of NPU cores of a SoC name (``"rk3588"`` -> 3), None when unknown."""
    if not platform:
        return None
    return _NPU_CORES.get(platform.lower(), 1)


def parse_core_mask(core_mask: Union[str, int, Sequence[int]], platform: Optional[str] = None) -> int:
    """Turns ``"auto"``, ``"all"``, ``"0_1"``, ``2``, ``(0, 1)`` ... into an ``rknn_core_mask``.

    Strings name cores (``"0"``, ``"0_1"``, ``"0_1_2"``), ints are the raw mask, sequences list
    core indices. With a known ``platform`` the cores must exist on it (rk3588: 3, rk3576: 2,
    others: 1); on single-core SoCs only ``"auto"``/``"all"`` are valid.
    """
    if isinstance(core_mask, bool):
        raise TypeError(f"expected a core mask (str, int or core indices), got {core_mask!r}")
    if isinstance(core_mask, str):
        key = core_mask.lower().replace("npu_core_", "").replace("core_", "")
        if key not in CORE_MASKS:
            raise ValueError(f"expected one of {sorted(CORE_MASKS)} as core_mask, got {core_mask!r}")
        mask = CORE_MASKS[key]
    elif isinstance(core_mask, int):
        mask = int(core_mask)
        if mask not in CORE_MASKS.values():
            raise ValueError(f"expected a core mask in {sorted(set(CORE_MASKS.values()))}, got {mask}")
    elif isinstance(core_mask, (tuple, list)):
        if not core_mask or not all(isinstance(c, int) and 0 <= c <= 2 for c in core_mask):
            raise ValueError(f"expected core indices in 0..2, got {core_mask!r}")
        mask = 0
        for c in core_mask:
            mask |= 1 << c
        if mask not in CORE_MASKS.values():
            raise ValueError(f"the runtime cannot combine cores {sorted(set(core_mask))}")
    else:
        raise TypeError(f"expected a core mask (str, int or core indices), got {type(core_mask).__name__}")
    cores = platform_cores(platform)
    if cores is not None and mask not in (0, 0xFFFF):
        if cores == 1:
            raise ValueError(f"core_mask {core_mask!r} needs a multi-core NPU, but {platform} has one core "
                             "(use 'auto')")
        highest = mask.bit_length()
        if highest > cores:
            raise ValueError(f"core_mask {core_mask!r} uses NPU core {highest - 1}, but {platform} has "
                             f"{cores} cores (0..{cores - 1})")
    return mask


class Model:
    """A .rknn model loaded into a librknnrt context.

    Args:
        model: path of a .rknn file, or its bytes. A path ending in ``.onnx`` runs that ONNX
            model with onnxruntime on the host instead (same API; takes ``mean=``/``std=``;
            see :mod:`rknn_fast.backends.onnx`).
        runtime: librknnrt to use: a path, ``"emulator"`` (the bundled x86 emulator), or None
            for the default search (``RKNN_FAST_RUNTIME``, then ``librknnrt.so``, then
            ``/usr/lib/librknnrt.so``).
        core_mask: NPU cores (``"auto"``, ``"0"``, ``"1"``, ``"2"``, ``"0_1"``, ``"0_1_2"``,
            ``"all"``, a raw ``rknn_core_mask`` int, or core indices such as ``(0, 1)``).
            Checked against the model's platform.
        priority: ``"high"`` (runtime default), ``"medium"`` or ``"low"``.
        zero_copy: bind NPU-resident buffers once; see the module docstring.
        output_layout: ``"logical"`` (NCHW for 4-D, like the copy API), ``"native"`` (the
            NPU's layout, e.g. NC1HWC2 ``(N, C1, H, W, C2)``) or ``"nhwc"``. Default:
            ``"logical"`` in copy mode, ``"native"`` in zero-copy mode (the only layout
            that is free). Copy mode supports ``"logical"`` only.
        float_outputs: float32 outputs (dequantised) instead of the model's dtype.
        async_mode: ``RKNN_FLAG_ASYNC_MASK`` (outputs lag one frame; copy mode).
        collect_perf: ``RKNN_FLAG_COLLECT_PERF_MASK`` (per-layer times in :meth:`benchmark`).
        flags: extra raw ``rknn_init`` flag bits.

    Attributes:
        inputs: one :class:`~rknn_fast.TensorInfo` per model input, in API order: ``name``,
            ``shape`` (NHWC ``(1, H, W, C)`` for image inputs), ``dtype``, ``layout``,
            ``native_shape``/``native_layout``, ``qnt_type``, ``scale``, ``zero_point`` and byte
            sizes, as the runtime reports them.
        outputs: the same for each output (``shape`` NCHW for 4-D outputs; ``native_shape``
            NC1HWC2 ``(N, C1, H, W, C2)`` where the NPU keeps that layout).
        sdk_version: :class:`SdkVersion` ``(api, driver)``: the runtime's API version and the
            NPU kernel driver's version (``RKNN_QUERY_SDK_VERSION``; the emulator reports its own).
        mem_size: the runtime's memory report (``total_weight_size``, ``total_internal_size``...,
            bytes), None when the runtime does not answer it.
        custom_string: the string stored in the model at conversion ("" if none).
        runtime_path: path of the librknnrt (or emulator) that was loaded.
    """

    def __new__(cls, model: Optional[PathOrBytes] = None, *args: Any, **kwargs: Any) -> "Model":
        # A path ending in .onnx opens the onnxruntime host backend (rknn_fast.backends.onnx).
        # (Model.__new__(Model) without arguments stays a plain Model: used by duplication.)
        if cls is Model and isinstance(model, (str, os.PathLike)) and str(os.fspath(model)).lower().endswith(".onnx"):
            from .backends.onnx import OnnxModel
            return super().__new__(OnnxModel)
        return super().__new__(cls)

    def __init__(
        self,
        model: PathOrBytes,
        *,
        runtime: Optional[str] = None,
        core_mask: Union[str, int, Sequence[int]] = "auto",
        priority: str = "high",
        zero_copy: bool = False,
        output_layout: Optional[str] = None,
        float_outputs: bool = False,
        async_mode: bool = False,
        collect_perf: bool = False,
        flags: int = 0,
    ) -> None:
        self._sess: Any = None  # set last: a failed __init__ leaves a closed Model
        self._emu_watch: Optional[_synthetic.Watch] = None
        self._fast_run: Optional[Callable[[], List[np.ndarray]]] = None
        if priority not in _FLAG_PRIORITY:
            raise ValueError(f"expected priority in {sorted(_FLAG_PRIORITY)}, got {priority!r}")
        if output_layout is None:
            output_layout = "native" if zero_copy else "logical"
        if output_layout not in ("logical", "native", "nhwc"):
            raise ValueError(f"expected output_layout 'logical', 'native' or 'nhwc', got {output_layout!r}")
        if not zero_copy and output_layout != "logical":
            raise ValueError(f"output_layout={output_layout!r} needs zero_copy=True (copy mode returns 'logical')")
        if zero_copy and async_mode:
            raise ValueError("async_mode applies to copy mode only (zero-copy runs are synchronous)")
        if not isinstance(flags, int) or isinstance(flags, bool) or not 0 <= flags <= 0xFFFFFFFF:
            raise ValueError(f"expected flags as an int in 0..0xFFFFFFFF (rknn_init flag bits), got {flags!r}")
        if runtime is not None and not isinstance(runtime, (str, os.PathLike)):
            raise TypeError(f"expected runtime as a path or 'emulator', got {type(runtime).__name__}")

        data, self._path = _read_model(model)
        self._summary, reader_error = read_summary(data)
        platform = self.target_platform
        mask = parse_core_mask(core_mask, platform)

        init_flags = _FLAG_PRIORITY[priority] | int(flags)
        if async_mode:
            init_flags |= _FLAG_ASYNC
        if collect_perf:
            init_flags |= _FLAG_COLLECT_PERF
        runtime_arg = "" if runtime is None else os.fspath(runtime)
        try:
            # From a path, the runtime gets the path (rknn_init's file form), from bytes the bytes.
            sess = _core.Session(data, init_flags, runtime_arg, _EMULATOR_PATH, self._path or "")
        except RknnError as e:
            raise explain_init_error(e, self._summary, reader_error, self._path) from None
        try:
            self._open(sess, mask, platform, output_layout, zero_copy, float_outputs)
        except BaseException:
            # Nothing else references the context yet: destroy it now rather than when the
            # traceback (which keeps this frame alive) is collected.
            self._sess = None
            self._fast_run = None
            self.__dict__.pop("run", None)
            sess.close()
            raise

    def _open(self, sess: Any, mask: int, platform: Optional[str], output_layout: str, zero_copy: bool,
              float_outputs: bool) -> None:
        # Single-core SoCs: "all" means the one core, and their runtime refuses set_core_mask.
        if mask != 0 and not (mask == 0xFFFF and platform_cores(platform) == 1):
            sess.set_core_mask(mask)

        self._core_mask = mask
        self._zero_copy = bool(zero_copy)
        self._output_layout = output_layout
        self._float_outputs = bool(float_outputs)
        self._lock = threading.Lock()
        self._bytes_copied = 0

        attrs = [[sess.attrs(is_input, kind) for kind in range(3)] for is_input in (True, False)]
        self._in_attrs, self._out_attrs = attrs
        self.inputs: Tuple[TensorInfo, ...] = tuple(
            _tensor_info(*(self._in_attrs[k][i] for k in range(3))) for i in range(sess.n_inputs))
        self.outputs: Tuple[TensorInfo, ...] = tuple(
            _tensor_info(*(self._out_attrs[k][i] for k in range(3))) for i in range(sess.n_outputs))
        self._in_specs = [_InputSpec(a) for a in self._in_attrs[_KIND_NORMAL]]
        self.sdk_version = SdkVersion(sess.api_version, sess.driver_version)
        self.mem_size: Optional[Dict[str, int]] = sess.mem_size
        self.custom_string: str = sess.custom_string
        self.runtime_path: str = sess.runtime_path

        self._sess = sess
        # On the emulator: an EmulatorWarning the first time a run's outputs are synthetic.
        self._emu_watch = _synthetic.Watch(sess.runtime_path, self._path) if sess.is_emulator else None
        self._want_float = [self._float_outputs] * sess.n_outputs
        if self._zero_copy:
            self._setup_zero_copy()
            if not self._needs_post:
                # Zero-copy runs without conversions: `model.run()` is one C call that returns
                # a new list of the prebuilt views (no Python frame; with arguments it calls
                # Model.run). It references the Model weakly: no cycle through __dict__.
                runner = sess.bound_runner(tuple(self._outputs), Model.run, weakref.ref(self))
                if self._emu_watch is not None and not self._emu_watch.done:
                    runner = self._emu_watch.wrap(self, runner)
                self._fast_run = runner
                if type(self).run is Model.run:  # a subclass's own run() stays in charge
                    self.__dict__["run"] = runner
        else:
            self._out_arrays = [self._new_output(i) for i in range(sess.n_outputs)]

    def _duplicate(self, core_mask: Union[str, int, Sequence[int]] = "auto", *, zero_copy: Optional[bool] = None,
                   output_layout: Optional[str] = None, model_bytes: bytes = b"") -> "Model":
        """A new Model on a context sharing this one's weights (``rknn_dup_context``; without it
        in the runtime, ``rknn_init`` on ``model_bytes`` or this Model's file), with this Model's
        settings except ``core_mask`` (and ``zero_copy``/``output_layout`` when given) and its
        own buffers. :class:`rknn_fast.Pool` builds its contexts with it."""
        sess = self._check_open()
        zc = self._zero_copy if zero_copy is None else bool(zero_copy)
        layout = output_layout or ("native" if zc else "logical")
        if output_layout is None and zc == self._zero_copy:
            layout = self._output_layout
        platform = self.target_platform
        mask = parse_core_mask(core_mask, platform)
        new = Model.__new__(Model)
        new._sess = None
        new._emu_watch = None
        new._fast_run = None
        new._path, new._summary = self._path, self._summary
        dup = sess.duplicate(model_bytes, self._path or "")
        try:
            new._open(dup, mask, platform, layout, zc, self._float_outputs)
        except BaseException:
            new._sess = None
            new._fast_run = None
            new.__dict__.pop("run", None)
            dup.close()
            raise
        return new

    # ------------------------------------------------------------------ construction helpers

    def _new_output(self, i: int) -> np.ndarray:
        info = self.outputs[i]
        dtype = np.dtype(np.float32) if self._float_outputs else _TYPE_TO_DTYPE[self._out_attrs[0][i]["type"]]
        return np.empty(info.shape, dtype=dtype)

    def _setup_zero_copy(self) -> None:
        sess = self._sess
        self._in_mems: List[Any] = []
        self._in_views: List[np.ndarray] = []
        for i, spec in enumerate(self._in_specs):
            mem, view = self._bind_input(i, spec)
            self._in_mems.append(mem)
            self._in_views.append(view)
        self._out_mems: List[Any] = []
        self._out_raw: List[np.ndarray] = []   # views of the bound output buffers
        self._outputs: List[np.ndarray] = []   # what run() returns
        self._converters: List[Any] = []       # per output: None (a view) or a converter
        for i in range(sess.n_outputs):
            normal = self._out_attrs[_KIND_NORMAL][i]
            native = self._out_attrs[_KIND_NATIVE][i]
            nhwc = self._out_attrs[_KIND_NATIVE_NHWC][i]
            layout = self._output_layout
            if layout == "nhwc" and len(normal["dims"]) == 4:
                if not nhwc["available"]:
                    raise RknnError("output_layout='nhwc' needs RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR, "
                                    "which this runtime does not answer")
                kind, attr = _KIND_NATIVE_NHWC, nhwc
            elif layout == "logical" and native["fmt"] != _FMT_NC1HWC2:
                kind, attr = _KIND_NORMAL, normal
            else:
                kind, attr = _KIND_NATIVE, native
            dtype = _TYPE_TO_DTYPE[attr["type"]]
            nbytes = max(int(attr["size_with_stride"]), int(attr["size"]))
            mem = sess.bind(False, i, kind, -1, -1, False, nbytes)
            shape = tuple(int(d) for d in attr["dims"])
            raw = mem.array(dtype, shape, _c_strides(shape, dtype.itemsize))
            self._out_mems.append(mem)
            self._out_raw.append(raw)
            conv = _make_converter(raw, attr, normal, self._float_outputs, layout)
            self._converters.append(conv)
            self._outputs.append(raw if conv is None else conv.out)
        self._needs_post = any(c is not None for c in self._converters)

    def _bind_input(self, i: int, spec: _InputSpec, fd: Optional[Tuple[int, int, int]] = None) -> Tuple[Any, np.ndarray]:
        """Binds input i to a runtime buffer (or a caller's dma-buf) and returns (mem, view)."""
        sess = self._sess
        normal = self._in_attrs[_KIND_NORMAL][i]
        if spec.image:
            # The vendor's zero-copy recipe: native attr with type UINT8 / fmt NHWC, so the
            # NPU does mean/std and quantisation; rows may be padded to w_stride pixels.
            n, h, w, c = spec.shape
            nhwc = self._in_attrs[_KIND_NATIVE_NHWC][i]
            w_stride = max(int(nhwc["w_stride"]) or w, w)
            kind, type_code, fmt = _KIND_NATIVE, _TYPE_UINT8, _FMT_NHWC
            dtype = np.dtype(np.uint8)
            shape: Tuple[int, ...] = (n, h, w, c)
            strides: Tuple[int, ...] = (h * w_stride * c, w_stride * c, c, 1)
            nbytes = n * h * w_stride * c
        else:
            kind, type_code, fmt = _KIND_NORMAL, -1, -1
            dtype = spec.dtype
            shape = spec.shape
            strides = _c_strides(shape, dtype.itemsize)
            nbytes = max(int(normal["size"]), spec.n_elems * dtype.itemsize)
        if fd is None:
            mem = sess.bind(True, i, kind, type_code, fmt, False, nbytes)
        else:
            fd_, size, offset = fd
            if size < nbytes:
                raise ValueError(f"input {i} needs {nbytes} bytes, got a {size}-byte dma-buf")
            mem = sess.bind_fd(i, kind, type_code, fmt, False, fd_, size, offset)
        return mem, mem.array(dtype, shape, strides)

    # ------------------------------------------------------------------ properties

    def _check_open(self) -> Any:
        sess = self._sess
        if sess is None:
            raise ModelClosedError("the Model is closed")
        return sess

    @property
    def closed(self) -> bool:
        return self._sess is None

    @property
    def zero_copy(self) -> bool:
        return self._zero_copy

    @property
    def target_platform(self) -> Optional[str]:
        """SoC the file was compiled for (from the file), e.g. ``"rk3588"``; None if unknown."""
        s = self._summary
        return (s.get("target_platform") or None) if s is not None else None

    @property
    def target_platforms(self) -> Tuple[str, ...]:
        s = self._summary
        if s is None:
            return ()
        plats = tuple(s.get("target_platforms") or ())
        return plats or ((s["target_platform"],) if s.get("target_platform") else ())

    @property
    def toolkit_version(self) -> Optional[str]:
        s = self._summary
        return (s.get("toolkit_version") or None) if s is not None else None

    @property
    def core_mask(self) -> int:
        return self._core_mask

    @property
    def runtime_functions(self) -> Dict[str, bool]:
        """Which optional librknnrt functions the loaded runtime exports."""
        return dict(self._check_open().functions)

    @property
    def is_emulator(self) -> bool:
        return bool(self._check_open().is_emulator)

    @property
    def runtime_version(self) -> str:
        """The ``librknnrt version:`` string embedded in the library file ("" if none)."""
        return str(self._check_open().embedded_version)

    @property
    def last_frame_id(self) -> int:
        """Frame id (``rknn_run_extend.frame_id``) of the last run."""
        return int(self._check_open().last_frame_id)

    @property
    def last_runtime_us(self) -> float:
        """Microseconds the last run spent inside runtime calls (inputs_set + run + outputs_get,
        or syncs + run). A caller's own timing minus this is the binding's overhead."""
        return float(self._check_open().last_runtime_ns) / 1000.0

    @property
    def last_runtime_window_ns(self) -> Tuple[int, int]:
        """(start, end) of the last run's runtime calls in ``time.perf_counter_ns()`` /
        ``time.monotonic_ns()`` units (CLOCK_MONOTONIC): a caller's timestamps around
        ``run()`` minus this window split the binding's overhead into before and after."""
        sess = self._check_open()
        return int(sess.last_runtime_start_ns), int(sess.last_runtime_end_ns)

    @property
    def bytes_copied(self) -> int:
        """Bytes the binding itself copied since open (conversions, inputs written for you)."""
        return self._bytes_copied

    def native_attrs(self) -> Dict[str, List[Dict[str, Any]]]:
        """Raw ``rknn_tensor_attr`` dicts of every query kind, as the runtime answered them."""
        self._check_open()
        names = ("normal", "native", "native_nhwc")
        out: Dict[str, List[Dict[str, Any]]] = {}
        for k, name in enumerate(names):
            out["input_" + name] = [dict(a) for a in self._in_attrs[k]]
            out["output_" + name] = [dict(a) for a in self._out_attrs[k]]
        return out

    # ------------------------------------------------------------------ zero-copy buffers

    def input_view(self, index: int = 0) -> np.ndarray:
        """Writable numpy view of zero-copy input ``index`` (NHWC uint8 ``(1, H, W, C)`` for image
        inputs, possibly with padded row strides). Write the frame into it, then :meth:`run`
        without arguments. The view keeps the buffer alive. Image inputs hold uint8 pixels
        (normalised and quantised by the NPU); other inputs are in the model's dtype, which
        for a quantised (int8) input means quantised values, used as they are."""
        self._check_open()
        if not self._zero_copy:
            raise ValueError("input_view() needs Model(..., zero_copy=True)")
        self._check_index(index, len(self._in_views), "input")
        return self._in_views[index]

    def output_view(self, index: int = 0) -> np.ndarray:
        """Numpy view of the bound output buffer ``index`` in the bound layout (native
        NC1HWC2 ``(N, C1, H, W, C2)``, NHWC, or logical when the NPU produces it directly)."""
        self._check_open()
        if not self._zero_copy:
            raise ValueError("output_view() needs Model(..., zero_copy=True)")
        self._check_index(index, len(self._out_raw), "output")
        return self._out_raw[index]

    def input_buffer(self, index: int = 0) -> Dict[str, int]:
        """fd / offset / size / phys_addr of zero-copy input ``index`` (for RGA and friends)."""
        self._check_open()
        if not self._zero_copy:
            raise ValueError("input_buffer() needs Model(..., zero_copy=True)")
        self._check_index(index, len(self._in_mems), "input")
        m = self._in_mems[index]
        return {"fd": m.fd, "offset": m.offset, "size": m.size, "phys_addr": m.phys_addr}

    def bind_input_fd(self, index: int, fd: int, size: int, offset: int = 0) -> np.ndarray:
        """Uses a caller's dma-buf (``fd``, ``size`` bytes starting at ``offset``) as input
        ``index`` from now on, e.g. a camera or RGA buffer. The layout is the one
        :meth:`input_view` shows (NHWC uint8 for image inputs). Returns a view of it. The fd
        must be mappable read-write; keep it open while it is bound (the binding maps it and
        the runtime imports it, neither takes ownership)."""
        self._check_open()
        if not self._zero_copy:
            raise ValueError("bind_input_fd() needs Model(..., zero_copy=True)")
        self._check_index(index, len(self._in_mems), "input")
        for name, v in (("fd", fd), ("size", size), ("offset", offset)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"expected a non-negative int {name}, got {v!r}")
        with self._lock:
            mem, view = self._bind_input(index, self._in_specs[index], (fd, size, offset))
            self._in_mems[index] = mem
            self._in_views[index] = view
        return view

    @staticmethod
    def _check_index(index: int, n: int, what: str) -> None:
        if not isinstance(index, int) or not 0 <= index < n:
            raise IndexError(f"expected {what} index in 0..{n - 1}, got {index!r}")

    # ------------------------------------------------------------------ running

    def run(self, *inputs: np.ndarray, data_format: Optional[str] = None, copy: bool = False,
            pass_through: Optional[Sequence[bool]] = None) -> List[np.ndarray]:
        """Runs one inference and returns the outputs (one array per model output).

        Args:
            inputs: one array per model input. Image inputs: uint8 NHWC ``(1, H, W, C)`` or
                ``(H, W, C)``; other dtypes the runtime converts from (int8, float16,
                float32) are accepted as well; arrays must be C-contiguous. An array in the
                model's own quantised dtype (int8 for an int8 input) holds quantised values
                ``round((x - mean) / std / scale) + zero_point``, used as they are; any other
                dtype holds values before normalisation (uint8 pixels, float32/float16 on the
                pixel scale), normalised and quantised by the runtime. In zero-copy mode
                inputs are optional: without them the run uses what is in :meth:`input_view`;
                with them they are copied into the bound buffers (one copy).
            data_format: ``"nhwc"`` (default for image inputs) or ``"nchw"`` for
                ``(1, C, H, W)`` arrays.
            copy: return fresh arrays instead of the reused ones.
            pass_through: per input, True to hand the bytes to the NPU unconverted: the array
                must already be in the input's native dtype and layout (``TensorInfo.native_shape``,
                quantised), e.g. from an earlier pipeline stage. Copy mode only.

        Returns:
            The outputs, overwritten by the next call unless ``copy=True``.
        """
        fast = self._fast_run
        if fast is not None and not inputs and not copy and data_format is None and pass_through is None:
            return fast()
        sess = self._sess
        if sess is None:
            raise ModelClosedError("the Model is closed")
        if data_format is not None and data_format not in ("nhwc", "nchw"):
            raise ValueError(f"expected data_format 'nhwc' or 'nchw', got {data_format!r}")
        specs = self._in_specs
        if self._zero_copy:
            if pass_through is not None and any(pass_through):
                raise ValueError("pass_through applies to copy mode only (zero-copy inputs are written "
                                 "into the bound buffers: use input_view() for native bytes)")
            if inputs:
                if len(inputs) != len(specs):
                    raise ValueError(f"expected {len(specs)} inputs, got {len(inputs)}")
                prepared = [prepare_input(s, a, data_format) for s, a in zip(specs, inputs)]
            result: List[np.ndarray] = []

            # Both run under the session mutex, so that writing the inputs, the run and
            # reading the outputs are one step for threads sharing the Model.
            def before() -> None:
                self._write_inputs(prepared)

            def after() -> None:
                for conv in self._converters:
                    if conv is not None:
                        conv()
                        self._bytes_copied += conv.out.nbytes
                result.extend([o.copy() for o in self._outputs] if copy else self._outputs)

            watch = self._emu_watch
            mark = watch.mark() if watch is not None else -1
            sess.run_bound(before if inputs else None, after)
            if watch is not None:
                watch.check(mark)
            return result
        if len(inputs) != len(specs):
            raise ValueError(f"expected {len(specs)} inputs, got {len(inputs)}")
        arrays = []
        types = []
        fmts = []
        passes: List[bool] = []
        if pass_through is not None:
            passes = [bool(p) for p in pass_through]
            if len(passes) != len(specs):
                raise ValueError(f"expected {len(specs)} pass_through flags, got {len(passes)}")
        for k, (s, a) in enumerate(zip(specs, inputs)):
            if passes and passes[k]:
                arr, t, f = prepare_pass_through(k, a, self._in_attrs[_KIND_NATIVE][k])
            else:
                arr, t, f = prepare_input(s, a, data_format)
            arrays.append(arr)
            types.append(t)
            fmts.append(f)
        outs = [np.empty_like(o) for o in self._out_arrays] if copy else self._out_arrays
        watch = self._emu_watch
        mark = watch.mark() if watch is not None else -1
        sess.run_copy(arrays, types, fmts, outs, self._want_float, passes)
        if watch is not None:
            watch.check(mark)
        return list(outs)

    def _write_inputs(self, prepared: List[Tuple[np.ndarray, int, int]]) -> None:
        for view, spec, (a, _t, fmt) in zip(self._in_views, self._in_specs, prepared):
            if a.dtype != view.dtype:
                raise TypeError(f"input {spec.index} ({spec.name}): zero-copy input buffers hold {view.dtype}, "
                                f"got {a.dtype}")
            if fmt == _FMT_NCHW and view.ndim == 4:
                a = a.reshape(spec.nchw_shape).transpose(0, 2, 3, 1)
            np.copyto(view, a.reshape(view.shape))
            self._bytes_copied += a.nbytes

    def benchmark(self, n: int = 100, warmup: int = 10, *, inputs: Optional[Sequence[np.ndarray]] = None,
                  npu_time: bool = True) -> Dict[str, Any]:
        """Times ``n`` runs (after ``warmup``) in a C++ loop, without Python per iteration.

        Copy mode uses ``inputs`` (default: zeros of each input's shape and dtype); zero-copy
        mode runs on the bound buffers (conversions are not included). Returns a dict:
        ``latency_us`` (float64 array, wall time per run: inputs_set + run + outputs_get in copy
        mode, mem syncs + run in zero-copy mode), ``npu_us`` (int64 array, the runtime's own
        ``RKNN_QUERY_PERF_RUN`` time per run, -1 where unavailable), ``mean_us``, ``median_us``,
        ``p99_us``, ``npu_mean_us`` and ``perf_detail`` (per-layer table text when
        ``collect_perf=True``, else "").
        """
        sess = self._check_open()
        if not isinstance(n, int) or n < 1 or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"expected n >= 1 and warmup >= 0, got n={n!r}, warmup={warmup!r}")
        arrays: List[np.ndarray] = []
        types: List[int] = []
        fmts: List[int] = []
        outs: List[np.ndarray] = []
        if self._zero_copy and inputs is not None:
            raise ValueError("benchmark(inputs=...) applies to copy mode; a zero-copy Model runs on its "
                             "bound buffers (write them through input_view() first)")
        if not self._zero_copy:
            if inputs is None:
                inputs = [np.zeros(s.shape, s.dtype) for s in self._in_specs]
            if len(inputs) != len(self._in_specs):
                raise ValueError(f"expected {len(self._in_specs)} inputs, got {len(inputs)}")
            for s, a in zip(self._in_specs, inputs):
                arr, t, f = prepare_input(s, a, None)
                arrays.append(arr)
                types.append(t)
                fmts.append(f)
            outs = self._out_arrays
        r = sess.benchmark(n, warmup, self._zero_copy, arrays, types, fmts, outs, self._want_float, npu_time)
        lat = r["latency_us"]
        npu = r["npu_us"]
        valid = npu[npu >= 0] if len(npu) else npu
        r["mean_us"] = float(lat.mean())
        r["median_us"] = float(np.median(lat))
        r["p99_us"] = float(np.percentile(lat, 99))
        r["npu_mean_us"] = float(valid.mean()) if len(valid) else None
        return dict(r)

    def perf_run_us(self) -> int:
        """``RKNN_QUERY_PERF_RUN`` of the last run in microseconds (-1 if not reported)."""
        return int(self._check_open().perf_run_us())

    def perf_detail(self) -> str:
        """Per-layer table of the last run (``RKNN_QUERY_PERF_DETAIL``; needs collect_perf)."""
        return str(self._check_open().perf_detail())

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Destroys the context. Idempotent. Zero-copy views handed out stay valid (they keep
        their buffers alive) but the model cannot run any more."""
        sess = self._sess
        if sess is None:
            return
        self._sess = None
        self._fast_run = None
        self.__dict__.pop("run", None)
        sess.close()  # a runner or Session reference kept elsewhere now raises ModelClosedError
        for name in ("_in_views", "_in_mems", "_out_raw", "_out_mems", "_outputs", "_converters", "_out_arrays"):
            if hasattr(self, name):
                setattr(self, name, [])

    def __enter__(self) -> "Model":
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._sess is None else ("zero-copy" if self._zero_copy else "copy")
        return (f"<rknn_fast.Model {self._path or '<bytes>'} {self.target_platform or '?'} "
                f"inputs={[i.shape for i in getattr(self, 'inputs', ())]} {state}>")
