#include "kernels/segmentation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace rknn_fast::kernels {
namespace {

using dense_detail::bilinear_tap;
using dense_detail::half_order_key;
using dense_detail::Tap;
using dense_detail::read_score;

struct Int8Key {
    using In = int8_t;
    using Key = int8_t;
    static Key key(In v) { return v; }
};
struct HalfKey {
    using In = uint16_t;
    using Key = int16_t;
    static Key key(In v) { return half_order_key(v); }
};
struct FloatKey {
    using In = float;
    using Key = float;
    static Key key(In v) { return v; }
};

// One image row: best[x] / idx[x] hold the running maximum and its class. Classes are
// scanned in increasing order with strict `>` so the lowest index wins ties. kStride is
// the element stride along x (1 for NCHW, known at compile time so the loop vectorises;
// 0 means "use the runtime stride").
template <typename K, typename Idx, int64_t kStride>
void argmax_row(const ScorePlanes& s, int64_t y, typename K::Key* best, Idx* idx) {
    using In = typename K::In;
    const In* base = static_cast<const In*>(s.data);
    const int64_t w = s.width;
    const int64_t stride = kStride ? kStride : s.stride_w;
    const In* row0 = base + s.offset(0, y, 0);
    for (int64_t x = 0; x < w; ++x) {
        best[x] = K::key(row0[x * stride]);
        idx[x] = 0;
    }
    for (int64_t c = 1; c < s.classes; ++c) {
        const In* row = base + s.offset(c, y, 0);
        const Idx cls = static_cast<Idx>(c);
        for (int64_t x = 0; x < w; ++x) {
            const typename K::Key v = K::key(row[x * stride]);
            const bool greater = v > best[x];
            best[x] = greater ? v : best[x];
            idx[x] = greater ? cls : idx[x];
        }
    }
}

template <typename K, typename Idx, typename Out>
void argmax_typed(const ScorePlanes& s, Out* out) {
    const int64_t w = s.width;
    std::vector<typename K::Key> best(static_cast<size_t>(w));
    std::vector<Idx> idx(static_cast<size_t>(w));
    const bool unit_stride = s.stride_w == 1;
    for (int64_t y = 0; y < s.height; ++y) {
        Out* orow = out + y * w;
        if constexpr (std::is_same_v<Idx, Out>) {
            if (unit_stride)
                argmax_row<K, Idx, 1>(s, y, best.data(), orow);
            else
                argmax_row<K, Idx, 0>(s, y, best.data(), orow);
        } else {
            if (unit_stride)
                argmax_row<K, Idx, 1>(s, y, best.data(), idx.data());
            else
                argmax_row<K, Idx, 0>(s, y, best.data(), idx.data());
            for (int64_t x = 0; x < w; ++x) orow[x] = static_cast<Out>(idx[x]);
        }
    }
}

template <typename Out>
void argmax_dispatch(const ScorePlanes& s, Out* out) {
    // The index buffer has the key's width so compare and select stay lane-aligned; it is
    // narrowed to the output type once per row.
    switch (s.type) {
        case ScoreType::Int8:
            if constexpr (sizeof(Out) == 1)
                argmax_typed<Int8Key, uint8_t>(s, out);
            else
                argmax_typed<Int8Key, uint16_t>(s, out);
            break;
        case ScoreType::Float16:
            argmax_typed<HalfKey, uint16_t>(s, out);
            break;
        case ScoreType::Float32:
            argmax_typed<FloatKey, uint32_t>(s, out);
            break;
    }
}

int64_t nearest_index(double pos, int64_t size) {
    const double f = std::floor(pos);
    if (!(f >= 0.0)) return 0;  // also maps NaN to 0
    if (f >= static_cast<double>(size - 1)) return size - 1;
    return static_cast<int64_t>(f);
}

template <typename Out>
void resample_argmax_typed(const ScorePlanes& s, const PixelAffine& a, Out* out, int64_t out_h,
                           int64_t out_w) {
    std::vector<Tap> xt(static_cast<size_t>(out_w));
    for (int64_t x = 0; x < out_w; ++x)
        xt[static_cast<size_t>(x)] = bilinear_tap((static_cast<double>(x) + 0.5) * a.ax + a.bx, s.width);
    std::vector<float> column(static_cast<size_t>(s.width));
    std::vector<float> best(static_cast<size_t>(out_w));
    for (int64_t y = 0; y < out_h; ++y) {
        const Tap yt = bilinear_tap((static_cast<double>(y) + 0.5) * a.ay + a.by, s.height);
        Out* orow = out + y * out_w;
        for (int64_t c = 0; c < s.classes; ++c) {
            // Vertical pass over the whole source row, then horizontal taps per output pixel.
            const int64_t o0 = s.offset(c, yt.i0, 0);
            const int64_t o1 = s.offset(c, yt.i1, 0);
            for (int64_t x = 0; x < s.width; ++x) {
                const float v0 = read_score(s, o0 + x * s.stride_w);
                const float v1 = read_score(s, o1 + x * s.stride_w);
                column[static_cast<size_t>(x)] = v0 + (v1 - v0) * yt.w1;
            }
            for (int64_t x = 0; x < out_w; ++x) {
                const Tap& t = xt[static_cast<size_t>(x)];
                const float l = column[static_cast<size_t>(t.i0)];
                const float r = column[static_cast<size_t>(t.i1)];
                const float v = l + (r - l) * t.w1;
                if (c == 0 || v > best[static_cast<size_t>(x)]) {
                    best[static_cast<size_t>(x)] = v;
                    orow[x] = static_cast<Out>(c);
                }
            }
        }
    }
}

template <typename T>
void resample_nearest_typed(const T* map, int64_t h, int64_t w, const PixelAffine& a, T* out,
                            int64_t out_h, int64_t out_w) {
    std::vector<int64_t> xs(static_cast<size_t>(out_w));
    for (int64_t x = 0; x < out_w; ++x)
        xs[static_cast<size_t>(x)] = nearest_index((static_cast<double>(x) + 0.5) * a.ax + a.bx, w);
    for (int64_t y = 0; y < out_h; ++y) {
        const T* src = map + nearest_index((static_cast<double>(y) + 0.5) * a.ay + a.by, h) * w;
        T* dst = out + y * out_w;
        for (int64_t x = 0; x < out_w; ++x) dst[x] = src[xs[static_cast<size_t>(x)]];
    }
}

}  // namespace

void argmax_classes(const ScorePlanes& scores, void* out, bool out_u16) {
    if (scores.classes <= 0 || scores.height <= 0 || scores.width <= 0) return;
    if (out_u16)
        argmax_dispatch(scores, static_cast<uint16_t*>(out));
    else
        argmax_dispatch(scores, static_cast<uint8_t*>(out));
}

void resample_class_map_nearest(const void* map, int64_t height, int64_t width, bool u16,
                                const PixelAffine& affine, void* out, int64_t out_h,
                                int64_t out_w) {
    if (height <= 0 || width <= 0 || out_h <= 0 || out_w <= 0) return;
    if (u16)
        resample_nearest_typed(static_cast<const uint16_t*>(map), height, width, affine,
                               static_cast<uint16_t*>(out), out_h, out_w);
    else
        resample_nearest_typed(static_cast<const uint8_t*>(map), height, width, affine,
                               static_cast<uint8_t*>(out), out_h, out_w);
}

void resample_argmax_bilinear(const ScorePlanes& scores, const PixelAffine& affine, void* out,
                              bool out_u16, int64_t out_h, int64_t out_w) {
    if (scores.classes <= 0 || scores.height <= 0 || scores.width <= 0 || out_h <= 0 ||
        out_w <= 0)
        return;
    if (out_u16)
        resample_argmax_typed(scores, affine, static_cast<uint16_t*>(out), out_h, out_w);
    else
        resample_argmax_typed(scores, affine, static_cast<uint8_t*>(out), out_h, out_w);
}

}  // namespace rknn_fast::kernels
