"""The part every image pipeline shares: letterbox a frame into the model's input, run it.

:class:`ImagePipeline` owns (or borrows) a :class:`~rknn_fast.Model` whose only input is an
image, NHWC uint8 ``(1, H, W, C)`` with C = 3 (or 1), and does::

    frame (h, w, C) uint8 --letterbox--> model input buffer --run--> raw outputs --decode--> result

In zero-copy mode (the default when a path is given) the letterbox writes straight into the
runtime's input buffer (:meth:`Model.input_view`) and the decoders read the NPU-native
outputs in place. The task pipelines (:class:`~rknn_fast.Detector`,
:class:`~rknn_fast.Segmenter`, :class:`~rknn_fast.InstanceSegmenter`,
:class:`~rknn_fast.TextDetector`, :class:`~rknn_fast.FaceDetector`,
:class:`~rknn_fast.PoseEstimator`, :class:`~rknn_fast.Classifier`) only add the decode step
and map its result back to the frame's pixels with the :class:`~rknn_fast.LetterboxTransform`.

Preprocessing is the fixtures' (tools/make_fixtures.py): letterbox (``"ultralytics"``
convention, border 114), frames BGR as OpenCV reads them turned into RGB for the model
(``rgb=True`` for RGB frames). Mean/std normalisation is inside the .rknn (the NPU does it),
so the pipeline feeds raw uint8 pixels.

Thread safety: without ``cores=`` a pipeline serialises its calls with a lock (one input
buffer, reused output buffers), so sharing one between threads is correct but not parallel.
With ``cores="all"`` (or a list/count) it runs on a :class:`~rknn_fast.Pool`: one context per
core (``contexts_per_core`` more), each frame letterboxed into its context's own input buffer
and decoded from its own outputs on the C++ worker owning that context; ``map()`` and
``submit()`` keep every core busy from one Python thread, and any thread may call.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import difflib
import inspect
import os
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np

from .convert import from_nc1hwc2
from .errors import ModelClosedError
from .info import TensorInfo
from .model import Model
from .pool import CoresArg, Pool, bounded_map
from .preprocess import letterbox
from .results import LetterboxTransform

__all__ = ["ImagePipeline", "ModelSource", "PIPELINE_OPTIONS", "logical_output", "output_layout"]

ModelSource = Union[Model, str, "os.PathLike[str]", bytes]
_CONVENTIONS = ("ultralytics", "vendor")
_P = TypeVar("_P", bound="ImagePipeline")
_R = TypeVar("_R")


def output_layout(a: np.ndarray, info: TensorInfo) -> str:
    """Layout of a raw output array as the Model returned it: ``"NCHW"`` (the logical
    shape), ``"NC1HWC2"`` (5-D native, zero-copy default) or ``"NHWC"`` (``output_layout="nhwc"``);
    ``"UNDEFINED"`` for other ranks in their logical shape."""
    logical = tuple(int(d) for d in info.shape)
    if a.ndim == 5 and len(logical) == 4:
        return "NC1HWC2"
    if tuple(a.shape) == logical:
        return "NCHW" if len(logical) == 4 else "UNDEFINED"
    if len(logical) == 4 and tuple(a.shape) == (logical[0], logical[2], logical[3], logical[1]):
        return "NHWC"
    raise ValueError(f"output {info.index} ({info.name}): expected shape {logical} or its native/NHWC "
                     f"form, got {tuple(a.shape)}")


def logical_output(a: np.ndarray, info: TensorInfo) -> np.ndarray:
    """The output in its logical shape ``info.shape`` (NCHW for 4-D).

    The logical array itself is returned as is; NC1HWC2 (padding channels and columns
    dropped) and NHWC are converted (one copy). Use it for small outputs whose decoder
    does not read the native layout.
    """
    layout = output_layout(a, info)
    if layout == "NC1HWC2":
        return from_nc1hwc2(np.ascontiguousarray(a), int(info.shape[1]), int(info.shape[3]))
    if layout == "NHWC":
        return np.ascontiguousarray(a.transpose(0, 3, 1, 2))
    return a


def _unexpected_keywords(owner: str, bad: Dict[str, Any], valid: Sequence[str]) -> TypeError:
    parts = []
    for k in sorted(bad):
        close = difflib.get_close_matches(k, valid, n=1)
        parts.append(repr(k) + (f" (did you mean {close[0]!r}?)" if close else ""))
    noun = "argument" if len(bad) == 1 else "arguments"
    return TypeError(f"{owner}() got unexpected keyword {noun} {', '.join(parts)}; valid: {', '.join(valid)}")


def _is_onnx_path(model: Any) -> bool:
    return isinstance(model, (str, os.PathLike)) and str(os.fspath(model)).lower().endswith(".onnx")


def _describe(a: Any) -> str:
    return f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__


class ImagePipeline:
    """Base of the image pipelines: validated frame -> letterbox -> run -> ``decode``.

    Args:
        model: a :class:`Model` (borrowed: :meth:`close` leaves it open), or a path / bytes
            of a .rknn file (opened with ``runtime`` and ``zero_copy``, closed by
            :meth:`close`).
        runtime: librknnrt to use when ``model`` is a path (``"emulator"`` on x86).
        zero_copy: letterbox into the runtime's input buffer and read native outputs in
            place (default); False copies the letterboxed frame in at each run.
        rgb: frames are RGB (default False: BGR as ``cv2.imread`` gives them). The model is
            fed RGB, as the model-zoo, ultralytics and rapidocr conversions expect.
        convention, pad_value: letterbox convention (``"ultralytics"`` or ``"vendor"``) and
            border value, see :func:`rknn_fast.letterbox`.
        core_mask, priority: :class:`Model` arguments when ``model`` is a path (checked at
            once: a core the model's platform lacks raises ValueError here).
        cores: None (default: one context, calls in the calling thread), or ``"all"``, a
            list of core indices or a count: run on a :class:`~rknn_fast.Pool` of contexts
            pinned to those cores, letterbox and decode on its worker threads (see
            :meth:`map` and :meth:`submit`).
        contexts_per_core: contexts per core with ``cores=`` (2 overlaps one frame's
            letterbox/decode with the next frame's NPU run on the same core).
        mean, std: when ``model`` is the path of an ONNX model (run with onnxruntime on the
            host, see :mod:`rknn_fast.backends.onnx`): its per-channel input normalisation
            on 0..255 pixels, as the .rknn was converted with.

    Every pipeline takes these arguments by keyword (:data:`PIPELINE_OPTIONS`); an unknown
    keyword raises TypeError naming the pipeline.
    """

    def __init__(
        self,
        model: ModelSource,
        *,
        runtime: Optional[str] = None,
        zero_copy: bool = True,
        rgb: bool = False,
        convention: str = "ultralytics",
        pad_value: int = 114,
        core_mask: Optional[Union[str, int, Sequence[int]]] = None,
        priority: Optional[str] = None,
        cores: Optional[CoresArg] = None,
        contexts_per_core: int = 1,
        mean: Optional[Union[float, Sequence[float]]] = None,
        std: Optional[Union[float, Sequence[float]]] = None,
        **unexpected: Any,
    ) -> None:
        if unexpected:
            raise _unexpected_keywords(type(self).__name__, unexpected, PIPELINE_OPTIONS)
        if convention not in _CONVENTIONS:
            raise ValueError(f"expected convention in {_CONVENTIONS}, got {convention!r}")
        if not (isinstance(pad_value, (int, np.integer)) and 0 <= int(pad_value) <= 255):
            raise ValueError(f"expected pad_value as an integer in [0, 255], got {pad_value!r}")
        if cores is not None and core_mask is not None:
            raise ValueError("pass cores= (one context per core) or core_mask= (one context), not both")
        if cores is not None and not zero_copy:
            raise ValueError("cores= runs on the contexts' bound buffers: it needs zero_copy=True")
        self._lock = threading.Lock()
        self._closed = False
        self._owns = not isinstance(model, Model)
        self._pool: Optional[Pool] = None
        if isinstance(model, Model) and (core_mask is not None or priority is not None or runtime is not None):
            raise ValueError("runtime=, core_mask= and priority= apply when the pipeline opens the model; "
                             "set them on the Model")
        onnx = _is_onnx_path(model)
        if (mean is not None or std is not None) and not onnx:
            raise ValueError("mean= and std= apply to an ONNX model given by path (a .rknn applies the "
                             "mean/std it was converted with; an open Model has its own)")
        if onnx and cores is not None:
            raise ValueError("cores= runs .rknn models on NPU cores; an ONNX model runs on this host's CPU")
        if cores is not None:
            kw: Dict[str, Any] = {} if priority is None else {"priority": priority}
            self._pool = Pool(model, cores, contexts_per_core, runtime=runtime, zero_copy=True, **kw)
            self.model: Model = model if isinstance(model, Model) else self._pool.context(0)
        else:
            if contexts_per_core != 1:
                raise ValueError("contexts_per_core applies with cores= only")
            if onnx:  # onnxruntime on the host behind the Model API
                from .backends.onnx import OnnxModel

                model = OnnxModel(model, zero_copy=zero_copy, mean=mean, std=std)  # type: ignore[arg-type]
            self.model = model if isinstance(model, Model) else Model(
                model, runtime=runtime, zero_copy=zero_copy, core_mask="auto" if core_mask is None else core_mask,
                priority="high" if priority is None else priority)
        with self._closing_on_error():
            inp = self.model.inputs[0]
            if len(self.model.inputs) != 1 or len(inp.shape) != 4 or inp.shape[0] != 1 or inp.shape[3] not in (1, 3):
                raise ValueError(f"expected one NHWC image input (1, H, W, 3), got "
                                 f"{[i.shape for i in self.model.inputs]}")
            #: (H, W) of the model input.
            self.input_size: Tuple[int, int] = (int(inp.shape[1]), int(inp.shape[2]))
            #: Channels of the model input (3, or 1 for grayscale models).
            self.channels: int = int(inp.shape[3])
            if self.model.zero_copy:
                self._buffer = self.model.input_view(0)
            else:
                self._buffer = np.empty((1,) + self.input_size + (self.channels,), np.uint8)
        self.rgb, self.convention, self.pad_value = bool(rgb), convention, int(pad_value)
        #: The letterbox transform of the last frame.
        self.last_transform: Optional[LetterboxTransform] = None

    @staticmethod
    def _split_options(kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """(the :class:`ImagePipeline` arguments, the rest) of a subclass's ``**kwargs``."""
        base = {k: v for k, v in kwargs.items() if k in PIPELINE_OPTIONS}
        return base, {k: v for k, v in kwargs.items() if k not in PIPELINE_OPTIONS}

    def _check_decode_kwargs(self, decode_kwargs: Dict[str, Any], decoders: Sequence[Callable[..., Any]],
                             reserved: Sequence[str]) -> None:
        """TypeError naming the pipeline unless every key is an argument of the decoder(s)
        that the pipeline does not set itself (``reserved``)."""
        accepted: set[str] = set()
        for fn in decoders:
            params = inspect.signature(fn).parameters.values()
            accepted |= {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        accepted -= set(reserved)
        bad = {k: v for k, v in decode_kwargs.items() if k not in accepted}
        if bad:
            raise _unexpected_keywords(type(self).__name__, bad, tuple(PIPELINE_OPTIONS) + tuple(sorted(accepted)))

    @contextlib.contextmanager
    def _closing_on_error(self) -> Iterator[None]:
        """Closes an owned model (and the pool) when construction fails after it was opened."""
        try:
            yield
        except BaseException:
            if self._pool is not None:
                self._pool.close()
            if self._owns:
                self.model.close()
            raise

    # ------------------------------------------------------------------ steps

    def check_image(self, image: Any) -> np.ndarray:
        """Validates a frame: uint8 (h, w, C) with the model's C (C = 1 also as (h, w))."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            raise TypeError(f"expected a uint8 image (h, w, {self.channels}), got {_describe(image)}")
        c = self.channels
        ok = (image.ndim == 3 and image.shape[2] == c) or (c == 1 and image.ndim == 2)
        if not ok:
            hint = ""
            if c == 3 and image.ndim == 2:
                hint = " (grayscale: convert with cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))"
            elif c == 3 and image.ndim == 3 and image.shape[2] == 4:
                hint = " (drop alpha with cv2.cvtColor(img, cv2.COLOR_BGRA2BGR))"
            want = "(h, w, 3)" if c == 3 else "(h, w) or (h, w, 1)"
            raise ValueError(f"expected a {want} image for a {c}-channel model, got shape {image.shape}{hint}")
        if image.shape[0] == 0 or image.shape[1] == 0:
            raise ValueError(f"expected a non-empty image, got shape {image.shape}")
        return image

    def preprocess(self, image: np.ndarray) -> LetterboxTransform:
        """Letterbox ``image`` into the model's input buffer; returns the transform. (With
        ``cores=`` this is context 0's buffer, which the pool's workers also write: the step
        is for pipelines without a pool.)"""
        image = self.check_image(image)
        # Asked each time: a borrowed zero-copy Model may have been rebound (bind_input_fd).
        dst = self.model.input_view(0) if self.model.zero_copy else self._buffer
        _, t = letterbox(image, dst=dst, convention=self.convention, pad_value=self.pad_value,
                         bgr_to_rgb=not self.rgb and self.channels == 3)
        self.last_transform = t
        return t

    def _process(self, image: np.ndarray, decode: Callable[[List[np.ndarray], LetterboxTransform], _R]) -> _R:
        """preprocess -> run -> ``decode(outputs, transform)`` under the pipeline's lock (or,
        with ``cores=``, on a pool worker while this thread waits).

        The outputs are the model's reused buffers: ``decode`` must finish with them
        (results must not be views of them) before the lock is released.
        """
        self.check_image(image)
        if self._pool is not None:
            return self._submit_decode(image, decode).result()
        with self._lock:
            if self._closed:
                raise ModelClosedError(f"the {type(self).__name__} is closed")
            t = self.preprocess(image)
            outs = self.model.run() if self.model.zero_copy else self.model.run(self._buffer)
            return decode(outs, t)

    def _submit_decode(self, image: np.ndarray,
                       decode: Callable[[List[np.ndarray], LetterboxTransform], _R]) -> "concurrent.futures.Future[_R]":
        image = self.check_image(image)
        if self._closed:
            raise ModelClosedError(f"the {type(self).__name__} is closed")
        pool = self._pool
        if pool is None:
            fut: "concurrent.futures.Future[_R]" = concurrent.futures.Future()
            try:
                fut.set_result(self._process(image, decode))
            except Exception as e:  # the error belongs to the future, as with a pool
                fut.set_exception(e)
            return fut
        models = pool._models  # updated in place when a context is re-created
        transforms: List[LetterboxTransform] = []
        convention, pad_value = self.convention, self.pad_value
        bgr_to_rgb = not self.rgb and self.channels == 3

        def pre(i: int) -> None:  # on the worker of context i; cv2 releases the GIL
            _, t = letterbox(image, dst=models[i].input_view(0), convention=convention, pad_value=pad_value,
                             bgr_to_rgb=bgr_to_rgb)
            transforms.append(t)

        def post(i: int) -> _R:  # the outputs of context i stay put until this returns
            m = models[i]
            for conv in m._converters:
                if conv is not None:
                    conv()
            t = transforms[0]
            self.last_transform = t
            return decode(list(m._outputs), t)

        return pool._submit_hooks(pre, post)

    def submit(self, image: np.ndarray) -> "concurrent.futures.Future[Any]":
        """Queues one frame and returns a :class:`concurrent.futures.Future` of what calling
        the pipeline returns. With ``cores=`` the letterbox, run and decode happen on the pool
        worker that owns the frame's context; without it the frame is processed now, in the
        calling thread, and the future is already done."""
        return self._submit_decode(image, self._decode)

    def map(self, frames: Iterable[np.ndarray], *, ordered: bool = True) -> Iterator[Any]:
        """Results of every frame, in the frames' order (``ordered=False``: as they complete).

        With ``cores=``, at most the pool's ``max_in_flight`` frames are unfinished at a time
        (a slow consumer throttles the producer) and their letterbox/decode run on the
        workers, so one Python loop feeds every core. Without it frames are processed one
        by one in the calling thread. Closing the generator early cancels frames not yet run.
        """
        if self._closed:
            raise ModelClosedError(f"the {type(self).__name__} is closed")
        limit = self._pool.max_in_flight if self._pool is not None else 1
        return bounded_map(self.submit, frames, bool(ordered), limit)

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform) -> Any:
        raise NotImplementedError

    @property
    def pool(self) -> Optional[Pool]:
        """The :class:`~rknn_fast.Pool` running the pipeline (``cores=``), else None."""
        return self._pool

    def _nchw_or_native(self, outs: List[np.ndarray]) -> List[np.ndarray]:
        """Outputs as the decoders read them: NHWC ones (``output_layout="nhwc"`` Models)
        transposed to NCHW (a copy); logical and NC1HWC2 ones untouched."""
        infos = self.model.outputs
        return [logical_output(o, i) if output_layout(o, i) == "NHWC" else o for o, i in zip(outs, infos)]

    def infer(self, image: np.ndarray) -> Tuple[List[np.ndarray], LetterboxTransform]:
        """Letterbox and run only: fresh copies of the raw outputs (as :meth:`Model.run`
        returns them: native layout in zero-copy mode) and the letterbox transform."""
        return self._process(image, lambda outs, t: ([np.array(o, copy=True) for o in outs], t))

    # ------------------------------------------------------------------ lifetime

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def close(self) -> None:
        """Closes the pipeline (and the model if the pipeline opened it; with ``cores=``, its
        pool after finishing the frames in flight). Idempotent."""
        with self._lock:  # waits for a call in flight
            self._closed = True
            if self.model.zero_copy:  # the view would keep the closed context's buffer alive
                self._buffer = np.empty((0,), np.uint8)
        if self._pool is not None:
            self._pool.close()
        if self._owns:
            self.model.close()

    def __enter__(self: _P) -> _P:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_fields(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._repr_fields()
        return (f"{type(self).__name__}({extra + ', ' if extra else ''}input={self.input_size}, "
                f"zero_copy={self.model.zero_copy}{', closed' if self._closed else ''})")


#: Keyword arguments every pipeline takes (declared once, by :class:`ImagePipeline`).
PIPELINE_OPTIONS: Tuple[str, ...] = tuple(
    name for name, p in inspect.signature(ImagePipeline.__init__).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY)
