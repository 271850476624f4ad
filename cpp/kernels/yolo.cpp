#include "kernels/yolo.h"

#include "kernels/simd_scan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace rknn_fast::kernels {
namespace {

// Per-dtype access to raw values. `Key` is the domain in which thresholds and argmax are
// evaluated, chosen so that comparisons vectorize: the raw integer for quantized tensors
// (monotonic in the dequantized value because scale > 0), a sign-magnitude integer for
// float16 (monotonic in the value, NaN mapped below everything), the value for float32
// (NaN never compares greater, so it is ignored by the max).
template <typename T>
struct Elem;

// int8 and uint8 differ only in the element type and the DType the threshold is rounded for.
template <typename Q, DType kType>
struct QuantizedElem {
    using Key = int16_t;  // 16-bit lanes: twice the SIMD width of int32, no overflow
    static Key key(Q v) { return v; }
    static Key lowest() { return std::numeric_limits<int16_t>::min(); }
    static float value(Key k, const TensorView& v) {
        return static_cast<float>(k - v.zero_point) * v.scale;
    }
    static Key threshold(float thr, const TensorView& v) {
        // In [lo, hi + 1] of the 8-bit range, so it fits.
        return static_cast<Key>(quantized_threshold(thr, v.scale, v.zero_point, kType));
    }
};
template <>
struct Elem<int8_t> : QuantizedElem<int8_t, DType::Int8> {};
template <>
struct Elem<uint8_t> : QuantizedElem<uint8_t, DType::UInt8> {};
struct Half {
    uint16_t bits;
};
template <>
struct Elem<Half> {
    // Sign-magnitude bits -> two's complement int16 (monotonic in the value, -0 == +0);
    // NaN maps to the lowest key so that it never wins a maximum or passes a threshold.
    using Key = int16_t;
    static Key key(Half h) {
        // 16-bit arithmetic throughout so that the compiler keeps 8 lanes per vector.
        const int16_t b = static_cast<int16_t>(h.bits);
        const int16_t mag = static_cast<int16_t>(b & 0x7fff);
        const int16_t neg = static_cast<int16_t>(b >> 15);  // 0 or -1
        const int16_t k = static_cast<int16_t>((mag ^ neg) - neg);
        return mag > 0x7c00 ? static_cast<Key>(-0x8000) : k;
    }
    static Key lowest() { return std::numeric_limits<int16_t>::min(); }
    static float value(Key k, const TensorView&) {
        const int32_t kk = k;
        const uint16_t bits =
            kk >= 0 ? static_cast<uint16_t>(kk) : static_cast<uint16_t>(0x8000 | (-kk));
        return half_to_float(bits);
    }
    // Smallest key whose value is >= thr (keys are monotonic: binary search over them);
    // 0x7c01 (above +inf) when none is.
    static Key threshold(float thr, const TensorView& v) {
        if (std::isnan(thr)) return 0x7c01;
        int32_t lo = -0x7c00, hi = 0x7c01;
        while (lo < hi) {
            const int32_t mid = lo + (hi - lo) / 2;
            if (value(static_cast<Key>(mid), v) >= thr)
                hi = mid;
            else
                lo = mid + 1;
        }
        return static_cast<Key>(lo);
    }
};
template <>
struct Elem<float> {
    using Key = float;
    static Key key(float v) { return v; }
    static Key lowest() { return -std::numeric_limits<float>::infinity(); }
    static float value(Key k, const TensorView&) { return k; }
    static Key threshold(float thr, const TensorView&) { return thr; }
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

template <typename T>
typename Elem<T>::Key key_threshold(float thr, const TensorView& v) {
    return Elem<T>::threshold(thr, v);
}

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// A box that can be a detection: finite coordinates and a positive width and height
// (degenerate boxes are dropped before NMS, like the face decoders do).
inline bool usable_box(float x1, float y1, float x2, float y2) {
    return std::isfinite(x1) && std::isfinite(y1) && std::isfinite(x2) && std::isfinite(y2) && x2 > x1 &&
           y2 > y1;
}

// First-max argmax over channels [c0, c0 + n) of cell (y, x); returns the best key and
// sets best_c (relative to c0; -1 when every value is NaN).
template <typename T>
typename Elem<T>::Key argmax_cell(const TensorView& v, int64_t c0, int64_t n, int64_t y, int64_t x,
                                  int64_t& best_c) {
    using E = Elem<T>;
    const T* p = static_cast<const T*>(v.data);
    auto best = E::lowest();
    int64_t bc = -1;
    for_channels(v, c0, n, y * v.stride_h + x * v.stride_w, [&](int64_t k, int64_t off) {
        const auto val = E::key(p[off]);
        if (val > best) {
            best = val;
            bc = k;
        }
    });
    best_c = bc;
    return best;
}

// Row maximum: best[x] = max(best[x], key(row[x * step])), NaN keys never win.
template <typename T>
void max_row(const T* __restrict row, int64_t step, typename Elem<T>::Key* __restrict best,
             int64_t w) {
    using E = Elem<T>;
    if (step == 1) {
        for (int64_t x = 0; x < w; ++x) {
            const auto val = E::key(row[x]);
            best[x] = val > best[x] ? val : best[x];
        }
    } else {
        for (int64_t x = 0; x < w; ++x) {
            const auto val = E::key(row[x * step]);
            best[x] = val > best[x] ? val : best[x];
        }
    }
}

// Per-cell maximum over channels [c0, c0 + n) of a dense NC1HWC2 tensor (c0 a multiple of
// c2): blocks are (H*W, C2) arrays of the same shape, so first an element-wise maximum
// across the full blocks (contiguous, vectorizes), then the valid lanes of the last partial
// block, then a maximum over the C2 lanes of each cell.
template <typename T>
void max_blocks(const TensorView& v, int64_t c0, int64_t n, typename Elem<T>::Key* best) {
    using E = Elem<T>;
    using Key = typename E::Key;
    const T* p = static_cast<const T*>(v.data);
    const int64_t hw = v.height * v.width, c2 = v.c2;
    const int64_t first = c0 / c2, full = n / c2, rem = n % c2;
    std::vector<Key> acc(static_cast<size_t>(hw * c2), E::lowest());
    Key* __restrict a = acc.data();
    for (int64_t b = 0; b < full; ++b) {
        const T* __restrict blk = p + (first + b) * v.stride_c1;
        for (int64_t i = 0; i < hw * c2; ++i) {
            const Key val = E::key(blk[i]);
            a[i] = val > a[i] ? val : a[i];
        }
    }
    if (rem) {
        const T* blk = p + (first + full) * v.stride_c1;
        for (int64_t cell = 0; cell < hw; ++cell)
            for (int64_t k = 0; k < rem; ++k) {
                const Key val = E::key(blk[cell * c2 + k]);
                Key& dst = a[cell * c2 + k];
                dst = val > dst ? val : dst;
            }
    }
    for (int64_t cell = 0; cell < hw; ++cell) {
        Key m = best[cell];
        for (int64_t k = 0; k < c2; ++k) m = a[cell * c2 + k] > m ? a[cell * c2 + k] : m;
        best[cell] = m;
    }
}

// Cells of an H x W grid whose maximum over channels [c0, c0 + n) reaches `thr`, with
// their first-max class. Two passes: a vectorizable running maximum over whole planes
// (contiguous for NCHW), then the class index only for the few cells that pass.
template <typename T>
void argmax_planes(const TensorView& v, int64_t c0, int64_t n, typename Elem<T>::Key thr,
                   std::vector<int64_t>& cells, std::vector<typename Elem<T>::Key>& best_out,
                   std::vector<int32_t>& cls_out) {
    using E = Elem<T>;
    const T* p = static_cast<const T*>(v.data);
    const int64_t h = v.height, w = v.width;
    cells.clear();
    best_out.clear();
    cls_out.clear();
    if constexpr (std::is_same_v<T, int8_t>) {
        // int8 planes: running maximum and threshold scan in int8 lanes (simd_scan.h), the
        // class index only for the cells that pass. Same result as the generic loop below.
        const bool planar = v.c2 == 1 && v.stride_w == 1 && v.stride_h == w;
        const bool blocks = v.c2 > 1 && c0 % v.c2 == 0 && v.stride_w == v.c2 && v.stride_h == w * v.c2 &&
                            v.stride_c1 >= h * w * v.c2;
        if (planar || blocks) {
            const int64_t hw = h * w;
            // Per-thread scratch, reused from call to call (no allocation per frame).
            static thread_local std::vector<int8_t> best8;
            best8.assign(static_cast<size_t>(hw), std::numeric_limits<int8_t>::min());
            if (planar) {
                max_planes_i8(p + c0 * v.stride_c1, v.stride_c1, n, best8.data(), hw);
            } else {
                const int64_t c2 = v.c2, first = c0 / c2, full = n / c2, rem = n % c2;
                static thread_local std::vector<int8_t> acc;
                acc.assign(static_cast<size_t>(hw * c2), std::numeric_limits<int8_t>::min());
                max_planes_i8(p + first * v.stride_c1, v.stride_c1, full, acc.data(), hw * c2);
                if (rem) {
                    const int8_t* blk = p + (first + full) * v.stride_c1;
                    for (int64_t cell = 0; cell < hw; ++cell)
                        for (int64_t k = 0; k < rem; ++k) {
                            int8_t& dst = acc[static_cast<size_t>(cell * c2 + k)];
                            dst = blk[cell * c2 + k] > dst ? blk[cell * c2 + k] : dst;
                        }
                }
                for (int64_t cell = 0; cell < hw; ++cell) {
                    int8_t m = std::numeric_limits<int8_t>::min();
                    for (int64_t k = 0; k < c2; ++k) m = std::max(m, acc[static_cast<size_t>(cell * c2 + k)]);
                    best8[static_cast<size_t>(cell)] = m;
                }
            }
            cells.reserve(static_cast<size_t>(hw));
            scan_ge_i8(best8.data(), hw, thr, 0, cells);
            for (const int64_t i : cells) {
                const int8_t b = best8[static_cast<size_t>(i)];
                int64_t found = -1;
                for_channels(v, c0, n, (i / w) * v.stride_h + (i % w) * v.stride_w, [&](int64_t k, int64_t off) {
                    if (found < 0 && p[off] == b) found = k;
                });
                best_out.push_back(b);
                cls_out.push_back(static_cast<int32_t>(found));
            }
            return;
        }
    }
    std::vector<typename E::Key> best(static_cast<size_t>(h * w), E::lowest());
    const bool dense_blocks = v.c2 > 1 && c0 % v.c2 == 0 && v.stride_w == v.c2 &&
                              v.stride_h == w * v.c2 && v.stride_c1 >= h * w * v.c2;
    if (dense_blocks) {
        max_blocks<T>(v, c0, n, best.data());
    } else {
        for (int64_t k = 0; k < n; ++k) {
            const int64_t c = c0 + k;
            const T* plane = p + (c / v.c2) * v.stride_c1 + (c % v.c2);
            for (int64_t y = 0; y < h; ++y)
                max_row<T>(plane + y * v.stride_h, v.stride_w, best.data() + y * w, w);
        }
    }
    cells.clear();
    best_out.clear();
    cls_out.clear();
    for (int64_t i = 0; i < h * w; ++i) {
        const auto b = best[static_cast<size_t>(i)];
        if (!(b >= thr)) continue;
        const int64_t y = i / w, x = i % w;
        const int64_t cell = y * v.stride_h + x * v.stride_w;
        int64_t found = -1;
        for_channels(v, c0, n, cell, [&](int64_t k, int64_t off) {
            if (found < 0 && E::key(p[off]) == b) found = k;
        });
        if (found < 0) continue;  // only NaN keys (lowest) can get here
        cells.push_back(i);
        best_out.push_back(b);
        cls_out.push_back(static_cast<int32_t>(found));
    }
}

// Lazily built exp table of a quantized box tensor (worth it from a few survivors on).
struct LazyExpTable {
    const TensorView* view;
    bool built = false;
    DflExpTable table;
    const DflExpTable* prebuilt = nullptr;
    const DflExpTable* get() {
        if (view->dtype != DType::Int8 && view->dtype != DType::UInt8) return nullptr;
        if (prebuilt) return prebuilt;
        if (!built) {
            table.build(view->scale);
            built = true;
        }
        return &table;
    }
};

void push_v8_box(const YoloV8Branch& br, const YoloV8Params& prm, LazyExpTable& lut, int64_t y,
                 int64_t x, float sx, float sy, float score, int32_t cls, int64_t anchor,
                 Candidates& out) {
    const int64_t r = prm.reg_max;
    const DflExpTable* t = lut.get();
    float d[4];
    if (t) {
        dfl_expectation_quantized4(br.box, *t, y, x, r, d);
    } else {
        for (int64_t k = 0; k < 4; ++k) d[k] = dfl_expectation(br.box, k * r, y, x, r);
    }
    const float dl = d[0], dt = d[1], dr = d[2], db = d[3];
    const float cx = static_cast<float>(x) + 0.5f;
    const float cy = static_cast<float>(y) + 0.5f;
    const float x1 = (cx - dl) * sx, y1 = (cy - dt) * sy;
    const float x2 = (cx + dr) * sx, y2 = (cy + db) * sy;
    if (!usable_box(x1, y1, x2, y2)) return;
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
    for_channels(view, base_c, n, y * view.stride_h + x * view.stride_w,
                 [&](int64_t b, int64_t off) {
                     vals[b] = load_float(view, off);
                     buf_max = std::max(buf_max, vals[b]);
                 });
    float sum = 0.0f, acc = 0.0f;
    for (int64_t b = 0; b < n; ++b) {
        const float e = std::exp(vals[b] - buf_max);
        sum += e;
        acc += e * static_cast<float>(b);
    }
    return acc / sum;
}

void DflExpTable::build(float scale) {
    for (int k = 0; k < 256; ++k)
        weight[k] = static_cast<float>(std::exp(-static_cast<double>(k) * scale));
}

float dfl_expectation_quantized(const TensorView& view, const DflExpTable& table, int64_t base_c,
                                int64_t y, int64_t x, int64_t reg_max) {
    int32_t q[64];
    int32_t m = std::numeric_limits<int32_t>::min();
    const int64_t n = std::min<int64_t>(reg_max, 64);
    const bool is_signed = view.dtype == DType::Int8;
    for_channels(view, base_c, n, y * view.stride_h + x * view.stride_w,
                 [&](int64_t b, int64_t off) {
                     q[b] = is_signed ? static_cast<const int8_t*>(view.data)[off]
                                      : static_cast<const uint8_t*>(view.data)[off];
                     m = std::max(m, q[b]);
                 });
    float sum = 0.0f, acc = 0.0f;
    for (int64_t b = 0; b < n; ++b) {
        const float e = table.weight[m - q[b]];  // exp(deq(q) - deq(max)), 0 <= m - q < 256
        sum += e;
        acc += e * static_cast<float>(b);
    }
    return acc / sum;
}

void dfl_expectation_quantized4(const TensorView& view, const DflExpTable& table, int64_t y, int64_t x,
                                int64_t reg_max, float* out) {
    // The four sides at once: the same operations in the same order per side as
    // dfl_expectation_quantized (bit-identical), but four independent dependency chains.
    const int64_t n = std::min<int64_t>(reg_max, 64);
    int32_t q[4][64];
    int32_t m[4];
    const bool is_signed = view.dtype == DType::Int8;
    const int64_t cell = y * view.stride_h + x * view.stride_w;
    for (int64_t k = 0; k < 4; ++k) {
        int32_t mk = std::numeric_limits<int32_t>::min();
        int32_t* qk = q[k];
        if (view.c2 == 1) {
            const int64_t base = k * reg_max * view.stride_c1 + cell;
            if (is_signed && n == 16) {  // the usual reg_max: fixed trip count, max on the fly
                const int8_t* p = static_cast<const int8_t*>(view.data) + base;
                const int64_t st = view.stride_c1;
                for (int b = 0; b < 16; ++b) {
                    const int32_t v = p[b * st];
                    qk[b] = v;
                    mk = v > mk ? v : mk;
                }
                m[k] = mk;
                continue;
            }
            if (is_signed) {
                const int8_t* p = static_cast<const int8_t*>(view.data) + base;
                for (int64_t b = 0; b < n; ++b) qk[b] = p[b * view.stride_c1];
            } else {
                const uint8_t* p = static_cast<const uint8_t*>(view.data) + base;
                for (int64_t b = 0; b < n; ++b) qk[b] = p[b * view.stride_c1];
            }
        } else {
            for_channels(view, k * reg_max, n, cell, [&](int64_t b, int64_t off) {
                qk[b] = is_signed ? static_cast<const int8_t*>(view.data)[off]
                                  : static_cast<const uint8_t*>(view.data)[off];
            });
        }
        for (int64_t b = 0; b < n; ++b) mk = std::max(mk, qk[b]);
        m[k] = mk;
    }
    // One lane per side (GCC/Clang vector extension: SSE2, NEON or scalar code): lane k does
    // exactly the scalar operations of side k, in the same order.
    typedef float v4f __attribute__((vector_size(16)));
    v4f sum = {0.0f, 0.0f, 0.0f, 0.0f}, acc = {0.0f, 0.0f, 0.0f, 0.0f};
    const float* wt = table.weight;
    for (int64_t b = 0; b < n; ++b) {
        const float fb = static_cast<float>(b);
        const v4f e = {wt[m[0] - q[0][b]], wt[m[1] - q[1][b]], wt[m[2] - q[2][b]], wt[m[3] - q[3][b]]};
        const v4f vb = {fb, fb, fb, fb};
        sum += e;
        acc += e * vb;
    }
    for (int k = 0; k < 4; ++k) out[k] = acc[k] / sum[k];
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
        LazyExpTable lut{&br.box, false, {}, br.box_table};
        with_dtype(br.cls.dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const auto kthr = key_threshold<T>(thr, br.cls);
            auto emit = [&](int64_t y, int64_t x, typename Elem<T>::Key best, int64_t c) {
                float s = Elem<T>::value(best, br.cls);
                if (prm.scores == ScoreKind::Logit) s = sigmoid(s);
                push_v8_box(br, prm, lut, y, x, sx, sy, s, static_cast<int32_t>(c),
                            anchor_base + y * w + x, out);
            };
            if (br.has_score_sum && prm.use_score_sum) {
                // Cell-major: one score_sum value decides whether the class vector is read.
                with_dtype(br.score_sum.dtype, [&](auto stag) {
                    using S = typename decltype(stag)::type;
                    const auto sthr = key_threshold<S>(prm.conf, br.score_sum);
                    const S* ps = static_cast<const S*>(br.score_sum.data);
                    const TensorView& ssv = br.score_sum;
                    const auto gate_key = [&](int64_t i) {
                        return Elem<S>::key(ps[(i / w) * ssv.stride_h + (i % w) * ssv.stride_w]);
                    };
                    // Cells passing the gate, in increasing order (int8 planes: SIMD scan).
                    static thread_local std::vector<int64_t> pass;  // per-thread scratch
                    pass.clear();
                    pass.reserve(static_cast<size_t>(h * w));
                    bool scanned = false;
                    if constexpr (std::is_same_v<S, int8_t>) {
                        if (ssv.stride_w == 1 && ssv.stride_h == w) {
                            scan_ge_i8(ps, h * w, sthr, 0, pass);
                            scanned = true;
                        }
                    }
                    if (!scanned)
                        for (int64_t i = 0; i < h * w; ++i)
                            if (gate_key(i) >= sthr) pass.push_back(i);
                    if (static_cast<int64_t>(pass.size()) * 16 > h * w) {
                        // Many cells pass the gate (real heads: the background's class
                        // probabilities add up): a vectorized class maximum over whole planes
                        // beats one class vector per cell. The gate is then applied to the
                        // cells the maximum selects: the same candidates in the same order.
                        static thread_local std::vector<int64_t> cells;  // per-thread scratch
                        static thread_local std::vector<typename Elem<T>::Key> best;
                        static thread_local std::vector<int32_t> best_c;
                        argmax_planes<T>(br.cls, 0, nc, kthr, cells, best, best_c);
                        for (size_t u = 0; u < cells.size(); ++u) {
                            if (!(gate_key(cells[u]) >= sthr)) continue;
                            emit(cells[u] / w, cells[u] % w, best[u], best_c[u]);
                        }
                        return;
                    }
                    for (const int64_t i : pass) {
                        const int64_t y = i / w, x = i % w;
                        int64_t c;
                        const auto best = argmax_cell<T>(br.cls, 0, nc, y, x, c);
                        if (c < 0 || !(best >= kthr)) continue;
                        emit(y, x, best, c);
                    }
                });
            } else {
                std::vector<int64_t> cells;
                std::vector<typename Elem<T>::Key> best;
                std::vector<int32_t> best_c;
                argmax_planes<T>(br.cls, 0, nc, kthr, cells, best, best_c);
                for (size_t i = 0; i < cells.size(); ++i)
                    emit(cells[i] / w, cells[i] % w, best[i], best_c[i]);
            }
        });
        anchor_base += h * w;
    }
}

void decode_flat(const TensorView& v, const FlatParams& prm, Candidates& out) {
    const float thr = score_domain_threshold(prm.conf, prm.scores);
    const int64_t nc = v.channels - 4;
    with_dtype(v.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const auto kthr = key_threshold<T>(thr, v);
        std::vector<int64_t> cells;
        std::vector<typename Elem<T>::Key> best;
        std::vector<int32_t> best_c;
        argmax_planes<T>(v, 4, nc, kthr, cells, best, best_c);
        for (size_t u = 0; u < cells.size(); ++u) {
            const int64_t i = cells[u];
            float s = Elem<T>::value(best[u], v);
            if (prm.scores == ScoreKind::Logit) s = sigmoid(s);
            const float cx = load_float(v, v.offset(0, 0, i));
            const float cy = load_float(v, v.offset(1, 0, i));
            const float bw = load_float(v, v.offset(2, 0, i));
            const float bh = load_float(v, v.offset(3, 0, i));
            const float x1 = cx - 0.5f * bw, y1 = cy - 0.5f * bh;
            const float x2 = cx + 0.5f * bw, y2 = cy + 0.5f * bh;
            if (!usable_box(x1, y1, x2, y2)) continue;
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
                const int64_t obj_base = v.offset(c0 + 4, 0, 0);
                std::vector<int64_t> gate;  // cells with obj >= conf (int8 planes: SIMD scan)
                bool scanned = false;
                if constexpr (std::is_same_v<T, int8_t>) {
                    if (v.stride_w == 1 && v.stride_h == w) {
                        scan_ge_i8(p + obj_base, h * w, kthr, 0, gate);
                        scanned = true;
                    }
                }
                if (!scanned)
                    for (int64_t i = 0; i < h * w; ++i)
                        if (E::key(p[obj_base + (i / w) * v.stride_h + (i % w) * v.stride_w]) >= kthr)
                            gate.push_back(i);
                for (const int64_t cell : gate) {
                    {
                        const int64_t y = cell / w, x = cell % w;
                        const auto obj_k = E::key(p[obj_base + y * v.stride_h + x * v.stride_w]);
                        int64_t c;
                        const auto best = argmax_cell<T>(v, c0 + 5, nc, y, x, c);
                        if (c < 0) continue;
                        float obj = E::value(obj_k, v), cls = E::value(best, v);
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
                        if (!usable_box(x1, y1, x2, y2)) continue;
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
        const int64_t obj_base = v.offset(4, 0, 0);
        // Grid position of anchor i, walking levels in order (rows then columns).
        int64_t level = 0, level_start = 0;
        int64_t gw = 0, gh = 0;
        auto level_dims = [&](int64_t l) {
            const float s = static_cast<float>(strides[l]);
            gw = static_cast<int64_t>(prm.input_w / s);
            gh = static_cast<int64_t>(prm.input_h / s);
        };
        if (prm.grid_decode && n_strides > 0) level_dims(0);
        // Objectness gate first: one tight strided pass, then the (few) anchors that pass,
        // in increasing order (the level walk below only moves forward).
        std::vector<int64_t> gate;
        gate.reserve(256);
        for (int64_t i = 0; i < n; ++i)
            if (E::key(p[obj_base + i * v.stride_w]) >= kthr) gate.push_back(i);
        for (const int64_t i : gate) {
            if (prm.grid_decode) {
                while (level < n_strides && i >= level_start + gw * gh) {
                    level_start += gw * gh;
                    ++level;
                    if (level < n_strides) level_dims(level);
                }
                if (level >= n_strides) break;  // anchors beyond the grids: caller validated
            }
            const auto obj_k = E::key(p[obj_base + i * v.stride_w]);
            if (!(obj_k >= kthr)) continue;
            int64_t c;
            const auto best = argmax_cell<T>(v, 5, nc, 0, i, c);
            if (c < 0) continue;
            const float score = E::value(obj_k, v) * E::value(best, v);
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
            if (!usable_box(x1, y1, x2, y2)) continue;
            out.push(x1, y1, x2, y2, score, static_cast<int32_t>(c), i);
        }
    });
}

}  // namespace rknn_fast::kernels
