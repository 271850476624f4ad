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

// Weighted (blending) NMS, the rule of MediaPipe's face detector:
//   * Candidates and order as in nms(): score >= score_threshold (NaN never), finite box
//     coordinates, descending score with the lower index first on ties.
//   * Repeatedly the best remaining candidate ("top") forms a cluster with itself and every
//     remaining candidate whose IoU with it is > iou_threshold (strict); the cluster leaves
//     the remaining set. IoU as in nms() without plus_one (0 for disjoint boxes or a zero union).
//   * The output of a cluster: box and the `n_extra` extra values of each row (e.g.
//     keypoints) are the score-weighted mean over the cluster, sum(s_i * v_i) / sum(s_i)
//     (in double; when the scores sum to <= 0 the top's own values); its score is the top's.
//   * At most max_detections clusters (<= 0: no limit), by descending top score.
struct WeightedNmsResult {
    std::vector<int64_t> top;     // index of each cluster's top candidate
    std::vector<float> boxes;     // clusters x 4 (x1, y1, x2, y2)
    std::vector<float> extra;     // clusters x n_extra
    std::vector<int64_t> size;    // candidates per cluster
};

// boxes: n x 4, scores: n, extra: n x n_extra (nullptr when n_extra == 0).
void weighted_nms(const float* boxes, const float* scores, const float* extra, int64_t n_extra,
                  int64_t n, const NmsParams& params, WeightedNmsResult& out);

}  // namespace rknn_fast::kernels
