// Reader of golden sets (docs/golden-format.md): recorded input/output pairs replayed by
// the emulator. Every length is checked against the file size; a malformed file throws
// GoldenError naming the problem and the byte offset.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/sha256.h"

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

// Header flag bit 0: the SHA-256 of the model file (32 bytes) follows the 24-byte header.
constexpr uint32_t kGoldenFlagFingerprint = 1u;

std::vector<GoldenRecord> parse_golden(const uint8_t* data, size_t size);
std::vector<GoldenRecord> read_golden_file(const std::string& path);

// Reads only the header of a golden file. Returns false when the file cannot be read or is
// not a golden set; otherwise `has_fingerprint` tells whether `fingerprint` was filled.
bool read_golden_fingerprint(const std::string& path, bool& has_fingerprint, Sha256Digest& fingerprint);

// Where rknn_init finds the golden set of a model (docs/golden-format.md), first match wins:
//   1. `<model>.golden` beside a model given by path, when it has no fingerprint (older
//      files) or its fingerprint equals the model's;
//   2. any fingerprinted `*.golden` in the model's directory whose fingerprint matches;
//   3. each entry of `search_path` (`:`-separated directories and files, the value of
//      RKNN_EMU_GOLDEN_PATH) in order, a directory's `*.golden` files in name order: the
//      first with a matching fingerprint.
// `model_path` is "" for a model given as bytes. `fingerprint` is computed on demand (only
// when a fingerprinted candidate exists). `note` receives one line per skipped candidate.
// Returns "" when nothing matches.
std::string find_golden(const std::string& model_path, const std::string& search_path,
                        const std::function<Sha256Digest()>& fingerprint,
                        const std::function<void(const std::string&)>& note);

}  // namespace rknn_fast::emulator
