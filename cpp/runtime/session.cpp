#include "runtime/session.h"

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace rknn_fast::runtime {

namespace {

std::string c_string(const char* s, size_t max) {
    size_t n = 0;
    while (n < max && s[n]) ++n;
    return std::string(s, n);
}

}  // namespace

Session::Session(std::shared_ptr<const Library> lib, const void* model, size_t size, const std::string& path,
                 uint32_t flags)
    : ctx_(std::make_shared<Context>(std::move(lib), model, size, path, flags)), lib_(ctx_->lib_ptr()), flags_(flags) {
    query_attrs();
}

Session::Session(std::shared_ptr<Context> ctx, uint32_t flags)
    : ctx_(std::move(ctx)), lib_(ctx_->lib_ptr()), flags_(flags) {
    query_attrs();
}

std::shared_ptr<Session> Session::duplicate(const void* model, size_t size, const std::string& path) {
    std::shared_ptr<Context> ctx;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        check_open();
        if (lib_->dup_context != nullptr) ctx = std::make_shared<Context>(lib_, ctx_->handle());
    }
    if (!ctx) ctx = std::make_shared<Context>(lib_, model, size, path, flags_);
    return std::shared_ptr<Session>(new Session(std::move(ctx), flags_));
}

void Session::query_attrs() {
    rknn_input_output_num io{};
    Context::check(ctx_->query(RKNN_QUERY_IN_OUT_NUM, io), "rknn_query(RKNN_QUERY_IN_OUT_NUM)");
    const rknn_query_cmd in_cmds[3] = {RKNN_QUERY_INPUT_ATTR, RKNN_QUERY_NATIVE_INPUT_ATTR,
                                       RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR};
    const rknn_query_cmd out_cmds[3] = {RKNN_QUERY_OUTPUT_ATTR, RKNN_QUERY_NATIVE_OUTPUT_ATTR,
                                        RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR};
    const char* in_names[3] = {"rknn_query(RKNN_QUERY_INPUT_ATTR)", "rknn_query(RKNN_QUERY_NATIVE_INPUT_ATTR)",
                               "rknn_query(RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR)"};
    const char* out_names[3] = {"rknn_query(RKNN_QUERY_OUTPUT_ATTR)",
                                "rknn_query(RKNN_QUERY_NATIVE_OUTPUT_ATTR)",
                                "rknn_query(RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR)"};
    auto fill = [&](std::vector<rknn_tensor_attr>* attrs, std::vector<bool>* has, uint32_t n,
                    const rknn_query_cmd* cmds, const char* const* names) {
        for (int k = 0; k < 3; ++k) {
            attrs[k].assign(n, rknn_tensor_attr{});
            has[k].assign(n, false);
            for (uint32_t i = 0; i < n; ++i) {
                rknn_tensor_attr a{};
                a.index = i;
                const int rc = ctx_->query(cmds[k], a);
                if (rc < 0 && k < 2) Context::check(rc, names[k]);  // NHWC variants are optional
                if (rc < 0) a = attrs[1][i];
                attrs[k][i] = a;
                has[k][i] = rc >= 0;
            }
        }
    };
    fill(in_, in_has_, io.n_input, in_cmds, in_names);
    fill(out_, out_has_, io.n_output, out_cmds, out_names);
    in_mem_.resize(io.n_input);
    out_mem_.resize(io.n_output);

    // Informational queries: a runtime that cannot answer them is still usable.
    rknn_sdk_version ver{};
    if (ctx_->query(RKNN_QUERY_SDK_VERSION, ver) >= 0) {
        api_version_ = c_string(ver.api_version, sizeof ver.api_version);
        drv_version_ = c_string(ver.drv_version, sizeof ver.drv_version);
    }
    has_mem_size_ = ctx_->query(RKNN_QUERY_MEM_SIZE, mem_size_) >= 0;
    rknn_custom_string custom{};
    if (ctx_->query(RKNN_QUERY_CUSTOM_STRING, custom) >= 0) {
        custom_string_ = c_string(custom.string, sizeof custom.string);
    }

    input_structs_.assign(io.n_input, rknn_input{});
    output_structs_.assign(io.n_output, rknn_output{});
}

const rknn_tensor_attr& Session::attr(bool input, AttrKind kind, size_t i) const {
    const auto& v = input ? in_[static_cast<int>(kind)] : out_[static_cast<int>(kind)];
    if (i >= v.size()) throw std::out_of_range("tensor index " + std::to_string(i) + " out of range");
    return v[i];
}

bool Session::has_attr(bool input, AttrKind kind, size_t i) const {
    const auto& v = input ? in_has_[static_cast<int>(kind)] : out_has_[static_cast<int>(kind)];
    return i < v.size() && v[i];
}

void Session::close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_.store(true);
    in_mem_.clear();
    out_mem_.clear();
    ctx_.reset();
}

void Session::set_core_mask(uint32_t mask) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    lib().require(lib().set_core_mask != nullptr, "rknn_set_core_mask", "1.2.0 (not librknnmrt)",
                  "core_mask");
    Context::check(lib().set_core_mask(ctx_->handle(), static_cast<rknn_core_mask>(mask)), "rknn_set_core_mask");
}

void Session::set_batch_core_num(int n) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    lib().require(lib().set_batch_core_num != nullptr, "rknn_set_batch_core_num",
                  "1.3.0 (not librknnmrt)", "batch_core_num");
    Context::check(lib().set_batch_core_num(ctx_->handle(), n), "rknn_set_batch_core_num");
}

namespace {
int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

uint64_t Session::run_copy(const std::vector<InputData>& inputs, std::vector<OutputData>& outputs) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    last_runtime_start_ns_ = now_ns();
    const uint64_t id = run_copy_locked(inputs, outputs);
    last_runtime_end_ns_ = now_ns();
    return id;
}

uint64_t Session::run_copy_locked(const std::vector<InputData>& inputs, std::vector<OutputData>& outputs) {
    if (inputs.size() != input_structs_.size() || outputs.size() != output_structs_.size()) {
        throw std::invalid_argument("run_copy: wrong number of inputs or outputs");
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
        rknn_input& in = input_structs_[i];
        in.index = static_cast<uint32_t>(i);
        in.buf = const_cast<void*>(inputs[i].data);  // the runtime only reads it
        in.size = static_cast<uint32_t>(inputs[i].size);
        in.pass_through = inputs[i].pass_through ? 1 : 0;
        in.type = inputs[i].type;
        in.fmt = inputs[i].fmt;
    }
    const Library& l = lib();
    const rknn_context h = ctx_->handle();
    Context::check(l.inputs_set(h, static_cast<uint32_t>(inputs.size()), input_structs_.data()), "rknn_inputs_set");
    rknn_run_extend ext{};
    Context::check(l.run(h, &ext), "rknn_run");
    for (size_t i = 0; i < outputs.size(); ++i) {
        rknn_output& o = output_structs_[i];
        o.index = static_cast<uint32_t>(i);
        o.want_float = outputs[i].want_float ? 1 : 0;
        o.is_prealloc = 1;
        o.buf = outputs[i].data;
        o.size = static_cast<uint32_t>(outputs[i].size);
    }
    Context::check(l.outputs_get(h, static_cast<uint32_t>(outputs.size()), output_structs_.data(), nullptr),
                   "rknn_outputs_get");
    // Preallocated buffers stay ours; release only lets the runtime drop its bookkeeping.
    l.outputs_release(h, static_cast<uint32_t>(outputs.size()), output_structs_.data());
    last_frame_id_ = ext.frame_id;
    return ext.frame_id;
}

void Session::set_io_locked(bool input, size_t i, std::shared_ptr<TensorMem> mem, const rknn_tensor_attr& attr) {
    rknn_tensor_attr a = attr;
    a.index = static_cast<uint32_t>(i);
    Context::check(lib().set_io_mem(ctx_->handle(), mem->mem(), &a), "rknn_set_io_mem");
    // Replacing a binding frees the previous buffer only after the runtime stopped using it.
    (input ? in_mem_ : out_mem_)[i] = std::move(mem);
}

std::shared_ptr<TensorMem> Session::bind(bool input, size_t i, const rknn_tensor_attr& attr, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    if (i >= (input ? in_mem_.size() : out_mem_.size())) throw std::out_of_range("tensor index out of range");
    auto mem = TensorMem::allocate(ctx_, bytes, /*cacheable=*/true);
    set_io_locked(input, i, mem, attr);
    return mem;
}

std::shared_ptr<TensorMem> Session::bind_fd(size_t i, const rknn_tensor_attr& attr, int fd, size_t size,
                                            size_t offset) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    if (i >= in_mem_.size()) throw std::out_of_range("input index out of range");
    auto mem = TensorMem::from_fd(ctx_, fd, size, offset);
    set_io_locked(true, i, mem, attr);
    return mem;
}

bool Session::all_bound() const {
    for (const auto& m : in_mem_)
        if (!m) return false;
    for (const auto& m : out_mem_)
        if (!m) return false;
    return true;
}

uint64_t Session::run_bound(const std::function<void()>& before, const std::function<void()>& after) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    return run_bound_locked(before, after);
}

uint64_t Session::run_bound_locked(const std::function<void()>& before, const std::function<void()>& after) {
    if (!all_bound()) throw std::logic_error("run_bound: not every input and output is bound");
    if (before) before();
    const Library& l = lib();
    const rknn_context h = ctx_->handle();
    last_runtime_start_ns_ = now_ns();
    for (const auto& m : in_mem_) {
        if (m->needs_sync()) Context::check(l.mem_sync(h, m->mem(), RKNN_MEMORY_SYNC_TO_DEVICE), "rknn_mem_sync");
    }
    rknn_run_extend ext{};
    Context::check(l.run(h, &ext), "rknn_run");
    for (const auto& m : out_mem_) {
        if (m->needs_sync()) Context::check(l.mem_sync(h, m->mem(), RKNN_MEMORY_SYNC_FROM_DEVICE), "rknn_mem_sync");
    }
    last_runtime_end_ns_ = now_ns();
    last_frame_id_ = ext.frame_id;
    if (after) after();
    return ext.frame_id;
}

int64_t Session::perf_run_locked() {
    rknn_perf_run perf{};
    if (ctx_->query(RKNN_QUERY_PERF_RUN, perf) < 0) return -1;
    return perf.run_duration;
}

int64_t Session::perf_run_us() {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    return perf_run_locked();
}

std::string Session::perf_detail() {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    if (!(flags_ & RKNN_FLAG_COLLECT_PERF_MASK)) return {};
    rknn_perf_detail d{};
    if (ctx_->query(RKNN_QUERY_PERF_DETAIL, d) < 0 || !d.perf_data) return {};
    return c_string(d.perf_data, static_cast<size_t>(d.data_len));
}

BenchResult Session::benchmark(size_t n, size_t warmup, bool bound, const std::vector<InputData>& inputs,
                               std::vector<OutputData>& outputs, bool npu_time) {
    std::lock_guard<std::mutex> lock(mutex_);
    check_open();
    BenchResult r;
    r.latency_us.reserve(n);
    if (npu_time) r.npu_us.reserve(n);
    using clock = std::chrono::steady_clock;
    for (size_t k = 0; k < warmup + n; ++k) {
        const auto t0 = clock::now();
        if (bound) {
            run_bound_locked({}, {});
        } else {
            run_copy_locked(inputs, outputs);
        }
        const auto t1 = clock::now();
        if (k < warmup) continue;
        r.latency_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        if (npu_time) r.npu_us.push_back(perf_run_locked());
    }
    if (flags_ & RKNN_FLAG_COLLECT_PERF_MASK) {
        rknn_perf_detail d{};
        if (ctx_->query(RKNN_QUERY_PERF_DETAIL, d) >= 0 && d.perf_data) {
            r.perf_detail = c_string(d.perf_data, static_cast<size_t>(d.data_len));
        }
    }
    return r;
}

}  // namespace rknn_fast::runtime
