// Contexts, tensor memory and the NPU core queues of the emulated runtime.
//
// Handles: a context is an opaque number looked up in a registry (so a stale or random
// handle is RKNN_ERR_CTX_INVALID, never a dangling pointer); a rknn_tensor_mem* is looked up
// the same way. Every API call on a context holds that context's mutex. A run executes on
// the caller's thread, or on a worker thread for non-blocking runs and runs with a timeout;
// the worker touches only its RunJob, the shared immutable Model, memory records it holds by
// shared_ptr and the core scheduler, so the context can be used (and destroyed, which joins
// the worker) meanwhile.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "abi/rknn_abi.h"
#include "emulator/model.h"
#include "emulator/state.h"
#include "emulator/tensor_codec.h"

namespace rknn_fast::emulator {

// Memory behind one rknn_tensor_mem. Mapping and fd are released when the last owner
// (the registry entry or a binding) lets go, so destroying a still-bound mem cannot leave a
// context writing to unmapped memory.
struct MemRecord {
    uint8_t* data = nullptr;  // virt_addr + offset
    size_t size = 0;          // bytes available at data
    void* map_base = nullptr; // our own mapping (munmap'ed at the end), if any
    size_t map_len = 0;
    int owned_fd = -1;        // our own memfd (closed at the end), if any

    MemRecord() = default;
    MemRecord(const MemRecord&) = delete;
    MemRecord& operator=(const MemRecord&) = delete;
    ~MemRecord();
};

// A tensor bound to memory by rknn_set_io_mem.
struct Binding {
    std::shared_ptr<MemRecord> mem;
    Layout layout;
    Encoding encoding;
    bool pass_through = false;
    bool quantised = false;  // input in the model's own quantised type (given_as_quantised)
    size_t bytes = 0;
};

// One inference. Filled by rknn_run, completed by whoever executes it.
struct RunJob {
    std::shared_ptr<const Model> model;
    uint64_t frame_id = 0;
    uint32_t core_mask = 0;
    int64_t npu_time_us = 0;
    FaultHit fault;
    std::vector<std::vector<uint8_t>> inputs;       // model-domain bytes per input
    std::vector<std::optional<Binding>> out_bindings;
    // skip_compute: the outputs of the context's previous run, returned again without work.
    std::shared_ptr<const std::vector<std::vector<uint8_t>>> reused_outputs;

    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    int rc = RKNN_SUCC;
    // Model-domain bytes per output (shared, so that skip_compute runs can reuse them).
    std::shared_ptr<const std::vector<std::vector<uint8_t>>> outputs;
    int64_t run_duration_us = 0;
    uint32_t cores_used = 0;
    int golden_record = -1;
    // The context's handle and its "synthetic outputs already logged" flag (shared with it,
    // so a worker outliving the context never touches freed memory).
    rknn_context context = 0;
    std::shared_ptr<std::atomic<bool>> synthetic_logged;

    std::thread worker;

    ~RunJob();
    void execute();  // runs the job to completion (on any thread)
    // Waits for completion; timeout_ms <= 0 waits forever. False on timeout.
    bool wait_done(int64_t timeout_ms);
};

struct Context {
    std::mutex mutex;  // held by every API call on this context
    rknn_context handle = 0;
    std::shared_ptr<const Model> model;
    uint32_t flags = 0;
    uint32_t core_mask = RKNN_NPU_CORE_AUTO;
    int batch_core_num = 0;
    std::vector<std::vector<uint8_t>> inputs;  // model-domain bytes set by rknn_inputs_set
    std::vector<std::optional<Binding>> in_bindings;
    std::vector<std::optional<Binding>> out_bindings;
    std::shared_ptr<RunJob> job;       // latest run
    std::shared_ptr<RunJob> prev_job;  // the one before (RKNN_FLAG_ASYNC_MASK)
    uint64_t next_frame = 0;
    std::set<void*> output_buffers;  // runtime-owned buffers handed out by rknn_outputs_get
    std::shared_ptr<MemRecord> weight_mem;
    std::shared_ptr<MemRecord> internal_mem;
    std::string perf_detail;  // runtime-owned string of RKNN_QUERY_PERF_DETAIL
    // Set by the first run whose outputs are synthetic (logged once per context).
    std::shared_ptr<std::atomic<bool>> synthetic_logged = std::make_shared<std::atomic<bool>>(false);

    ~Context();
    // Waits for the worker threads of past runs (with the context mutex held).
    void finish_jobs();
};

// Registry of live contexts.
class Contexts {
  public:
    static Contexts& get();
    rknn_context add(std::shared_ptr<Context> ctx);
    std::shared_ptr<Context> find(rknn_context handle);
    std::shared_ptr<Context> remove(rknn_context handle);
    size_t live();

  private:
    std::mutex mutex_;
    std::unordered_map<rknn_context, std::shared_ptr<Context>> map_;
    rknn_context next_ = 0x1000;
};

// Registry of rknn_tensor_mem structs handed out by rknn_create_mem*.
class Mems {
  public:
    static Mems& get();
    rknn_tensor_mem* add(std::shared_ptr<MemRecord> record, const rknn_tensor_mem& fields);
    std::shared_ptr<MemRecord> find(const rknn_tensor_mem* mem);
    bool remove(rknn_tensor_mem* mem);  // frees the struct
    size_t live();

  private:
    std::mutex mutex_;
    std::unordered_map<const rknn_tensor_mem*, std::shared_ptr<MemRecord>> map_;
};

// One queue per NPU core: a run holds its cores for its emulated NPU time, so runs on the
// same core serialise and runs on different cores overlap.
class CoreScheduler {
  public:
    static CoreScheduler& get();
    // Blocks until the cores of `core_mask` are free (AUTO: any one core among the first
    // `platform_cores`; ALL: all of them) and takes them. Returns the taken bits.
    uint32_t acquire(uint32_t core_mask, int platform_cores);
    void release(uint32_t bits);

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    uint32_t busy_ = 0;
};

}  // namespace rknn_fast::emulator
