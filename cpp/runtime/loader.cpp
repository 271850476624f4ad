#include "runtime/loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <vector>

namespace rknn_fast::runtime {

namespace {

constexpr const char* kEnvVar = "RKNN_FAST_RUNTIME";
constexpr const char* kSoname = "librknnrt.so";
constexpr const char* kSystemPath = "/usr/lib/librknnrt.so";

const char* install_hint() {
    return "Install librknnrt from Rockchip's RKNPU2 SDK (rknn-toolkit2: "
           "rknpu2/runtime/Linux/librknn_api/<arch>/librknnrt.so) into /usr/lib/, or point "
           "rknn_fast at it with Model(..., runtime=\"/path/to/librknnrt.so\") or "
           "RKNN_FAST_RUNTIME=/path/to/librknnrt.so; use runtime=\"emulator\" "
           "(RKNN_FAST_RUNTIME=emulator) for the bundled x86 emulator. Search order: the "
           "runtime argument, RKNN_FAST_RUNTIME, librknnrt.so through the dynamic linker "
           "(LD_LIBRARY_PATH), then /usr/lib/librknnrt.so.";
}

std::string dl_error() {
    const char* e = dlerror();
    return e ? e : "unknown dlopen error";
}

std::string real_path_of(const std::string& p) {
    char buf[PATH_MAX];
    if (realpath(p.c_str(), buf)) return buf;
    return p;
}

// Loaded libraries by resolved path. weak_ptr: a runtime is unloaded when the last
// Model using it is gone, and the same file is never opened twice at once.
std::mutex g_cache_mutex;
std::map<std::string, std::weak_ptr<const Library>>& cache() {
    static std::map<std::string, std::weak_ptr<const Library>> m;
    return m;
}

template <class Fn>
void load_symbol(void* handle, const char* name, Fn& out) {
    void* sym = dlsym(handle, name);
    // POSIX guarantees data/function pointer round trips for dlsym results.
    out = reinterpret_cast<Fn>(sym);
}

// Edit distance (insertions, deletions, substitutions) between two short strings.
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == b[j - 1];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// " Did you mean 'emulator'?" for a runtime name that is a near miss of it (not a path).
std::string emulator_typo_hint(const std::string& value) {
    if (value.find('/') != std::string::npos || value.size() > 16) return {};
    return edit_distance(value, "emulator") <= 3 ? "\nDid you mean 'emulator'?" : std::string();
}

}  // namespace

Library::Library(void* handle, std::string path, bool is_emulator)
    : handle_(handle), path_(std::move(path)), is_emulator_(is_emulator) {}

Library::~Library() {
    if (handle_) dlclose(handle_);
}

void Library::resolve() {
    load_symbol(handle_, "rknn_init", init);
    load_symbol(handle_, "rknn_destroy", destroy);
    load_symbol(handle_, "rknn_query", query);
    load_symbol(handle_, "rknn_inputs_set", inputs_set);
    load_symbol(handle_, "rknn_run", run);
    load_symbol(handle_, "rknn_wait", wait);
    load_symbol(handle_, "rknn_outputs_get", outputs_get);
    load_symbol(handle_, "rknn_outputs_release", outputs_release);
    load_symbol(handle_, "rknn_create_mem", create_mem);
    load_symbol(handle_, "rknn_create_mem_from_fd", create_mem_from_fd);
    load_symbol(handle_, "rknn_create_mem_from_phys", create_mem_from_phys);
    load_symbol(handle_, "rknn_destroy_mem", destroy_mem);
    load_symbol(handle_, "rknn_set_io_mem", set_io_mem);
    load_symbol(handle_, "rknn_dup_context", dup_context);
    load_symbol(handle_, "rknn_set_weight_mem", set_weight_mem);
    load_symbol(handle_, "rknn_set_internal_mem", set_internal_mem);

    const std::pair<const char*, bool> required[] = {
        {"rknn_init", init != nullptr},
        {"rknn_destroy", destroy != nullptr},
        {"rknn_query", query != nullptr},
        {"rknn_inputs_set", inputs_set != nullptr},
        {"rknn_run", run != nullptr},
        {"rknn_wait", wait != nullptr},
        {"rknn_outputs_get", outputs_get != nullptr},
        {"rknn_outputs_release", outputs_release != nullptr},
        {"rknn_create_mem", create_mem != nullptr},
        {"rknn_create_mem_from_fd", create_mem_from_fd != nullptr},
        {"rknn_create_mem_from_phys", create_mem_from_phys != nullptr},
        {"rknn_destroy_mem", destroy_mem != nullptr},
        {"rknn_set_io_mem", set_io_mem != nullptr},
        {"rknn_dup_context", dup_context != nullptr},
        {"rknn_set_weight_mem", set_weight_mem != nullptr},
        {"rknn_set_internal_mem", set_internal_mem != nullptr},
    };
    std::string missing;
    for (const auto& r : required) {
        if (!r.second) missing += std::string(missing.empty() ? "" : ", ") + r.first;
    }
    if (!missing.empty()) {
        throw LoadError(path_ + " is not a usable librknnrt (>= 1.3.0): missing " + missing +
                        ". " + install_hint());
    }

    load_symbol(handle_, "rknn_set_core_mask", set_core_mask);
    load_symbol(handle_, "rknn_set_batch_core_num", set_batch_core_num);
    load_symbol(handle_, "rknn_set_input_shape", set_input_shape);
    load_symbol(handle_, "rknn_set_input_shapes", set_input_shapes);
    load_symbol(handle_, "rknn_mem_sync", mem_sync);
    load_symbol(handle_, "rknn_create_mem2", create_mem2);
}

void Library::require(bool present, const char* name, const char* since,
                      const char* feature) const {
    if (present) return;
    throw NotSupportedError(std::string(feature) + " needs librknnrt >= " + since + " (" + name +
                            " is missing from " + path_ + ")");
}

std::string Library::embedded_version() const {
    // Vendor tools read the version the same way (the string is the only version ABI
    // that needs no context).
    std::ifstream f(path_, std::ios::binary);
    if (!f) return {};
    const std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::string key = "librknnrt version: ";
    const size_t at = data.find(key);
    if (at == std::string::npos) return {};
    size_t end = at + key.size();
    while (end < data.size() && data[end] != '\0' && data[end] != '\n' && end - at < 200) ++end;
    return data.substr(at + key.size(), end - at - key.size());
}

std::shared_ptr<const Library> Library::open(const std::string& explicit_path,
                                             const std::string& emulator_path) {
    struct Candidate {
        std::string name;   // what dlopen gets
        std::string why;    // where the choice came from, for messages
        bool is_emulator;
    };
    std::vector<Candidate> candidates;
    bool explicit_choice = true;
    auto pick = [&](const std::string& value, const std::string& why) {
        if (value == "emulator") {
            if (emulator_path.empty()) throw LoadError(why + " asks for the emulator, but its path is unknown");
            candidates.push_back({emulator_path, why + " = emulator", true});
        } else {
            candidates.push_back({value, why, false});
        }
    };
    const char* env = std::getenv(kEnvVar);
    if (!explicit_path.empty()) {
        pick(explicit_path, "runtime argument");
    } else if (env && *env) {
        pick(env, std::string(kEnvVar));
    } else {
        explicit_choice = false;
        candidates.push_back({kSoname, "dynamic linker", false});
        candidates.push_back({kSystemPath, "default path", false});
    }

    std::lock_guard<std::mutex> lock(g_cache_mutex);
    std::string errors;
    for (const auto& c : candidates) {
        dlerror();
        void* handle = dlopen(c.name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            errors += "\n  " + c.name + " (" + c.why + "): " + dl_error();
            continue;
        }
        std::string path = c.name;
        if (void* sym = dlsym(handle, "rknn_init")) {
            Dl_info info{};
            if (dladdr(sym, &info) && info.dli_fname) path = info.dli_fname;
        }
        path = real_path_of(path);
        auto& slot = cache()[path];
        if (auto existing = slot.lock()) {
            dlclose(handle);  // drops the extra reference; the cached handle stays valid
            return existing;
        }
        std::shared_ptr<Library> lib(new Library(handle, path, c.is_emulator));
        lib->resolve();  // throws LoadError; lib's destructor closes the handle
        slot = lib;
        return lib;
    }
    if (explicit_choice) {
        const Candidate& c = candidates.front();
        throw LoadError("could not load the runtime chosen by " + c.why + ":" + errors +
                        (c.is_emulator ? std::string() : emulator_typo_hint(c.name)) + "\n" +
                        install_hint());
    }
    throw LoadError(std::string("librknnrt not found:") + errors + "\n" + install_hint());
}

}  // namespace rknn_fast::runtime
