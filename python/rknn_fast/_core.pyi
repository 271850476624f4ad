# Typed stubs of the private extension module (see cpp/bindings/).
from typing import Any

def _abi_layout() -> dict[str, Any]: ...

# --- dense-output kernels (cpp/bindings/bind_dense.cpp) ---
import numpy as np
import numpy.typing as npt
from typing import List, Optional, Tuple

def seg_argmax(scores: np.ndarray, classes: int, height: int, width: int, c2: int,
               stride_c1: int, stride_h: int, stride_w: int) -> np.ndarray: ...
def seg_resample_nearest(class_map: np.ndarray, ax: float, bx: float, ay: float, by: float,
                         out_h: int, out_w: int) -> np.ndarray: ...
def seg_resample_argmax(scores: np.ndarray, classes: int, height: int, width: int, c2: int,
                        stride_c1: int, stride_h: int, stride_w: int, ax: float, bx: float,
                        ay: float, by: float, out_h: int, out_w: int) -> np.ndarray: ...
def instance_masks(proto: np.ndarray, proto_zero_point: int, coefficients: np.ndarray,
                   coefficient_zero_points: Optional[npt.NDArray[np.int32]],
                   boxes: npt.NDArray[np.float32], model_h: int, model_w: int, scale: float,
                   pad_x: float, pad_y: float, out_h: int, out_w: int,
                   class_ids: Optional[npt.NDArray[np.int32]],
                   want_class_map: bool) -> Tuple[npt.NDArray[np.bool_], Optional[npt.NDArray[np.uint8]]]: ...
def decode_yolov8_pose(heads: List[tuple], reg_max: int, model_h: int, model_w: int,
                       logit_threshold: float) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.float32],
                                                        npt.NDArray[np.int32], npt.NDArray[np.float32]]: ...
def retinaface_priors(model_h: int, model_w: int) -> npt.NDArray[np.float32]: ...
def decode_retinaface(loc: npt.NDArray[np.float32], conf: npt.NDArray[np.float32],
                      landmarks: npt.NDArray[np.float32], priors: npt.NDArray[np.float32],
                      model_h: int, model_w: int,
                      threshold: float) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.float32],
                                                 npt.NDArray[np.int32], npt.NDArray[np.float32]]: ...
