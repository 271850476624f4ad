// Vectorized int8 scans of the detection decoders, with run-time dispatch.
//
// Two primitives cover the hot loops of the YOLO decoders on quantized outputs:
//   * scan_ge_i8: the indices of the values >= a threshold (score_sum / objectness gates and
//     the per-cell class maximum), so only the few passing cells are visited afterwards;
//   * max_i8: element-wise running maximum of a class plane into a best-so-far buffer.
// Both are exact integer operations: every path (scalar, SSE2, AVX2 on x86-64, NEON on
// aarch64) gives bit-identical results, which tests check by forcing each path.
//
// The path is picked once: the best the CPU supports (AVX2 via __builtin_cpu_supports, one
// function compiled with a target attribute, no -march flags), unless the environment
// variable RKNN_FAST_SIMD names a lower one ("scalar", "sse2", "avx2", "neon") or
// set_simd_level() forces one (tests).
#pragma once

#include <cstdint>
#include <vector>

namespace rknn_fast::kernels {

enum class SimdLevel : int { Scalar = 0, Sse2 = 1, Avx2 = 2, Neon = 3 };

// The path in use.
SimdLevel simd_level();
// True when `level` can run on this CPU/build (Scalar always can).
bool simd_supported(SimdLevel level);
// Forces a path; returns false (and changes nothing) when it is not supported.
bool set_simd_level(SimdLevel level);
const char* simd_name(SimdLevel level);

// Appends base + i for every i in [0, n) with p[i] >= thr (thr in the int16 key domain:
// > 127 selects nothing, <= -128 everything), in increasing order.
void scan_ge_i8(const int8_t* p, int64_t n, int32_t thr, int64_t base, std::vector<int64_t>& out);

// best[i] = max(best[i], row[i]) for i in [0, n).
void max_i8(const int8_t* row, int8_t* best, int64_t n);

// best[i] = max(best[i], planes[k * stride + i]) for k in [0, n_planes), i in [0, n): the
// running maximum over several planes in one call (one dispatch, best kept in registers).
void max_planes_i8(const int8_t* planes, int64_t stride, int64_t n_planes, int8_t* best, int64_t n);

}  // namespace rknn_fast::kernels
