// A loaded model: the context, every attribute queried once at open, and the two ways
// of running it.
//
// * Copy path: rknn_inputs_set from the caller's buffers (the runtime's one input copy) and
//   rknn_outputs_get into caller-preallocated buffers (its one output copy).
// * Bound (zero-copy) path: runtime-allocated or imported buffers bound once with
//   rknn_set_io_mem; a run is rknn_run plus cache syncs, nothing is copied.
//
// Every public method takes the session mutex, so one Session may be shared by threads;
// runs are serialised (a context runs one inference at a time anyway).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <mutex>
#include <string>
#include <vector>

#include "abi/rknn_abi.h"
#include "runtime/context.h"
#include "runtime/loader.h"

namespace rknn_fast::runtime {

enum class AttrKind { Normal = 0, Native = 1, NativeNhwc = 2 };

// A run or bind after Session::close().
class ClosedError : public std::logic_error {
  public:
    ClosedError() : std::logic_error("the Model is closed") {}
};

struct InputData {
    const void* data = nullptr;
    size_t size = 0;
    rknn_tensor_type type = RKNN_TENSOR_UINT8;
    rknn_tensor_format fmt = RKNN_TENSOR_NHWC;
    bool pass_through = false;
};

struct OutputData {
    void* data = nullptr;
    size_t size = 0;
    bool want_float = false;
};

struct BenchResult {
    std::vector<double> latency_us;  // wall time of each timed run (set + run + get)
    std::vector<int64_t> npu_us;     // RKNN_QUERY_PERF_RUN after each run (-1 if unavailable)
    std::string perf_detail;         // RKNN_QUERY_PERF_DETAIL after the last run ("" if off)
};

class Session {
  public:
    Session(std::shared_ptr<const Library> lib, const void* model, size_t size, const std::string& path,
            uint32_t flags);
    // A new context sharing this one's weights (rknn_dup_context); when the runtime lacks
    // rknn_dup_context, `model`/`size`/`path` are loaded again with rknn_init instead.
    // Nothing of this session (bindings, core mask) is carried over.
    std::shared_ptr<Session> duplicate(const void* model, size_t size, const std::string& path);

    const Library& lib() const { return *lib_; }
    uint32_t flags() const { return flags_; }
    size_t n_inputs() const { return in_[0].size(); }
    size_t n_outputs() const { return out_[0].size(); }
    // kind NativeNhwc may be unavailable (has_attr false): then it mirrors Native.
    const rknn_tensor_attr& attr(bool input, AttrKind kind, size_t i) const;
    bool has_attr(bool input, AttrKind kind, size_t i) const;

    const std::string& api_version() const { return api_version_; }
    const std::string& driver_version() const { return drv_version_; }
    const std::string& custom_string() const { return custom_string_; }
    const rknn_mem_size& mem_size() const { return mem_size_; }
    bool has_mem_size() const { return has_mem_size_; }

    void set_core_mask(uint32_t mask);
    void set_batch_core_num(int n);

    // Copy path; returns the frame id of the run.
    uint64_t run_copy(const std::vector<InputData>& inputs, std::vector<OutputData>& outputs);

    // Zero-copy: binds a new runtime buffer of `bytes` to input/output i, described by
    // `attr` (one of this session's attrs, possibly with type/fmt/pass_through changed).
    std::shared_ptr<TensorMem> bind(bool input, size_t i, const rknn_tensor_attr& attr, size_t bytes);
    // Binds a caller's dma-buf (fd, size, offset) to input i.
    std::shared_ptr<TensorMem> bind_fd(size_t i, const rknn_tensor_attr& attr, int fd, size_t size,
                                       size_t offset);
    bool all_bound() const;
    // rknn_run on the bound buffers, with the cache syncs cacheable buffers need. `before`
    // and `after` (optional) run under the session mutex right before the input syncs and
    // right after the output syncs, so that writing inputs / converting outputs is atomic
    // with the run for threads sharing the session. Their time is not runtime time.
    uint64_t run_bound(const std::function<void()>& before = {}, const std::function<void()>& after = {});

    // Marks the session closed (later runs, binds and queries throw ClosedError) and drops the
    // session's references to the context and its bound buffers: the context is destroyed
    // now, or when the last buffer handed out (a zero-copy view) goes.
    void close();
    bool closed() const { return closed_.load(); }

    int64_t perf_run_us();       // -1 when the runtime does not report it
    std::string perf_detail();   // "" when collection is off

    BenchResult benchmark(size_t n, size_t warmup, bool bound, const std::vector<InputData>& inputs,
                          std::vector<OutputData>& outputs, bool npu_time);

    uint64_t last_frame_id() const { return last_frame_id_; }
    // Wall time of the last run_copy/run_bound inside the runtime (set/run/get or syncs+run),
    // in nanoseconds: what a caller's own measurement minus this is the binding's overhead.
    int64_t last_runtime_ns() const { return last_runtime_end_ns_ - last_runtime_start_ns_; }
    // steady_clock (CLOCK_MONOTONIC) nanoseconds at which the runtime calls of the last run
    // started and ended; comparable with Python's time.perf_counter_ns() / time.monotonic_ns().
    int64_t last_runtime_start_ns() const { return last_runtime_start_ns_; }
    int64_t last_runtime_end_ns() const { return last_runtime_end_ns_; }

  private:
    Session(std::shared_ptr<Context> ctx, uint32_t flags);
    void query_attrs();
    uint64_t run_copy_locked(const std::vector<InputData>& inputs, std::vector<OutputData>& outputs);
    uint64_t run_bound_locked(const std::function<void()>& before, const std::function<void()>& after);
    void check_open() const {
        if (closed_.load()) throw ClosedError();
    }
    int64_t perf_run_locked();
    void set_io_locked(bool input, size_t i, std::shared_ptr<TensorMem> mem, const rknn_tensor_attr& attr);

    std::shared_ptr<Context> ctx_;  // null once closed
    std::shared_ptr<const Library> lib_;
    uint32_t flags_;
    std::mutex mutex_;
    // [kind][index], kind = AttrKind
    std::vector<rknn_tensor_attr> in_[3], out_[3];
    std::vector<bool> in_has_[3], out_has_[3];
    std::vector<std::shared_ptr<TensorMem>> in_mem_, out_mem_;
    std::vector<rknn_input> input_structs_;
    std::vector<rknn_output> output_structs_;
    std::string api_version_, drv_version_, custom_string_;
    rknn_mem_size mem_size_{};
    bool has_mem_size_ = false;
    uint64_t last_frame_id_ = 0;
    int64_t last_runtime_start_ns_ = 0, last_runtime_end_ns_ = 0;
    std::atomic<bool> closed_{false};
};

}  // namespace rknn_fast::runtime
