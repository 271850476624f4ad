// Instance masks for YOLOv8-seg / YOLOv5-seg style heads: mask logit = coefficients ·
// prototypes, computed only on the prototype cells a box needs, sampled bilinearly at
// every image pixel inside the box (letterbox undone) and binarised at logit 0
// (sigmoid > 0.5 without computing a sigmoid).
//
// Conventions:
// * Prototypes: (K, Hp, Wp) row-major (NCHW without the batch), int8 with a zero point or
//   float32. They cover the whole model input (model_h, model_w).
// * Coefficients: (N, K) int8 with one zero point per instance (instances from different
//   strides have different quantisation) or float32.
// * Scales are positive and common to all logits of one instance, so they do not change the
//   sign of a logit nor of a bilinear blend of logits: they are not needed. With int8
//   prototypes and int8 coefficients the logits are exact integers:
//       sum_k (c_k - zc)(q_k - zq) = sum_k (c_k - zc) q_k - zq * sum_k (c_k - zc).
// * Boxes: (N, 4) xyxy in model-input pixels (float). An image pixel (x, y) belongs to the
//   crop when x1' <= x < x2' and y1' <= y < y2', where the primed box is the model box
//   mapped to the image: x' = (x - pad_x) / scale (pixel-index convention, as the
//   ultralytics crop). Pixels are sampled at their centres.
// * Sampling: image pixel centre -> model coordinate (x + 0.5) * scale + pad_x -> proto
//   coordinate * Wp / model_w, then bilinear with align_corners=False and edge replication.
// * Output: masks (N, out_h, out_w) uint8 0/1, fully written. Optional class map
//   (out_h, out_w) uint8: for instances in the given order (highest score first), pixels of
//   the instance's mask that are still 0 get class_id + 1 (the merged map of the C demo).
#pragma once

#include <cstdint>

namespace rknn_fast::kernels {

struct ProtoTensor {
    const void* data = nullptr;
    bool is_int8 = true;  // else float32
    int32_t zero_point = 0;
    int64_t channels = 0, height = 0, width = 0;
};

struct MaskCoefficients {
    const void* data = nullptr;  // (N, channels)
    bool is_int8 = false;        // else float32
    const int32_t* zero_points = nullptr;  // (N,) for int8 coefficients
};

struct MaskGeometry {
    int64_t model_h = 0, model_w = 0;
    double scale = 1.0, pad_x = 0.0, pad_y = 0.0;  // model = image * scale + pad
    int64_t out_h = 0, out_w = 0;                   // image size
};

void instance_masks(const ProtoTensor& proto, const MaskCoefficients& coeffs, const float* boxes,
                    int64_t n, const MaskGeometry& geometry, uint8_t* masks,
                    const int32_t* class_ids, uint8_t* class_map);

}  // namespace rknn_fast::kernels
