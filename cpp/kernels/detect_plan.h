// Prepared detection decoders: everything about a model's outputs that does not change from
// frame to frame (head, dtypes, shapes, views, quantization, thresholds, DFL exp tables, NMS
// settings) is fixed once in a DetectPlan; a call only supplies the buffers' addresses.
//
// A plan is immutable after construction and run() is const: one plan can serve several
// threads at once (each call uses its own scratch).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "kernels/nms.h"
#include "kernels/tensor_view.h"
#include "kernels/yolo.h"

namespace rknn_fast::kernels {

// One planned input array: the exact dtype and C-contiguous shape it must have and the view
// through which the kernel reads it (view.data is ignored; run() supplies the address).
struct PlannedArray {
    DType dtype = DType::Float32;
    std::vector<int64_t> shape;
    TensorView view;
};

enum class PlanHead : int { YoloV8 = 0, Flat = 1, YoloV5 = 2, YoloX = 3 };

struct DetectPlanSpec {
    PlanHead head = PlanHead::YoloV8;
    // YoloV8: box, cls[, score_sum] per branch (per_branch = 2 or 3), in output order.
    // Flat, YoloX: one array. YoloV5: one per branch.
    std::vector<PlannedArray> arrays;
    int64_t per_branch = 3;
    YoloV8Params v8;
    FlatParams flat;
    YoloV5Params v5;                // v5.anchors is replaced by anchors.data()
    std::vector<float> anchors;     // YoloV5: n_branches * num_anchors * 2
    YoloXParams yolox;              // yolox.strides is replaced by strides.data()
    std::vector<int32_t> strides;   // YoloX
    NmsParams nms;                  // score_threshold is ignored (decoders threshold)
    bool class_agnostic = false;
    bool run_nms = true;
};

// Optional mapping of boxes from model-input pixels back to the original image
// (x - pad_x) / scale, (y - pad_y) / scale, clipped to [0, width] x [0, height], in float32.
struct Unletterbox {
    bool enabled = false;
    float pad_x = 0.0f, pad_y = 0.0f, scale = 1.0f, width = 0.0f, height = 0.0f;
};

class DetectPlan {
public:
    // Validates the spec (std::invalid_argument naming the problem) and precomputes what
    // does not depend on the data.
    explicit DetectPlan(DetectPlanSpec spec);

    const DetectPlanSpec& spec() const { return spec_; }
    size_t num_arrays() const { return spec_.arrays.size(); }

    // data: one address per planned array (the caller checked dtype and shape). Kept
    // detections (after NMS, by descending score; anchor order without NMS) replace `out`.
    void run(const void* const* data, Candidates& out, const Unletterbox& ub = {}) const;

private:
    DetectPlanSpec spec_;
    std::vector<DflExpTable> luts_;  // YoloV8: per branch (unused for float box tensors)
};

// Decoded candidates -> the kept ones (NMS unless disabled), packed in keep order.
void select_candidates(const Candidates& cand, const NmsParams& nms, bool class_agnostic, bool run_nms,
                       Candidates& out);

// In place on n xyxy boxes (see Unletterbox).
void unletterbox_boxes(float* boxes, int64_t n, const Unletterbox& ub);

}  // namespace rknn_fast::kernels
