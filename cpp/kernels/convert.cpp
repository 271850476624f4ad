#include "kernels/convert.h"

#include <cmath>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(RKNN_FAST_NO_F16C)
#include <immintrin.h>
#endif
#if defined(__aarch64__) && !defined(RKNN_FAST_NO_NEON_FP16)
#include <arm_neon.h>
#endif

namespace rknn_fast::kernels {

uint16_t fp32_to_fp16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) {  // inf or NaN
        const uint16_t nan_bit = abs > 0x7f800000u ? 0x0200u : 0u;
        return static_cast<uint16_t>(sign | 0x7c00u | nan_bit | ((abs >> 13) & 0x03ffu));
    }
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504
    if (abs < 0x38800000u) {  // half subnormal or zero: round abs * 2^24 to an integer
        float a;
        std::memcpy(&a, &abs, sizeof a);
        const float q = std::nearbyint(a * 0x1p24f);  // default rounding: nearest even
        return static_cast<uint16_t>(sign | static_cast<uint16_t>(q));
    }
    // normal: rebias the exponent and round the 13 dropped bits to nearest even
    const uint32_t mant_odd = (abs >> 13) & 1u;
    const uint32_t rounded = abs + 0x0fffu + mant_odd;
    return static_cast<uint16_t>(sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13));
}

namespace {

// The portable loop: half_to_float is branch-free, so this vectorises at the baseline ISA
// (SSE2 on x86-64, NEON on aarch64). Unused where an explicit SIMD path is always taken.
[[maybe_unused]] void fp16_to_fp32_portable(const uint16_t* src, float* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

// Build with -DRKNN_FAST_NO_F16C to measure or test the portable loop alone.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(RKNN_FAST_NO_F16C)
#define RKNN_FAST_HAVE_F16C_PATH 1
// F16C converts 8 halves per instruction. It quiets signalling NaNs (sets float bit 22), while
// numpy (and half_to_float) keep the payload unchanged, so for NaN lanes bit 22 is put back to
// the half's quiet bit (bit 9): the result stays bit-exact for all 65536 inputs.
__attribute__((target("avx2,f16c"))) void fp16_to_fp32_f16c(const uint16_t* src, float* dst,
                                                             size_t n) {
    const __m256i exp_mant_mask = _mm256_set1_epi32(0x7fff);
    const __m256i inf_bits = _mm256_set1_epi32(0x7c00);
    const __m256i quiet_bit = _mm256_set1_epi32(0x00400000);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
        const __m256i f = _mm256_castps_si256(_mm256_cvtph_ps(h));
        const __m256i h32 = _mm256_cvtepu16_epi32(h);
        const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(h32, exp_mant_mask), inf_bits);
        const __m256i want_quiet = _mm256_and_si256(_mm256_slli_epi32(h32, 13), quiet_bit);
        const __m256i fix = _mm256_and_si256(_mm256_andnot_si256(want_quiet, quiet_bit), is_nan);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_xor_si256(f, fix));
    }
    for (; i < n; ++i) dst[i] = half_to_float(src[i]);
}
#endif

// Build with -DRKNN_FAST_NO_NEON_FP16 to measure or test the portable loop alone on aarch64.
#if defined(__aarch64__) && !defined(RKNN_FAST_NO_NEON_FP16)
#define RKNN_FAST_HAVE_NEON_FP16_PATH 1
// NEON (baseline on every aarch64 core) converts 4 halves per FCVTL. Like F16C it quiets
// signalling NaNs (sets float bit 22; Linux runs with FPCR.DN = 0, so sign and payload are
// kept), so NaN lanes get bit 22 put back to the half's quiet bit (bit 9), as above: bit-exact
// with half_to_float for all 65536 inputs.
void fp16_to_fp32_neon(const uint16_t* src, float* dst, size_t n) {
    const uint32x4_t exp_mant_mask = vdupq_n_u32(0x7fff);
    const uint32x4_t inf_bits = vdupq_n_u32(0x7c00);
    const uint32x4_t quiet_bit = vdupq_n_u32(0x00400000);
    // f: the converted lanes; h32: the same halves zero-extended.
    const auto restore_nan_quiet_bit = [&](float32x4_t f, uint32x4_t h32) {
        const uint32x4_t is_nan = vcgtq_u32(vandq_u32(h32, exp_mant_mask), inf_bits);
        const uint32x4_t want_quiet = vandq_u32(vshlq_n_u32(h32, 13), quiet_bit);
        const uint32x4_t fix = vandq_u32(vbicq_u32(quiet_bit, want_quiet), is_nan);
        return vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(f), fix));
    };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vld1q_u16(src + i);
        const float32x4_t lo = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h)));
        const float32x4_t hi = vcvt_high_f32_f16(vreinterpretq_f16_u16(h));
        vst1q_f32(dst + i, restore_nan_quiet_bit(lo, vmovl_u16(vget_low_u16(h))));
        vst1q_f32(dst + i + 4, restore_nan_quiet_bit(hi, vmovl_high_u16(h)));
    }
    for (; i < n; ++i) dst[i] = half_to_float(src[i]);
}
#endif

using Fp16Loop = void (*)(const uint16_t*, float*, size_t);

Fp16Loop pick_fp16_loop() {
#ifdef RKNN_FAST_HAVE_F16C_PATH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) return &fp16_to_fp32_f16c;
#endif
#ifdef RKNN_FAST_HAVE_NEON_FP16_PATH
    return &fp16_to_fp32_neon;
#else
    return &fp16_to_fp32_portable;
#endif
}

}  // namespace

void fp16_to_fp32(const uint16_t* src, float* dst, size_t n) {
    static const Fp16Loop loop = pick_fp16_loop();  // chosen once per process, thread-safe
    loop(src, dst, n);
}

void fp32_to_fp16(const float* src, uint16_t* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

namespace {

template <class Q>
void dequantize_impl(const Q* src, float* dst, size_t n, float scale, int32_t zero_point) {
    const float zp = static_cast<float>(zero_point);
    for (size_t i = 0; i < n; ++i) dst[i] = (static_cast<float>(src[i]) - zp) * scale;
}

// Converts one element; the identity, a dequantisation or a widening.
template <class S, class D>
struct Identity {
    D operator()(S v) const { return v; }
};
template <class Q>
struct Dequant {
    float zp, scale;
    float operator()(Q v) const { return (static_cast<float>(v) - zp) * scale; }
};
struct Half {
    float operator()(uint16_t v) const { return half_to_float(v); }
};

// The loops put the contiguous side innermost: NCHW walks output rows (reading with
// stride C2), NHWC walks the C2 channels of each pixel block (contiguous on both sides).
template <class S, class D, class F>
void nc1hwc2_impl(const S* src, D* dst, const Nc1hwc2Dims& d, Layout out, F f) {
    const size_t row = d.row();
    const size_t plane = d.h * row * d.c2;  // one C2 block of one image
    if (out == Layout::NCHW) {
        for (size_t n = 0; n < d.n; ++n) {
            for (size_t c = 0; c < d.c; ++c) {
                const S* block = src + (n * d.c1 + c / d.c2) * plane + c % d.c2;
                D* o = dst + (n * d.c + c) * d.h * d.w;
                for (size_t y = 0; y < d.h; ++y) {
                    const S* s = block + y * row * d.c2;
                    D* orow = o + y * d.w;
                    for (size_t x = 0; x < d.w; ++x) orow[x] = f(s[x * d.c2]);
                }
            }
        }
        return;
    }
    for (size_t n = 0; n < d.n; ++n) {
        for (size_t y = 0; y < d.h; ++y) {
            for (size_t x = 0; x < d.w; ++x) {
                D* o = dst + ((n * d.h + y) * d.w + x) * d.c;
                for (size_t b = 0; b < d.c1; ++b) {
                    const S* s = src + (n * d.c1 + b) * plane + (y * row + x) * d.c2;
                    const size_t c0 = b * d.c2;
                    const size_t cn = c0 + d.c2 <= d.c ? d.c2 : d.c - c0;
                    for (size_t k = 0; k < cn; ++k) o[c0 + k] = f(s[k]);
                }
            }
        }
    }
}

}  // namespace

void dequantize(const int8_t* src, float* dst, size_t n, float scale, int32_t zero_point) {
    dequantize_impl(src, dst, n, scale, zero_point);
}
void dequantize(const uint8_t* src, float* dst, size_t n, float scale, int32_t zero_point) {
    dequantize_impl(src, dst, n, scale, zero_point);
}

bool nc1hwc2_to(const void* src, void* dst, size_t elem_size, const Nc1hwc2Dims& d, Layout out) {
    switch (elem_size) {
        case 1:
            nc1hwc2_impl(static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), d, out,
                         Identity<uint8_t, uint8_t>{});
            return true;
        case 2:
            nc1hwc2_impl(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), d, out,
                         Identity<uint16_t, uint16_t>{});
            return true;
        case 4:
            nc1hwc2_impl(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), d, out,
                         Identity<uint32_t, uint32_t>{});
            return true;
        default:
            return false;
    }
}

void nc1hwc2_to_float(const int8_t* src, float* dst, const Nc1hwc2Dims& d, Layout out, float scale,
                      int32_t zero_point) {
    nc1hwc2_impl(src, dst, d, out, Dequant<int8_t>{static_cast<float>(zero_point), scale});
}
void nc1hwc2_to_float(const uint8_t* src, float* dst, const Nc1hwc2Dims& d, Layout out, float scale,
                      int32_t zero_point) {
    nc1hwc2_impl(src, dst, d, out, Dequant<uint8_t>{static_cast<float>(zero_point), scale});
}
void nc1hwc2_to_float(const uint16_t* src_fp16, float* dst, const Nc1hwc2Dims& d, Layout out) {
    nc1hwc2_impl(src_fp16, dst, d, out, Half{});
}

}  // namespace rknn_fast::kernels
