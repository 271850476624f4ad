#include "kernels/yolo.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace rknn_fast::kernels {
namespace {

// Per-dtype access to raw values. `Key` is the domain in which thresholds and argmax are
// evaluated: the raw integer for quantized tensors (monotonic in the dequantized value
// because scale > 0), the float value for float tensors.
template <typename T>
struct Elem;

template <>
struct Elem<int8_t> {
    using Key = int32_t;
    static Key key(int8_t v) { return v; }
    static Key lowest() { return std::numeric_limits<int32_t>::min(); }
};
template <>
struct Elem<uint8_t> {
    using Key = int32_t;
    static Key key(uint8_t v) { return v; }
    static Key lowest() { return std::numeric_limits<int32_t>::min(); }
};
struct Half {
    uint16_t bits;
};
template <>
struct Elem<Half> {
    using Key = float;
    static Key key(Half v) { return half_to_float(v.bits); }
    static Key lowest() { return -std::numeric_limits<float>::infinity(); }
};
template <>
struct Elem<float> {
    using Key = float;
    static Key key(float v) { return v; }
    static Key lowest() { return -std::numeric_limits<float>::infinity(); }
};

template <typename T>
struct Tag {
    using type = T;
};

// Calls fn(Tag<T>{}) with T the C++ element type of dtype.
template <typename Fn>
void with_dtype(DType dtype, Fn&& fn) {
    switch (dtype) {
        case DType::Int8:
            fn(Tag<int8_t>{});
            break;
        case DType::UInt8:
            fn(Tag<uint8_t>{});
            break;
        case DType::Float16:
            fn(Tag<Half>{});
            break;
        case DType::Float32:
        default:
            fn(Tag<float>{});
            break;
    }
}

// Threshold `thr` (a float in the raw-score domain) expressed as a Key of T.
template <typename T>
typename Elem<T>::Key key_threshold(float thr, const TensorView& v) {
    if constexpr (std::is_same_v<typename Elem<T>::Key, int32_t>) {
        return quantized_threshold(thr, v.scale, v.zero_point, v.dtype);
    } else {
        return thr;
    }
}

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

inline bool finite4(float a, float b, float c, float d) {
    return std::isfinite(a) && std::isfinite(b) && std::isfinite(c) && std::isfinite(d);
}

// First-max argmax over channels [c0, c0 + n) of cell (y, x); returns the best key and
// sets best_c (relative to c0; -1 when every value is NaN).
template <typename T>
typename Elem<T>::Key argmax_cell(const TensorView& v, int64_t c0, int64_t n, int64_t y, int64_t x,
                                  int64_t& best_c) {
    using E = Elem<T>;
    const T* p = static_cast<const T*>(v.data);
    const int64_t cell = y * v.stride_h + x * v.stride_w;
    auto best = E::lowest();
    best_c = -1;
    for (int64_t k = 0; k < n; ++k) {
        const int64_t c = c0 + k;
        const auto val = E::key(p[(c / v.c2) * v.stride_c1 + (c % v.c2) + cell]);
        if (val > best) {
            best = val;
            best_c = k;
        }
    }
    return best;
}

// Plane-wise first-max argmax over channels [c0, c0 + n) for every cell of an H x W grid
// (better memory access than per-cell scans for NCHW). best/best_c hold H*W entries.
template <typename T>
void argmax_planes(const TensorView& v, int64_t c0, int64_t n,
                   std::vector<typename Elem<T>::Key>& best, std::vector<int32_t>& best_c) {
    using E = Elem<T>;
    const T* p = static_cast<const T*>(v.data);
    const int64_t h = v.height, w = v.width;
    best.assign(static_cast<size_t>(h * w), E::lowest());
    best_c.assign(static_cast<size_t>(h * w), -1);
    for (int64_t k = 0; k < n; ++k) {
        const int64_t c = c0 + k;
        const T* plane = p + (c / v.c2) * v.stride_c1 + (c % v.c2);
        const int32_t kk = static_cast<int32_t>(k);
        for (int64_t y = 0; y < h; ++y) {
            const T* row = plane + y * v.stride_h;
            auto* brow = best.data() + y * w;
            int32_t* crow = best_c.data() + y * w;
            if (v.stride_w == 1) {
                for (int64_t x = 0; x < w; ++x) {
                    const auto val = E::key(row[x]);
                    const bool gt = val > brow[x];
                    brow[x] = gt ? val : brow[x];
                    crow[x] = gt ? kk : crow[x];
                }
            } else {
                for (int64_t x = 0; x < w; ++x) {
                    const auto val = E::key(row[x * v.stride_w]);
                    const bool gt = val > brow[x];
                    brow[x] = gt ? val : brow[x];
                    crow[x] = gt ? kk : crow[x];
                }
            }
        }
    }
}

template <typename Key>
float key_to_float(Key k, const TensorView& v) {
    if constexpr (std::is_same_v<Key, int32_t>) {
        return static_cast<float>(k - v.zero_point) * v.scale;
    } else {
        return k;
    }
}

void push_v8_box(const YoloV8Branch& br, const YoloV8Params& prm, int64_t y, int64_t x,
                 float sx, float sy, float score, int32_t cls, int64_t anchor, Candidates& out) {
    const int64_t r = prm.reg_max;
    const float dl = dfl_expectation(br.box, 0, y, x, r);
    const float dt = dfl_expectation(br.box, r, y, x, r);
    const float dr = dfl_expectation(br.box, 2 * r, y, x, r);
    const float db = dfl_expectation(br.box, 3 * r, y, x, r);
    const float cx = static_cast<float>(x) + 0.5f;
    const float cy = static_cast<float>(y) + 0.5f;
    const float x1 = (cx - dl) * sx, y1 = (cy - dt) * sy;
    const float x2 = (cx + dr) * sx, y2 = (cy + db) * sy;
    if (!finite4(x1, y1, x2, y2)) return;
    out.push(x1, y1, x2, y2, score, cls, anchor);
}

}  // namespace

int32_t quantized_threshold(float thr, float scale, int32_t zero_point, DType dtype) {
    const int32_t lo = dtype == DType::UInt8 ? 0 : -128;
    const int32_t hi = dtype == DType::UInt8 ? 255 : 127;
    if (std::isnan(thr) || !(scale > 0.0f)) return hi + 1;
    auto deq = [&](int32_t q) { return static_cast<float>(q - zero_point) * scale; };
    const double guess = std::ceil(static_cast<double>(thr) / scale + zero_point);
    int32_t q = static_cast<int32_t>(std::clamp(guess, static_cast<double>(lo), hi + 1.0));
    // The guess is within an LSB; settle it with the exact float32 comparison.
    while (q > lo && deq(q - 1) >= thr) --q;
    while (q <= hi && !(deq(q) >= thr)) ++q;
    return q;
}

float score_domain_threshold(float conf, ScoreKind kind) {
    if (kind == ScoreKind::Probability) return conf;
    if (!(conf > 0.0f)) return -std::numeric_limits<float>::infinity();
    if (!(conf < 1.0f)) return std::numeric_limits<float>::infinity();
    const double c = conf;
    return static_cast<float>(std::log(c / (1.0 - c)));
}

float dfl_expectation(const TensorView& view, int64_t base_c, int64_t y, int64_t x,
                      int64_t reg_max) {
    float vals[64];
    float buf_max = -std::numeric_limits<float>::infinity();
    const int64_t n = std::min<int64_t>(reg_max, 64);
    for (int64_t b = 0; b < n; ++b) {
        vals[b] = load_float(view, view.offset(base_c + b, y, x));
        buf_max = std::max(buf_max, vals[b]);
    }
    float sum = 0.0f, acc = 0.0f;
    for (int64_t b = 0; b < n; ++b) {
        const float e = std::exp(vals[b] - buf_max);
        sum += e;
        acc += e * static_cast<float>(b);
    }
    return acc / sum;
}

void decode_yolov8(const YoloV8Branch* branches, int64_t n_branches, const YoloV8Params& prm,
                   Candidates& out) {
    const float thr = score_domain_threshold(prm.conf, prm.scores);
    int64_t anchor_base = 0;
    for (int64_t bi = 0; bi < n_branches; ++bi) {
        const YoloV8Branch& br = branches[bi];
        const int64_t h = br.cls.height, w = br.cls.width, nc = br.cls.channels;
        const float sx = prm.input_w / static_cast<float>(w);
        const float sy = prm.input_h / static_cast<float>(h);
        with_dtype(br.cls.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const auto kthr = key_threshold<T>(thr, br.cls);
            auto emit = [&](int64_t y, int64_t x, typename Elem<T>::Key best, int64_t c) {
                float s = key_to_float(best, br.cls);
                if (prm.scores == ScoreKind::Logit) s = sigmoid(s);
                push_v8_box(br, prm, y, x, sx, sy, s, static_cast<int32_t>(c),
                            anchor_base + y * w + x, out);
            };
            if (br.has_score_sum && prm.use_score_sum) {
                // Cell-major: one score_sum value decides whether the class vector is read.
                with_dtype(br.score_sum.dtype, [&](auto stag) {
                    using S = typename decltype(stag)::type;
                    const auto sthr = key_threshold<S>(prm.conf, br.score_sum);
                    const S* ps = static_cast<const S*>(br.score_sum.data);
                    for (int64_t y = 0; y < h; ++y) {
                        for (int64_t x = 0; x < w; ++x) {
                            const auto sv =
                                Elem<S>::key(ps[y * br.score_sum.stride_h + x * br.score_sum.stride_w]);
                            if (!(sv >= sthr)) continue;
                            int64_t c;
                            const auto best = argmax_cell<T>(br.cls, 0, nc, y, x, c);
                            if (c < 0 || !(best >= kthr)) continue;
                            emit(y, x, best, c);
                        }
                    }
                });
            } else {
                std::vector<typename Elem<T>::Key> best;
                std::vector<int32_t> best_c;
                argmax_planes<T>(br.cls, 0, nc, best, best_c);
                for (int64_t y = 0; y < h; ++y)
                    for (int64_t x = 0; x < w; ++x) {
                        const size_t i = static_cast<size_t>(y * w + x);
                        if (best_c[i] < 0 || !(best[i] >= kthr)) continue;
                        emit(y, x, best[i], best_c[i]);
                    }
            }
        });
        anchor_base += h * w;
    }
}

void decode_flat(const TensorView& v, const FlatParams& prm, Candidates& out) {
    const float thr = score_domain_threshold(prm.conf, prm.scores);
    const int64_t nc = v.channels - 4, n = v.width;
    with_dtype(v.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const auto kthr = key_threshold<T>(thr, v);
        std::vector<typename Elem<T>::Key> best;
        std::vector<int32_t> best_c;
        argmax_planes<T>(v, 4, nc, best, best_c);
        for (int64_t i = 0; i < n; ++i) {
            const size_t u = static_cast<size_t>(i);
            if (best_c[u] < 0 || !(best[u] >= kthr)) continue;
            float s = key_to_float(best[u], v);
            if (prm.scores == ScoreKind::Logit) s = sigmoid(s);
            const float cx = load_float(v, v.offset(0, 0, i));
            const float cy = load_float(v, v.offset(1, 0, i));
            const float bw = load_float(v, v.offset(2, 0, i));
            const float bh = load_float(v, v.offset(3, 0, i));
            const float x1 = cx - 0.5f * bw, y1 = cy - 0.5f * bh;
            const float x2 = cx + 0.5f * bw, y2 = cy + 0.5f * bh;
            if (!finite4(x1, y1, x2, y2)) continue;
            out.push(x1, y1, x2, y2, s, best_c[u], i);
        }
    });
}

void decode_yolov5(const TensorView* branches, int64_t n_branches, const YoloV5Params& prm,
                   Candidates& out) {
    const bool logit = prm.scores == ScoreKind::Logit;
    const float thr = score_domain_threshold(prm.conf, prm.scores);
    const int64_t na = prm.num_anchors;
    int64_t anchor_base = 0;
    for (int64_t bi = 0; bi < n_branches; ++bi) {
        const TensorView& v = branches[bi];
        const int64_t h = v.height, w = v.width;
        const int64_t per = v.channels / na;  // 5 + nc
        const int64_t nc = per - 5;
        const float sx = prm.input_w / static_cast<float>(w);
        const float sy = prm.input_h / static_cast<float>(h);
        with_dtype(v.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            using E = Elem<T>;
            const auto kthr = key_threshold<T>(thr, v);
            const T* p = static_cast<const T*>(v.data);
            auto term = [&](int64_t c, int64_t y, int64_t x) {
                const float t = load_float(v, v.offset(c, y, x));
                return logit ? sigmoid(t) : t;
            };
            for (int64_t a = 0; a < na; ++a) {
                const int64_t c0 = a * per;
                const float aw = prm.anchors[(bi * na + a) * 2];
                const float ah = prm.anchors[(bi * na + a) * 2 + 1];
                for (int64_t y = 0; y < h; ++y) {
                    for (int64_t x = 0; x < w; ++x) {
                        const auto obj_k = E::key(p[v.offset(c0 + 4, y, x)]);
                        if (!(obj_k >= kthr)) continue;  // obj >= conf is necessary
                        int64_t c;
                        const auto best = argmax_cell<T>(v, c0 + 5, nc, y, x, c);
                        if (c < 0) continue;
                        float obj = key_to_float(obj_k, v), cls = key_to_float(best, v);
                        if (logit) {
                            obj = sigmoid(obj);
                            cls = sigmoid(cls);
                        }
                        const float score = obj * cls;
                        if (!(score >= prm.conf)) continue;
                        const float tx = term(c0, y, x), ty = term(c0 + 1, y, x);
                        const float tw = term(c0 + 2, y, x), th = term(c0 + 3, y, x);
                        const float bx = (tx * 2.0f - 0.5f + static_cast<float>(x)) * sx;
                        const float by = (ty * 2.0f - 0.5f + static_cast<float>(y)) * sy;
                        const float bw = (tw * 2.0f) * (tw * 2.0f) * aw;
                        const float bh = (th * 2.0f) * (th * 2.0f) * ah;
                        const float x1 = bx - 0.5f * bw, y1 = by - 0.5f * bh;
                        const float x2 = bx + 0.5f * bw, y2 = by + 0.5f * bh;
                        if (!finite4(x1, y1, x2, y2)) continue;
                        out.push(x1, y1, x2, y2, score, static_cast<int32_t>(c),
                                 anchor_base + (a * h + y) * w + x);
                    }
                }
            }
        });
        anchor_base += na * h * w;
    }
}

void decode_yolox(const TensorView& v, const YoloXParams& prm, Candidates& out) {
    static const int32_t default_strides[3] = {8, 16, 32};
    const int32_t* strides = prm.strides ? prm.strides : default_strides;
    const int64_t n_strides = prm.strides ? prm.n_strides : 3;
    const int64_t nc = v.channels - 5, n = v.width;
    with_dtype(v.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        using E = Elem<T>;
        const auto kthr = key_threshold<T>(prm.conf, v);
        const T* p = static_cast<const T*>(v.data);
        // Grid position of anchor i, walking levels in order (rows then columns).
        int64_t level = 0, level_start = 0;
        int64_t gw = 0, gh = 0;
        auto level_dims = [&](int64_t l) {
            const float s = static_cast<float>(strides[l]);
            gw = static_cast<int64_t>(prm.input_w / s);
            gh = static_cast<int64_t>(prm.input_h / s);
        };
        if (prm.grid_decode && n_strides > 0) level_dims(0);
        for (int64_t i = 0; i < n; ++i) {
            if (prm.grid_decode) {
                while (level < n_strides && i >= level_start + gw * gh) {
                    level_start += gw * gh;
                    ++level;
                    if (level < n_strides) level_dims(level);
                }
                if (level >= n_strides) break;  // anchors beyond the grids: caller validated
            }
            const auto obj_k = E::key(p[v.offset(4, 0, i)]);
            if (!(obj_k >= kthr)) continue;
            int64_t c;
            const auto best = argmax_cell<T>(v, 5, nc, 0, i, c);
            if (c < 0) continue;
            const float score = key_to_float(obj_k, v) * key_to_float(best, v);
            if (!(score >= prm.conf)) continue;
            float cx = load_float(v, v.offset(0, 0, i));
            float cy = load_float(v, v.offset(1, 0, i));
            float bw = load_float(v, v.offset(2, 0, i));
            float bh = load_float(v, v.offset(3, 0, i));
            if (prm.grid_decode) {
                const int64_t local = i - level_start;
                const float s = static_cast<float>(strides[level]);
                cx = (cx + static_cast<float>(local % gw)) * s;
                cy = (cy + static_cast<float>(local / gw)) * s;
                bw = std::exp(bw) * s;
                bh = std::exp(bh) * s;
            }
            const float x1 = cx - 0.5f * bw, y1 = cy - 0.5f * bh;
            const float x2 = cx + 0.5f * bw, y2 = cy + 0.5f * bh;
            if (!finite4(x1, y1, x2, y2)) continue;
            out.push(x1, y1, x2, y2, score, static_cast<int32_t>(c), i);
        }
    });
}

}  // namespace rknn_fast::kernels
