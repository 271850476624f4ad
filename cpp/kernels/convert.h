// Element and layout conversions for NPU tensors: fp16 -> fp32, affine dequantisation
// (int8/uint8 -> fp32) and NC1HWC2 -> NCHW/NHWC, optionally fused with the element
// conversion so that a native int8 output becomes a logical float32 tensor in one pass.
//
// Plain loops written so that the compiler vectorises them (no -march=native): they run on
// aarch64 NEON and x86 SSE2 alike. The one exception is fp16 -> fp32: on x86-64 an F16C/AVX2 loop
// chosen at run time, on aarch64 a NEON FCVTL loop (same results as the portable loop, bit for
// bit, NaN payloads and signalling bits included).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/half.h"

namespace rknn_fast::kernels {

// float to IEEE half bits, round to nearest even; overflow gives inf, NaN stays NaN.
uint16_t fp32_to_fp16(float f);

// Bulk half -> float (half_to_float, kernels/half.h, on every element): bit-exact, vectorised.
void fp16_to_fp32(const uint16_t* src, float* dst, size_t n);
void fp32_to_fp16(const float* src, uint16_t* dst, size_t n);

// real = (q - zero_point) * scale
void dequantize(const int8_t* src, float* dst, size_t n, float scale, int32_t zero_point);
void dequantize(const uint8_t* src, float* dst, size_t n, float scale, int32_t zero_point);

// A 4-D tensor (N, C, H, W) stored as NC1HWC2: (N, C1, H, W_stride, C2) with C1 * C2 >= C
// (channels of the last block padded) and W_stride >= W (row padding). Element (n, c, h, w)
// lives at (((n * C1 + c / C2) * H + h) * W_stride + w) * C2 + c % C2.
struct Nc1hwc2Dims {
    size_t n = 1, c = 0, h = 0, w = 0;
    size_t c1 = 0, c2 = 0;
    size_t w_stride = 0;  // row length of the native buffer in elements (0 means == w)

    size_t row() const { return w_stride ? w_stride : w; }
    // Elements of the native buffer, padding included.
    size_t native_elems() const { return n * c1 * h * row() * c2; }
    size_t logical_elems() const { return n * c * h * w; }
    // True when the dims describe a buffer that can hold the logical tensor.
    bool valid() const { return c2 > 0 && c1 * c2 >= c && row() >= w; }
};

enum class Layout { NCHW, NHWC };

// Layout change only; elem_size is 1, 2 or 4 bytes (other sizes: returns false).
bool nc1hwc2_to(const void* src, void* dst, size_t elem_size, const Nc1hwc2Dims& d, Layout out);

// Layout change fused with dequantisation / fp16 widening, writing float32.
void nc1hwc2_to_float(const int8_t* src, float* dst, const Nc1hwc2Dims& d, Layout out, float scale,
                      int32_t zero_point);
void nc1hwc2_to_float(const uint8_t* src, float* dst, const Nc1hwc2Dims& d, Layout out, float scale,
                      int32_t zero_point);
void nc1hwc2_to_float(const uint16_t* src_fp16, float* dst, const Nc1hwc2Dims& d, Layout out);

}  // namespace rknn_fast::kernels
