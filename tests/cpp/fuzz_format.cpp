// Corruption driver for the .rknn reader: every truncation, every 32-bit word overwritten with
// extreme values, and seeded random byte mutations of each seed file. Every mutant must either
// parse (and then yield runtime attrs) or throw FormatError; anything else (another exception,
// or a sanitizer report) is a failure. Run it from a -DRKNN_FAST_SANITIZE=ON build.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <vector>

#include "format/rknn_file.h"

namespace fmt = rknn_fast::format;

namespace {

struct Counts {
    size_t parsed = 0, refused = 0, failures = 0;
};

void check(const std::vector<uint8_t>& data, Counts& c) {
    try {
        // A copy of exactly the mutant's size, so ASan sees any read past its end.
        std::vector<uint8_t> exact(data);
        const fmt::ModelDesc m = fmt::parse_rknn(exact.data(), exact.size());
        for (bool is_input : {true, false}) {
            const size_t n = (is_input ? m.inputs : m.outputs).size();
            for (size_t i = 0; i < n; ++i) {
                for (auto kind : {fmt::AttrKind::Normal, fmt::AttrKind::Native, fmt::AttrKind::NativeNhwc}) {
                    try {
                        (void)fmt::runtime_attr(m, is_input, i, kind);
                    } catch (const fmt::FormatError&) {
                    }
                }
            }
        }
        ++c.parsed;
    } catch (const fmt::FormatError& e) {
        if (std::strlen(e.what()) == 0) ++c.failures;
        ++c.refused;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        ++c.failures;
    }
}

uint64_t next(uint64_t& s) {  // xorshift64*
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
}

}  // namespace

int main(int argc, char** argv) {
    Counts total;
    for (int a = 1; a < argc; ++a) {
        std::ifstream f(argv[a], std::ios::binary);
        const std::vector<uint8_t> seed((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        Counts c;
        check(seed, c);
        if (c.parsed != 1) std::fprintf(stderr, "%s: the seed itself does not parse\n", argv[a]);
        for (size_t n = 0; n < seed.size(); ++n) check(std::vector<uint8_t>(seed.begin(), seed.begin() + n), c);
        const uint32_t extremes[] = {0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0u, 4u, static_cast<uint32_t>(seed.size())};
        // Every word for small seeds; every 4th offset up to 64 KiB for large ones.
        const size_t step = seed.size() > 4096 ? 4 : 1;
        for (size_t p = 0; p + 4 <= seed.size() && p < 65536; p += step) {
            for (uint32_t v : extremes) {
                std::vector<uint8_t> m(seed);
                std::memcpy(m.data() + p, &v, 4);
                check(m, c);
            }
        }
        uint64_t s = 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(a);
        for (int t = 0; t < 50000; ++t) {
            std::vector<uint8_t> m(seed);
            const int flips = 1 + static_cast<int>(next(s) % 8);
            for (int k = 0; k < flips && !m.empty(); ++k) {
                const size_t p = next(s) % m.size();
                m[p] = static_cast<uint8_t>(next(s));
            }
            if (next(s) % 8 == 0 && !m.empty()) m.resize(next(s) % m.size());
            check(m, c);
        }
        std::printf("%s: %zu parsed, %zu refused, %zu failures\n", argv[a], c.parsed, c.refused, c.failures);
        total.parsed += c.parsed;
        total.refused += c.refused;
        total.failures += c.failures;
    }
    std::printf("total: %zu parsed, %zu refused, %zu failures\n", total.parsed, total.refused, total.failures);
    return total.failures == 0 ? 0 : 1;
}
