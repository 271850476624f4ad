// SHA-256 (FIPS 180-4), for matching golden sets to models by content.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rknn_fast::emulator {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest sha256(const uint8_t* data, size_t size);

}  // namespace rknn_fast::emulator
