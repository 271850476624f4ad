#include "kernels/simd_scan.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define RKNN_FAST_SCAN_X86 1
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#define RKNN_FAST_SCAN_NEON 1
#endif

namespace rknn_fast::kernels {
namespace {

// ---------------------------------------------------------------------------- scalar
void scan_scalar(const int8_t* p, int64_t n, int8_t thr, int64_t base, std::vector<int64_t>& out) {
    for (int64_t i = 0; i < n; ++i)
        if (p[i] >= thr) out.push_back(base + i);
}
void max_scalar(const int8_t* row, int8_t* best, int64_t n) {
    for (int64_t i = 0; i < n; ++i) best[i] = row[i] > best[i] ? row[i] : best[i];
}

void max_planes_scalar(const int8_t* planes, int64_t stride, int64_t np, int8_t* best, int64_t n) {
    for (int64_t k = 0; k < np; ++k) max_scalar(planes + k * stride, best, n);
}

// Appends base + i0 + bit for every set bit of mask, lowest first.
template <typename M>
inline void push_bits(M mask, int64_t at, std::vector<int64_t>& out) {
    while (mask) {
        out.push_back(at + __builtin_ctzll(static_cast<unsigned long long>(mask)));
        mask &= mask - 1;
    }
}

#ifdef RKNN_FAST_SCAN_X86
// ---------------------------------------------------------------------------- SSE2 (x86-64 baseline)
void scan_sse2(const int8_t* p, int64_t n, int8_t thr, int64_t base, std::vector<int64_t>& out) {
    // v >= thr  <=>  v > thr - 1 (thr > -128 here, see scan_ge_i8)
    const __m128i t = _mm_set1_epi8(static_cast<char>(thr - 1));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpgt_epi8(v, t)));
        push_bits(mask, base + i, out);
    }
    scan_scalar(p + i, n - i, thr, base + i, out);
}
void max_sse2(const int8_t* row, int8_t* best, int64_t n) {
    // SSE2 has only an unsigned byte maximum: flip the sign bit around it.
    const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i a = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i)), bias);
        const __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(best + i)), bias);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(best + i), _mm_xor_si128(_mm_max_epu8(a, b), bias));
    }
    max_scalar(row + i, best + i, n - i);
}

void max_planes_sse2(const int8_t* planes, int64_t stride, int64_t np, int8_t* best, int64_t n) {
    const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i m = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(best + i)), bias);
        for (int64_t k = 0; k < np; ++k)
            m = _mm_max_epu8(m, _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(planes + k * stride + i)),
                                              bias));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(best + i), _mm_xor_si128(m, bias));
    }
    if (i < n && n >= 16) {  // overlapping last vector (a maximum is idempotent)
        i = n - 16;
        __m128i m = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(best + i)), bias);
        for (int64_t k = 0; k < np; ++k)
            m = _mm_max_epu8(m, _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(planes + k * stride + i)),
                                              bias));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(best + i), _mm_xor_si128(m, bias));
        return;
    }
    if (i < n) max_planes_scalar(planes + i, stride, np, best + i, n - i);
}

// ---------------------------------------------------------------------------- AVX2 (run-time checked)
__attribute__((target("avx2"))) void scan_avx2(const int8_t* p, int64_t n, int8_t thr, int64_t base,
                                               std::vector<int64_t>& out) {
    const __m256i t = _mm256_set1_epi8(static_cast<char>(thr - 1));
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {  // two vectors per test: most blocks have no hit
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
        const __m256i ca = _mm256_cmpgt_epi8(a, t), cb = _mm256_cmpgt_epi8(b, t);
        if (_mm256_testz_si256(_mm256_or_si256(ca, cb), _mm256_or_si256(ca, cb))) continue;
        push_bits(static_cast<uint32_t>(_mm256_movemask_epi8(ca)), base + i, out);
        push_bits(static_cast<uint32_t>(_mm256_movemask_epi8(cb)), base + i + 32, out);
    }
    for (; i + 32 <= n; i += 32) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
        push_bits(static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpgt_epi8(a, t))), base + i, out);
    }
    scan_scalar(p + i, n - i, thr, base + i, out);
}
__attribute__((target("avx2"))) void max_avx2(const int8_t* row, int8_t* best, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(best + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(best + i), _mm256_max_epi8(a, b));
    }
    max_scalar(row + i, best + i, n - i);
}
__attribute__((target("avx2"))) void max_planes_avx2(const int8_t* planes, int64_t stride, int64_t np, int8_t* best,
                                                     int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(best + i));
        for (int64_t k = 0; k < np; ++k)
            m = _mm256_max_epi8(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(planes + k * stride + i)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(best + i), m);
    }
    // Tail: one more vector ending at n, overlapping columns already done (a maximum is
    // idempotent, so recomputing them changes nothing); scalar only below 16 columns.
    if (i < n && n >= 32) {
        i = n - 32;
        __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(best + i));
        for (int64_t k = 0; k < np; ++k)
            m = _mm256_max_epi8(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(planes + k * stride + i)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(best + i), m);
        return;
    }
    for (; i + 16 <= n; i += 16) {
        __m128i m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(best + i));
        for (int64_t k = 0; k < np; ++k)
            m = _mm_max_epi8(m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(planes + k * stride + i)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(best + i), m);
    }
    if (i < n && n >= 16) {
        i = n - 16;
        __m128i m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(best + i));
        for (int64_t k = 0; k < np; ++k)
            m = _mm_max_epi8(m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(planes + k * stride + i)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(best + i), m);
        return;
    }
    if (i < n) max_planes_scalar(planes + i, stride, np, best + i, n - i);
}
#endif

#ifdef RKNN_FAST_SCAN_NEON
// ---------------------------------------------------------------------------- NEON (aarch64 baseline)
void scan_neon(const int8_t* p, int64_t n, int8_t thr, int64_t base, std::vector<int64_t>& out) {
    const int8x16_t t = vdupq_n_s8(thr);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8x16_t ge = vcgeq_s8(vld1q_s8(p + i), t);
        // 4 bits per byte: narrowing shift of the 16-bit lanes packs the compare into 64 bits.
        uint64_t m = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(ge), 4)), 0);
        while (m) {
            out.push_back(base + i + (__builtin_ctzll(m) >> 2));
            m &= ~(uint64_t{0xf} << (__builtin_ctzll(m) & ~3));
        }
    }
    scan_scalar(p + i, n - i, thr, base + i, out);
}
void max_planes_neon(const int8_t* planes, int64_t stride, int64_t np, int8_t* best, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        int8x16_t m = vld1q_s8(best + i);
        for (int64_t k = 0; k < np; ++k) m = vmaxq_s8(m, vld1q_s8(planes + k * stride + i));
        vst1q_s8(best + i, m);
    }
    if (i < n && n >= 16) {  // overlapping last vector (a maximum is idempotent)
        i = n - 16;
        int8x16_t m = vld1q_s8(best + i);
        for (int64_t k = 0; k < np; ++k) m = vmaxq_s8(m, vld1q_s8(planes + k * stride + i));
        vst1q_s8(best + i, m);
        return;
    }
    if (i < n) max_planes_scalar(planes + i, stride, np, best + i, n - i);
}
void max_neon(const int8_t* row, int8_t* best, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) vst1q_s8(best + i, vmaxq_s8(vld1q_s8(row + i), vld1q_s8(best + i)));
    max_scalar(row + i, best + i, n - i);
}
#endif

[[maybe_unused]] bool cpu_has_avx2() {
#ifdef RKNN_FAST_SCAN_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

SimdLevel best_level() {
#if defined(RKNN_FAST_SCAN_X86)
    return cpu_has_avx2() ? SimdLevel::Avx2 : SimdLevel::Sse2;
#elif defined(RKNN_FAST_SCAN_NEON)
    return SimdLevel::Neon;
#else
    return SimdLevel::Scalar;
#endif
}

SimdLevel initial_level() {
    SimdLevel level = best_level();
    if (const char* env = std::getenv("RKNN_FAST_SIMD")) {
        for (const SimdLevel l : {SimdLevel::Scalar, SimdLevel::Sse2, SimdLevel::Avx2, SimdLevel::Neon})
            if (std::strcmp(env, simd_name(l)) == 0 && simd_supported(l)) level = l;
    }
    return level;
}

std::atomic<int>& level_slot() {
    static std::atomic<int> slot{static_cast<int>(initial_level())};
    return slot;
}

}  // namespace

const char* simd_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::Sse2: return "sse2";
        case SimdLevel::Avx2: return "avx2";
        case SimdLevel::Neon: return "neon";
        case SimdLevel::Scalar:
        default: return "scalar";
    }
}

bool simd_supported(SimdLevel level) {
    switch (level) {
        case SimdLevel::Scalar: return true;
#ifdef RKNN_FAST_SCAN_X86
        case SimdLevel::Sse2: return true;
        case SimdLevel::Avx2: return cpu_has_avx2();
#endif
#ifdef RKNN_FAST_SCAN_NEON
        case SimdLevel::Neon: return true;
#endif
        default: return false;
    }
}

SimdLevel simd_level() { return static_cast<SimdLevel>(level_slot().load(std::memory_order_relaxed)); }

bool set_simd_level(SimdLevel level) {
    if (!simd_supported(level)) return false;
    level_slot().store(static_cast<int>(level), std::memory_order_relaxed);
    return true;
}

void scan_ge_i8(const int8_t* p, int64_t n, int32_t thr, int64_t base, std::vector<int64_t>& out) {
    if (thr > 127 || n <= 0) return;
    if (thr <= -128) {
        for (int64_t i = 0; i < n; ++i) out.push_back(base + i);
        return;
    }
    const auto t = static_cast<int8_t>(thr);
    switch (simd_level()) {
#ifdef RKNN_FAST_SCAN_X86
        case SimdLevel::Avx2: return scan_avx2(p, n, t, base, out);
        case SimdLevel::Sse2: return scan_sse2(p, n, t, base, out);
#endif
#ifdef RKNN_FAST_SCAN_NEON
        case SimdLevel::Neon: return scan_neon(p, n, t, base, out);
#endif
        default: return scan_scalar(p, n, t, base, out);
    }
}

void max_i8(const int8_t* row, int8_t* best, int64_t n) {
    switch (simd_level()) {
#ifdef RKNN_FAST_SCAN_X86
        case SimdLevel::Avx2: return max_avx2(row, best, n);
        case SimdLevel::Sse2: return max_sse2(row, best, n);
#endif
#ifdef RKNN_FAST_SCAN_NEON
        case SimdLevel::Neon: return max_neon(row, best, n);
#endif
        default: return max_scalar(row, best, n);
    }
}

void max_planes_i8(const int8_t* planes, int64_t stride, int64_t n_planes, int8_t* best, int64_t n) {
    switch (simd_level()) {
#ifdef RKNN_FAST_SCAN_X86
        case SimdLevel::Avx2: return max_planes_avx2(planes, stride, n_planes, best, n);
        case SimdLevel::Sse2: return max_planes_sse2(planes, stride, n_planes, best, n);
#endif
#ifdef RKNN_FAST_SCAN_NEON
        case SimdLevel::Neon: return max_planes_neon(planes, stride, n_planes, best, n);
#endif
        default: return max_planes_scalar(planes, stride, n_planes, best, n);
    }
}

}  // namespace rknn_fast::kernels
