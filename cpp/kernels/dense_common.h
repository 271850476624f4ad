// Small pieces shared by the dense-output kernels (segmentation, masks, pose, faces):
// element types, an in-place view of a (C, H, W) score tensor in any of the runtime's
// layouts, and helpers to read fp16 outputs (conversion from kernels/convert.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/convert.h"

namespace rknn_fast::kernels {

enum class ScoreType : int { Int8 = 0, Float16 = 1, Float32 = 2 };

// Where element (class c, row y, column x) of a logical (C, H, W) tensor lives:
//
//   offset(c, y, x) = (c / c2) * stride_c1 + (c % c2) + y * stride_h + x * stride_w
//
// (strides in elements). One struct covers the three layouts the runtime hands out:
//   NCHW (1, C, H, W):              c2 = 1, stride_c1 = H*W,          stride_h = W,      stride_w = 1
//   NHWC (1, H, W, C):              c2 = C, stride_c1 = 0,            stride_h = W*C,    stride_w = C
//   NC1HWC2 (1, C1, H, W', C2):     c2 = C2, stride_c1 = H*W'*C2,     stride_h = W'*C2,  stride_w = C2
// (W' >= W is the native row length, padding included). Values are read in place.
struct ScorePlanes {
    const void* data = nullptr;
    ScoreType type = ScoreType::Float32;
    int64_t classes = 0;
    int64_t height = 0;
    int64_t width = 0;
    int64_t c2 = 1;
    int64_t stride_c1 = 0;
    int64_t stride_h = 0;
    int64_t stride_w = 1;

    int64_t offset(int64_t c, int64_t y, int64_t x) const {
        return (c / c2) * stride_c1 + (c % c2) + y * stride_h + x * stride_w;
    }
};

namespace dense_detail {

// Maps half bits to an int16 that orders like the float values: +0 and -0 compare equal,
// negative values compare below positive ones. NaNs order beyond +/-inf (documented
// where it matters).
inline int16_t half_order_key(uint16_t h) {
    const int32_t magnitude = h & 0x7fff;
    return static_cast<int16_t>((h & 0x8000u) ? -magnitude : magnitude);
}

inline float read_score(const ScorePlanes& s, int64_t offset) {
    switch (s.type) {
        case ScoreType::Int8:
            return static_cast<float>(static_cast<const int8_t*>(s.data)[offset]);
        case ScoreType::Float16:
            return half_to_float(static_cast<const uint16_t*>(s.data)[offset]);
        case ScoreType::Float32:
        default:
            return static_cast<const float*>(s.data)[offset];
    }
}

// Source index and weight of the bilinear tap for output coordinate `pos` (pixel centre
// already mapped to source coordinates), align_corners=False with edge replication.
struct Tap {
    int64_t i0, i1;
    float w1;
};

inline Tap bilinear_tap(double pos, int64_t size) {
    double src = pos - 0.5;
    if (!(src >= 0.0)) src = 0.0;  // also maps NaN to the first sample
    const double last = static_cast<double>(size - 1);
    if (src >= last) return Tap{size - 1, size - 1, 0.0f};
    const int64_t i0 = static_cast<int64_t>(src);  // 0 <= src < size - 1: truncation is floor
    return Tap{i0, i0 + 1, static_cast<float>(src - static_cast<double>(i0))};
}

}  // namespace dense_detail
}  // namespace rknn_fast::kernels
