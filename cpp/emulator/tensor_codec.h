// Element encodings and memory layouts of the emulated runtime: how a tensor's values are
// read from and written to caller buffers (types, affine quantisation, NCHW / NHWC /
// NC1HWC2 with strides). Values travel as float between encodings; that is exact for every
// 8- and 16-bit integer type, float16, bfloat16 and float32 (32/64-bit integers beyond 2^24
// lose precision, which no fixture uses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/half.h"

namespace rknn_fast::emulator {

// How one element is stored. With `affine` the stored integer q means (q - zp) * scale.
struct Encoding {
    int32_t type = 0;  // rknn_tensor_type
    bool affine = false;
    int32_t zp = 0;
    float scale = 1.0f;
};

// Bytes per element of an rknn_tensor_type this emulator can convert; 0 otherwise (INT4
// and unknown types cannot be converted element-wise).
size_t codec_type_size(int32_t type);
bool is_integer_type(int32_t type);

using kernels::half_to_float;  // the one half -> float of the project (kernels/half.h)
uint16_t float_to_half(float f);  // round to nearest even, saturating to +-inf
float bfloat16_to_float(uint16_t b);
uint16_t float_to_bfloat16(float f);

// Rounds half away from zero (the rounding of our quantisation).
double round_half_away(double v);

// The real value stored at p.
float load_value(const uint8_t* p, const Encoding& e);
// Stores real value v at p: affine types quantise q = round_half_away(v / scale) + zp;
// integer types round half away from zero; both saturate to the type's range.
void store_value(uint8_t* p, const Encoding& e, float v);

// The input rule shared by rknn_inputs_set and rknn_set_io_mem (without pass_through): a
// buffer whose element type equals the model's quantised input type (an affine integer type)
// holds quantised values in that encoding, which are taken as they are (no mean/std, no
// second quantisation). Any other type holds real values before normalisation (UINT8 pixels,
// FLOAT32/FLOAT16 values, other integers), which are normalised and then quantised.
bool given_as_quantised(const Encoding& model, int32_t given_type);

// A buffer layout as an rknn_tensor_attr describes it.
struct Layout {
    int32_t fmt = 3;              // rknn_tensor_format
    std::vector<uint32_t> dims;   // as reported (NC1HWC2: [N, C1, H, W, C2])
    uint32_t w_stride = 0;        // NHWC: elements per padded row (0 = width)
};

// For every element of a tensor of logical shape `logical` (C order; NCHW for 4-D), the
// element index inside a buffer of layout `layout`; `buffer_elems` receives the buffer's
// element count including padding. Returns false with `error` set when the layout cannot
// hold that shape.
bool layout_offsets(const std::vector<int64_t>& logical, const Layout& layout,
                    std::vector<size_t>& offsets, size_t& buffer_elems, std::string& error);

// Logical shape viewed as (N, C, H, W): 4-D as is, 3-D (N, C, L) as (N, C, 1, L), 2-D
// (N, C) as (N, C, 1, 1). Returns false for other ranks.
bool as_nchw(const std::vector<int64_t>& logical, int64_t nchw[4]);

// 64-bit FNV-1a, and the splitmix64 step used for synthetic outputs.
uint64_t fnv1a64(const uint8_t* data, size_t size, uint64_t seed);
uint64_t splitmix64(uint64_t& state);

}  // namespace rknn_fast::emulator
