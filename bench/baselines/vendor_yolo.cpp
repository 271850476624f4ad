// Scalar C++ baselines for bench/bench_decoders.py: our own re-implementation of the
// rknn_model_zoo C demos' post-processing algorithm (written from the description of its
// rules, not from its code), compiled -O2 by the bench and fed the same int8 outputs as
// rknn_fast. Structure as in the demo:
//   * loop over the cells of each branch; YOLOv8: skip the cell when score_sum < threshold
//     (int8 compare), then the class maximum over the class vector of the cell, then for a
//     passing cell DFL with expf over the dequantized box logits (softmax per side);
//     YOLOv5: objectness gate, class maximum, box terms for passing cells;
//   * sort all candidates by score (descending), then per-class greedy NMS over the sorted list,
//     at most max_det results.
// Differences from the demo, all so that the results can be compared for equality first:
//   * int8 thresholds are the exact smallest q with (q - zp) * scale >= conf (the demo truncates,
//     which can differ by one LSB) and pass with >=;
//   * the DFL softmax subtracts the maximum (the demo does not; same value up to float rounding);
//   * boxes are kept as x1, y1, x2, y2 (the demo keeps x, y, w, h), ties in the sort keep the
//     lower candidate first, and degenerate boxes (width or height <= 0) are dropped before NMS
//     as rknn_fast does.
// C ABI so that ctypes can call it; NCHW int8 inputs only.
#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int qthr(float thr, float scale, int zp) {
    int q = static_cast<int>(std::ceil(thr / scale + zp)) - 2;
    if (q < -128) q = -128;
    while (q <= 127 && !(static_cast<float>(q - zp) * scale >= thr)) ++q;
    return q;  // 128: nothing passes
}

inline float deq(int8_t q, int zp, float scale) { return static_cast<float>(q - zp) * scale; }

struct Cand {
    float x1, y1, x2, y2, score;
    int cls;
};

float iou(const Cand& a, const Cand& b, float one) {
    const float w = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + one);
    const float h = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + one);
    const float inter = w * h;
    const float uni = std::max(0.0f, a.x2 - a.x1 + one) * std::max(0.0f, a.y2 - a.y1 + one) +
                      std::max(0.0f, b.x2 - b.x1 + one) * std::max(0.0f, b.y2 - b.y1 + one) - inter;
    return uni <= 0.0f ? 0.0f : inter / uni;
}

int nms_and_write(std::vector<Cand>& c, float iou_thr, int plus_one, int max_det, float* boxes, float* scores,
                  int32_t* classes) {
    c.erase(std::remove_if(c.begin(), c.end(), [](const Cand& x) { return !(x.x2 > x.x1 && x.y2 > x.y1); }),
            c.end());
    std::vector<int> order(c.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return c[a].score > c[b].score || (c[a].score == c[b].score && a < b);
    });
    std::vector<char> removed(c.size(), 0);
    std::vector<int> class_set;
    for (const auto& x : c)
        if (std::find(class_set.begin(), class_set.end(), x.cls) == class_set.end()) class_set.push_back(x.cls);
    const float one = plus_one ? 1.0f : 0.0f;
    for (const int cls : class_set) {
        for (size_t i = 0; i < order.size(); ++i) {
            const Cand& a = c[order[i]];
            if (removed[order[i]] || a.cls != cls) continue;
            for (size_t j = i + 1; j < order.size(); ++j) {
                const Cand& b = c[order[j]];
                if (removed[order[j]] || b.cls != cls) continue;
                if (iou(a, b, one) > iou_thr) removed[order[j]] = 1;
            }
        }
    }
    int n = 0;
    for (const int i : order) {
        if (removed[i]) continue;
        if (n >= max_det) break;
        boxes[4 * n] = c[i].x1;
        boxes[4 * n + 1] = c[i].y1;
        boxes[4 * n + 2] = c[i].x2;
        boxes[4 * n + 3] = c[i].y2;
        scores[n] = c[i].score;
        classes[n] = c[i].cls;
        ++n;
    }
    return n;
}

}  // namespace

extern "C" {

// outs: 3 * per pointers (box, cls[, score_sum] per branch), NCHW int8; scales/zps per output;
// hs/ws per branch. Returns the number of detections written.
static int baseline_yolov8_i8_once(const int8_t* const* outs, const float* scales, const int32_t* zps, int per,
                       const int32_t* hs, const int32_t* ws, int nc, int reg_max, int input_h, int input_w,
                       float conf, float iou_thr, int plus_one, int max_det, float* boxes, float* scores,
                       int32_t* classes) {
    std::vector<Cand> cand;
    std::vector<float> e(static_cast<size_t>(reg_max));
    for (int b = 0; b < 3; ++b) {
        const int ib = b * per;
        const int8_t* box = outs[ib];
        const int8_t* cls = outs[ib + 1];
        const int8_t* ss = per == 3 ? outs[ib + 2] : nullptr;
        const int h = hs[b], w = ws[b], hw = h * w;
        const int cthr = qthr(conf, scales[ib + 1], zps[ib + 1]);
        const int sthr = per == 3 ? qthr(conf, scales[ib + 2], zps[ib + 2]) : -128;
        const float sx = static_cast<float>(input_w) / static_cast<float>(w);
        const float sy = static_cast<float>(input_h) / static_cast<float>(h);
        for (int i = 0; i < h; ++i) {
            for (int j = 0; j < w; ++j) {
                const int off = i * w + j;
                if (ss && ss[off] < sthr) continue;
                int best = -129, best_c = -1;
                for (int c = 0; c < nc; ++c) {
                    const int v = cls[c * hw + off];
                    if (v >= cthr && v > best) {
                        best = v;
                        best_c = c;
                    }
                }
                if (best_c < 0) continue;
                float d[4];
                for (int k = 0; k < 4; ++k) {
                    float m = -INFINITY;
                    for (int r = 0; r < reg_max; ++r) {
                        e[r] = deq(box[(k * reg_max + r) * hw + off], zps[ib], scales[ib]);
                        m = std::max(m, e[r]);
                    }
                    float sum = 0.0f, acc = 0.0f;
                    for (int r = 0; r < reg_max; ++r) {
                        const float x = expf(e[r] - m);
                        sum += x;
                        acc += x * static_cast<float>(r);
                    }
                    d[k] = acc / sum;
                }
                const float cx = static_cast<float>(j) + 0.5f, cy = static_cast<float>(i) + 0.5f;
                cand.push_back(Cand{(cx - d[0]) * sx, (cy - d[1]) * sy, (cx + d[2]) * sx, (cy + d[3]) * sy,
                                    deq(static_cast<int8_t>(best), zps[ib + 1], scales[ib + 1]), best_c});
            }
        }
    }
    return nms_and_write(cand, iou_thr, plus_one, max_det, boxes, scores, classes);
}

// 3 outputs (1, na*(5+nc), H, W) int8 NCHW; anchors: 3 * na * 2 (w, h) pixels.
static int baseline_yolov5_i8_once(const int8_t* const* outs, const float* scales, const int32_t* zps, const int32_t* hs,
                       const int32_t* ws, int na, int nc, const float* anchors, int input_h, int input_w, float conf,
                       float iou_thr, int plus_one, int max_det, float* boxes, float* scores, int32_t* classes) {
    std::vector<Cand> cand;
    for (int b = 0; b < 3; ++b) {
        const int8_t* p = outs[b];
        const int h = hs[b], w = ws[b], hw = h * w;
        const float scale = scales[b];
        const int zp = zps[b];
        const int thr = qthr(conf, scale, zp);
        const float sx = static_cast<float>(input_w) / static_cast<float>(w);
        const float sy = static_cast<float>(input_h) / static_cast<float>(h);
        for (int a = 0; a < na; ++a) {
            const int c0 = a * (5 + nc);
            for (int i = 0; i < h; ++i) {
                for (int j = 0; j < w; ++j) {
                    const int off = i * w + j;
                    const int8_t obj = p[(c0 + 4) * hw + off];
                    if (obj < thr) continue;
                    int best = -129, best_c = -1;
                    for (int c = 0; c < nc; ++c) {
                        const int v = p[(c0 + 5 + c) * hw + off];
                        if (v > best) {
                            best = v;
                            best_c = c;
                        }
                    }
                    const float score = deq(obj, zp, scale) * deq(static_cast<int8_t>(best), zp, scale);
                    if (!(score >= conf)) continue;
                    const float tx = deq(p[c0 * hw + off], zp, scale), ty = deq(p[(c0 + 1) * hw + off], zp, scale);
                    const float tw = deq(p[(c0 + 2) * hw + off], zp, scale), th = deq(p[(c0 + 3) * hw + off], zp, scale);
                    const float bx = (tx * 2.0f - 0.5f + static_cast<float>(j)) * sx;
                    const float by = (ty * 2.0f - 0.5f + static_cast<float>(i)) * sy;
                    const float bw = (tw * 2.0f) * (tw * 2.0f) * anchors[(b * na + a) * 2];
                    const float bh = (th * 2.0f) * (th * 2.0f) * anchors[(b * na + a) * 2 + 1];
                    cand.push_back(Cand{bx - 0.5f * bw, by - 0.5f * bh, bx + 0.5f * bw, by + 0.5f * bh, score, best_c});
                }
            }
        }
    }
    return nms_and_write(cand, iou_thr, plus_one, max_det, boxes, scores, classes);
}

// YOLOX (1, N, 5+nc) int8, grid decode over strides (8, 16, 32) of a square input.
static int baseline_yolox_i8_once(const int8_t* p, float scale, int zp, int n, int nc, int input_h, int input_w, float conf,
                      float iou_thr, int plus_one, int max_det, float* boxes, float* scores, int32_t* classes) {
    std::vector<Cand> cand;
    const int f = 5 + nc;
    const int thr = qthr(conf, scale, zp);
    int i = 0;
    for (const int s : {8, 16, 32}) {
        const int gh = input_h / s, gw = input_w / s;
        for (int r = 0; r < gh; ++r) {
            for (int c = 0; c < gw; ++c, ++i) {
                if (i >= n) break;
                const int8_t* row = p + static_cast<int64_t>(i) * f;
                if (row[4] < thr) continue;
                int best = -129, best_c = -1;
                for (int k = 0; k < nc; ++k)
                    if (row[5 + k] > best) {
                        best = row[5 + k];
                        best_c = k;
                    }
                const float score = deq(row[4], zp, scale) * deq(static_cast<int8_t>(best), zp, scale);
                if (!(score >= conf)) continue;
                const float fs = static_cast<float>(s);
                const float cx = (deq(row[0], zp, scale) + static_cast<float>(c)) * fs;
                const float cy = (deq(row[1], zp, scale) + static_cast<float>(r)) * fs;
                const float bw = std::exp(deq(row[2], zp, scale)) * fs;
                const float bh = std::exp(deq(row[3], zp, scale)) * fs;
                cand.push_back(Cand{cx - 0.5f * bw, cy - 0.5f * bh, cx + 0.5f * bw, cy + 0.5f * bh, score, best_c});
            }
        }
    }
    return nms_and_write(cand, iou_thr, plus_one, max_det, boxes, scores, classes);
}

// Ultralytics flat head (1, 4+nc, N) float32: rows cx, cy, w, h, class scores.
static int baseline_flat_f32_once(const float* p, int rows, int n, float conf, float iou_thr, int plus_one, int max_det,
                      float* boxes, float* scores, int32_t* classes) {
    std::vector<Cand> cand;
    const int nc = rows - 4;
    for (int i = 0; i < n; ++i) {
        float best = -INFINITY;
        int best_c = -1;
        for (int c = 0; c < nc; ++c) {
            const float v = p[static_cast<int64_t>(4 + c) * n + i];
            if (v > best) {
                best = v;
                best_c = c;
            }
        }
        if (!(best >= conf)) continue;
        const float cx = p[i], cy = p[n + i], w = p[2 * n + i], h = p[3 * n + i];
        cand.push_back(Cand{cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h, best, best_c});
    }
    return nms_and_write(cand, iou_thr, plus_one, max_det, boxes, scores, classes);
}

// Runs the baseline `repeat` times; *seconds = mean thread CPU seconds per call; returns the detections.
int baseline_yolov8_i8(const int8_t* const* outs, const float* scales, const int32_t* zps, int per,
                       const int32_t* hs, const int32_t* ws, int nc, int reg_max, int input_h, int input_w,
                       float conf, float iou_thr, int plus_one, int max_det, float* boxes, float* scores,
                       int32_t* classes, int repeat, double* seconds) {
    int kept = 0;
    const double t0 = thread_cpu_seconds();
    for (int r = 0; r < repeat; ++r) kept = baseline_yolov8_i8_once(outs, scales, zps, per, hs, ws, nc, reg_max, input_h, input_w, conf, iou_thr, plus_one, max_det, boxes, scores, classes);
    *seconds = (thread_cpu_seconds() - t0) / repeat;  // thread CPU time, like the rknn_fast side
    return kept;
}

// Runs the baseline `repeat` times; *seconds = mean thread CPU seconds per call; returns the detections.
int baseline_yolov5_i8(const int8_t* const* outs, const float* scales, const int32_t* zps, const int32_t* hs,
                       const int32_t* ws, int na, int nc, const float* anchors, int input_h, int input_w, float conf,
                       float iou_thr, int plus_one, int max_det, float* boxes, float* scores, int32_t* classes, int repeat, double* seconds) {
    int kept = 0;
    const double t0 = thread_cpu_seconds();
    for (int r = 0; r < repeat; ++r) kept = baseline_yolov5_i8_once(outs, scales, zps, hs, ws, na, nc, anchors, input_h, input_w, conf, iou_thr, plus_one, max_det, boxes, scores, classes);
    *seconds = (thread_cpu_seconds() - t0) / repeat;  // thread CPU time, like the rknn_fast side
    return kept;
}

// Runs the baseline `repeat` times; *seconds = mean thread CPU seconds per call; returns the detections.
int baseline_yolox_i8(const int8_t* p, float scale, int zp, int n, int nc, int input_h, int input_w, float conf,
                      float iou_thr, int plus_one, int max_det, float* boxes, float* scores, int32_t* classes, int repeat, double* seconds) {
    int kept = 0;
    const double t0 = thread_cpu_seconds();
    for (int r = 0; r < repeat; ++r) kept = baseline_yolox_i8_once(p, scale, zp, n, nc, input_h, input_w, conf, iou_thr, plus_one, max_det, boxes, scores, classes);
    *seconds = (thread_cpu_seconds() - t0) / repeat;  // thread CPU time, like the rknn_fast side
    return kept;
}

// Runs the baseline `repeat` times; *seconds = mean thread CPU seconds per call; returns the detections.
int baseline_flat_f32(const float* p, int rows, int n, float conf, float iou_thr, int plus_one, int max_det,
                      float* boxes, float* scores, int32_t* classes, int repeat, double* seconds) {
    int kept = 0;
    const double t0 = thread_cpu_seconds();
    for (int r = 0; r < repeat; ++r) kept = baseline_flat_f32_once(p, rows, n, conf, iou_thr, plus_one, max_det, boxes, scores, classes);
    *seconds = (thread_cpu_seconds() - t0) / repeat;  // thread CPU time, like the rknn_fast side
    return kept;
}

}  // extern "C"
