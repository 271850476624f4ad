"""Type stubs of the private extension module (use the rknn_fast package instead)."""

from typing import List, Optional, Sequence, Tuple

import numpy as np

# --- detection post-processing (cpp/bindings/bind_postprocess.cpp) ---
# A view spec: (array, (channels, height, width, c2, stride_c1, stride_h, stride_w), scale, zp);
# see rknn_fast/postprocess/_tensors.py. Decoders return (xyxy (N,4) float32, scores (N,)
# float32, class_ids (N,) int32, anchor_index (N,) int64) after NMS (unless run_nms=False).
_View = Tuple[np.ndarray, Tuple[int, int, int, int, int, int, int], float, int]
_Dets = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

def nms(boxes: np.ndarray, scores: np.ndarray, class_ids: Optional[np.ndarray],
        iou_threshold: float, score_threshold: float, max_detections: int, top_k: int,
        plus_one: bool) -> np.ndarray: ...
def decode_yolov8(branches: List[Tuple[_View, _View, Optional[_View]]], conf: float, logits: bool,
                  reg_max: int, input_w: float, input_h: float, use_score_sum: bool, iou: float,
                  max_det: int, agnostic: bool, top_k: int, plus_one: bool, run_nms: bool) -> _Dets: ...
def decode_flat(view: _View, conf: float, logits: bool, iou: float, max_det: int, agnostic: bool,
                top_k: int, plus_one: bool, run_nms: bool) -> _Dets: ...
def decode_yolov5(branches: List[_View], anchors: np.ndarray, num_anchors: int, conf: float,
                  logits: bool, input_w: float, input_h: float, iou: float, max_det: int,
                  agnostic: bool, top_k: int, plus_one: bool, run_nms: bool) -> _Dets: ...
def decode_yolox(view: _View, conf: float, grid_decode: bool, input_w: float, input_h: float,
                 strides: Sequence[int], iou: float, max_det: int, agnostic: bool, top_k: int,
                 plus_one: bool, run_nms: bool) -> _Dets: ...
def quantized_threshold(thr: float, scale: float, zero_point: int, is_uint8: bool) -> int: ...
