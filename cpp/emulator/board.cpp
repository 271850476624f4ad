#include "emulator/board.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace rknn_fast::emulator {
namespace {

std::string lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::string trim(const std::string& s) {
    size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && (std::isspace(static_cast<unsigned char>(s[b - 1])) || s[b - 1] == '\0')) --b;
    return s.substr(a, b - a);
}

// The NPU family: chips of one family run each other's models.
std::string npu_family(const std::string& soc) {
    if (soc == "rk3566" || soc == "rk3568") return "rk356x";
    return soc;
}

}  // namespace

std::string canonical_soc(const std::string& name) {
    std::string s = lower(trim(name));
    if (s == "rk3588s") s = "rk3588";
    return s;
}

std::string soc_from_compatible(const std::string& compatible) {
    size_t start = 0;
    while (start < compatible.size()) {
        size_t end = compatible.find('\0', start);
        if (end == std::string::npos) end = compatible.size();
        const std::string entry = lower(compatible.substr(start, end - start));
        start = end + 1;
        const std::string prefix = "rockchip,rk";
        if (entry.compare(0, prefix.size(), prefix) != 0) continue;
        // "rockchip,rk3588-evb1-lp4-v10" names a board; the chip is the rk<digits>[s] part.
        size_t i = prefix.size();
        while (i < entry.size() && std::isdigit(static_cast<unsigned char>(entry[i]))) ++i;
        if (i == prefix.size()) continue;
        if (i < entry.size() && entry[i] == 's') ++i;
        return canonical_soc(entry.substr(prefix.size() - 2, i - (prefix.size() - 2)));
    }
    return {};
}

Board detect_board() {
    const char* env = std::getenv("RKNN_EMU_SOC");
    if (env != nullptr && *env != '\0') return {canonical_soc(env), "RKNN_EMU_SOC"};
    std::ifstream f("/proc/device-tree/compatible", std::ios::binary);
    if (f) {
        const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const std::string soc = soc_from_compatible(text);
        if (!soc.empty()) return {soc, "/proc/device-tree/compatible"};
    }
    return {};
}

bool platform_runs_on(const std::string& platform, const std::string& soc) {
    return npu_family(canonical_soc(platform)) == npu_family(canonical_soc(soc));
}

}  // namespace rknn_fast::emulator
