// The board the emulator pretends to run on (docs/emulator.md, "Board emulation").
#pragma once

#include <stdexcept>
#include <string>

namespace rknn_fast::emulator {

// A model converted for another platform than the emulated SoC; what() is the real
// runtime's message ("This rknn model is for X, but current platform is Y").
class PlatformMismatch : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Board {
    std::string soc;     // lower case, e.g. "rk3588"; "" = unknown (take the model's platform)
    std::string source;  // "RKNN_EMU_SOC", "/proc/device-tree/compatible" or ""
};

// The SoC from RKNN_EMU_SOC, else from the device tree's compatible list (the first
// "rockchip,rkNNNN" entry), else unknown. Read at every call (each rknn_init).
Board detect_board();

// The SoC named by a device-tree compatible list (NUL-separated "vendor,model" entries), or "".
std::string soc_from_compatible(const std::string& compatible);

// Canonical SoC name of a platform or SoC name: lower case; "rk3588s" -> "rk3588".
std::string canonical_soc(const std::string& name);

// True when a model converted for `platform` runs on `soc`: the same chip, or two chips
// sharing one NPU (rk3566 and rk3568).
bool platform_runs_on(const std::string& platform, const std::string& soc);

}  // namespace rknn_fast::emulator
