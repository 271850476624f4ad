// libFuzzer target on the .rknn reader (cpp/format): any input must parse (and then yield
// runtime attrs for every tensor and kind) or be refused with FormatError. Any other
// exception aborts, and ASan/UBSan report memory and undefined-behaviour errors.
// Built and run by scripts/sanitizers.sh (clang -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "format/rknn_file.h"

namespace fmt = rknn_fast::format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // An exact-size copy: a read one byte past the input is an ASan report.
    std::vector<uint8_t> buf(data, data + size);
    try {
        const fmt::ModelDesc m = fmt::parse_rknn(buf.data(), buf.size());
        for (bool is_input : {true, false}) {
            const size_t n = (is_input ? m.inputs : m.outputs).size();
            for (size_t i = 0; i < n; ++i) {
                for (auto kind : {fmt::AttrKind::Normal, fmt::AttrKind::Native, fmt::AttrKind::NativeNhwc}) {
                    try {
                        const fmt::RuntimeAttr a = fmt::runtime_attr(m, is_input, i, kind);
                        (void)a;
                    } catch (const fmt::FormatError&) {
                    }
                }
            }
        }
    } catch (const fmt::FormatError&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception from the reader: %s\n", e.what());
        std::abort();
    }
    return 0;
}
