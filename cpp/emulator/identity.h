// What the emulator says it is. The strings have the shape of a real runtime's, so that
// clients parsing them (RKNNLite splits the API version on '.', vendor tools read the
// "librknnrt version: " string out of the library file) handle the emulator like a board:
//   version  "x.y.z (<build>@<date>)"  with no '.' after "x.y.z".
// The <build> field names the emulator instead of a git hash.
#pragma once

// The runtime API level the emulator implements (the SDK header it follows).
#define RKNN_EMU_API_LEVEL "2.3.2"
// Where the real runtime puts its git hash and build date: the emulator names itself (no
// version number here: RKNNLite fails on a fourth "." in the string).
#define RKNN_EMU_BUILD "rknnfast_emulator@2026-12-01T00:00:00"

namespace rknn_fast::emulator {

// rknn_sdk_version.api_version.
inline constexpr const char* kApiVersion = RKNN_EMU_API_LEVEL " (" RKNN_EMU_BUILD ")";
// rknn_sdk_version.drv_version: the NPU kernel driver the emulator pretends to talk to.
inline constexpr const char* kDriverVersion = "0.9.8 (" RKNN_EMU_BUILD ")";
// The string embedded in the library file (see identity.cpp).
inline constexpr const char* kEmbeddedVersionPrefix = "librknnrt version: ";

}  // namespace rknn_fast::emulator
