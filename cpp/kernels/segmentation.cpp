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
struct UInt8Key {
    using In = uint8_t;
    using Key = uint8_t;
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

// x86-64 builds carry an AVX2 clone of the hot loop next to the baseline (SSE2) one, picked
// at load time (GNU ifunc); other targets (aarch64 NEON) use the baseline build.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define RKNN_FAST_X86_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RKNN_FAST_X86_CLONES
#endif

// Pixels [x0, x0 + n) of row y, any x stride. Classes are scanned in increasing order with
// strict `>` so the lowest index wins ties.
template <typename K, typename Out>
void argmax_span(const TensorView& s, int64_t y, int64_t x0, int64_t n, Out* out) {
    using In = typename K::In;
    const In* base = static_cast<const In*>(s.data);
    const int64_t stride = s.stride_w;
    for (int64_t x = x0; x < x0 + n; ++x) {
        typename K::Key best = K::key(base[s.offset(0, y, x)]);
        Out idx = 0;
        for (int64_t c = 1; c < s.channels; ++c) {
            const typename K::Key v = K::key(base[s.offset(c, y, 0) + x * stride]);
            if (v > best) {
                best = v;
                idx = static_cast<Out>(c);
            }
        }
        out[x] = idx;
    }
}

// One class over one tile. The restrict-qualified pointers tell the compiler the scores
// never overlap the running state (it would otherwise keep a scalar fallback loop).
template <typename K, typename Idx, int kTile>
inline void tile_step(const typename K::In* __restrict p, Idx cls, typename K::Key* __restrict best,
                      Idx* __restrict idx) {
    for (int k = 0; k < kTile; ++k) {
        const typename K::Key v = K::key(p[k]);
        // Mask arithmetic instead of a conditional, so every instantiation is branch-free.
        const Idx mask = static_cast<Idx>(Idx{0} - static_cast<Idx>(v > best[k]));
        idx[k] = static_cast<Idx>((idx[k] & static_cast<Idx>(~mask)) | (cls & mask));
        best[k] = best[k] < v ? v : best[k];
    }
}

// Planar (c2 == 1), unit x-stride tiles of kTile pixels: the running maximum and its class stay in vector
// registers while the classes stream past, so each score byte is loaded once and the
// loop runs near memory speed. Idx has the key's width so compare and select stay
// lane-aligned; it is narrowed to Out once per tile. Returns the pixels done.
template <typename K, typename Idx, typename Out, int kTile>
RKNN_FAST_X86_CLONES int64_t argmax_tiles(const TensorView& s, int64_t y, Out* out) {
    using In = typename K::In;
    using Key = typename K::Key;
    const In* base = static_cast<const In*>(s.data);
    int64_t x = 0;
    for (; x + kTile <= s.width; x += kTile) {
        Key best[kTile];
        Idx idx[kTile];
        const In* p0 = base + s.offset(0, y, x);
        for (int k = 0; k < kTile; ++k) {
            best[k] = K::key(p0[k]);
            idx[k] = 0;
        }
        for (int64_t c = 1; c < s.channels; ++c)
            tile_step<K, Idx, kTile>(base + c * s.stride_c1 + y * s.stride_h + x, static_cast<Idx>(c),
                                     best, idx);
        for (int k = 0; k < kTile; ++k) out[x + k] = static_cast<Out>(idx[k]);
    }
    return x;
}

template <typename K, typename Idx, typename Out>
void argmax_typed(const TensorView& s, Out* out) {
    constexpr int kTile = static_cast<int>(128 / sizeof(typename K::Key));
    const int64_t w = s.width;
    for (int64_t y = 0; y < s.height; ++y) {
        Out* orow = out + y * w;
        // Planar rows (NCHW) take the tiled path; c2 == 1 keeps the plane address affine in c,
        // which the vectoriser needs.
        const bool planar = s.stride_w == 1 && s.c2 == 1;
        const int64_t done = planar ? argmax_tiles<K, Idx, Out, kTile>(s, y, orow) : 0;
        if (done < w) argmax_span<K>(s, y, done, w - done, orow);
    }
}

// 8-bit keys: an index of the output's width (uint8 up to 256 classes) keeps the lanes aligned.
template <typename K, typename Out>
void argmax_8bit(const TensorView& s, Out* out) {
    if constexpr (sizeof(Out) == 1)
        argmax_typed<K, uint8_t>(s, out);
    else
        argmax_typed<K, uint16_t>(s, out);
}

template <typename Out>
void argmax_dispatch(const TensorView& s, Out* out) {
    // The index buffer has the key's width so compare and select stay lane-aligned; it is
    // narrowed to the output type once per row.
    switch (s.dtype) {
        case DType::Int8:
            argmax_8bit<Int8Key>(s, out);
            break;
        case DType::UInt8:
            argmax_8bit<UInt8Key>(s, out);
            break;
        case DType::Float16:
            argmax_typed<HalfKey, uint16_t>(s, out);
            break;
        case DType::Float32:
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

// Source row `y` of every class resampled horizontally to the output width:
// rows[c * out_w + x] (float). Computed once per source row and reused by every output row
// that interpolates between it and its neighbour.
void horizontal_rows(const TensorView& s, int64_t y, const std::vector<Tap>& xt,
                     std::vector<float>& source, std::vector<float>& rows) {
    const size_t out_w = xt.size();
    for (int64_t c = 0; c < s.channels; ++c) {
        const int64_t o = s.offset(c, y, 0);
        for (int64_t x = 0; x < s.width; ++x)
            source[static_cast<size_t>(x)] = read_score(s, o + x * s.stride_w);
        float* dst = rows.data() + static_cast<size_t>(c) * out_w;
        for (size_t x = 0; x < out_w; ++x) {
            const Tap& t = xt[x];
            const float l = source[static_cast<size_t>(t.i0)];
            const float r = source[static_cast<size_t>(t.i1)];
            dst[x] = l + (r - l) * t.w1;
        }
    }
}

template <typename Out>
void resample_argmax_typed(const TensorView& s, const PixelAffine& a, Out* out, int64_t out_h,
                           int64_t out_w) {
    const size_t ow = static_cast<size_t>(out_w);
    std::vector<Tap> xt(ow);
    for (int64_t x = 0; x < out_w; ++x)
        xt[static_cast<size_t>(x)] = bilinear_tap((static_cast<double>(x) + 0.5) * a.ax + a.bx, s.width);
    // Two cached source rows (horizontally resampled, all classes): output rows walk the
    // source rows in order, so each source row is resampled about once.
    const size_t row_size = static_cast<size_t>(s.channels) * ow;
    std::vector<float> rows[2] = {std::vector<float>(row_size), std::vector<float>(row_size)};
    int64_t cached[2] = {-1, -1};
    std::vector<float> source(static_cast<size_t>(s.width));
    std::vector<float> best(ow);
    std::vector<uint32_t> idx(ow);
    auto slot_of = [&](int64_t y) { return cached[0] == y ? 0 : cached[1] == y ? 1 : -1; };
    auto fill = [&](int k, int64_t y) {
        horizontal_rows(s, y, xt, source, rows[k]);
        cached[k] = y;
    };
    for (int64_t y = 0; y < out_h; ++y) {
        const Tap yt = bilinear_tap((static_cast<double>(y) + 0.5) * a.ay + a.by, s.height);
        int k0 = slot_of(yt.i0);
        int k1 = slot_of(yt.i1);
        if (k0 < 0 && k1 < 0) {
            fill(0, yt.i0);
            k0 = 0;
            if (yt.i1 != yt.i0) fill(1, yt.i1);
            k1 = yt.i1 != yt.i0 ? 1 : 0;
        } else if (k0 < 0) {
            k0 = 1 - k1;
            fill(k0, yt.i0);
        } else if (k1 < 0) {
            k1 = 1 - k0;
            fill(k1, yt.i1);
        }
        const float* r0 = rows[k0].data();
        const float* r1 = rows[k1].data();
        const float wy = yt.w1;
        for (size_t x = 0; x < ow; ++x) {
            best[x] = r0[x] + (r1[x] - r0[x]) * wy;
            idx[x] = 0;
        }
        for (int64_t c = 1; c < s.channels; ++c) {
            const float* t0 = r0 + static_cast<size_t>(c) * ow;
            const float* t1 = r1 + static_cast<size_t>(c) * ow;
            const uint32_t cls = static_cast<uint32_t>(c);
            for (size_t x = 0; x < ow; ++x) {
                const float v = t0[x] + (t1[x] - t0[x]) * wy;
                const uint32_t mask = 0u - static_cast<uint32_t>(v > best[x]);
                idx[x] = (idx[x] & ~mask) | (cls & mask);
                best[x] = best[x] < v ? v : best[x];
            }
        }
        Out* orow = out + y * out_w;
        for (size_t x = 0; x < ow; ++x) orow[x] = static_cast<Out>(idx[x]);
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

void argmax_classes(const TensorView& scores, void* out, bool out_u16) {
    if (scores.channels <= 0 || scores.height <= 0 || scores.width <= 0) return;
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

void resample_argmax_bilinear(const TensorView& scores, const PixelAffine& affine, void* out,
                              bool out_u16, int64_t out_h, int64_t out_w) {
    if (scores.channels <= 0 || scores.height <= 0 || scores.width <= 0 || out_h <= 0 ||
        out_w <= 0)
        return;
    if (out_u16)
        resample_argmax_typed(scores, affine, static_cast<uint16_t*>(out), out_h, out_w);
    else
        resample_argmax_typed(scores, affine, static_cast<uint8_t*>(out), out_h, out_w);
}

}  // namespace rknn_fast::kernels
