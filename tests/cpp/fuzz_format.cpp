// Corruption driver for the .rknn reader: truncations, 32-bit words overwritten with
// extreme values, and seeded random byte mutations of each seed file. Every mutant must either
// parse (and then yield runtime attrs) or throw FormatError; anything else (another exception,
// or a sanitizer report) is a failure. Run it from a -DRKNN_FAST_SANITIZE=ON build.
// Each mutant lives in a buffer of exactly its size, so ASan sees any read past its end.
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
        const fmt::ModelDesc m = fmt::parse_rknn(data.data(), data.size());
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
        std::vector<uint8_t> work((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const std::vector<uint8_t> seed(work);
        const size_t size = seed.size();
        const bool large = size > 65536;
        uint64_t s = 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(a);
        Counts c;
        check(seed, c);
        if (c.parsed != 1) std::fprintf(stderr, "%s: the seed itself does not parse\n", argv[a]);

        // Truncations: all of them for small seeds; for large ones (each is a copy) the first
        // 4 KiB of lengths, the last 64 and 200 seeded random lengths.
        auto truncated = [&](size_t n) { check(std::vector<uint8_t>(seed.begin(), seed.begin() + n), c); };
        if (!large) {
            for (size_t n = 0; n < size; ++n) truncated(n);
        } else {
            for (size_t n = 0; n < 4096; ++n) truncated(n);
            for (size_t n = size - 64; n < size; ++n) truncated(n);
            for (int k = 0; k < 200; ++k) truncated(next(s) % size);
        }

        // Every 32-bit word (at every byte offset) of the first 16 KiB, where the envelope and
        // the FlatBuffer's tables sit, set to extreme values in place and restored after each check.
        const uint32_t extremes[] = {0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0u, 4u, static_cast<uint32_t>(size)};
        for (size_t p = 0; p + 4 <= size && p < 16384; ++p) {
            for (uint32_t v : extremes) {
                std::memcpy(work.data() + p, &v, 4);
                check(work, c);
                std::memcpy(work.data() + p, seed.data() + p, 4);
            }
        }

        // Seeded random mutations: 1-8 random bytes, in place and restored.
        const int mutations = 20000;
        for (int t = 0; t < mutations; ++t) {
            size_t where[8];
            const int flips = 1 + static_cast<int>(next(s) % 8);
            for (int k = 0; k < flips; ++k) {
                // Bias half of the flips to the first 16 KiB, where the structure lives.
                const size_t span = (large && (next(s) & 1)) ? 16384 : size;
                where[k] = next(s) % span;
                work[where[k]] = static_cast<uint8_t>(next(s));
            }
            check(work, c);
            for (int k = 0; k < flips; ++k) work[where[k]] = seed[where[k]];
        }
        std::printf("%s: %zu parsed, %zu refused, %zu failures\n", argv[a], c.parsed, c.refused, c.failures);
        total.parsed += c.parsed;
        total.refused += c.refused;
        total.failures += c.failures;
    }
    std::printf("total: %zu parsed, %zu refused, %zu failures\n", total.parsed, total.refused, total.failures);
    return total.failures == 0 ? 0 : 1;
}
