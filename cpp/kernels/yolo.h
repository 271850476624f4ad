// YOLO output decoders: raw NPU outputs (int8/uint8, float16, float32; NCHW or NC1HWC2,
// read in place through TensorView) -> candidate boxes before NMS.
//
// Common rules (every decoder):
//   * Boxes are xyxy float32 in model-input pixels (not clipped).
//   * A candidate is kept when its score >= conf (inclusive). Integer tensors are compared
//     in the quantized domain with the exact integer threshold, i.e. the smallest q with
//     dequant(q) >= conf computed in float32 as (q - zp) * scale, so the int8 path keeps
//     exactly what a float32 dequantize-then-compare would keep (the vendor C demo's
//     truncated threshold can differ by one LSB; we do not reproduce that).
//   * "logit" scores are thresholded in the logit domain (logit >= log(conf / (1 - conf)),
//     computed in double and rounded to float) and reported as sigmoid(logit).
//   * Class argmax: first maximum wins (lowest class id on ties).
//   * Candidates whose class score is NaN never pass; candidates whose box comes out
//     non-finite or degenerate (width or height <= 0) are dropped.
//   * anchor_index is the flat index of the source cell over all branches in output order
//     (YOLOv8: branch offset + y * W + x; YOLOv5: branch offset + (a * H + y) * W + x;
//     flat/YOLOX heads: the anchor column/row n). Segmentation/pose code uses it to gather
//     mask coefficients or keypoints of the same cell.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/tensor_view.h"

namespace rknn_fast::kernels {

// Decoded candidates, one entry per surviving cell (structure of arrays).
struct Candidates {
    std::vector<float> boxes;           // 4 per candidate: x1, y1, x2, y2 (model-input pixels)
    std::vector<float> scores;          // confidence in [0, 1]
    std::vector<int32_t> class_ids;     // argmax class
    std::vector<int64_t> anchor_index;  // source cell, see above

    int64_t size() const { return static_cast<int64_t>(scores.size()); }
    void clear() {
        boxes.clear();
        scores.clear();
        class_ids.clear();
        anchor_index.clear();
    }
    void push(float x1, float y1, float x2, float y2, float score, int32_t cls, int64_t anchor) {
        boxes.push_back(x1);
        boxes.push_back(y1);
        boxes.push_back(x2);
        boxes.push_back(y2);
        scores.push_back(score);
        class_ids.push_back(cls);
        anchor_index.push_back(anchor);
    }
};

enum class ScoreKind : int { Probability = 0, Logit = 1 };

// Smallest raw integer value q (int8 or uint8 range) such that (q - zp) * scale >= thr in
// float32 arithmetic; returns range max + 1 when no value qualifies. scale must be > 0.
int32_t quantized_threshold(float thr, float scale, int32_t zero_point, DType dtype);

// Threshold in the domain of the raw scores (logit(conf) for ScoreKind::Logit).
float score_domain_threshold(float conf, ScoreKind kind);

// DFL: expected bin index of softmax(v[0..reg_max)) with max-subtraction; values read through
// `view` at channel base_c + k (k < reg_max) of cell (y, x).
float dfl_expectation(const TensorView& view, int64_t base_c, int64_t y, int64_t x,
                      int64_t reg_max);

// Softmax over quantized logits only depends on integer differences to the maximum:
// weights exp(-k * scale), k = 0..255, are tabulated once per int8/uint8 tensor.
struct DflExpTable {
    float weight[256];
    void build(float scale);
};
// dfl_expectation for an int8/uint8 view using its table (same result to float rounding).
float dfl_expectation_quantized(const TensorView& view, const DflExpTable& table, int64_t base_c,
                                int64_t y, int64_t x, int64_t reg_max);
// The four sides (l, t, r, b at channels 0, reg_max, 2*reg_max, 3*reg_max) of a cell at once:
// out[k] is bit-identical to dfl_expectation_quantized(view, table, k * reg_max, y, x, reg_max).
void dfl_expectation_quantized4(const TensorView& view, const DflExpTable& table, int64_t y, int64_t x,
                                int64_t reg_max, float* out);

// ---------------------------------------------------------------------------------------
// YOLOv8 / YOLO11 model-zoo split head (spec §2): per branch box (1, 4*reg_max, H, W),
// cls (1, nc, H, W), optional score_sum (1, 1, H, W) (clamped sum of class probabilities).
struct YoloV8Branch {
    TensorView box;
    TensorView cls;
    TensorView score_sum;  // ignored when has_score_sum is false
    bool has_score_sum = false;
    // Optional prebuilt exp table of an int8/uint8 box tensor (DflExpTable::build(box.scale));
    // null: built on first use in the call.
    const DflExpTable* box_table = nullptr;
};

struct YoloV8Params {
    float conf = 0.25f;
    ScoreKind scores = ScoreKind::Probability;
    int64_t reg_max = 16;
    float input_w = 640.0f;  // stride x of a branch = input_w / W
    float input_h = 640.0f;  // stride y of a branch = input_h / H
    bool use_score_sum = true;  // skip cells whose score_sum < conf (probabilities only)
};

// Appends the candidates of all branches to `out` (in branch, row, column order).
// Rule per cell: skip when use_score_sum and dequant(score_sum) < conf; else best class by
// first-max argmax among classes with score >= conf; then DFL for that cell only:
// x1 = (x + 0.5 - d_l) * sx, y1 = (y + 0.5 - d_t) * sy, x2 = (x + 0.5 + d_r) * sx,
// y2 = (y + 0.5 + d_b) * sy with box channel order l, t, r, b (reg_max bins each).
void decode_yolov8(const YoloV8Branch* branches, int64_t n_branches, const YoloV8Params& params,
                   Candidates& out);

// ---------------------------------------------------------------------------------------
// Ultralytics flat head (spec §10): (1, 4+nc, N): rows 0..3 = cx, cy, w, h in model-input
// pixels, rows 4.. = class scores. The view's channel axis is the row, width is N, height 1
// (so a transposed (1, N, 4+nc) tensor is the NHWC-like view c2 = 4+nc, stride_w = 4+nc).
struct FlatParams {
    float conf = 0.25f;
    ScoreKind scores = ScoreKind::Probability;
};
void decode_flat(const TensorView& out_view, const FlatParams& params, Candidates& out);

// ---------------------------------------------------------------------------------------
// YOLOv5 anchor head (spec §1): per branch (1, na*(5+nc), H, W); channel (5+nc)*a + k:
// k=0..3 tx, ty, tw, th; k=4 objectness; k=5.. class scores (sigmoid applied in the model
// for ScoreKind::Probability; raw logits otherwise, then sigmoid is applied to all terms).
// Rule: objectness pre-gate obj >= conf (lossless since class scores <= 1), then first-max
// class argmax, score = obj * cls, keep score >= conf. Box:
// cx = (2 tx - 0.5 + x) * sx, cy = (2 ty - 0.5 + y) * sy, w = (2 tw)^2 * anchor_w,
// h = (2 th)^2 * anchor_h.
struct YoloV5Params {
    float conf = 0.25f;
    ScoreKind scores = ScoreKind::Probability;
    int64_t num_anchors = 3;
    float input_w = 640.0f;
    float input_h = 640.0f;
    const float* anchors = nullptr;  // n_branches * num_anchors * 2 floats (w, h) in pixels
};
void decode_yolov5(const TensorView* branches, int64_t n_branches, const YoloV5Params& params,
                   Candidates& out);

// ---------------------------------------------------------------------------------------
// YOLOX-style (1, N, 5+nc) (viewed like the flat head: channel = field, width = N):
// fields cx, cy, w, h, objectness, class scores (already sigmoid'ed).
// grid_decode = false: cx..h are model-input pixels already.
// grid_decode = true (YOLOX export with decode_in_inference=False, e.g. ddddocr): anchors
// enumerate strides (8, 16, 32) with rows then columns, gw = input_w / s, gh = input_h / s;
// cx = (tx + col) * s, cy = (ty + row) * s, w = exp(tw) * s, h = exp(th) * s.
// Score = obj * max class; keep score >= conf (objectness pre-gate obj >= conf first).
struct YoloXParams {
    float conf = 0.25f;
    bool grid_decode = true;
    float input_w = 640.0f;
    float input_h = 640.0f;
    const int32_t* strides = nullptr;  // default {8, 16, 32} when null
    int64_t n_strides = 0;
};
void decode_yolox(const TensorView& out_view, const YoloXParams& params, Candidates& out);

}  // namespace rknn_fast::kernels
