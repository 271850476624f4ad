#include "kernels/detect_plan.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace rknn_fast::kernels {
namespace {

int64_t elements(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (const int64_t d : shape) {
        if (d < 0 || d > (int64_t{1} << 31)) throw std::invalid_argument("planned shape out of range");
        n *= d;
        if (n > (int64_t{1} << 40)) throw std::invalid_argument("planned array too large");
    }
    return n;
}

void check_array(const PlannedArray& a, size_t i) {
    const TensorView& v = a.view;
    const std::string what = "planned array " + std::to_string(i);
    if (v.dtype != a.dtype) throw std::invalid_argument(what + ": view dtype differs from the array dtype");
    if (v.channels < 1 || v.height < 1 || v.width < 1 || v.c2 < 1 || v.stride_c1 < 0 || v.stride_h < 0 ||
        v.stride_w < 0)
        throw std::invalid_argument(what + ": expected positive view sizes and non-negative strides");
    if (v.max_offset() >= elements(a.shape))
        throw std::invalid_argument(what + ": the view addresses elements outside the array");
    if ((v.dtype == DType::Int8 || v.dtype == DType::UInt8) && !(v.scale > 0.0f))
        throw std::invalid_argument(what + ": expected a positive quantization scale");
}

}  // namespace

DetectPlan::DetectPlan(DetectPlanSpec spec) : spec_(std::move(spec)) {
    for (size_t i = 0; i < spec_.arrays.size(); ++i) check_array(spec_.arrays[i], i);
    const size_t n = spec_.arrays.size();
    switch (spec_.head) {
        case PlanHead::YoloV8: {
            if (spec_.per_branch != 2 && spec_.per_branch != 3)
                throw std::invalid_argument("YOLOv8 plan: expected 2 or 3 arrays per branch");
            if (n == 0 || n % static_cast<size_t>(spec_.per_branch) != 0)
                throw std::invalid_argument("YOLOv8 plan: array count is not a multiple of per_branch");
            const int64_t r = spec_.v8.reg_max;
            if (r < 1 || r > 64) throw std::invalid_argument("YOLOv8 plan: reg_max must be in 1..64");
            for (size_t b = 0; b < n; b += static_cast<size_t>(spec_.per_branch)) {
                const TensorView& box = spec_.arrays[b].view;
                const TensorView& cls = spec_.arrays[b + 1].view;
                if (box.channels < 4 * r) throw std::invalid_argument("YOLOv8 plan: box tensor has < 4 * reg_max channels");
                bool same = box.height == cls.height && box.width == cls.width;
                if (spec_.per_branch == 3) {
                    const TensorView& s = spec_.arrays[b + 2].view;
                    same = same && s.height == cls.height && s.width == cls.width;
                }
                if (!same) throw std::invalid_argument("YOLOv8 plan: box, cls and score_sum on different grids");
                DflExpTable t{};
                if (box.dtype == DType::Int8 || box.dtype == DType::UInt8) t.build(box.scale);
                luts_.push_back(t);
            }
            break;
        }
        case PlanHead::Flat:
            if (n != 1 || spec_.arrays[0].view.channels < 5)
                throw std::invalid_argument("flat plan: expected one array with >= 5 rows");
            break;
        case PlanHead::YoloV5: {
            const int64_t na = spec_.v5.num_anchors;
            if (n == 0 || na < 1 || spec_.anchors.size() != n * static_cast<size_t>(na) * 2)
                throw std::invalid_argument("YOLOv5 plan: expected n_branches * num_anchors * 2 anchors");
            for (const auto& a : spec_.arrays)
                if (a.view.channels % na != 0 || a.view.channels / na < 6)
                    throw std::invalid_argument("YOLOv5 plan: channels must be num_anchors * (5 + nc)");
            break;
        }
        case PlanHead::YoloX:
            if (n != 1 || spec_.arrays[0].view.channels < 6)
                throw std::invalid_argument("YOLOX plan: expected one array with >= 6 fields");
            for (const int32_t s : spec_.strides)
                if (s <= 0) throw std::invalid_argument("YOLOX plan: expected positive strides");
            break;
        default:
            throw std::invalid_argument("unknown plan head");
    }
}

void DetectPlan::run(const void* const* data, Candidates& out, const Unletterbox& ub) const {
    static thread_local Candidates cand;  // per-thread scratch, reused from call to call
    cand.clear();
    const auto view_at = [&](size_t i) {
        TensorView v = spec_.arrays[i].view;
        v.data = data[i];
        return v;
    };
    const size_t n = spec_.arrays.size();
    switch (spec_.head) {
        case PlanHead::YoloV8: {
            const auto per = static_cast<size_t>(spec_.per_branch);
            YoloV8Branch br[16];
            std::vector<YoloV8Branch> many;
            YoloV8Branch* b = br;
            const size_t nb = n / per;
            if (nb > 16) {
                many.resize(nb);
                b = many.data();
            }
            for (size_t k = 0; k < nb; ++k) {
                b[k] = YoloV8Branch{};
                b[k].box = view_at(k * per);
                b[k].cls = view_at(k * per + 1);
                if (per == 3) {
                    b[k].score_sum = view_at(k * per + 2);
                    b[k].has_score_sum = true;
                }
                b[k].box_table = &luts_[k];
            }
            decode_yolov8(b, static_cast<int64_t>(nb), spec_.v8, cand);
            break;
        }
        case PlanHead::Flat:
            decode_flat(view_at(0), spec_.flat, cand);
            break;
        case PlanHead::YoloV5: {
            std::vector<TensorView> views(n);
            for (size_t i = 0; i < n; ++i) views[i] = view_at(i);
            YoloV5Params p = spec_.v5;
            p.anchors = spec_.anchors.data();
            decode_yolov5(views.data(), static_cast<int64_t>(n), p, cand);
            break;
        }
        case PlanHead::YoloX: {
            YoloXParams p = spec_.yolox;
            p.strides = spec_.strides.data();
            p.n_strides = static_cast<int64_t>(spec_.strides.size());
            decode_yolox(view_at(0), p, cand);
            break;
        }
    }
    select_candidates(cand, spec_.nms, spec_.class_agnostic, spec_.run_nms, out);
    unletterbox_boxes(out.boxes.data(), out.size(), ub);
}

void select_candidates(const Candidates& cand, const NmsParams& nms_params, bool class_agnostic, bool run_nms,
                       Candidates& out) {
    out.clear();
    if (!run_nms) {
        out = cand;
        return;
    }
    std::vector<int64_t> keep;
    out.boxes.reserve(cand.boxes.size());
    out.scores.reserve(cand.scores.size());
    out.class_ids.reserve(cand.class_ids.size());
    out.anchor_index.reserve(cand.anchor_index.size());
    NmsParams p = nms_params;
    p.score_threshold = -std::numeric_limits<float>::infinity();
    nms(cand.boxes.data(), cand.scores.data(), class_agnostic ? nullptr : cand.class_ids.data(), cand.size(), p,
        keep);
    for (const int64_t i : keep) {
        const float* bx = cand.boxes.data() + 4 * i;
        const auto u = static_cast<size_t>(i);
        out.push(bx[0], bx[1], bx[2], bx[3], cand.scores[u], cand.class_ids[u], cand.anchor_index[u]);
    }
}

void unletterbox_boxes(float* boxes, int64_t n, const Unletterbox& ub) {
    if (!ub.enabled) return;
    for (int64_t i = 0; i < n; ++i) {
        float* b = boxes + 4 * i;
        for (int k = 0; k < 4; ++k) {
            const bool is_x = (k % 2) == 0;
            float v = (b[k] - (is_x ? ub.pad_x : ub.pad_y)) / ub.scale;
            const float hi = is_x ? ub.width : ub.height;
            v = v < 0.0f ? 0.0f : v;  // np.clip(v, 0, hi): max then min
            v = v > hi ? hi : v;
            b[k] = v;
        }
    }
}

}  // namespace rknn_fast::kernels
