#include "kernels/masks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/dense_common.h"

namespace rknn_fast::kernels {
namespace {

using dense_detail::bilinear_tap;
using dense_detail::Tap;

// Pixel range [first, last) of indices i with lo <= i < hi, clipped to [0, size).
void pixel_range(double lo, double hi, int64_t size, int64_t& first, int64_t& last) {
    first = 0;
    last = 0;
    if (!(lo < hi)) return;  // empty or NaN
    const double f = std::ceil(std::max(lo, 0.0));
    const double l = std::ceil(std::min(hi, static_cast<double>(size)));
    if (!(f < l)) return;
    first = static_cast<int64_t>(f);
    last = static_cast<int64_t>(l);
}

// Logits of one instance over proto rows [r0, r1] and columns [c0, c1] (inclusive),
// written row-major into `out` (float; exact integers on the int8 x int8 path).
void region_logits(const ProtoTensor& p, const MaskCoefficients& mc, int64_t i, int64_t r0,
                   int64_t r1, int64_t c0, int64_t c1, std::vector<float>& out,
                   std::vector<int32_t>& iacc) {
    const int64_t rw = c1 - c0 + 1;
    const int64_t rh = r1 - r0 + 1;
    const size_t n = static_cast<size_t>(rw * rh);
    const int64_t plane = p.height * p.width;
    const int64_t k_count = p.channels;
    out.assign(n, 0.0f);
    if (p.is_int8 && mc.is_int8) {
        const int8_t* coef = static_cast<const int8_t*>(mc.data) + i * k_count;
        const int32_t zc = mc.zero_points[i];
        const int8_t* q = static_cast<const int8_t*>(p.data);
        iacc.assign(n, 0);
        int32_t coef_sum = 0;
        for (int64_t k = 0; k < k_count; ++k) {
            const int32_t ck = static_cast<int32_t>(coef[k]) - zc;
            coef_sum += ck;
            if (ck == 0) continue;
            for (int64_t r = 0; r < rh; ++r) {
                const int8_t* src = q + k * plane + (r0 + r) * p.width + c0;
                int32_t* dst = iacc.data() + r * rw;
                for (int64_t x = 0; x < rw; ++x) dst[x] += ck * static_cast<int32_t>(src[x]);
            }
        }
        const int32_t fold = p.zero_point * coef_sum;
        for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>(iacc[j] - fold);
        return;
    }
    // Float coefficients (int8 ones are widened with their zero point removed).
    std::vector<float> coef(static_cast<size_t>(k_count));
    for (int64_t k = 0; k < k_count; ++k) {
        coef[static_cast<size_t>(k)] =
            mc.is_int8 ? static_cast<float>(static_cast<const int8_t*>(mc.data)[i * k_count + k] -
                                            mc.zero_points[i])
                       : static_cast<const float*>(mc.data)[i * k_count + k];
    }
    if (p.is_int8) {
        const int8_t* q = static_cast<const int8_t*>(p.data);
        float coef_sum = 0.0f;
        for (int64_t k = 0; k < k_count; ++k) {
            const float ck = coef[static_cast<size_t>(k)];
            coef_sum += ck;
            for (int64_t r = 0; r < rh; ++r) {
                const int8_t* src = q + k * plane + (r0 + r) * p.width + c0;
                float* dst = out.data() + r * rw;
                for (int64_t x = 0; x < rw; ++x) dst[x] += ck * static_cast<float>(src[x]);
            }
        }
        const float fold = static_cast<float>(p.zero_point) * coef_sum;
        for (size_t j = 0; j < n; ++j) out[j] -= fold;
    } else {
        const float* f = static_cast<const float*>(p.data);
        for (int64_t k = 0; k < k_count; ++k) {
            const float ck = coef[static_cast<size_t>(k)];
            for (int64_t r = 0; r < rh; ++r) {
                const float* src = f + k * plane + (r0 + r) * p.width + c0;
                float* dst = out.data() + r * rw;
                for (int64_t x = 0; x < rw; ++x) dst[x] += ck * src[x];
            }
        }
    }
}

}  // namespace

void instance_masks(const ProtoTensor& proto, const MaskCoefficients& coeffs, const float* boxes,
                    int64_t n, const MaskGeometry& g, uint8_t* masks, const int32_t* class_ids,
                    uint8_t* class_map) {
    const int64_t pixels = g.out_h * g.out_w;
    if (pixels <= 0) return;
    std::memset(masks, 0, static_cast<size_t>(n * pixels));
    if (class_map) std::memset(class_map, 0, static_cast<size_t>(pixels));
    if (proto.channels <= 0 || proto.height <= 0 || proto.width <= 0) return;
    const double to_proto_x = static_cast<double>(proto.width) / static_cast<double>(g.model_w);
    const double to_proto_y = static_cast<double>(proto.height) / static_cast<double>(g.model_h);
    std::vector<float> logits;
    std::vector<int32_t> iacc;
    std::vector<Tap> xtaps;
    for (int64_t i = 0; i < n; ++i) {
        const float* b = boxes + 4 * i;
        int64_t xa, xb, ya, yb;
        pixel_range((b[0] - g.pad_x) / g.scale, (b[2] - g.pad_x) / g.scale, g.out_w, xa, xb);
        pixel_range((b[1] - g.pad_y) / g.scale, (b[3] - g.pad_y) / g.scale, g.out_h, ya, yb);
        if (xa >= xb || ya >= yb) continue;
        auto px = [&](int64_t x) {
            return ((static_cast<double>(x) + 0.5) * g.scale + g.pad_x) * to_proto_x;
        };
        auto py = [&](int64_t y) {
            return ((static_cast<double>(y) + 0.5) * g.scale + g.pad_y) * to_proto_y;
        };
        // The proto window the box's pixels sample from (taps are monotonic in the pixel).
        const int64_t c0 = bilinear_tap(px(xa), proto.width).i0;
        const int64_t c1 = bilinear_tap(px(xb - 1), proto.width).i1;
        const int64_t r0 = bilinear_tap(py(ya), proto.height).i0;
        const int64_t r1 = bilinear_tap(py(yb - 1), proto.height).i1;
        region_logits(proto, coeffs, i, r0, r1, c0, c1, logits, iacc);
        const int64_t rw = c1 - c0 + 1;

        xtaps.resize(static_cast<size_t>(xb - xa));
        for (int64_t x = xa; x < xb; ++x) {
            Tap t = bilinear_tap(px(x), proto.width);
            t.i0 -= c0;
            t.i1 -= c0;
            xtaps[static_cast<size_t>(x - xa)] = t;
        }
        uint8_t* mask = masks + i * pixels;
        const uint8_t label = class_ids ? static_cast<uint8_t>(class_ids[i] + 1) : 1;
        for (int64_t y = ya; y < yb; ++y) {
            const Tap yt = bilinear_tap(py(y), proto.height);
            const float* top = logits.data() + (yt.i0 - r0) * rw;
            const float* bot = logits.data() + (yt.i1 - r0) * rw;
            uint8_t* mrow = mask + y * g.out_w;
            for (int64_t x = xa; x < xb; ++x) {
                const Tap& t = xtaps[static_cast<size_t>(x - xa)];
                const float up = top[t.i0] + (top[t.i1] - top[t.i0]) * t.w1;
                const float down = bot[t.i0] + (bot[t.i1] - bot[t.i0]) * t.w1;
                mrow[x] = (up + (down - up) * yt.w1) > 0.0f ? 1 : 0;
            }
            if (class_map) {
                uint8_t* crow = class_map + y * g.out_w;
                for (int64_t x = xa; x < xb; ++x)
                    if (mrow[x] && crow[x] == 0) crow[x] = label;
            }
        }
    }
}

}  // namespace rknn_fast::kernels
