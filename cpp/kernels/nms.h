// Greedy non-maximum suppression over xyxy float32 boxes.
//
// Rules (tested exactly at the boundaries):
//   * A box takes part when score >= score_threshold (inclusive); NaN scores never do, and
//     boxes with a non-finite coordinate are dropped.
//   * Order: descending score; equal scores keep the lower input index first (stable).
//   * top_k > 0: only the first top_k boxes of that order enter the suppression.
//   * A box is suppressed when IoU(kept, box) > iou_threshold (strict) with a kept box of
//     the same class (class_ids given, class-aware) or with any kept box (class_ids null).
//     (A negative iou_threshold thus keeps only the best box of each class.)
//   * IoU: inter / (area_a + area_b - inter); with plus_one the legacy pixel convention
//     w = x2 - x1 + 1 is used for the intersection and both areas. A zero union gives IoU 0.
//   * At most max_detections indices are returned (<= 0: no limit), by descending score.
#pragma once

#include <cstdint>
#include <vector>

namespace rknn_fast::kernels {

struct NmsParams {
    float iou_threshold = 0.45f;
    float score_threshold = 0.0f;
    int64_t max_detections = 300;
    int64_t top_k = 0;
    bool plus_one = false;
};

// boxes: n x 4 (x1, y1, x2, y2), scores: n, class_ids: n or nullptr. Kept indices are
// appended to `keep` (cleared first).
void nms(const float* boxes, const float* scores, const int32_t* class_ids, int64_t n,
         const NmsParams& params, std::vector<int64_t>& keep);

}  // namespace rknn_fast::kernels
