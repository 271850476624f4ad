#include "kernels/keypoints.h"

#include <algorithm>
#include <cmath>

#include "kernels/yolo.h"  // dfl_expectation: the same DFL as the detection heads

namespace rknn_fast::kernels {

void decode_yolov8_pose(const PoseHead* heads, int64_t n_heads, int64_t reg_max, int64_t model_h,
                        int64_t model_w, float logit_threshold, KeypointCandidates& out) {
    out = KeypointCandidates{};
    int64_t level_offset = 0;
    for (int64_t l = 0; l < n_heads; ++l) {
        const PoseHead& h = heads[l];
        const TensorView& s = h.planes;
        const float stride_x = static_cast<float>(model_w) / static_cast<float>(s.width);
        const float stride_y = static_cast<float>(model_h) / static_cast<float>(s.height);
        const int64_t logit_channel = 4 * reg_max;
        for (int64_t i = 0; i < s.height; ++i) {
            for (int64_t j = 0; j < s.width; ++j) {
                const float logit = load_float(s, s.offset(logit_channel, i, j));
                if (!(logit >= logit_threshold)) continue;
                float d[4];
                for (int64_t side = 0; side < 4; ++side)
                    d[side] = dfl_expectation(s, side * reg_max, i, j, reg_max);
                const float cx = static_cast<float>(j) + 0.5f;
                const float cy = static_cast<float>(i) + 0.5f;
                out.boxes.push_back((cx - d[0]) * stride_x);
                out.boxes.push_back((cy - d[1]) * stride_y);
                out.boxes.push_back((cx + d[2]) * stride_x);
                out.boxes.push_back((cy + d[3]) * stride_y);
                out.scores.push_back(1.0f / (1.0f + std::exp(-logit)));
                out.anchor_index.push_back(static_cast<int32_t>(level_offset + i * s.width + j));
            }
        }
        level_offset += s.height * s.width;
    }
}

std::vector<float> retinaface_priors(int64_t model_h, int64_t model_w) {
    static const int64_t steps[3] = {8, 16, 32};
    static const float sizes[3][2] = {{16.f, 32.f}, {64.f, 128.f}, {256.f, 512.f}};
    std::vector<float> priors;
    const double mw = static_cast<double>(model_w), mh = static_cast<double>(model_h);
    for (int l = 0; l < 3; ++l) {
        const int64_t fh = (model_h + steps[l] - 1) / steps[l];
        const int64_t fw = (model_w + steps[l] - 1) / steps[l];
        const double step = static_cast<double>(steps[l]);
        for (int64_t i = 0; i < fh; ++i) {
            for (int64_t j = 0; j < fw; ++j) {
                for (int k = 0; k < 2; ++k) {
                    priors.push_back(static_cast<float>((static_cast<double>(j) + 0.5) * step / mw));
                    priors.push_back(static_cast<float>((static_cast<double>(i) + 0.5) * step / mh));
                    priors.push_back(static_cast<float>(sizes[l][k] / mw));
                    priors.push_back(static_cast<float>(sizes[l][k] / mh));
                }
            }
        }
    }
    return priors;
}

void decode_retinaface(const float* loc, const float* conf, const float* landmarks,
                       const float* priors, int64_t n_priors, int64_t model_h, int64_t model_w,
                       float threshold, KeypointCandidates& out) {
    out = KeypointCandidates{};
    const float mw = static_cast<float>(model_w), mh = static_cast<float>(model_h);
    for (int64_t p = 0; p < n_priors; ++p) {
        const float score = conf[2 * p + 1];
        if (!(score > threshold)) continue;
        const float* pr = priors + 4 * p;
        const float* d = loc + 4 * p;
        const float cx = pr[0] + d[0] * 0.1f * pr[2];
        const float cy = pr[1] + d[1] * 0.1f * pr[3];
        const float w = pr[2] * std::exp(d[2] * 0.2f);
        const float h = pr[3] * std::exp(d[3] * 0.2f);
        out.boxes.push_back((cx - 0.5f * w) * mw);
        out.boxes.push_back((cy - 0.5f * h) * mh);
        out.boxes.push_back((cx + 0.5f * w) * mw);
        out.boxes.push_back((cy + 0.5f * h) * mh);
        out.scores.push_back(score);
        out.anchor_index.push_back(static_cast<int32_t>(p));
        const float* lm = landmarks + 10 * p;
        for (int k = 0; k < 5; ++k) {
            out.keypoints.push_back((pr[0] + lm[2 * k] * 0.1f * pr[2]) * mw);
            out.keypoints.push_back((pr[1] + lm[2 * k + 1] * 0.1f * pr[3]) * mh);
        }
    }
}

}  // namespace rknn_fast::kernels
