#include "emulator/tensor_codec.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "abi/rknn_abi.h"

namespace rknn_fast::emulator {

size_t codec_type_size(int32_t type) {
    switch (type) {
        case RKNN_TENSOR_FLOAT32: return 4;
        case RKNN_TENSOR_FLOAT16: return 2;
        case RKNN_TENSOR_INT8: return 1;
        case RKNN_TENSOR_UINT8: return 1;
        case RKNN_TENSOR_INT16: return 2;
        case RKNN_TENSOR_UINT16: return 2;
        case RKNN_TENSOR_INT32: return 4;
        case RKNN_TENSOR_UINT32: return 4;
        case RKNN_TENSOR_INT64: return 8;
        case RKNN_TENSOR_BOOL: return 1;
        case RKNN_TENSOR_BFLOAT16: return 2;
        default: return 0;
    }
}

bool is_integer_type(int32_t type) {
    return type != RKNN_TENSOR_FLOAT32 && type != RKNN_TENSOR_FLOAT16 &&
           type != RKNN_TENSOR_BFLOAT16 && codec_type_size(type) != 0;
}

uint16_t float_to_half(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t abs = bits & 0x7fffffffu;
    if (abs >= 0x7f800000u) {  // inf or nan
        return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    }
    if (abs >= 0x477ff000u) {  // rounds to >= 65520: overflow to inf
        return static_cast<uint16_t>(sign | 0x7c00u);
    }
    if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
        if (abs < 0x33000000u) return sign;  // < 2^-25 rounds to zero
        const uint32_t exponent = abs >> 23;
        const uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126u - exponent;  // 14..24
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1u);
        const uint32_t halfway = 1u << (shift - 1u);
        if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
        return static_cast<uint16_t>(sign | half);
    }
    uint32_t half = ((abs >> 23) - 112u) << 10 | ((abs >> 13) & 0x3ffu);
    const uint32_t rest = abs & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
}

float bfloat16_to_float(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t float_to_bfloat16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    const uint32_t lsb = (bits >> 16) & 1u;
    bits += 0x7fffu + lsb;
    return static_cast<uint16_t>(bits >> 16);
}

double round_half_away(double v) {
    return std::round(v);  // std::round rounds halfway cases away from zero
}

namespace {

template <typename T>
T load_raw(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <typename T>
void store_raw(uint8_t* p, T v) {
    std::memcpy(p, &v, sizeof v);
}

// Rounds and saturates a real value into integer type T (NaN becomes 0).
template <typename T>
T saturate(double v) {
    if (std::isnan(v)) return T(0);
    const double r = round_half_away(v);
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    if (r <= lo) return std::numeric_limits<T>::lowest();
    if (r >= hi) return std::numeric_limits<T>::max();
    return static_cast<T>(r);
}

double load_integer(const uint8_t* p, int32_t type) {
    switch (type) {
        case RKNN_TENSOR_INT8: return load_raw<int8_t>(p);
        case RKNN_TENSOR_UINT8: return load_raw<uint8_t>(p);
        case RKNN_TENSOR_INT16: return load_raw<int16_t>(p);
        case RKNN_TENSOR_UINT16: return load_raw<uint16_t>(p);
        case RKNN_TENSOR_INT32: return load_raw<int32_t>(p);
        case RKNN_TENSOR_UINT32: return load_raw<uint32_t>(p);
        case RKNN_TENSOR_INT64: return static_cast<double>(load_raw<int64_t>(p));
        case RKNN_TENSOR_BOOL: return load_raw<uint8_t>(p) != 0 ? 1.0 : 0.0;
        default: return 0.0;
    }
}

void store_integer(uint8_t* p, int32_t type, double v) {
    switch (type) {
        case RKNN_TENSOR_INT8: store_raw(p, saturate<int8_t>(v)); break;
        case RKNN_TENSOR_UINT8: store_raw(p, saturate<uint8_t>(v)); break;
        case RKNN_TENSOR_INT16: store_raw(p, saturate<int16_t>(v)); break;
        case RKNN_TENSOR_UINT16: store_raw(p, saturate<uint16_t>(v)); break;
        case RKNN_TENSOR_INT32: store_raw(p, saturate<int32_t>(v)); break;
        case RKNN_TENSOR_UINT32: store_raw(p, saturate<uint32_t>(v)); break;
        case RKNN_TENSOR_INT64: store_raw(p, saturate<int64_t>(v)); break;
        case RKNN_TENSOR_BOOL: store_raw(p, static_cast<uint8_t>(v != 0.0 ? 1 : 0)); break;
        default: break;
    }
}

}  // namespace

float load_value(const uint8_t* p, const Encoding& e) {
    switch (e.type) {
        case RKNN_TENSOR_FLOAT32: return load_raw<float>(p);
        case RKNN_TENSOR_FLOAT16: return half_to_float(load_raw<uint16_t>(p));
        case RKNN_TENSOR_BFLOAT16: return bfloat16_to_float(load_raw<uint16_t>(p));
        default: break;
    }
    const double q = load_integer(p, e.type);
    if (e.affine) {
        // Same expression as the runtime's dequantisation: float (q - zp) times float scale.
        return static_cast<float>(q - e.zp) * e.scale;
    }
    return static_cast<float>(q);
}

void store_value(uint8_t* p, const Encoding& e, float v) {
    switch (e.type) {
        case RKNN_TENSOR_FLOAT32: store_raw(p, v); return;
        case RKNN_TENSOR_FLOAT16: store_raw(p, float_to_half(v)); return;
        case RKNN_TENSOR_BFLOAT16: store_raw(p, float_to_bfloat16(v)); return;
        default: break;
    }
    if (e.affine && e.scale != 0.0f) {
        const double q = round_half_away(static_cast<double>(v) / static_cast<double>(e.scale));
        store_integer(p, e.type, q + e.zp);
    } else {
        store_integer(p, e.type, static_cast<double>(v));
    }
}

bool given_as_quantised(const Encoding& model, int32_t given_type) {
    return model.affine && is_integer_type(model.type) && given_type == model.type;
}

bool as_nchw(const std::vector<int64_t>& logical, int64_t nchw[4]) {
    switch (logical.size()) {
        case 4:
            for (size_t i = 0; i < 4; ++i) nchw[i] = logical[i];
            return true;
        case 3:
            nchw[0] = logical[0];
            nchw[1] = logical[1];
            nchw[2] = 1;
            nchw[3] = logical[2];
            return true;
        case 2:
            nchw[0] = logical[0];
            nchw[1] = logical[1];
            nchw[2] = 1;
            nchw[3] = 1;
            return true;
        default: return false;
    }
}

bool layout_offsets(const std::vector<int64_t>& logical, const Layout& layout,
                    std::vector<size_t>& offsets, size_t& buffer_elems, std::string& error) {
    size_t count = 1;
    for (int64_t d : logical) {
        if (d < 0) {
            error = "negative dimension in tensor shape";
            return false;
        }
        count *= static_cast<size_t>(d);
    }
    offsets.resize(count);
    if (layout.fmt == RKNN_TENSOR_NHWC && logical.size() == 4) {
        const size_t N = static_cast<size_t>(logical[0]), C = static_cast<size_t>(logical[1]),
                     H = static_cast<size_t>(logical[2]), W = static_cast<size_t>(logical[3]);
        const size_t ws = layout.w_stride != 0 ? layout.w_stride : W;
        if (ws < W) {
            error = "w_stride " + std::to_string(ws) + " is smaller than the width " + std::to_string(W);
            return false;
        }
        size_t i = 0;
        for (size_t n = 0; n < N; ++n)
            for (size_t c = 0; c < C; ++c)
                for (size_t h = 0; h < H; ++h)
                    for (size_t w = 0; w < W; ++w) offsets[i++] = ((n * H + h) * ws + w) * C + c;
        buffer_elems = N * H * ws * C;
        return true;
    }
    if (layout.fmt == RKNN_TENSOR_NC1HWC2) {
        int64_t s[4];
        if (!as_nchw(logical, s) || layout.dims.size() != 5) {
            error = "NC1HWC2 needs a 2-D to 4-D tensor and 5 native dims";
            return false;
        }
        const size_t N = static_cast<size_t>(s[0]), C = static_cast<size_t>(s[1]),
                     H = static_cast<size_t>(s[2]), W = static_cast<size_t>(s[3]);
        const size_t C1 = layout.dims[1], Hn = layout.dims[2], Wn = layout.dims[3], C2 = layout.dims[4];
        if (layout.dims[0] != N || C2 == 0 || C1 * C2 < C || Hn != H || Wn < W) {
            error = "native NC1HWC2 dims do not hold the logical shape";
            return false;
        }
        size_t i = 0;
        for (size_t n = 0; n < N; ++n)
            for (size_t c = 0; c < C; ++c)
                for (size_t h = 0; h < H; ++h)
                    for (size_t w = 0; w < W; ++w)
                        offsets[i++] = (((n * C1 + c / C2) * Hn + h) * Wn + w) * C2 + c % C2;
        buffer_elems = N * C1 * Hn * Wn * C2;
        return true;
    }
    // NCHW, UNDEFINED, or NHWC on a non-4-D tensor: the logical order itself.
    for (size_t i = 0; i < count; ++i) offsets[i] = i;
    buffer_elems = count;
    return true;
}

uint64_t fnv1a64(const uint8_t* data, size_t size, uint64_t seed) {
    uint64_t h = seed;
    for (size_t i = 0; i < size; ++i) {
        h ^= data[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t splitmix64(uint64_t& state) {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace rknn_fast::emulator
