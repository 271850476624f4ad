// Reader of golden sets (docs/golden-format.md): recorded input/output pairs replayed by
// the emulator. Every length is checked against the file size; a malformed file throws
// GoldenError naming the problem and the byte offset.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace rknn_fast::emulator {

class GoldenError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct GoldenTensor {
    int32_t type = 0;  // rknn_tensor_type
    int32_t fmt = 0;   // rknn_tensor_format
    std::vector<uint32_t> dims;
    std::vector<uint8_t> data;  // C-order elements
};

struct GoldenRecord {
    std::vector<GoldenTensor> inputs;
    std::vector<GoldenTensor> outputs;
};

std::vector<GoldenRecord> parse_golden(const uint8_t* data, size_t size);
std::vector<GoldenRecord> read_golden_file(const std::string& path);

}  // namespace rknn_fast::emulator
