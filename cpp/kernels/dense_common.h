// Small pieces shared by the dense-output kernels (segmentation, masks, pose, faces). Score
// tensors are read in place through the TensorView of kernels/tensor_view.h (the same view the
// detection decoders use), whatever the runtime's layout (NCHW, NHWC, NC1HWC2).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/half.h"
#include "kernels/tensor_view.h"

namespace rknn_fast::kernels {

namespace dense_detail {

// Maps half bits to an int16 that orders like the float values: +0 and -0 compare equal,
// negative values compare below positive ones. NaNs order beyond +/-inf (documented
// where it matters).
inline int16_t half_order_key(uint16_t h) {
    const int32_t magnitude = h & 0x7fff;
    return static_cast<int16_t>((h & 0x8000u) ? -magnitude : magnitude);
}

// The raw value at `offset` as float: integer scores are NOT dequantised (scale and zero
// point ignored), which keeps comparisons exact under a monotonic dequantisation.
inline float read_score(const TensorView& s, int64_t offset) {
    switch (s.dtype) {
        case DType::Int8:
            return static_cast<float>(static_cast<const int8_t*>(s.data)[offset]);
        case DType::UInt8:
            return static_cast<float>(static_cast<const uint8_t*>(s.data)[offset]);
        case DType::Float16:
            return half_to_float(static_cast<const uint16_t*>(s.data)[offset]);
        case DType::Float32:
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
