// Read-only views of raw NPU output buffers, addressed in place. The one view type of the
// kernels: the detection decoders (yolo.h) and the dense-output kernels (segmentation, pose) all
// read through it.
//
// A view describes where element (channel c, row y, column x) of a logical (C, H, W)
// tensor lives, without copying or transposing:
//
//   offset(c, y, x) = (c / c2) * stride_c1 + (c % c2) + y * stride_h + x * stride_w
//
// so one struct covers the layouts the runtime hands out:
//   * NCHW (1, C, H, W):            c2 = 1, stride_c1 = H*W,    stride_h = W,    stride_w = 1
//   * NC1HWC2 (1, C1, H, W, C2):    c2 = C2, stride_c1 = H*W*C2, stride_h = W*C2, stride_w = C2
//   * NHWC (1, H, W, C):            c2 = C, stride_c1 = 0,      stride_h = W*C,  stride_w = C
// Strides are in elements, not bytes. Values are dequantized as (q - zero_point) * scale
// for int8/uint8; float16/float32 views ignore scale and zero_point.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/half.h"

namespace rknn_fast::kernels {

enum class DType : int { Int8 = 0, UInt8 = 1, Float16 = 2, Float32 = 3 };

struct TensorView {
    const void* data = nullptr;
    DType dtype = DType::Float32;
    int64_t channels = 0;  // logical C
    int64_t height = 0;    // logical H (1 for (1, C, N) tensors viewed as H=1, W=N)
    int64_t width = 0;     // logical W
    int64_t c2 = 1;        // channel block size (1 for NCHW)
    int64_t stride_c1 = 0;
    int64_t stride_h = 0;
    int64_t stride_w = 1;
    float scale = 1.0f;
    int32_t zero_point = 0;

    int64_t offset(int64_t c, int64_t y, int64_t x) const {
        return (c / c2) * stride_c1 + (c % c2) + y * stride_h + x * stride_w;
    }

    // The largest offset the view addresses, for channels, height, width, c2 >= 1 and
    // non-negative strides (bindings check it against the buffer so kernels read unchecked).
    // Within a channel block offsets grow with the lane, so the maximum over channels is at the
    // last channel or at the last lane of the last full block before it (when stride_c1 < c2,
    // e.g. 0, that one can be further out).
    int64_t max_offset() const {
        int64_t max_c = offset(channels - 1, 0, 0);
        const int64_t last_block_start = (channels - 1) / c2 * c2;
        if (last_block_start > 0) max_c = std::max(max_c, offset(last_block_start - 1, 0, 0));
        return max_c + (height - 1) * stride_h + (width - 1) * stride_w;
    }
};

// Calls fn(k, offset) for channels c0 + k, k = 0..n-1, of the cell at `cell_offset`
// (= y * stride_h + x * stride_w), without a division per channel.
template <typename Fn>
inline void for_channels(const TensorView& v, int64_t c0, int64_t n, int64_t cell_offset, Fn&& fn) {
    if (v.c2 == 1) {
        int64_t off = c0 * v.stride_c1 + cell_offset;
        for (int64_t k = 0; k < n; ++k, off += v.stride_c1) fn(k, off);
        return;
    }
    int64_t block = c0 / v.c2, lane = c0 % v.c2;
    int64_t base = block * v.stride_c1 + cell_offset;
    for (int64_t k = 0; k < n; ++k) {
        fn(k, base + lane);
        if (++lane == v.c2) {
            lane = 0;
            base += v.stride_c1;
        }
    }
}

// Builds the view of a dense NCHW (1, C, H, W) buffer.
inline TensorView nchw_view(const void* data, DType dtype, int64_t c, int64_t h, int64_t w,
                            float scale = 1.0f, int32_t zero_point = 0) {
    TensorView v;
    v.data = data;
    v.dtype = dtype;
    v.channels = c;
    v.height = h;
    v.width = w;
    v.c2 = 1;
    v.stride_c1 = h * w;
    v.stride_h = w;
    v.stride_w = 1;
    v.scale = scale;
    v.zero_point = zero_point;
    return v;
}

// Builds the view of a dense NC1HWC2 (1, C1, H, W, C2) buffer holding C logical channels.
inline TensorView nc1hwc2_view(const void* data, DType dtype, int64_t c, int64_t h, int64_t w,
                               int64_t c2, float scale = 1.0f, int32_t zero_point = 0) {
    TensorView v = nchw_view(data, dtype, c, h, w, scale, zero_point);
    v.c2 = c2;
    v.stride_c1 = h * w * c2;
    v.stride_h = w * c2;
    v.stride_w = c2;
    return v;
}

// Element at a raw offset, converted to float (dequantized for integer types).
inline float load_float(const TensorView& v, int64_t off) {
    switch (v.dtype) {
        case DType::Int8:
            return static_cast<float>(static_cast<const int8_t*>(v.data)[off] - v.zero_point) *
                   v.scale;
        case DType::UInt8:
            return static_cast<float>(static_cast<const uint8_t*>(v.data)[off] - v.zero_point) *
                   v.scale;
        case DType::Float16:
            return half_to_float(static_cast<const uint16_t*>(v.data)[off]);
        case DType::Float32:
        default:
            return static_cast<const float*>(v.data)[off];
    }
}

}  // namespace rknn_fast::kernels
