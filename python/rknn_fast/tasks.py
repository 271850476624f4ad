"""Task pipelines beyond detection: ``Pipeline(model)(frame) -> result in the frame's pixels``.

Each class is an :class:`~rknn_fast.pipeline.ImagePipeline` (letterbox into the model's
input buffer, run, decode; context manager; ``close()``) with the decoder of one task from
:mod:`rknn_fast.postprocess`:

* :class:`Segmenter`: semantic segmentation -> (h, w) class map of the frame.
* :class:`InstanceSegmenter`: YOLOv8-seg / YOLOv5-seg -> :class:`Detections` with masks.
* :class:`TextDetector`: DBNet (PaddleOCR / rapidocr) -> :class:`TextBoxes`.
* :class:`FaceDetector`: RetinaFace or BlazeFace -> :class:`Detections` with landmarks.
* :class:`PoseEstimator`: YOLOv8-pose -> :class:`Detections` with 17 keypoints.
* :class:`Classifier`: top-k classes -> :class:`Classification`.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .pipeline import ImagePipeline, ModelSource, logical_output, output_layout
from .postprocess.classification import classify
from .postprocess.detection import decode_yolov5, decode_yolov8
from .postprocess.faces import decode_blazeface, decode_retinaface
from .postprocess.decoder import Decoder
from .postprocess.masks import _seg_finish, decode_yolov5_seg, decode_yolov8_seg
from .postprocess.pose import decode_yolov8_pose
from .postprocess.segmentation import default_palette, overlay, segment
from .postprocess.text import decode_dbnet
from .results import Classification, Detections, LetterboxTransform, TextBoxes

__all__ = ["Segmenter", "InstanceSegmenter", "TextDetector", "FaceDetector", "PoseEstimator", "Classifier"]

_SCORE_DTYPES = ("int8", "float16", "float32")

#: Instance segmentation heads: output indices of the detection head, the mask coefficients
#: and the prototypes.
_SEG_PARTS = {"yolov8": ([0, 1, 2, 4, 5, 6, 8, 9, 10], [3, 7, 11], 12), "yolov5": ([0, 2, 4], [1, 3, 5], 6)}


def _qp(info: Any) -> Tuple[float, int]:
    return float(info.scale), int(info.zero_point)


class Segmenter(ImagePipeline):
    """Semantic segmentation: ``Segmenter(model)(frame) -> (h, w) class map`` of the frame.

    The model has one score output ``(1, C, H', W')`` (logits or probabilities, any
    resolution covering the model input, e.g. DeepLabV3 or a 1/4-resolution head), read in
    place in its native layout. The letterbox is undone: pixel (x, y) of the frame gets the
    class of the model-input point ``(x + 0.5) * scale + pad_x`` (same for y).

    Args:
        model, runtime, zero_copy, rgb, convention, pad_value, core_mask, priority, cores,
            contexts_per_core: see :class:`~rknn_fast.pipeline.ImagePipeline`.
        mode: ``"nearest"`` (argmax on the model's map, then nearest resampling: fast) or
            ``"bilinear"`` (scores resampled bilinearly to every frame pixel, then argmax:
            smooth edges, like the DeepLabV3 demo), see :func:`rknn_fast.postprocess.segment`.
        names: class names, indexed by class id.
        palette: (K, 3) uint8 colours in RGB for :meth:`overlay` (default: the PASCAL VOC
            palette, class 0 black/untouched).

    The class map is uint8 (uint16 past 256 classes); ties go to the lowest class id.
    """

    def __init__(
        self,
        model: ModelSource,
        *,
        mode: str = "nearest",
        names: Optional[Sequence[str]] = None,
        palette: Optional[np.ndarray] = None,
        **options: Any,
    ) -> None:
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"expected mode 'nearest' or 'bilinear', got {mode!r}")
        super().__init__(model, **options)
        with self._closing_on_error():
            outs = self.model.outputs
            if len(outs) != 1 or len(outs[0].shape) != 4 or outs[0].shape[0] != 1 or outs[0].shape[1] < 2:
                raise ValueError(f"expected one score output (1, C, H, W) with C >= 2, got "
                                 f"{[o.shape for o in outs]}")
            if outs[0].dtype not in _SCORE_DTYPES:
                raise ValueError(f"expected an int8, float16 or float32 score output, got {outs[0].dtype}")
            #: Number of classes C.
            self.num_classes: int = int(outs[0].shape[1])
            if palette is not None:
                palette = np.asarray(palette, np.uint8)
                if palette.ndim != 2 or palette.shape[1] != 3 or palette.shape[0] < self.num_classes:
                    raise ValueError(f"expected a palette (K >= {self.num_classes}, 3), got shape {palette.shape}")
        self.mode, self.names = mode, names
        #: (K, 3) uint8 RGB colours of :meth:`overlay`.
        self.palette: np.ndarray = palette if palette is not None else default_palette(max(256, self.num_classes))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """(h, w) uint8/uint16 class map of a uint8 (h, w, 3) frame."""
        return self._process(image, self._decode)

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform) -> np.ndarray:
        info = self.model.outputs[0]
        layout = output_layout(outs[0], info)
        native = layout == "NC1HWC2"  # logical C and W of the padded native buffer
        return segment(outs[0], layout, transform=t, mode=self.mode, classes=self.num_classes if native else None,
                       width=int(info.shape[3]) if native else None)

    def overlay(self, image: np.ndarray, class_map: np.ndarray, alpha: float = 0.5) -> np.ndarray:
        """Blends the palette colour of each class over ``image`` (class 0 left untouched).

        ``image`` in the frame's channel order (BGR unless ``rgb=True``: the RGB palette is
        flipped to match). See :func:`rknn_fast.postprocess.overlay`.
        """
        pal = self.palette if self.rgb else np.ascontiguousarray(self.palette[:, ::-1])
        return overlay(image, class_map, pal, alpha)

    def _repr_fields(self) -> str:
        return f"classes={self.num_classes}, mode={self.mode!r}"


class InstanceSegmenter(ImagePipeline):
    """Instance segmentation: ``InstanceSegmenter(model)(frame) -> Detections`` with
    ``masks`` (N, h, w) bool in the frame's pixels.

    Heads (``head="auto"`` tells them by the number of outputs): ``"yolov8"`` (model-zoo
    YOLOv8/YOLO11-seg, 13 outputs: box, cls, score_sum, mask coefficients per stride, then
    the prototypes) and ``"yolov5"`` (7 outputs: detection and coefficients per stride,
    then the prototypes). Masks are computed only inside each box, from the raw int8
    prototypes, binarised at logit 0, see :func:`rknn_fast.postprocess.instance_masks`.

    Args:
        conf, iou, names, max_detections, decode_kwargs: see
            :func:`rknn_fast.postprocess.decode_yolov8_seg` / ``decode_yolov5_seg``.
        Others (runtime, zero_copy, rgb, convention, pad_value, core_mask, priority, cores,
            contexts_per_core): see :class:`~rknn_fast.pipeline.ImagePipeline`.
    """

    def __init__(
        self,
        model: ModelSource,
        head: str = "auto",
        conf: float = 0.25,
        iou: float = 0.45,
        names: Optional[Sequence[str]] = None,
        *,
        max_detections: int = 300,
        **kwargs: Any,
    ) -> None:
        if head not in ("auto", "yolov8", "yolov5"):
            raise ValueError(f"expected head 'auto', 'yolov8' or 'yolov5', got {head!r}")
        options, decode_kwargs = self._split_options(kwargs)
        super().__init__(model, **options)
        with self._closing_on_error():
            shapes = [tuple(o.shape) for o in self.model.outputs]
            counts = {"yolov8": 13, "yolov5": 7}
            if head == "auto":
                found = [h for h, n in counts.items() if n == len(shapes)]
                if not found:
                    raise ValueError(f"cannot tell the segmentation head from {len(shapes)} outputs "
                                     f"(expected 13 for YOLOv8-seg or 7 for YOLOv5-seg): {shapes}")
                head = found[0]
            if len(shapes) != counts[head] or any(len(s) != 4 for s in shapes):
                raise ValueError(f"expected {counts[head]} 4-D outputs for a {head}-seg head, got {shapes}")
            if shapes[-1][1] != 32:
                raise ValueError(f"expected prototypes (1, 32, H, W) as the last output, got {shapes[-1]}")
            decoders: List[Callable[..., Any]] = ([decode_yolov8_seg, decode_yolov8] if head == "yolov8"
                                                  else [decode_yolov5_seg, decode_yolov5])
            self._check_decode_kwargs(decode_kwargs, decoders, (
                "outputs", "infos_or_qparams", "conf", "iou", "max_detections", "transform", "input_size", "names",
                "class_map", "detect_options"))
        self.head = head
        self.conf, self.iou, self.names = float(conf), float(iou), names
        self.max_detections = int(max_detections)
        self.decode_kwargs = dict(decode_kwargs)
        with self._closing_on_error():  # the detection outputs' decoder, prepared once
            self._decoder = Decoder([self.model.outputs[i] for i in _SEG_PARTS[head][0]], head, conf=self.conf,
                                    iou=self.iou, max_detections=self.max_detections, input_size=self.input_size,
                                    names=names, **self.decode_kwargs)

    def __call__(self, image: np.ndarray, *, class_map: bool = False) -> Union[Detections, Tuple[Detections, np.ndarray]]:
        """Detections with masks for a uint8 (h, w, 3) frame; with ``class_map=True`` also the
        merged (h, w) uint8 map of the C demo (``class_id + 1`` of the best-scoring instance
        covering each pixel, 0 elsewhere)."""
        return self._process(image, lambda outs, t: self._decode(outs, t, class_map))

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform,
                class_map: bool = False) -> Union[Detections, Tuple[Detections, np.ndarray]]:
        # As decode_yolov8_seg / decode_yolov5_seg, with the boxes from the prepared decoder.
        outs, infos = self._nchw_or_native(outs), self.model.outputs
        det_idx, coeff_idx, proto = _SEG_PARTS[self.head]
        det = self._decoder([outs[i] for i in det_idx])
        coeff = [outs[i] for i in coeff_idx]
        na = 1 if self.head == "yolov8" else (coeff[0].shape[1] // 32 if coeff[0].ndim == 4 else 3)
        return _seg_finish(det, coeff, [infos[i] for i in coeff_idx], outs[proto], infos[proto], na, t,
                           self.input_size, class_map)

    def _repr_fields(self) -> str:
        return f"head={self.head!r}, conf={self.conf}, iou={self.iou}"


class TextDetector(ImagePipeline):
    """Text detection (DBNet: PaddleOCR det, rapidocr): ``TextDetector(model)(frame) -> TextBoxes``
    (rotated quads and their bounds) in the frame's pixels.

    Preprocessing is the letterbox of the other pipelines (a .rknn DBNet has a fixed input
    size; the fixture ppocr_det was recorded that way), with the ImageNet mean/std inside the
    .rknn. rapidocr's own pipeline resizes to a multiple of 32 without padding; for a fixed
    320x320 model the letterbox keeps the aspect ratio instead of stretching the text.

    Args:
        thresh, box_thresh, unclip_ratio, max_candidates, use_dilation, score_mode, min_size:
            see :func:`rknn_fast.postprocess.decode_dbnet` (rapidocr defaults).
        Others (runtime, zero_copy, rgb, convention, pad_value, core_mask, priority, cores,
            contexts_per_core): see :class:`~rknn_fast.pipeline.ImagePipeline`.
    """

    def __init__(
        self,
        model: ModelSource,
        *,
        thresh: float = 0.3,
        box_thresh: float = 0.5,
        unclip_ratio: float = 1.6,
        max_candidates: int = 1000,
        use_dilation: bool = True,
        score_mode: str = "fast",
        min_size: float = 3.0,
        **options: Any,
    ) -> None:
        if score_mode not in ("fast", "slow"):
            raise ValueError(f"expected score_mode 'fast' or 'slow', got {score_mode!r}")
        super().__init__(model, **options)
        with self._closing_on_error():
            outs = self.model.outputs
            want = (1, 1) + self.input_size
            if len(outs) != 1 or tuple(outs[0].shape) != want:
                raise ValueError(f"expected one probability map output {want} (DBNet), got {[o.shape for o in outs]}")
            if outs[0].dtype not in _SCORE_DTYPES:
                raise ValueError(f"expected an int8, float16 or float32 map, got {outs[0].dtype}")
        self.options = dict(thresh=float(thresh), box_thresh=float(box_thresh), unclip_ratio=float(unclip_ratio),
                            max_candidates=int(max_candidates), use_dilation=bool(use_dilation),
                            score_mode=score_mode, min_size=float(min_size))

    def __call__(self, image: np.ndarray) -> TextBoxes:
        """Text boxes of a uint8 (h, w, 3) frame, in its pixels."""
        return self._process(image, self._decode)

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform) -> TextBoxes:
        info = self.model.outputs[0]
        prob = outs[0]
        layout = output_layout(prob, info)
        # Channel 0 as an (H, W) view: lane 0 of block 0 in NC1HWC2, padding columns dropped.
        plane = prob[0, 0, :, : self.input_size[1], 0] if layout == "NC1HWC2" else prob.reshape(self.input_size)
        qp = _qp(info) if plane.dtype == np.int8 else None
        return decode_dbnet(plane, transform=t, qparams=qp, **self.options)  # type: ignore[arg-type]

    def _repr_fields(self) -> str:
        o = self.options
        return f"thresh={o['thresh']}, box_thresh={o['box_thresh']}, unclip_ratio={o['unclip_ratio']}"


class FaceDetector(ImagePipeline):
    """Faces with landmarks: ``FaceDetector(model)(frame) -> Detections`` (class 0 "face",
    ``keypoints`` (N, 5, 2) for RetinaFace: eyes, nose, mouth corners; (N, 6, 2) for BlazeFace).

    Heads (``head="auto"``, told by the outputs' last dimension): ``"retinaface"``
    (rknn_model_zoo: loc (1, P, 4), conf (1, P, 2), landmarks (1, P, 10), any order) and
    ``"blazeface"`` (MediaPipe front model: regressors (1, 896, 16), scores (1, 896, 1)).

    Args:
        conf, iou, max_detections: thresholds; None takes the decoder's default
            (RetinaFace 0.5 / 0.4 / 128, BlazeFace 0.5 / 0.3 / 100, MediaPipe's).
        nms: ``"weighted"`` (MediaPipe: each face is the score-weighted mean of its
            overlapping candidates) or ``"plain"`` (greedy); None takes the decoder's default
            (BlazeFace weighted, RetinaFace plain).
        decode_kwargs: passed to :func:`rknn_fast.postprocess.decode_retinaface` /
            :func:`~rknn_fast.postprocess.decode_blazeface` (e.g. BlazeFace ``anchors``).
        Others (runtime, zero_copy, rgb, convention, pad_value, core_mask, priority, cores,
            contexts_per_core): see :class:`~rknn_fast.pipeline.ImagePipeline` (BlazeFace
            models expect ``pad_value=0`` borders as MediaPipe pads).
    """

    def __init__(
        self,
        model: ModelSource,
        conf: Optional[float] = None,
        iou: Optional[float] = None,
        *,
        head: str = "auto",
        max_detections: Optional[int] = None,
        nms: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        if head not in ("auto", "retinaface", "blazeface"):
            raise ValueError(f"expected head 'auto', 'retinaface' or 'blazeface', got {head!r}")
        if nms not in (None, "weighted", "plain"):
            raise ValueError(f"nms: expected 'weighted', 'plain' or None, got {nms!r}")
        options, decode_kwargs = self._split_options(kwargs)
        super().__init__(model, **options)
        with self._closing_on_error():
            outs = self.model.outputs
            widths = [int(o.shape[-1]) if len(o.shape) == 3 and o.shape[0] == 1 else -1 for o in outs]
            kinds = {"retinaface": (4, 2, 10), "blazeface": (16, 1)}
            if head == "auto":
                found = [h for h, w in kinds.items() if sorted(widths) == sorted(w)]
                if not found:
                    raise ValueError("cannot tell the face head from outputs "
                                     f"{[o.shape for o in outs]}: expected RetinaFace (1, P, 4), (1, P, 2), "
                                     "(1, P, 10) or BlazeFace (1, A, 16), (1, A, 1)")
                head = found[0]
            if sorted(widths) != sorted(kinds[head]):
                raise ValueError(f"expected {head} outputs (1, P, w) with w in {kinds[head]}, got "
                                 f"{[o.shape for o in outs]}")
            #: Output index of each decoder argument, in the decoder's order.
            self._order = [widths.index(w) for w in kinds[head]]
            if head == "blazeface" and self.input_size[0] != self.input_size[1]:
                raise ValueError(f"expected a square BlazeFace input, got {self.input_size}")
            self._check_decode_kwargs(decode_kwargs,
                                      [decode_retinaface if head == "retinaface" else decode_blazeface],
                                      ("loc", "scores", "landmarks", "regressors", "transform", "qparams", "conf",
                                       "iou", "max_detections", "nms"))
        self.head = head
        self.conf, self.iou, self.max_detections = conf, iou, max_detections
        self.nms = nms
        self.decode_kwargs = dict(decode_kwargs)

    def __call__(self, image: np.ndarray) -> Detections:
        """Faces in a uint8 (h, w, 3) frame: boxes and landmarks in its pixels."""
        return self._process(image, self._decode)

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform) -> Detections:
        infos = [self.model.outputs[i] for i in self._order]
        arrays = [logical_output(outs[i], info) for i, info in zip(self._order, infos)]
        kw = dict(self.decode_kwargs)
        for name in ("conf", "iou", "max_detections", "nms"):
            if getattr(self, name) is not None:
                kw[name] = getattr(self, name)
        qps = [_qp(i) for i in infos]
        if self.head == "retinaface":
            return decode_retinaface(*arrays, transform=t, qparams=qps, **kw)
        kw.setdefault("input_size", self.input_size[0])
        return decode_blazeface(*arrays, transform=t, qparams=qps, **kw)

    def _repr_fields(self) -> str:
        return f"head={self.head!r}, conf={self.conf}, iou={self.iou}"


class PoseEstimator(ImagePipeline):
    """Persons with keypoints (YOLOv8-pose): ``PoseEstimator(model)(frame) -> Detections``
    with ``keypoints`` (N, K, 3) (x, y in the frame's pixels, visibility as the model gives it).

    Outputs (rknn_model_zoo split head): one (1, 4*reg_max+1, H, W) head per stride (DFL box
    + person logit) and the keypoints (1, K, 3, N) decoded in model-input pixels (any order;
    the keypoints are the output whose third dimension is 3).

    Args:
        conf, iou, max_detections: see :func:`rknn_fast.postprocess.decode_yolov8_pose`.
        Others (runtime, zero_copy, rgb, convention, pad_value, core_mask, priority, cores,
            contexts_per_core): see :class:`~rknn_fast.pipeline.ImagePipeline`.
    """

    def __init__(
        self,
        model: ModelSource,
        conf: float = 0.5,
        iou: float = 0.4,
        *,
        max_detections: int = 300,
        **options: Any,
    ) -> None:
        super().__init__(model, **options)
        with self._closing_on_error():
            shapes = [tuple(o.shape) for o in self.model.outputs]
            kp = [i for i, s in enumerate(shapes) if len(s) == 4 and s[2] == 3]
            heads = [i for i in range(len(shapes)) if i not in kp]
            ok = len(kp) == 1 and len(heads) >= 1 and all(len(shapes[i]) == 4 for i in heads)
            if ok:
                c = shapes[heads[0]][1]
                ok = c % 4 == 1 and all(shapes[i][1] == c for i in heads)
                cells = sum(shapes[i][2] * shapes[i][3] for i in heads)
                ok = ok and shapes[kp[0]][3] == cells
            if not ok:
                raise ValueError("expected YOLOv8-pose outputs: heads (1, 4*reg_max+1, H, W) per stride and "
                                 f"keypoints (1, K, 3, N) with N the heads' cells, got {shapes}")
            self._heads, self._kp = heads, kp[0]
            self.reg_max = (shapes[heads[0]][1] - 1) // 4
        self.conf, self.iou, self.max_detections = float(conf), float(iou), int(max_detections)

    def __call__(self, image: np.ndarray) -> Detections:
        """Persons in a uint8 (h, w, 3) frame: boxes and keypoints in its pixels."""
        return self._process(image, self._decode)

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform) -> Detections:
        infos = self.model.outputs
        # NCHW, NHWC and NC1HWC2 heads are all read in place.
        layouts = {output_layout(outs[i], infos[i]) for i in self._heads}
        if len(layouts) != 1:
            raise ValueError(f"expected one layout for every head, got {sorted(layouts)}")
        kp_info = infos[self._kp]
        kp = logical_output(outs[self._kp], kp_info)
        return decode_yolov8_pose(
            [outs[i] for i in self._heads], kp, qparams=[_qp(infos[i]) for i in self._heads],
            keypoint_qparams=_qp(kp_info), layout=layouts.pop(), conf=self.conf, iou=self.iou,
            max_detections=self.max_detections, transform=t, reg_max=self.reg_max)

    def _repr_fields(self) -> str:
        return f"conf={self.conf}, iou={self.iou}"


class Classifier(ImagePipeline):
    """Classification: ``Classifier(model, k=5, names=...)(frame) -> Classification`` (top-k
    class ids, scores, names; most probable first, ties to the lower id).

    The model has one output of C scores ((1, C), or (1, C, 1, 1)).

    Args:
        k: how many classes to return (clipped to C).
        names: C class names.
        softmax: ``True`` applies a softmax to the outputs, ``False`` keeps them (dequantised);
            ``"auto"`` (default) applies it unless the outputs already look like probabilities
            (every value in [0, 1], sum within 0.01 of 1: the model ends with a softmax).
        Others (runtime, zero_copy, rgb, convention, pad_value, core_mask, priority, cores,
            contexts_per_core): see :class:`~rknn_fast.pipeline.ImagePipeline`.
    """

    def __init__(
        self,
        model: ModelSource,
        k: int = 5,
        names: Optional[Sequence[str]] = None,
        *,
        softmax: Union[bool, str] = "auto",
        **options: Any,
    ) -> None:
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"expected k as an integer >= 1, got {k!r}")
        if softmax not in (True, False, "auto"):
            raise ValueError(f"expected softmax True, False or 'auto', got {softmax!r}")
        super().__init__(model, **options)
        with self._closing_on_error():
            outs = self.model.outputs
            s = tuple(outs[0].shape) if len(outs) == 1 else ()
            if not (len(s) >= 2 and s[0] == 1 and all(d == 1 for d in s[2:])):
                raise ValueError(f"expected one score output (1, C) or (1, C, 1, 1), got {[o.shape for o in outs]}")
            if outs[0].dtype not in _SCORE_DTYPES:
                raise ValueError(f"expected an int8, float16 or float32 score output, got {outs[0].dtype}")
            #: Number of classes C.
            self.num_classes: int = int(s[1])
            if names is not None and len(names) != self.num_classes:
                raise ValueError(f"expected {self.num_classes} names, got {len(names)}")
        self.k, self.names, self.softmax = int(k), names, softmax

    def __call__(self, image: np.ndarray) -> Classification:
        """Top-k classes of a uint8 (h, w, 3) frame."""
        return self._process(image, self._decode)

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform) -> Classification:
        info = self.model.outputs[0]
        scores = logical_output(outs[0], info).reshape(-1)
        qp = _qp(info) if scores.dtype == np.int8 else None
        apply = self.softmax
        if apply == "auto":
            v = scores.astype(np.float32) if qp is None else (scores.astype(np.float32) - qp[1]) * np.float32(qp[0])
            apply = not (float(v.min()) >= 0.0 and float(v.max()) <= 1.0 and abs(float(v.sum(dtype=np.float64)) - 1.0) <= 0.01)
        return classify(scores, self.k, self.names, qparams=qp, apply_softmax=bool(apply))

    def _repr_fields(self) -> str:
        return f"classes={self.num_classes}, k={self.k}"
