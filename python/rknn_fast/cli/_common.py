"""What the commands share: messages, exit codes, the progress bar, inputs, optional extras."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, List, Optional, Sequence, TextIO, Tuple

import numpy as np

EXIT_OK, EXIT_CHECK, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def error(msg: str) -> None:
    print(f"rknn-fast: {msg}", file=sys.stderr)


def reason(e: BaseException, path: Optional[str] = None) -> str:
    """The text of ``e`` without a leading ``path: `` (the caller names the path once)."""
    text = str(e)
    if isinstance(e, OSError) and e.strerror and e.filename is not None:
        return e.strerror
    if path:
        for p in (path, os.path.abspath(path)):
            if text.startswith(p + ": "):
                return text[len(p) + 2:]
    return text


def need_extra(module: str, extra: str, what: str) -> Any:
    """``import module`` or an ImportError naming the pip extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{what} needs {module.split('.')[0]}, which is not installed: "
                          f"pip install 'rknn_fast[{extra}]'") from e


class Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal (or forced)."""

    def __init__(self, total: int, label: str, *, stream: Optional[TextIO] = None,
                 enabled: Optional[bool] = None) -> None:
        self.total, self.label, self.done = max(int(total), 0), label, 0
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.enabled = bool(isatty()) if enabled is None else enabled
        self._t0 = time.monotonic()
        self._last = 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            frac = self.done / self.total if self.total else 1.0
            bar = "#" * int(frac * 30)
            rate = self.done / max(now - self._t0, 1e-9)
            self.stream.write(f"\r{self.label} [{bar:<30}] {self.done}/{self.total} {rate:.1f}/s")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def parse_floats(text: Optional[str], what: str) -> Optional[List[float]]:
    """``"0,0,0"`` or ``"123.7 116.3 103.5"`` -> floats; None stays None."""
    if text is None:
        return None
    try:
        vals = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"expected {what} as numbers separated by commas, got {text!r}") from None
    if not vals:
        raise ValueError(f"expected {what} as numbers separated by commas, got {text!r}")
    return vals


def is_onnx(path: str) -> bool:
    return path.lower().endswith(".onnx")


def read_image(path: str) -> np.ndarray:
    """A BGR uint8 (h, w, 3) image (grayscale and alpha converted), or ValueError."""
    import cv2

    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        if not os.path.exists(path):
            raise ValueError(f"{path}: no such file")
        raise ValueError(f"{path}: not an image OpenCV can read")
    return np.ascontiguousarray(img)


def expand_inputs(items: Sequence[str]) -> Tuple[List[str], List[str]]:
    """(images, videos) from files and directories (a directory's images and videos, sorted,
    not recursive); ValueError for a missing path or an unknown file type."""
    images: List[str] = []
    videos: List[str] = []
    for item in items:
        if os.path.isdir(item):
            for name in sorted(os.listdir(item)):
                p = os.path.join(item, name)
                ext = os.path.splitext(name)[1].lower()
                if os.path.isfile(p) and ext in IMAGE_EXTS:
                    images.append(p)
                elif os.path.isfile(p) and ext in VIDEO_EXTS:
                    videos.append(p)
            continue
        if not os.path.exists(item):
            raise ValueError(f"{item}: no such file or directory")
        ext = os.path.splitext(item)[1].lower()
        if ext in VIDEO_EXTS:
            videos.append(item)
        elif ext in IMAGE_EXTS:
            images.append(item)
        else:
            raise ValueError(f"{item}: not an image ({', '.join(IMAGE_EXTS)}) or video ({', '.join(VIDEO_EXTS)})")
    return images, videos


def model_input_hw(model: Any) -> Tuple[int, int, int]:
    """(H, W, C) of a Model's first (NHWC image) input."""
    shape = model.inputs[0].shape
    if len(shape) != 4:
        raise ValueError(f"expected an NHWC image input (1, H, W, C), got {shape}")
    return int(shape[1]), int(shape[2]), int(shape[3])


def letterboxed(image_bgr: np.ndarray, model: Any) -> np.ndarray:
    """The image letterboxed to the model input, RGB, NHWC uint8 (1, H, W, C): what the
    pipelines feed."""
    from ..preprocess import letterbox

    h, w, c = model_input_hw(model)
    img = image_bgr if c == 3 else image_bgr[..., :1]
    dst = np.empty((1, h, w, c), np.uint8)
    letterbox(img, dst=dst, bgr_to_rgb=c == 3)
    return dst
