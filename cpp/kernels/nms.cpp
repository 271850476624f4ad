#include "kernels/nms.h"

#include <algorithm>
#include <cmath>

namespace rknn_fast::kernels {
namespace {

struct Box {
    float x1, y1, x2, y2, area;
};

inline float iou(const Box& a, const Box& b, float one) {
    const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + one;
    const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + one;
    if (iw <= 0.0f || ih <= 0.0f) return 0.0f;
    const float inter = iw * ih;
    const float uni = a.area + b.area - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

}  // namespace

void nms(const float* boxes, const float* scores, const int32_t* class_ids, int64_t n,
         const NmsParams& params, std::vector<int64_t>& keep) {
    keep.clear();
    if (n <= 0) return;
    const float one = params.plus_one ? 1.0f : 0.0f;

    // Candidates above the score threshold with finite boxes, in input order.
    std::vector<int64_t> order;
    order.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const float s = scores[i];
        if (!(s >= params.score_threshold)) continue;  // also drops NaN
        const float* b = boxes + 4 * i;
        if (!(std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) &&
              std::isfinite(b[3])))
            continue;
        order.push_back(i);
    }
    // Descending score, lower index first on ties (explicit tie-break, so plain sort is stable).
    auto by_score = [scores](int64_t a, int64_t b) {
        return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    };
    if (params.top_k > 0 && static_cast<int64_t>(order.size()) > params.top_k) {
        std::partial_sort(order.begin(), order.begin() + params.top_k, order.end(), by_score);
        order.resize(static_cast<size_t>(params.top_k));
    } else {
        std::sort(order.begin(), order.end(), by_score);
    }

    const int64_t max_det = params.max_detections > 0 ? params.max_detections : n;
    // Greedy NMS is equivalent to: keep a box iff no previously kept box (of its class)
    // overlaps it by more than the threshold. Kept boxes are grouped per class so that
    // class-aware suppression only compares within a class.
    std::vector<Box> kept_boxes;
    std::vector<int32_t> kept_cls;
    kept_boxes.reserve(64);
    kept_cls.reserve(64);
    for (const int64_t i : order) {
        const float* b = boxes + 4 * i;
        Box cur{b[0], b[1], b[2], b[3],
                std::max(0.0f, b[2] - b[0] + one) * std::max(0.0f, b[3] - b[1] + one)};
        const int32_t c = class_ids ? class_ids[i] : 0;
        bool suppressed = false;
        for (size_t k = 0; k < kept_boxes.size(); ++k) {
            if (kept_cls[k] != c) continue;
            if (iou(kept_boxes[k], cur, one) > params.iou_threshold) {
                suppressed = true;
                break;
            }
        }
        if (suppressed) continue;
        kept_boxes.push_back(cur);
        kept_cls.push_back(c);
        keep.push_back(i);
        if (static_cast<int64_t>(keep.size()) >= max_det) break;
    }
}

}  // namespace rknn_fast::kernels
