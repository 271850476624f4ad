// Process-wide state of the emulator that is not tied to one context: settings (from
// RKNN_EMU_* environment variables and rknn_emulator_control), counters, armed faults and
// the log. Everything here is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace rknn_fast::emulator {

// The API functions, for per-function call counts and faults.
enum class Api : int {
    init, dup_context, destroy, query, inputs_set, set_batch_core_num, set_core_mask, run, wait,
    outputs_get, outputs_release, create_mem_from_phys, create_mem_from_fd, create_mem, create_mem2,
    destroy_mem, set_weight_mem, set_internal_mem, set_io_mem,
    set_input_shape, set_input_shapes, mem_sync, count_
};
constexpr int kApiCount = static_cast<int>(Api::count_);
const char* api_name(Api api);

struct Counters {
    std::atomic<uint64_t> calls[kApiCount] = {};
    std::atomic<uint64_t> inputs_set_bytes{0};   // bytes read from caller buffers by inputs_set
    std::atomic<uint64_t> outputs_get_bytes{0};  // bytes written to output buffers by outputs_get
    std::atomic<uint64_t> io_mem_input_bytes{0};   // bytes the "NPU" read from bound input mems
    std::atomic<uint64_t> io_mem_output_bytes{0};  // bytes the "NPU" wrote to bound output mems
    std::atomic<uint64_t> mem_sync_calls{0};
    std::atomic<uint64_t> mem_sync_to_device{0};
    std::atomic<uint64_t> mem_sync_from_device{0};
    std::atomic<uint64_t> runs{0};          // runs that reached the NPU queue
    std::atomic<uint64_t> runs_failed{0};   // runs ending in an error (faults included)
    std::atomic<uint64_t> golden_runs{0};   // runs answered from a golden record
    std::atomic<uint64_t> synthetic_runs{0};
    std::atomic<uint64_t> skipped_runs{0};
    std::atomic<uint64_t> model_parses{0};  // .rknn files parsed (dup_context parses nothing)
    std::atomic<uint64_t> core_runs[3] = {};
    std::atomic<int64_t> concurrent_runs{0};
    std::atomic<int64_t> max_concurrent_runs{0};
    std::atomic<uint64_t> last_input_hash{0};
    std::atomic<int64_t> last_golden_record{-1};

    void reset();
};

// One armed fault: the `at`-th call of `api` from now, and the `count - 1` after it, fail.
struct Fault {
    Api api = Api::run;
    uint64_t at = 1;     // 1-based position among calls of `api` counted since arming
    uint64_t count = 1;  // consecutive failing calls
    int code = -1;
    bool timeout = false;  // run hangs `hang_ms` and then fails with RKNN_ERR_TIMEOUT
    int64_t hang_ms = 1000;
    uint64_t seen = 0;   // calls of `api` since arming
};

struct FaultHit {
    bool hit = false;
    int code = 0;
    bool timeout = false;
    int64_t hang_ms = 0;
};

class Emulator {
  public:
    static Emulator& get();

    Counters counters;

    // Settings.
    int64_t npu_time_us() const { return npu_time_us_.load(); }
    int log_level() const { return log_level_.load(); }
    bool skip_compute() const { return skip_compute_.load(); }
    std::string golden_override() const;  // golden path for models given as bytes ("" = none)

    // Checks armed faults for one call of `api`.
    FaultHit check_fault(Api api);

    // Executes a control command (see docs/emulator.md); fills `reply`. Returns 0 or
    // RKNN_ERR_PARAM_INVALID (with an error text in `reply`).
    int control(const std::string& command, std::string& reply);

    void log_error(const std::string& message) const;
    void log_warning(const std::string& message) const;  // shown at the default level (1)
    void log_info(const std::string& message) const;

  private:
    Emulator();
    void load_environment();
    int arm_fault(const std::vector<std::string>& words, std::string& reply);
    std::string counters_json() const;
    std::string config_json();

    std::atomic<int64_t> npu_time_us_{0};
    std::atomic<int> log_level_{1};
    std::atomic<bool> skip_compute_{false};
    mutable std::mutex mutex_;  // guards the fields below
    std::string golden_override_;
    bool golden_override_set_ = false;
    std::vector<Fault> faults_;
};

// Call counting, bracketed by each API entry point.
inline void count_call(Api api) {
    Emulator::get().counters.calls[static_cast<int>(api)].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace rknn_fast::emulator
