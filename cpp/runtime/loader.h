// Loads librknnrt (or the bundled emulator) with dlopen and resolves its functions.
//
// Search order (see third_party/rknpu2/README.md):
//   1. an explicit path given by the caller ("emulator" means the bundled emulator);
//   2. the RKNN_FAST_RUNTIME environment variable (a path, or "emulator");
//   3. "librknnrt.so" through the dynamic linker (LD_LIBRARY_PATH, ld.so.cache);
//   4. /usr/lib/librknnrt.so.
// An explicit choice (1 or 2) that fails is an error: there is no silent fallback to
// another runtime. The 16 functions every librknnrt since 1.3.0 exports are required (1.3.0
// renamed rknn_destory_mem to rknn_destroy_mem, so 1.2.0 and older do not load); newer ones
// (and the two the RV1106 mini runtime omits) are optional, left null when absent and
// reported by Model.runtime_functions.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "abi/rknn_abi.h"

namespace rknn_fast::runtime {

// The library could not be found/opened, or lacks a required function.
class LoadError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A feature needs a function the loaded runtime does not export.
// what(): "<feature> needs librknnrt >= <version> (rknn_xxx is missing from <path>)".
class NotSupportedError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Library {
  public:
    // Opens the runtime following the search order above. `emulator_path` is where the
    // bundled emulator lives (the Python package passes it in). Libraries are shared: the
    // same resolved path returns the same object while any user holds it.
    static std::shared_ptr<const Library> open(const std::string& explicit_path,
                                               const std::string& emulator_path);

    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    // The file actually loaded (resolved through dladdr when found by soname).
    const std::string& path() const { return path_; }
    // True when this is the bundled emulator.
    bool is_emulator() const { return is_emulator_; }
    // The "librknnrt version: X" string embedded in the library file, or "" if absent.
    std::string embedded_version() const;

    // Throws NotSupportedError when the function is absent (present == false).
    void require(bool present, const char* name, const char* since, const char* feature) const;

    // Required (present in every runtime since 1.3.0).
    rknn_init_fn init = nullptr;
    rknn_destroy_fn destroy = nullptr;
    rknn_query_fn query = nullptr;
    rknn_inputs_set_fn inputs_set = nullptr;
    rknn_run_fn run = nullptr;
    rknn_wait_fn wait = nullptr;
    rknn_outputs_get_fn outputs_get = nullptr;
    rknn_outputs_release_fn outputs_release = nullptr;
    rknn_create_mem_fn create_mem = nullptr;
    rknn_create_mem_from_fd_fn create_mem_from_fd = nullptr;
    rknn_create_mem_from_phys_fn create_mem_from_phys = nullptr;
    rknn_destroy_mem_fn destroy_mem = nullptr;
    rknn_set_io_mem_fn set_io_mem = nullptr;
    rknn_dup_context_fn dup_context = nullptr;
    rknn_set_weight_mem_fn set_weight_mem = nullptr;
    rknn_set_internal_mem_fn set_internal_mem = nullptr;

    // Optional: null when the runtime is too old (or is the mini runtime).
    rknn_set_core_mask_fn set_core_mask = nullptr;          // not in librknnmrt
    rknn_set_batch_core_num_fn set_batch_core_num = nullptr;  // not in librknnmrt
    rknn_set_input_shape_fn set_input_shape = nullptr;       // >= 1.5.0
    rknn_set_input_shapes_fn set_input_shapes = nullptr;     // >= 1.5.2
    rknn_mem_sync_fn mem_sync = nullptr;                     // >= 1.6.0
    rknn_create_mem2_fn create_mem2 = nullptr;               // >= 2.0.0b0

  private:
    Library(void* handle, std::string path, bool is_emulator);
    void resolve();

    void* handle_ = nullptr;
    std::string path_;
    bool is_emulator_ = false;
};

}  // namespace rknn_fast::runtime
