"""Descriptions of a model and its tensors, shared by :func:`inspect` and :class:`Model`.

Conventions (they follow what librknnrt itself reports, so that a ``TensorInfo`` from the
file and one from a running context compare equal):

* ``shape`` is the "normal" shape in ``layout`` order: 4-D image inputs are NHWC
  (``(1, 640, 640, 3)``), 4-D outputs are NCHW (``(1, 255, 80, 80)``), other ranks keep the
  model's own order and report layout ``"UNDEFINED"``.
* ``native_shape`` is the shape the NPU works in (``native_layout``), e.g. NC1HWC2
  ``(1, C1, H, W, C2)`` for outputs. ``C2`` depends on platform and dtype; read it, never
  assume it.
* ``dtype`` is the numpy name of the model's element type (``"int8"``, ``"uint8"``,
  ``"float16"``, ``"float32"``, ``"int32"`` ...).
* Quantisation is affine: ``real = (q - zero_point) * scale``. Unquantised tensors have
  ``qnt_type == "none"``, ``scale == 1.0`` and ``zero_point == 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple


@dataclass(frozen=True)
class TensorInfo:
    """One input or output tensor of a model."""

    name: str
    index: int
    shape: Tuple[int, ...]
    layout: str
    dtype: str
    native_shape: Tuple[int, ...] = ()
    native_layout: str = "UNDEFINED"
    qnt_type: str = "none"
    scale: float = 1.0
    zero_point: int = 0
    #: Bytes of the tensor without padding (``n_elems * itemsize``); 0 when unknown.
    size: int = 0
    #: Bytes including the stride padding of the native layout; 0 when unknown.
    size_with_stride: int = 0
    #: Row stride in elements (``w_stride``) as the runtime reports it; 0 means "equals width".
    w_stride: int = 0
    #: Column-of-rows stride (``h_stride``); 0 means "equals height".
    h_stride: int = 0

    @property
    def n_elems(self) -> int:
        """Number of elements of ``shape``."""
        n = 1
        for d in self.shape:
            n *= int(d)
        return n


@dataclass(frozen=True)
class ModelInfo:
    """What a .rknn file says about itself, read without any runtime."""

    #: Target platform the file was compiled for, e.g. ``"rk3588"``.
    target_platform: str
    #: Every platform listed in the file's JSON summary (usually just ``[target_platform]``).
    target_platforms: Tuple[str, ...]
    #: rknn-toolkit2 version that wrote the file, e.g. ``"2.5.0+..."``; ``None`` when absent.
    toolkit_version: Optional[str]
    #: Compiler version string recorded in the file; ``None`` when absent.
    compiler_version: Optional[str]
    #: File format number from the header (6 for RKNPU v2/lite, 0x1004 for rv1106 files).
    file_format: int
    #: Model format string (``"RKNPU v2"``, ``"RKNPU lite"``) or ``None``.
    model_format: Optional[str]
    inputs: Tuple[TensorInfo, ...] = field(default_factory=tuple)
    outputs: Tuple[TensorInfo, ...] = field(default_factory=tuple)
    #: Source framework, e.g. ``"ONNX"``; ``None`` when absent.
    source_framework: Optional[str] = None
    #: False when the file only carries the JSON summary (format 0x1004): then native
    #: shapes, scales and zero points are unknown and left at their defaults.
    complete: bool = True
