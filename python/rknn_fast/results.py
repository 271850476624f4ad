"""Result types shared by the post-processing decoders and pipelines.

Coordinates are pixels in ``xyxy`` order (x1, y1, x2, y2), float32, in the image the
caller passed (after the letterbox is undone) unless a docstring says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator, NamedTuple, Optional, Sequence, Tuple, TypeVar, Union, overload

import numpy as np

#: What indexes a result type: an int gives one record, a slice, a boolean mask of length N or
#: an integer array gives a result of the same type with those items.
Index = Union[int, np.integer, slice, Sequence[int], Sequence[bool], np.ndarray]

_R = TypeVar("_R")

_REPR_ITEMS = 3  # items a repr shows before "... N more"


def _is_item_index(index: Any) -> bool:
    if isinstance(index, (bool, np.bool_)):
        raise TypeError("expected an int, a slice, a boolean mask or integer indices, got a bool")
    return isinstance(index, (int, np.integer))


def _select(result: _R, index: Any, per_item: Sequence[str]) -> _R:
    """A copy of ``result`` whose per-item arrays keep ``index`` (slice, mask, int array)."""
    n = len(result)  # type: ignore[arg-type]
    if not isinstance(index, slice):
        idx = np.asarray(index)
        if idx.dtype == np.bool_:
            if idx.shape != (n,):
                raise IndexError(f"expected a boolean mask of shape ({n},), got {idx.shape}")
        elif idx.size == 0:
            idx = idx.astype(np.intp)
        elif not np.issubdtype(idx.dtype, np.integer) or idx.ndim != 1:
            raise TypeError(f"expected an int, a slice, a boolean mask or 1-D integer indices, got {index!r}")
        elif idx.size and (idx.max() >= n or idx.min() < -n):
            raise IndexError(f"index out of range for {n} items: {index!r}")
        index = idx
    changes = {}
    for name in per_item:
        value = getattr(result, name)
        if value is not None:
            changes[name] = value[index]
    return replace(result, **changes)  # type: ignore[type-var]


def _item(n: int, index: Any) -> int:
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"index {i} out of range for {n} items")
    return i + n if i < 0 else i


def _box_text(b: Any) -> str:
    return "[" + ", ".join(f"{float(v):.0f}" for v in b) + "]"


class Detection(NamedTuple):
    """One detection of a :class:`Detections` (``for d in dets``, ``dets[i]``).

    ``xyxy`` is a float32 (4,) box in pixels, ``score`` and ``class_id`` plain numbers,
    ``name`` the class name (the id as text when no names are known), ``mask`` the (H, W) bool
    mask and ``keypoints`` the (K, 2|3) points when the pipeline produces them, else None.
    """

    xyxy: np.ndarray
    score: float
    class_id: int
    name: str
    mask: Optional[np.ndarray] = None
    keypoints: Optional[np.ndarray] = None

    def __repr__(self) -> str:
        extra = ""
        if self.mask is not None:
            extra += f", mask {int(self.mask.sum())} px"
        if self.keypoints is not None:
            extra += f", {self.keypoints.shape[0]} keypoints"
        return f"Detection({self.name} {self.score:.2f} {_box_text(self.xyxy)}{extra})"


@dataclass
class Detections:
    """Detected objects.

    * ``xyxy``: float32 (N, 4) boxes in pixels.
    * ``scores``: float32 (N,) confidences in [0, 1], sorted descending (decoders called with
      ``run_nms=False`` return candidates in anchor order instead).
    * ``class_ids``: int32 (N,).
    * ``names``: optional class names indexed by class id.
    * ``masks``: optional bool (N, H, W) instance masks in image coordinates.
    * ``keypoints``: optional float32 (N, K, 2) or (N, K, 3) (x, y[, visibility/score]).
    * ``anchor_index``: optional int64 (N,): flat index of the model output cell each
      detection came from (see :mod:`rknn_fast.postprocess.detection`), used to gather
      per-cell extras such as mask coefficients or keypoints.
    """

    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    names: Optional[Sequence[str]] = None
    masks: Optional[np.ndarray] = None
    keypoints: Optional[np.ndarray] = None
    anchor_index: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    _PER_ITEM = ("xyxy", "scores", "class_ids", "masks", "keypoints", "anchor_index")

    @overload
    def __getitem__(self, index: Union[int, np.integer]) -> Detection: ...
    @overload
    def __getitem__(self, index: Union[slice, Sequence[int], Sequence[bool], np.ndarray]) -> "Detections": ...

    def __getitem__(self, index: Index) -> Union[Detection, "Detections"]:
        """``dets[i]`` is one :class:`Detection`; ``dets[1:3]``, ``dets[dets.scores > 0.5]`` or
        ``dets[[0, 2]]`` are :class:`Detections` with those detections (arrays indexed alike)."""
        if _is_item_index(index):
            i = _item(len(self), index)
            return Detection(
                self.xyxy[i], float(self.scores[i]), int(self.class_ids[i]), self.label(i),
                None if self.masks is None else self.masks[i],
                None if self.keypoints is None else self.keypoints[i])
        return _select(self, index, self._PER_ITEM)

    def __iter__(self) -> Iterator[Detection]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        n = len(self)
        extras = [f"{name} {tuple(getattr(self, name).shape)}" for name in ("masks", "keypoints")
                  if getattr(self, name) is not None]
        head = f"Detections({n} object{'s' if n != 1 else ''}" + (", " + ", ".join(extras) if extras else "")
        if n == 0:
            return head + ")"
        items = [f"  {self.label(i)} {float(self.scores[i]):.2f} {_box_text(self.xyxy[i])}"
                 for i in range(min(n, _REPR_ITEMS))]
        if n > _REPR_ITEMS:
            items.append(f"  ... {n - _REPR_ITEMS} more")
        return head + ":\n" + "\n".join(items) + ")"

    @classmethod
    def empty(cls, names: Optional[Sequence[str]] = None) -> "Detections":
        """No detections (arrays of length 0 with the documented dtypes)."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
            class_ids=np.zeros((0,), np.int32),
            names=names,
            anchor_index=np.zeros((0,), np.int64),
        )

    def label(self, i: int) -> str:
        """Class name of detection ``i`` (the id as text when no name is known)."""
        c = int(self.class_ids[i])
        if self.names is not None and 0 <= c < len(self.names):
            return str(self.names[c])
        return str(c)

    def draw(
        self,
        image: np.ndarray,
        *,
        copy: bool = True,
        thickness: int = 2,
        font_scale: Optional[float] = None,
        color: Optional[Tuple[int, int, int]] = None,
        show_scores: bool = True,
        mask_alpha: float = 0.5,
        keypoint_threshold: float = 0.5,
    ) -> np.ndarray:
        """Draw boxes and labels on a uint8 (H, W, 3) image with OpenCV.

        Boxes are taken as pixels of ``image`` (so decode with the letterbox transform
        first). ``color`` is in the image's own channel order; by default each class gets
        a fixed color. ``masks`` (when present, (N, H, W) of the image's size) are blended
        in with ``mask_alpha`` (0 skips them); ``keypoints`` are drawn as dots, those with a
        third column (visibility/score) only when it is ``>= keypoint_threshold``.

        Labels (class name and score) use a font scaled to the image (``font_scale=None``:
        ``max(0.5, min(h, w) / 800)``, readable at 100 %) and are placed above the box, inside
        its top, or below it, whichever does not cover a label already drawn; detections are
        labelled in score order, and a label that would cover an earlier one everywhere is left
        out (its box is still drawn). Returns the drawn image (a copy unless ``copy=False``).
        """
        import cv2

        check_bgr_image(image)
        out = image.copy() if copy else image
        if self.masks is not None and mask_alpha > 0:
            if self.masks.shape[1:] != image.shape[:2]:
                raise ValueError(f"expected masks of the image's size {image.shape[:2]}, got {self.masks.shape[1:]}")
            for i in range(len(self)):
                m = self.masks[i]
                col = color if color is not None else _class_color(int(self.class_ids[i]))
                blended = out[m].astype(np.float32) * (1 - mask_alpha) + np.float32(mask_alpha) * np.array(col, np.float32)
                out[m] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        if self.keypoints is not None:
            for i in range(len(self)):
                col = color if color is not None else _class_color(int(self.class_ids[i]))
                for p in self.keypoints[i]:
                    if p.shape[0] > 2 and not p[2] >= keypoint_threshold:
                        continue
                    cv2.circle(out, (int(round(float(p[0]))), int(round(float(p[1])))), max(2, thickness + 1), col, -1)
        boxes = [tuple(int(round(float(v))) for v in self.xyxy[i]) for i in range(len(self))]
        colors = [color if color is not None else _class_color(int(self.class_ids[i])) for i in range(len(self))]
        for (x1, y1, x2, y2), col in zip(boxes, colors):
            cv2.rectangle(out, (x1, y1), (x2, y2), col, thickness)
        texts = [self.label(i) + (f" {float(self.scores[i]):.2f}" if show_scores else "") for i in range(len(self))]
        order = sorted(range(len(self)), key=lambda i: -float(self.scores[i]))
        scale = label_font_scale(out.shape) if font_scale is None else float(font_scale)
        weight = 1 if scale < 0.9 else 2
        for i, (lx, ly, tw, th, base) in place_labels([boxes[i] for i in order], [texts[i] for i in order],
                                                      out.shape, scale, weight):
            k = order[i]
            cv2.rectangle(out, (lx, ly), (lx + tw, ly + th + base), colors[k], -1)
            cv2.putText(out, texts[k], (lx, ly + th), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        (255, 255, 255), weight, cv2.LINE_AA)
        return out


def label_font_scale(shape: Tuple[int, ...]) -> float:
    """OpenCV font scale for labels on an image of ``shape``: about 1/50 of its smaller side
    high, never smaller than what reads at 100 % (scale 0.5, ~10 px capitals)."""
    return max(0.5, min(int(shape[0]), int(shape[1])) / 800.0)


def place_labels(boxes: Sequence[Tuple[int, ...]], texts: Sequence[str], shape: Tuple[int, ...],
                 scale: float, weight: int) -> Sequence[Tuple[int, Tuple[int, int, int, int, int]]]:
    """Greedy label layout: for each box in order, the first of (above the box, inside its top,
    below it) that stays in the image and covers no label placed before. Returns
    ``(index, (x, y, width, text_height, baseline))`` for the labels placed (top-left corner)."""
    import cv2

    h, w = int(shape[0]), int(shape[1])
    taken: list = []
    placed = []
    for i, ((x1, y1, x2, y2), text) in enumerate(zip(boxes, texts)):
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, weight)
        lh = th + base
        x = min(max(x1, 0), max(w - tw, 0))
        for y in (y1 - lh, y1, y2):
            y = min(max(y, 0), max(h - lh, 0))
            rect = (x, y, x + tw, y + lh)
            if all(rect[2] <= r[0] or r[2] <= rect[0] or rect[3] <= r[1] or r[3] <= rect[1] for r in taken):
                taken.append(rect)
                placed.append((i, (x, y, tw, th, base)))
                break
    return placed


def check_bgr_image(image: Any) -> None:
    """TypeError unless ``image`` is a uint8 (H, W, 3) array (what the draw helpers take)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or (
        image.shape[2] != 3
    ):
        raise TypeError(
            "expected a uint8 (H, W, 3) image, got "
            + (f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__)
        )


def _class_color(c: int) -> Tuple[int, int, int]:
    # A fixed, well-spread color per class id (golden-ratio hue walk).
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((c * 0.618033988749895) % 1.0, 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


@dataclass(frozen=True)
class LetterboxTransform:
    """How an image of ``src_shape`` (h, w) was placed into a model input of ``dst_shape``.

    Model coordinates relate to image coordinates by ``x_model = x_img * scale + pad_x``
    and ``y_model = y_img * scale + pad_y`` (one scale for both axes).
    """

    src_shape: tuple  # (h, w) of the original image
    dst_shape: tuple  # (h, w) of the model input
    scale: float
    pad_x: float
    pad_y: float
    #: Integer placement of the resized pixels in the model input (left, top) and their
    #: size (h, w). For the ultralytics convention ``pad_x``/``pad_y`` are the unrounded
    #: half pads ``dw``/``dh`` the Python demos map back with, while ``offset_*`` are the
    #: rounded ``left``/``top`` borders; for the vendor C convention both are the same.
    offset_x: int = 0
    offset_y: int = 0
    resized_shape: tuple = ()
    #: ``"ultralytics"`` or ``"vendor"`` (see :func:`rknn_fast.letterbox`).
    convention: str = "ultralytics"

    def points_to_image(self, points: Any, clip: bool = True) -> np.ndarray:
        """Map model-input points (..., 2) (x, y pixels) to the original image.

        ``x_img = (x - pad_x) / scale``, ``y_img = (y - pad_y) / scale``; with ``clip``
        coordinates are clipped to ``[0, w]`` x ``[0, h]`` of the original image.
        Returns float32.
        """
        p = np.asarray(points, dtype=np.float32)
        if p.ndim < 1 or p.shape[-1] < 2:
            raise ValueError(f"expected points of shape (..., 2), got {p.shape}")
        out = p.copy()
        out[..., 0] = (p[..., 0] - np.float32(self.pad_x)) / np.float32(self.scale)
        out[..., 1] = (p[..., 1] - np.float32(self.pad_y)) / np.float32(self.scale)
        if clip:
            h, w = self.src_shape[:2]
            np.clip(out[..., 0], 0, w, out=out[..., 0])
            np.clip(out[..., 1], 0, h, out=out[..., 1])
        return out

    def boxes_to_image(self, xyxy: Any, clip: bool = True) -> np.ndarray:
        """Map model-input boxes (N, 4) xyxy to the original image (float32, clipped)."""
        b = np.asarray(xyxy, dtype=np.float32)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"expected boxes of shape (N, 4), got {b.shape}")
        return self.points_to_image(b.reshape(-1, 2, 2), clip=clip).reshape(-1, 4)

    def boxes_to_model(self, xyxy: Any) -> np.ndarray:
        """Inverse of :meth:`boxes_to_image` without clipping: image -> model-input pixels."""
        b = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4).copy()
        b[:, 0::2] = b[:, 0::2] * np.float32(self.scale) + np.float32(self.pad_x)
        b[:, 1::2] = b[:, 1::2] * np.float32(self.scale) + np.float32(self.pad_y)
        return b


@dataclass
class Classification:
    """Top-k classes of one image.

    * ``class_ids``: int32 (k,), most probable first (ties: lower class id first).
    * ``scores``: float32 (k,) probabilities (softmax of the logits) or raw scores when the
      decoder was asked not to apply a softmax.
    * ``names``: the class names of ``class_ids`` when names were given, else None.
    """

    class_ids: np.ndarray
    scores: np.ndarray
    names: Optional[Sequence[str]] = None

    def __len__(self) -> int:
        return int(self.class_ids.shape[0])

    def name(self, i: int) -> str:
        """Name of the ``i``-th class (the id as text when no names were given)."""
        return str(self.names[i]) if self.names is not None else str(int(self.class_ids[i]))

    @overload
    def __getitem__(self, index: Union[int, np.integer]) -> "ClassScore": ...
    @overload
    def __getitem__(self, index: Union[slice, Sequence[int], Sequence[bool], np.ndarray]) -> "Classification": ...

    def __getitem__(self, index: Index) -> Union["ClassScore", "Classification"]:
        """``top[0]`` is the best :class:`ClassScore`; slices and masks give a Classification."""
        if _is_item_index(index):
            i = _item(len(self), index)
            return ClassScore(int(self.class_ids[i]), float(self.scores[i]), self.name(i))
        if self.names is not None:
            keep = np.arange(len(self))[index]
            picked = _select(self, index, ("class_ids", "scores"))
            picked.names = [self.names[int(k)] for k in np.atleast_1d(keep)]
            return picked
        return _select(self, index, ("class_ids", "scores"))

    def __iter__(self) -> Iterator["ClassScore"]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        n = len(self)
        items = [f"{self.name(i)} {float(self.scores[i]):.4g}" for i in range(min(n, 5))]
        more = f", ... {n - 5} more" if n > 5 else ""
        return f"Classification(top {n}: " + ", ".join(items) + more + ")"


class ClassScore(NamedTuple):
    """One entry of a :class:`Classification`: class id, score and name."""

    class_id: int
    score: float
    name: str


class TextBox(NamedTuple):
    """One region of :class:`TextBoxes`: float32 (4, 2) ``quad``, (4,) ``xyxy`` and its score."""

    quad: np.ndarray
    xyxy: np.ndarray
    score: float

    def __repr__(self) -> str:
        return f"TextBox({self.score:.2f} {_box_text(self.xyxy)})"


@dataclass
class TextBoxes:
    """Detected text regions in image pixels.

    * ``quads``: float32 (N, 4, 2) rotated rectangles, corners clockwise from top-left
      (x, y).
    * ``xyxy``: float32 (N, 4) axis-aligned bounds of the quads (clipped to the image).
    * ``scores``: float32 (N,) mean probability inside the region before unclipping.
    """

    quads: np.ndarray
    xyxy: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @overload
    def __getitem__(self, index: Union[int, np.integer]) -> TextBox: ...
    @overload
    def __getitem__(self, index: Union[slice, Sequence[int], Sequence[bool], np.ndarray]) -> "TextBoxes": ...

    def __getitem__(self, index: Index) -> Union[TextBox, "TextBoxes"]:
        """``boxes[i]`` is one :class:`TextBox`; slices, masks and index arrays give TextBoxes."""
        if _is_item_index(index):
            i = _item(len(self), index)
            return TextBox(self.quads[i], self.xyxy[i], float(self.scores[i]))
        return _select(self, index, ("quads", "xyxy", "scores"))

    def __iter__(self) -> Iterator[TextBox]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        n = len(self)
        head = f"TextBoxes({n} region{'s' if n != 1 else ''}"
        if n == 0:
            return head + ")"
        items = [f"  {float(self.scores[i]):.2f} {_box_text(self.xyxy[i])}" for i in range(min(n, _REPR_ITEMS))]
        if n > _REPR_ITEMS:
            items.append(f"  ... {n - _REPR_ITEMS} more")
        return head + ":\n" + "\n".join(items) + ")"

    def draw(
        self,
        image: np.ndarray,
        *,
        copy: bool = True,
        color: Tuple[int, int, int] = (0, 255, 0),
        thickness: int = 2,
    ) -> np.ndarray:
        """Draw the quads (closed polygons) on a uint8 (H, W, 3) image; a copy unless ``copy=False``."""
        import cv2

        check_bgr_image(image)
        out = image.copy() if copy else image
        pts = [np.rint(q).astype(np.int32).reshape(-1, 1, 2) for q in self.quads]
        if pts:
            cv2.polylines(out, pts, True, color, thickness)
        return out
