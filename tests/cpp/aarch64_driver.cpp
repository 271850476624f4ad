// Cross-architecture check of the pure C++ parts (kernels, .rknn reader) and of the emulator
// library, built for aarch64 or armhf by scripts/check_aarch64.sh and run under qemu-user.
// Everything is compared with independent scalar references or hand-computed values.
//
//   aarch64_driver <repo>/tests/data <path to librknnrt_emulator.so>
//
// Prints one line per failed check and a summary "<arch>: N checks, F failed"; exit code 0
// only when nothing failed.
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "abi/rknn_abi.h"
#include "format/rknn_file.h"
#include "kernels/convert.h"
#include "kernels/nms.h"
#include "kernels/segmentation.h"
#include "kernels/simd_scan.h"
#include "kernels/yolo.h"

namespace k = rknn_fast::kernels;
namespace fmt = rknn_fast::format;

namespace {

int g_checks = 0;
int g_failed = 0;

void check(bool ok, const std::string& what) {
    ++g_checks;
    if (!ok) {
        ++g_failed;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

const char* arch_name() {
#if defined(__aarch64__)
    return "aarch64";
#elif defined(__arm__)
    return "armhf";
#elif defined(__x86_64__)
    return "x86_64";
#else
    return "unknown";
#endif
}

uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

// Textbook binary16 -> binary32 (bits), written independently of kernels/half.h: subnormals
// normalised by shifting, inf/NaN keep sign and payload (the quiet bit is payload bit 9).
uint32_t reference_half_bits(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) return sign | 0x7f800000u | (mant << 13);
    if (exp == 0) {
        if (mant == 0) return sign;
        int e = -1;
        do {
            mant <<= 1;
            ++e;
        } while ((mant & 0x400u) == 0);
        mant &= 0x3ffu;
        return sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
    return sign | ((exp + 112u) << 23) | (mant << 13);
}

void check_fp16() {
    std::vector<uint16_t> all(65536);
    for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
    std::vector<float> out(65536 + 8);
    // Every value, and every start offset 0..7 so that both the SIMD body and the scalar tail
    // see every lane position.
    for (size_t start = 0; start < 8; ++start) {
        const size_t n = 65536 - start;
        k::fp16_to_fp32(all.data() + start, out.data(), n);
        int bad = 0;
        for (size_t i = 0; i < n && bad < 5; ++i) {
            const uint16_t h = all[start + i];
            const uint32_t want = reference_half_bits(h);
            if (float_bits(out[i]) != want || float_bits(k::half_to_float(h)) != want) {
                ++bad;
                char msg[160];
                std::snprintf(msg, sizeof msg, "fp16 0x%04x: bulk 0x%08x scalar 0x%08x want 0x%08x (start %zu)",
                              h, float_bits(out[i]), float_bits(k::half_to_float(h)), want, start);
                check(false, msg);
            }
        }
        check(bad == 0, "fp16_to_fp32 bit-exact for all 65536 halves, start " + std::to_string(start));
    }
    // Hand-checked values: a signalling NaN stays signalling with its payload, 1.0, the
    // smallest subnormal, -inf.
    const uint16_t hs[4] = {0x7d01, 0x3c00, 0x0001, 0xfc00};
    float fs[4];
    k::fp16_to_fp32(hs, fs, 4);
    check(float_bits(fs[0]) == 0x7fa02000u, "signalling NaN 0x7d01 -> 0x7fa02000");
    check(fs[1] == 1.0f && fs[2] == std::ldexp(1.0f, -24) && std::isinf(fs[3]) && fs[3] < 0,
          "fp16 1.0, 2^-24, -inf");
    // Round trip float -> half of every finite half.
    int bad = 0;
    for (uint32_t i = 0; i < 65536; ++i) {
        const uint16_t h = static_cast<uint16_t>(i);
        if (((h >> 10) & 0x1f) == 0x1f) continue;
        if (k::fp32_to_fp16(k::half_to_float(h)) != h) ++bad;
    }
    check(bad == 0, "fp32_to_fp16(half_to_float(h)) == h for every finite half");
}

// Lowest class index among equal maxima, from dense NCHW int8 scores.
std::vector<uint8_t> reference_argmax(const std::vector<int8_t>& nchw, int c, int h, int w) {
    std::vector<uint8_t> out(static_cast<size_t>(h * w));
    for (int p = 0; p < h * w; ++p) {
        int best = 0;
        for (int ch = 1; ch < c; ++ch)
            if (nchw[static_cast<size_t>(ch * h * w + p)] > nchw[static_cast<size_t>(best * h * w + p)]) best = ch;
        out[static_cast<size_t>(p)] = static_cast<uint8_t>(best);
    }
    return out;
}

void check_argmax() {
    const int c = 5, h = 3, w = 7, c2 = 4, c1 = 2;
    std::vector<int8_t> nchw(static_cast<size_t>(c * h * w));
    uint32_t seed = 12345;
    for (auto& v : nchw) {
        seed = seed * 1103515245u + 12345u;
        v = static_cast<int8_t>(static_cast<int>((seed >> 16) % 7) - 3);  // few values: many ties, negatives
    }
    nchw[0] = -128;  // the most negative int8 everywhere in one column
    for (int ch = 1; ch < c; ++ch) nchw[static_cast<size_t>(ch * h * w)] = -128;
    // NC1HWC2 copy with the padding lanes of the last block set to 127: a read of padding
    // would win the argmax.
    std::vector<int8_t> native(static_cast<size_t>(c1 * h * w * c2), 127);
    for (int ch = 0; ch < c; ++ch)
        for (int p = 0; p < h * w; ++p)
            native[static_cast<size_t>(((ch / c2) * h * w + p) * c2 + ch % c2)] = nchw[static_cast<size_t>(ch * h * w + p)];
    const std::vector<uint8_t> want = reference_argmax(nchw, c, h, w);
    std::vector<uint8_t> got(want.size());
    k::argmax_classes(k::nchw_view(nchw.data(), k::DType::Int8, c, h, w, 0.5f, 3), got.data(), false);
    check(got == want, "argmax_classes int8 NCHW == scalar reference (ties: lowest class)");
    std::fill(got.begin(), got.end(), 0xff);
    k::argmax_classes(k::nc1hwc2_view(native.data(), k::DType::Int8, c, h, w, c2, 0.5f, 3), got.data(), false);
    check(got == want, "argmax_classes int8 NC1HWC2 (c2=4, padded lanes = 127) == scalar reference");
    // uint16 class map output.
    std::vector<uint16_t> got16(want.size(), 0xffff);
    k::argmax_classes(k::nchw_view(nchw.data(), k::DType::Int8, c, h, w), got16.data(), true);
    bool same = true;
    for (size_t i = 0; i < want.size(); ++i) same = same && got16[i] == want[i];
    check(same, "argmax_classes uint16 output == scalar reference");
    // NC1HWC2 -> NCHW layout conversion gives back the dense tensor.
    std::vector<int8_t> back(nchw.size());
    k::Nc1hwc2Dims d;
    d.n = 1, d.c = c, d.h = h, d.w = w, d.c1 = c1, d.c2 = c2;
    check(k::nc1hwc2_to(native.data(), back.data(), 1, d, k::Layout::NCHW) && back == nchw,
          "nc1hwc2_to NCHW restores the dense tensor");
}

void check_nms() {
    // A; B overlaps A (IoU 81/119 > 0.45); C apart; D = A's box but class 1.
    const float boxes[] = {0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 0, 0, 10, 10};
    const float scores[] = {0.9f, 0.8f, 0.7f, 0.6f};
    const int32_t classes[] = {0, 0, 0, 1};
    k::NmsParams p;
    p.iou_threshold = 0.45f;
    std::vector<int64_t> keep;
    k::nms(boxes, scores, classes, 4, p, keep);
    check(keep == std::vector<int64_t>{0, 2, 3}, "nms class-aware keeps {0, 2, 3}");
    k::nms(boxes, scores, nullptr, 4, p, keep);
    check(keep == std::vector<int64_t>{0, 2}, "nms class-agnostic keeps {0, 2}");
    p.iou_threshold = 0.7f;  // IoU(A, B) = 0.68 is not > 0.7
    k::nms(boxes, scores, nullptr, 4, p, keep);
    check(keep == std::vector<int64_t>{0, 1, 2}, "nms at iou 0.7 keeps {0, 1, 2}");
    p.score_threshold = 0.7f;  // inclusive
    p.iou_threshold = 0.45f;
    k::nms(boxes, scores, classes, 4, p, keep);
    check(keep == std::vector<int64_t>{0, 2}, "nms score_threshold 0.7 inclusive keeps {0, 2}");
}

// Expected bin of softmax(logits) in double, independent of the kernel's tables.
double reference_dfl(const int8_t* logits, int reg_max, float scale) {
    double mx = -1e300, num = 0, den = 0;
    for (int i = 0; i < reg_max; ++i) mx = std::max(mx, static_cast<double>(logits[i]) * scale);
    for (int i = 0; i < reg_max; ++i) {
        const double e = std::exp(static_cast<double>(logits[i]) * scale - mx);
        num += i * e;
        den += e;
    }
    return num / den;
}

void check_yolov8() {
    // One branch, input 64x64, grid 2x2 (stride 32), reg_max 4, 2 classes, int8 NCHW.
    const int reg_max = 4, nc = 2, gh = 2, gw = 2;
    const float box_scale = 0.25f, cls_scale = 0.01f;
    const int32_t cls_zp = -128;
    std::vector<int8_t> box(static_cast<size_t>(4 * reg_max * gh * gw), 0);
    std::vector<int8_t> cls(static_cast<size_t>(nc * gh * gw));
    auto cls_at = [&](int ch, int y, int x) -> int8_t& { return cls[static_cast<size_t>((ch * gh + y) * gw + x)]; };
    // Scores as q - zp: cell (0,0) 49 -> 0.49 < 0.5 dropped; (0,1) 50/50 -> exactly 0.5 kept,
    // class 0 (first max); (1,0) 10/60 -> class 1, 0.6; (1,1) 0/0 dropped.
    const int score[2][2][2] = {{{49, 20}, {50, 50}}, {{10, 60}, {0, 0}}};
    for (int y = 0; y < gh; ++y)
        for (int x = 0; x < gw; ++x)
            for (int ch = 0; ch < nc; ++ch) cls_at(ch, y, x) = static_cast<int8_t>(score[y][x][ch] + cls_zp);
    // DFL logits of the two kept cells, side order l, t, r, b.
    const int8_t bins[2][4][4] = {{{0, 8, 8, 0}, {40, 0, 0, 0}, {0, 0, 0, 40}, {4, 8, 12, 16}},
                                  {{-20, 30, 10, 0}, {0, 0, 0, 0}, {127, -128, 0, 0}, {5, 5, 5, 9}}};
    const int cells[2][2] = {{0, 1}, {1, 0}};  // (y, x) of the kept cells
    for (int k2 = 0; k2 < 2; ++k2)
        for (int side = 0; side < 4; ++side)
            for (int b = 0; b < reg_max; ++b)
                box[static_cast<size_t>(((side * reg_max + b) * gh + cells[k2][0]) * gw + cells[k2][1])] = bins[k2][side][b];
    k::YoloV8Branch br;
    br.box = k::nchw_view(box.data(), k::DType::Int8, 4 * reg_max, gh, gw, box_scale, 0);
    br.cls = k::nchw_view(cls.data(), k::DType::Int8, nc, gh, gw, cls_scale, cls_zp);
    br.has_score_sum = false;
    k::YoloV8Params p;
    p.conf = 0.5f;
    p.reg_max = reg_max;
    p.input_w = 64.0f;
    p.input_h = 64.0f;
    p.use_score_sum = false;
    k::Candidates out;
    k::decode_yolov8(&br, 1, p, out);
    check(out.size() == 2, "yolov8 int8: 2 candidates (0.5 inclusive kept, 0.49 dropped), got " +
                               std::to_string(out.size()));
    if (out.size() != 2) return;
    check(out.anchor_index == std::vector<int64_t>{1, 2}, "yolov8 anchor indices {1, 2}");
    check(out.class_ids == std::vector<int32_t>{0, 1}, "yolov8 classes {0 (first max), 1}");
    check(out.scores[0] == 50 * cls_scale && out.scores[1] == 60 * cls_scale, "yolov8 scores 0.5, 0.6");
    for (int k2 = 0; k2 < 2; ++k2) {
        const double cx = cells[k2][1] + 0.5, cy = cells[k2][0] + 0.5, s = 32.0;
        double d[4];
        for (int side = 0; side < 4; ++side) d[side] = reference_dfl(bins[k2][side], reg_max, box_scale);
        const double want[4] = {(cx - d[0]) * s, (cy - d[1]) * s, (cx + d[2]) * s, (cy + d[3]) * s};
        bool ok = true;
        for (int j = 0; j < 4; ++j) ok = ok && std::fabs(out.boxes[static_cast<size_t>(4 * k2 + j)] - want[j]) < 1e-3;
        char msg[200];
        std::snprintf(msg, sizeof msg, "yolov8 box %d = (%.4f %.4f %.4f %.4f), want (%.4f %.4f %.4f %.4f)", k2,
                      out.boxes[static_cast<size_t>(4 * k2)], out.boxes[static_cast<size_t>(4 * k2 + 1)],
                      out.boxes[static_cast<size_t>(4 * k2 + 2)], out.boxes[static_cast<size_t>(4 * k2 + 3)],
                      want[0], want[1], want[2], want[3]);
        check(ok, msg);
    }
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void check_reader(const std::string& data_dir) {
    const std::string path = data_dir + "/models/tiny_conv_rk3588_i8.rknn";
    try {
        const fmt::ModelDesc m = fmt::parse_rknn_file(path);
        check(m.target_platform == "rk3588", "reader: platform rk3588, got " + m.target_platform);
        check(m.inputs.size() == 1 && m.outputs.size() == 1, "reader: 1 input, 1 output");
        if (m.inputs.size() == 1 && m.outputs.size() == 1) {
            const auto& in = m.inputs[0];
            const auto& out = m.outputs[0];
            check(in.name == "images" && in.shape == std::vector<int64_t>{1, 3, 64, 64}, "reader: input images 1x3x64x64");
            check(out.name == "head" && out.shape == std::vector<int64_t>{1, 4, 32, 32}, "reader: output head 1x4x32x32");
            check(in.quantized && in.zero_point == -128 && std::fabs(in.scale - 1.0f / 255) < 1e-7f,
                  "reader: input zp -128, scale 1/255");
            check(out.quantized && out.zero_point == -37 && std::fabs(out.scale - 0.025255387f) < 1e-7f,
                  "reader: output zp -37, scale 0.025255387");
        }
    } catch (const std::exception& e) {
        check(false, std::string("reader threw on the fixture: ") + e.what());
    }
    // Corrupt copies must throw FormatError (or parse), never crash: truncations, and 32-bit
    // words of the envelope and the first 4 KiB set to values that overflow 32-bit size_t sums.
    const std::vector<uint8_t> bytes = read_file(path);
    check(bytes.size() > 4096, "reader: fixture read");
    int refused = 0, crashed_logic = 0;
    for (size_t n = 0; n < bytes.size(); n += 97) {
        try {
            fmt::parse_rknn(bytes.data(), n);
        } catch (const fmt::FormatError&) {
            ++refused;
        } catch (...) {
            ++crashed_logic;
        }
    }
    check(refused == static_cast<int>((bytes.size() + 96) / 97), "reader: every truncation refused");
    const uint32_t extremes[] = {0xffffffffu, 0xfffffffcu, 0x80000000u, 0x7fffffffu};
    std::vector<uint8_t> mutated;
    for (size_t pos = 0; pos + 4 <= 4096; pos += 4) {
        for (uint32_t v : extremes) {
            mutated = bytes;
            std::memcpy(mutated.data() + pos, &v, 4);
            try {
                fmt::parse_rknn(mutated.data(), mutated.size());
            } catch (const fmt::FormatError&) {
            } catch (...) {
                ++crashed_logic;
            }
        }
    }
    check(crashed_logic == 0, "reader: corrupt files only ever raise FormatError");
}

template <class F>
F symbol(void* lib, const char* name) {
    void* p = dlsym(lib, name);
    if (p == nullptr) {
        check(false, std::string("emulator exports ") + name);
        return nullptr;
    }
    F f;
    std::memcpy(&f, &p, sizeof f);  // object pointer -> function pointer without a cast warning
    return f;
}

struct GoldenTensor {
    uint32_t type = 0, fmt = 0;
    std::vector<uint32_t> dims;
    std::vector<uint8_t> data;
};

// First record of a golden file (docs/golden-format.md); empty on a malformed file.
std::vector<GoldenTensor> first_golden_record(const std::vector<uint8_t>& g, uint32_t& n_inputs) {
    std::vector<GoldenTensor> out;
    size_t pos = 0;
    auto u32 = [&](uint32_t& v) {
        if (g.size() - pos < 4) return false;
        std::memcpy(&v, g.data() + pos, 4);
        pos += 4;
        return true;
    };
    if (g.size() < 24 || std::memcmp(g.data(), "RKGOLD01", 8) != 0) return out;
    pos = 8;
    uint32_t n_out = 0, n_rec = 0, flags = 0;
    if (!u32(n_inputs) || !u32(n_out) || !u32(n_rec) || !u32(flags) || n_rec == 0) return out;
    if (flags & 1u) {  // the model's SHA-256 follows the header
        if (g.size() - pos < 32) return out;
        pos += 32;
    }
    for (uint32_t t = 0; t < n_inputs + n_out; ++t) {
        GoldenTensor x;
        uint32_t nd = 0;
        if (!u32(x.type) || !u32(x.fmt) || !u32(nd) || nd == 0 || nd > 16) return {};
        x.dims.resize(nd);
        for (auto& d : x.dims)
            if (!u32(d)) return {};
        uint64_t nb = 0;
        if (g.size() - pos < 8) return {};
        std::memcpy(&nb, g.data() + pos, 8);
        pos += 8;
        if (nb > g.size() - pos) return {};
        x.data.assign(g.begin() + static_cast<std::ptrdiff_t>(pos), g.begin() + static_cast<std::ptrdiff_t>(pos + nb));
        pos += static_cast<size_t>(nb);
        out.push_back(std::move(x));
    }
    return out;
}

void check_emulator(const std::string& data_dir, const std::string& lib_path) {
    void* lib = dlopen(lib_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    check(lib != nullptr, "dlopen " + lib_path + (lib ? "" : std::string(": ") + dlerror()));
    if (lib == nullptr) return;
    const auto init = symbol<rknn_init_fn>(lib, "rknn_init");
    const auto query = symbol<rknn_query_fn>(lib, "rknn_query");
    const auto inputs_set = symbol<rknn_inputs_set_fn>(lib, "rknn_inputs_set");
    const auto run = symbol<rknn_run_fn>(lib, "rknn_run");
    const auto outputs_get = symbol<rknn_outputs_get_fn>(lib, "rknn_outputs_get");
    const auto outputs_release = symbol<rknn_outputs_release_fn>(lib, "rknn_outputs_release");
    const auto destroy = symbol<rknn_destroy_fn>(lib, "rknn_destroy");
    if (!init || !query || !inputs_set || !run || !outputs_get || !outputs_release || !destroy) return;

    const std::string model = data_dir + "/models/tiny_conv_rk3588_i8.rknn";
    rknn_context ctx = 0;
    std::vector<char> model_path(model.begin(), model.end());
    model_path.push_back('\0');
    int rc = init(&ctx, model_path.data(), 0, 0, nullptr);
    check(rc == RKNN_SUCC && ctx != 0, "rknn_init from a path: rc " + std::to_string(rc));
    if (rc != RKNN_SUCC) return;
    // Not a model: refused.
    char junk[128] = "definitely not an rknn file";
    rknn_context bad = 0;
    check(init(&bad, junk, sizeof junk, 0, nullptr) == RKNN_ERR_MODEL_INVALID, "rknn_init on junk -> MODEL_INVALID");

    rknn_input_output_num num{};
    rc = query(ctx, RKNN_QUERY_IN_OUT_NUM, &num, sizeof num);
    check(rc == RKNN_SUCC && num.n_input == 1 && num.n_output == 1, "query IN_OUT_NUM = 1, 1");
    rknn_tensor_attr in{}, out{};
    in.index = 0;
    out.index = 0;
    check(query(ctx, RKNN_QUERY_INPUT_ATTR, &in, sizeof in) == RKNN_SUCC, "query INPUT_ATTR");
    check(query(ctx, RKNN_QUERY_OUTPUT_ATTR, &out, sizeof out) == RKNN_SUCC, "query OUTPUT_ATTR");
    check(std::string(in.name) == "images" && in.n_dims == 4 && in.dims[0] == 1 && in.dims[1] == 64 &&
              in.dims[2] == 64 && in.dims[3] == 3 && in.fmt == RKNN_TENSOR_NHWC && in.type == RKNN_TENSOR_INT8 &&
              in.zp == -128,
          "input attr: images NHWC 1x64x64x3 int8 zp -128");
    check(std::string(out.name) == "head" && out.n_dims == 4 && out.dims[1] == 4 && out.dims[2] == 32 &&
              out.dims[3] == 32 && out.fmt == RKNN_TENSOR_NCHW && out.type == RKNN_TENSOR_INT8 && out.zp == -37 &&
              out.n_elems == 4096 && out.size == 4096 && out.qnt_type == RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC,
          "output attr: head NCHW 1x4x32x32 int8 zp -37, 4096 elements");
    rknn_sdk_version ver{};
    check(query(ctx, RKNN_QUERY_SDK_VERSION, &ver, sizeof ver) == RKNN_SUCC && ver.api_version[0] != '\0',
          "query SDK_VERSION");

    uint32_t n_inputs = 0;
    const std::vector<GoldenTensor> rec =
        first_golden_record(read_file(data_dir + "/models/tiny_conv_rk3588_i8.golden"), n_inputs);
    check(rec.size() == 2 && n_inputs == 1, "golden file: first record has 1 input, 1 output");
    if (rec.size() != 2) return;
    const GoldenTensor& gin = rec[0];
    const GoldenTensor& gout = rec[1];
    check(gin.type == RKNN_TENSOR_UINT8 && gin.fmt == RKNN_TENSOR_NHWC && gin.data.size() == 64 * 64 * 3,
          "golden input: uint8 NHWC 64x64x3");
    check(gout.type == RKNN_TENSOR_FLOAT32 && gout.data.size() == 4096 * 4, "golden output: 4096 float32");

    // Recorded outputs quantised with the output's zp/scale (round half away from zero, clamp).
    std::vector<float> golden(4096);
    std::memcpy(golden.data(), gout.data.data(), gout.data.size());
    std::vector<int8_t> want_q(4096);
    for (size_t i = 0; i < golden.size(); ++i) {
        const double q = std::round(static_cast<double>(golden[i]) / static_cast<double>(out.scale)) + out.zp;
        want_q[i] = static_cast<int8_t>(std::min(127.0, std::max(-128.0, q)));
    }

    auto run_once = [&](const std::vector<uint8_t>& image, std::vector<int8_t>& raw, std::vector<float>& dequant) {
        rknn_input inp{};
        inp.index = 0;
        inp.buf = const_cast<uint8_t*>(image.data());
        inp.size = static_cast<uint32_t>(image.size());
        inp.pass_through = 0;
        inp.type = RKNN_TENSOR_UINT8;
        inp.fmt = RKNN_TENSOR_NHWC;
        int r = inputs_set(ctx, 1, &inp);
        check(r == RKNN_SUCC, "rknn_inputs_set: rc " + std::to_string(r));
        r = run(ctx, nullptr);
        check(r == RKNN_SUCC, "rknn_run: rc " + std::to_string(r));
        rknn_output o[1]{};
        o[0].index = 0;
        o[0].want_float = 0;
        r = outputs_get(ctx, 1, o, nullptr);
        check(r == RKNN_SUCC && o[0].buf != nullptr && o[0].size == 4096, "rknn_outputs_get int8: 4096 bytes");
        if (r == RKNN_SUCC && o[0].buf && o[0].size == 4096) {
            raw.resize(4096);
            std::memcpy(raw.data(), o[0].buf, 4096);
        }
        check(outputs_release(ctx, 1, o) == RKNN_SUCC, "rknn_outputs_release");
        o[0] = rknn_output{};
        o[0].want_float = 1;
        r = outputs_get(ctx, 1, o, nullptr);
        check(r == RKNN_SUCC && o[0].buf != nullptr && o[0].size == 4096 * 4, "rknn_outputs_get float: 16384 bytes");
        if (r == RKNN_SUCC && o[0].buf && o[0].size == 4096 * 4) {
            dequant.resize(4096);
            std::memcpy(dequant.data(), o[0].buf, 4096 * 4);
        }
        outputs_release(ctx, 1, o);
    };
    std::vector<int8_t> raw;
    std::vector<float> dequant;
    run_once(gin.data, raw, dequant);
    check(raw == want_q, "emulator golden replay: int8 outputs == recorded outputs quantised");
    bool close = dequant.size() == 4096;
    for (size_t i = 0; close && i < 4096; ++i)
        close = dequant[i] == (static_cast<float>(want_q[i]) - static_cast<float>(out.zp)) * out.scale;
    check(close, "emulator want_float: (q - zp) * scale of the replayed outputs");
    // Another input reaches the runtime: synthetic outputs, not the recording.
    std::vector<uint8_t> other = gin.data;
    other[0] = static_cast<uint8_t>(other[0] ^ 0x55);
    run_once(other, raw, dequant);
    check(raw.size() == 4096 && raw != want_q, "emulator: a different input gives different (synthetic) outputs");
    check(destroy(ctx) == RKNN_SUCC, "rknn_destroy");
    dlclose(lib);
}

}  // namespace

// Every SIMD path of the int8 scans (NEON on aarch64; SSE2/AVX2 on a host build) against the
// scalar one: all thresholds at the int8 range ends, every tail length.
void check_simd_scans() {
    uint32_t seed = 12345;
    auto next = [&seed] {
        seed = seed * 1664525u + 1013904223u;
        return static_cast<int8_t>(static_cast<int>(seed >> 24) - 128);
    };
    std::vector<int8_t> data(3 * 200);
    for (auto& v : data) v = next();
    data[5] = -128;
    data[6] = 127;
    const k::SimdLevel levels[] = {k::SimdLevel::Scalar, k::SimdLevel::Sse2, k::SimdLevel::Avx2, k::SimdLevel::Neon};
    int tested = 0;
    for (const auto level : levels) {
        if (!k::set_simd_level(level)) continue;
        ++tested;
        for (int64_t n = 0; n <= 200; n += (n < 70 ? 1 : 29)) {
            for (int32_t thr : {-200, -128, -127, -1, 0, 1, 100, 126, 127, 128, 300}) {
                std::vector<int64_t> got, want;
                k::scan_ge_i8(data.data(), n, thr, 7, got);
                for (int64_t i = 0; i < n; ++i)
                    if (data[static_cast<size_t>(i)] >= thr) want.push_back(7 + i);
                check(got == want, std::string("scan_ge_i8 ") + k::simd_name(level) + " n=" + std::to_string(n) +
                                       " thr=" + std::to_string(thr));
            }
            std::vector<int8_t> best(static_cast<size_t>(n), -100), best2(static_cast<size_t>(n), -100), want(best);
            for (int64_t p = 0; p < 3; ++p)
                for (int64_t i = 0; i < n; ++i)
                    want[static_cast<size_t>(i)] = std::max(want[static_cast<size_t>(i)], data[static_cast<size_t>(p * 200 + i)]);
            for (int64_t p = 0; p < 3; ++p) k::max_i8(data.data() + p * 200, best.data(), n);
            k::max_planes_i8(data.data(), 200, 3, best2.data(), n);
            check(best == want && best2 == want, std::string("max_i8/max_planes_i8 ") + k::simd_name(level) +
                                                      " n=" + std::to_string(n));
        }
    }
    check(tested >= 2 || std::string(arch_name()) == "armhf", "at least one SIMD path besides scalar");
    k::set_simd_level(k::SimdLevel::Scalar);
    for (const auto level : {k::SimdLevel::Avx2, k::SimdLevel::Neon, k::SimdLevel::Sse2})
        if (k::set_simd_level(level)) break;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <tests/data dir> <librknnrt_emulator.so>\n", argv[0]);
        return 2;
    }
    std::printf("%s: char is %s, sizeof(size_t) %zu, sizeof(rknn_context) %zu\n", arch_name(),
                static_cast<char>(-1) < 0 ? "signed" : "unsigned", sizeof(size_t), sizeof(rknn_context));
    check_fp16();
    check_argmax();
    check_nms();
    check_yolov8();
    check_simd_scans();
    check_reader(argv[1]);
    check_emulator(argv[1], argv[2]);
    std::printf("%s: %d checks, %d failed\n", arch_name(), g_checks, g_failed);
    return g_failed == 0 ? 0 : 1;
}
