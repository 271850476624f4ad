// IEEE 754 binary16 ("half", as its 16 bits) -> binary32, the one conversion every kernel, the
// bindings and the emulator use. Header-only and free of Python so that cpp/emulator can include it.
#pragma once

#include <cstdint>
#include <cstring>

namespace rknn_fast::kernels {

// Exact for all 65536 inputs, matching numpy's float16 -> float32 bit for bit: subnormals are
// normalised, +-0 and +-inf keep their sign, NaNs keep sign and payload (signalling NaNs stay
// signalling, as in numpy).
//
// Branch-free (every case is computed, then selected with masks) so that loops over it
// auto-vectorise at the baseline ISA (SSE2 / NEON). No float subnormal is ever produced or
// consumed, so the result does not depend on flush-to-zero / denormals-are-zero modes.
inline float half_to_float(uint16_t h) {
    const uint32_t exp_mant = h & 0x7fffu;
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    // Normal halves: move the 15 bits into place and rebias the exponent (127 - 15 = 112).
    const uint32_t normal = (exp_mant << 13) + (112u << 23);
    // Zero and subnormal halves (exponent 0): 2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24, where both
    // operands are normal floats and the subtraction is exact.
    const uint32_t biased = normal + (1u << 23);
    float lifted;
    std::memcpy(&lifted, &biased, sizeof lifted);
    const float sub_f = lifted - 0x1p-14f;
    uint32_t sub;
    std::memcpy(&sub, &sub_f, sizeof sub);
    // Inf and NaN (exponent 31): all-ones float exponent, payload shifted unchanged.
    const uint32_t inf_nan = (exp_mant << 13) | 0x7f800000u;
    // Selects through all-ones / all-zeros masks rather than `?:`, which GCC may turn into
    // branches that stop vectorisation.
    const uint32_t is_sub = 0u - static_cast<uint32_t>(exp_mant < 0x0400u);
    const uint32_t is_inf_nan = 0u - static_cast<uint32_t>(exp_mant >= 0x7c00u);
    uint32_t bits = (sub & is_sub) | (normal & ~is_sub);
    bits = (inf_nan & is_inf_nan) | (bits & ~is_inf_nan);
    bits |= sign;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

}  // namespace rknn_fast::kernels
