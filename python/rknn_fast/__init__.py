"""rknn_fast: run Rockchip NPU models from Python, fast.

The package imports on any host: the vendor runtime (librknnrt) is loaded lazily, only
when a model is opened. See the README for the emulator that runs everything on x86.
"""

from __future__ import annotations

from . import _core  # noqa: F401  (the one place the private extension is imported)
from . import convert, errors, postprocess
from .errors import EmulatorWarning, RknnError
from .info import ModelInfo, TensorInfo, inspect
from .lite import RKNNLite
from .model import Model, SdkVersion
from .detector import Detector
from .pipeline import ImagePipeline
from .pool import Pool
from .tasks import Classifier, FaceDetector, InstanceSegmenter, PoseEstimator, Segmenter, TextDetector
from .postprocess import nms
from .preprocess import letterbox
from .results import Classification, ClassScore, Detection, Detections, LetterboxTransform, TextBox, TextBoxes

__version__ = "0.1.0"

__all__ = [
    "ClassScore", "Classification", "Classifier", "Detection", "Detections", "Detector", "EmulatorWarning", "FaceDetector", "ImagePipeline",
    "InstanceSegmenter", "LetterboxTransform", "Model", "ModelInfo", "Pool", "PoseEstimator", "RKNNLite",
    "RknnError", "SdkVersion", "Segmenter", "TensorInfo", "TextBox", "TextBoxes", "TextDetector", "__version__",
    "convert", "errors", "inspect", "letterbox", "nms", "postprocess",
]
