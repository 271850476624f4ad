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

Thread safety: a pipeline serialises its calls with a lock (one input buffer, reused output
buffers), so sharing one between threads is correct but not parallel; use one pipeline per
thread (over ``Model``s on different cores) for parallel runs.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Callable, Iterator, List, Optional, Tuple, TypeVar, Union

import numpy as np

from .convert import from_nc1hwc2
from .errors import ModelClosedError
from .info import TensorInfo
from .model import Model
from .preprocess import letterbox
from .results import LetterboxTransform

__all__ = ["ImagePipeline", "ModelSource", "logical_output", "output_layout"]

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
    ) -> None:
        if convention not in _CONVENTIONS:
            raise ValueError(f"expected convention in {_CONVENTIONS}, got {convention!r}")
        if not (isinstance(pad_value, (int, np.integer)) and 0 <= int(pad_value) <= 255):
            raise ValueError(f"expected pad_value as an integer in [0, 255], got {pad_value!r}")
        self._lock = threading.Lock()
        self._closed = False
        self._owns = not isinstance(model, Model)
        self.model: Model = model if isinstance(model, Model) else Model(model, runtime=runtime,
                                                                          zero_copy=zero_copy)
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

    @contextlib.contextmanager
    def _closing_on_error(self) -> Iterator[None]:
        """Closes an owned model when construction fails after it was opened."""
        try:
            yield
        except BaseException:
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
        """Letterbox ``image`` into the model's input buffer; returns the transform."""
        image = self.check_image(image)
        # Asked each time: a borrowed zero-copy Model may have been rebound (bind_input_fd).
        dst = self.model.input_view(0) if self.model.zero_copy else self._buffer
        _, t = letterbox(image, dst=dst, convention=self.convention, pad_value=self.pad_value,
                         bgr_to_rgb=not self.rgb and self.channels == 3)
        self.last_transform = t
        return t

    def _process(self, image: np.ndarray, decode: Callable[[List[np.ndarray], LetterboxTransform], _R]) -> _R:
        """preprocess -> run -> ``decode(outputs, transform)`` under the pipeline's lock.

        The outputs are the model's reused buffers: ``decode`` must finish with them
        (results must not be views of them) before the lock is released.
        """
        self.check_image(image)
        with self._lock:
            if self._closed:
                raise ModelClosedError(f"the {type(self).__name__} is closed")
            t = self.preprocess(image)
            outs = self.model.run() if self.model.zero_copy else self.model.run(self._buffer)
            return decode(outs, t)

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
        """Closes the pipeline (and the model if the pipeline opened it). Idempotent."""
        with self._lock:  # waits for a call in flight
            self._closed = True
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
