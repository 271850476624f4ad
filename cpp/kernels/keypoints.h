// Decoders whose results carry keypoints: YOLOv8-pose heads and RetinaFace priors.
// Both return candidates above a score threshold in model-input pixels (xyxy, float);
// NMS and the letterbox inverse are applied by the caller.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/dense_common.h"

namespace rknn_fast::kernels {

struct KeypointCandidates {
    std::vector<float> boxes;         // (n, 4) xyxy, model pixels
    std::vector<float> scores;        // (n,)
    std::vector<int32_t> anchor_index;  // (n,) flat cell / prior index across levels
    std::vector<float> keypoints;     // (n, K, 2) model pixels (RetinaFace only)
};

// One YOLOv8-pose level: (4 * reg_max + 1, H, W) scores read in place; the last channel is
// the person logit (no sigmoid in the model). int8 values are dequantised with the view's
// (q - zero_point) * scale; fp16/fp32 ignore scale and zero point.
struct PoseHead {
    TensorView planes;
};

// Keeps cells whose dequantised logit >= logit_threshold (= log(t / (1 - t)) for a score
// threshold t), score = sigmoid(logit). Box sides come from a max-subtracted softmax over
// reg_max <= 64 bins (dfl_expectation of yolo.h), x1 = (j + 0.5 - l) * stride_x etc., with
// stride_x = model_w / W and stride_y = model_h / H. anchor_index = (cells of the previous
// levels) + i * W + j, the column of the (1, 17, 3, N) keypoint tensor.
void decode_yolov8_pose(const PoseHead* heads, int64_t n_heads, int64_t reg_max, int64_t model_h,
                        int64_t model_w, float logit_threshold, KeypointCandidates& out);

// RetinaFace priors (cx, cy, w, h), normalised to the input size, in the demo's order
// level -> row -> column -> size: steps 8/16/32, sizes (16, 32), (64, 128), (256, 512),
// feature map ceil(model / step), centre (j + 0.5) * step / model_w.
std::vector<float> retinaface_priors(int64_t model_h, int64_t model_w);

// loc (P, 4) (dx, dy, dw, dh), conf (P, 2) softmax (face = column 1), landmarks (P, 10), all
// float32. Keeps priors with conf > threshold (strict, as the C demo). Variances 0.1 / 0.2.
// Outputs model pixels; keypoints (n, 5, 2).
void decode_retinaface(const float* loc, const float* conf, const float* landmarks,
                       const float* priors, int64_t n_priors, int64_t model_h, int64_t model_w,
                       float threshold, KeypointCandidates& out);

}  // namespace rknn_fast::kernels
