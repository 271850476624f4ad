#include "kernels/nms.h"

#include <algorithm>
#include <cstddef>
#include <cmath>

namespace rknn_fast::kernels {
namespace {

struct Box {
    float x1, y1, x2, y2, area;
};

// Kept boxes of one class as structure of arrays, so that the overlap test against all of
// them is a branch-free loop the compiler vectorizes.
struct KeptSet {
    // One allocation for the five arrays of up to `cap` boxes (reused for every class).
    std::vector<float> buf;
    float *x1 = nullptr, *y1 = nullptr, *x2 = nullptr, *y2 = nullptr, *area = nullptr;
    size_t count = 0;
    explicit KeptSet(size_t cap) : buf(5 * std::max<size_t>(cap, 1)) {
        const size_t c = std::max<size_t>(cap, 1);
        x1 = buf.data();
        y1 = x1 + c;
        x2 = y1 + c;
        y2 = x2 + c;
        area = y2 + c;
    }
    void clear() { count = 0; }
    void add(const Box& b) {
        x1[count] = b.x1;
        y1[count] = b.y1;
        x2[count] = b.x2;
        y2[count] = b.y2;
        area[count] = b.area;
        ++count;
    }
    // True when IoU(kept, b) > thr for some kept box, thr >= 0. Clamping the overlap
    // extents at 0 gives inter = 0 for disjoint boxes, so IoU is 0 (or 0/0 = NaN for two
    // empty boxes), which never exceeds a non-negative threshold: the same decisions as
    // "IoU = 0 unless the boxes overlap", computed branch-free so the loop vectorizes.
    bool suppresses(const Box& b, float one, float thr) const {
        const size_t m = count;
        if (thr < 0.0f) return m > 0;  // every IoU (>= 0) exceeds a negative threshold
        const float* __restrict kx1 = x1;
        const float* __restrict ky1 = y1;
        const float* __restrict kx2 = x2;
        const float* __restrict ky2 = y2;
        const float* __restrict ka = area;
        constexpr size_t kChunk = 16;  // early exit between chunks
        for (size_t s = 0; s < m; s += kChunk) {
            const size_t e = std::min(m, s + kChunk);
            int hit = 0;
            for (size_t j = s; j < e; ++j) {
                const float iw = std::max(std::min(kx2[j], b.x2) - std::max(kx1[j], b.x1) + one, 0.0f);
                const float ih = std::max(std::min(ky2[j], b.y2) - std::max(ky1[j], b.y1) + one, 0.0f);
                const float inter = iw * ih;
                const float uni = ka[j] + b.area - inter;
                hit |= static_cast<int>(inter / uni > thr);
            }
            if (hit) return true;
        }
        return false;
    }
};

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
        // top_k < order.size() here, so it fits the iterator's difference type on 32-bit targets.
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(params.top_k), order.end(),
                          by_score);
        order.resize(static_cast<size_t>(params.top_k));
    } else {
        std::sort(order.begin(), order.end(), by_score);
    }

    const int64_t max_det = params.max_detections > 0 ? params.max_detections : n;
    // Greedy NMS is equivalent to: keep a box iff no previously kept box of its class
    // overlaps it by more than the threshold. Classes never interact, so each class is run on
    // its own (candidates grouped by class, each group in score order) with one preallocated
    // kept set reused for every class; the kept boxes are then put back in score order and
    // cut at max_detections: the same boxes in the same order as one pass over all classes.
    if (class_ids) {
        std::sort(order.begin(), order.end(), [class_ids, &by_score](int64_t a, int64_t b) {
            return class_ids[a] < class_ids[b] || (class_ids[a] == class_ids[b] && by_score(a, b));
        });
    }
    const size_t m = order.size();
    KeptSet kept(m);
    keep.reserve(m);
    for (size_t s = 0; s < m;) {
        size_t e = s + 1;
        if (class_ids)
            while (e < m && class_ids[order[e]] == class_ids[order[s]]) ++e;
        else
            e = m;
        kept.clear();
        for (size_t u = s; u < e; ++u) {
            const int64_t i = order[u];
            const float* b = boxes + 4 * i;
            const Box cur{b[0], b[1], b[2], b[3],
                          std::max(0.0f, b[2] - b[0] + one) * std::max(0.0f, b[3] - b[1] + one)};
            if (kept.suppresses(cur, one, params.iou_threshold)) continue;
            kept.add(cur);
            keep.push_back(i);
        }
        s = e;
    }
    if (class_ids) std::sort(keep.begin(), keep.end(), by_score);
    if (static_cast<int64_t>(keep.size()) > max_det) keep.resize(static_cast<size_t>(max_det));
}

void weighted_nms(const float* boxes, const float* scores, const float* extra, int64_t n_extra,
                  int64_t n, const NmsParams& params, WeightedNmsResult& out) {
    out = WeightedNmsResult{};
    if (n <= 0) return;
    if (n_extra < 0 || (n_extra > 0 && extra == nullptr)) n_extra = 0;
    std::vector<int64_t> remaining;
    remaining.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        if (!(scores[i] >= params.score_threshold)) continue;  // also drops NaN
        const float* b = boxes + 4 * i;
        if (!(std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3])))
            continue;
        remaining.push_back(i);
    }
    std::sort(remaining.begin(), remaining.end(), [scores](int64_t a, int64_t b) {
        return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    });
    const int64_t max_det = params.max_detections > 0 ? params.max_detections : n;
    const size_t ne = static_cast<size_t>(n_extra);
    std::vector<int64_t> rest;
    std::vector<double> acc(4 + ne);
    while (!remaining.empty() && static_cast<int64_t>(out.top.size()) < max_det) {
        const int64_t top = remaining.front();
        const float* t = boxes + 4 * top;
        const float t_area = std::max(0.0f, t[2] - t[0]) * std::max(0.0f, t[3] - t[1]);
        std::fill(acc.begin(), acc.end(), 0.0);
        double total = 0.0;
        int64_t members = 0;
        rest.clear();
        for (const int64_t i : remaining) {
            const float* b = boxes + 4 * i;
            if (i != top) {
                const float iw = std::max(std::min(t[2], b[2]) - std::max(t[0], b[0]), 0.0f);
                const float ih = std::max(std::min(t[3], b[3]) - std::max(t[1], b[1]), 0.0f);
                const float inter = iw * ih;
                const float area = std::max(0.0f, b[2] - b[0]) * std::max(0.0f, b[3] - b[1]);
                const float uni = t_area + area - inter;
                const float iou = uni > 0.0f ? inter / uni : 0.0f;
                if (!(iou > params.iou_threshold)) {
                    rest.push_back(i);
                    continue;
                }
            }
            const double w = scores[i];
            total += w;
            ++members;
            for (size_t k = 0; k < 4; ++k) acc[k] += w * b[k];
            if (ne > 0) {
                const float* e = extra + static_cast<size_t>(i) * ne;
                for (size_t k = 0; k < ne; ++k) acc[4 + k] += w * e[k];
            }
        }
        out.top.push_back(top);
        out.size.push_back(members);
        for (size_t k = 0; k < 4; ++k)
            out.boxes.push_back(total > 0.0 ? static_cast<float>(acc[k] / total) : t[k]);
        if (ne > 0) {
            const float* te = extra + static_cast<size_t>(top) * ne;
            for (size_t k = 0; k < ne; ++k)
                out.extra.push_back(total > 0.0 ? static_cast<float>(acc[4 + k] / total) : te[k]);
        }
        remaining.swap(rest);
    }
}

}  // namespace rknn_fast::kernels
