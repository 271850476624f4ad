#include "emulator/context.h"

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

namespace rknn_fast::emulator {

MemRecord::~MemRecord() {
    if (map_base != nullptr) munmap(map_base, map_len);
    if (owned_fd >= 0) close(owned_fd);
}

RunJob::~RunJob() {
    if (worker.joinable()) worker.join();
}

bool RunJob::wait_done(int64_t timeout_ms) {
    {
        std::unique_lock<std::mutex> lock(mutex);
        if (timeout_ms > 0) {
            if (!cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return done; })) {
                return false;
            }
        } else {
            cv.wait(lock, [this] { return done; });
        }
    }
    if (worker.joinable() && worker.get_id() != std::this_thread::get_id()) worker.join();
    return true;
}

namespace {

void note_concurrency(Counters& c) {
    const int64_t now = c.concurrent_runs.fetch_add(1) + 1;
    int64_t seen = c.max_concurrent_runs.load();
    while (now > seen && !c.max_concurrent_runs.compare_exchange_weak(seen, now)) {
    }
}

// Outputs that depend only on the model-domain input bytes: a test can tell which input
// reached the "NPU" (docs/emulator.md gives the algorithm).
std::vector<uint8_t> synthetic_output(const TensorModel& t, uint64_t input_hash, size_t index) {
    std::vector<uint8_t> bytes(t.model_bytes());
    const size_t esz = codec_type_size(t.encoding.type);
    uint64_t state = input_hash ^ (0x9e3779b97f4a7c15ull * (index + 1));
    Encoding raw;
    raw.type = t.encoding.type;
    for (size_t i = 0; i < t.n_elems; ++i) {
        const uint64_t r = splitmix64(state);
        uint8_t* p = bytes.data() + i * esz;
        switch (t.encoding.type) {
            case RKNN_TENSOR_FLOAT32:
            case RKNN_TENSOR_FLOAT16:
            case RKNN_TENSOR_BFLOAT16:
                store_value(p, raw, static_cast<float>(static_cast<double>(r >> 11) * 0x1p-52 - 1.0));
                break;
            case RKNN_TENSOR_UINT8:
            case RKNN_TENSOR_UINT16:
            case RKNN_TENSOR_UINT32: store_value(p, raw, static_cast<float>(r & 0xffu)); break;
            case RKNN_TENSOR_BOOL: store_value(p, raw, static_cast<float>(r & 1u)); break;
            default:  // signed integers: the int8 range
                store_value(p, raw, static_cast<float>(static_cast<int>(r & 0xffu) - 128));
                break;
        }
    }
    return bytes;
}

// The one line a context logs at the default level when its first synthetic run happens: the
// outputs are not what the model computes, and a reader of the log should know why.
void note_synthetic(const Emulator& emu, const RunJob& job) {
    std::ostringstream o;
    o << "context 0x" << std::hex << job.context << std::dec << " (" << job.model->platform << " model";
    if (job.model->golden_path.empty()) {
        o << ", no golden set";
    } else {
        o << ", golden set " << job.model->golden_path << " with " << job.model->golden.size() << " record(s)";
    }
    o << "): no recorded input matches this one, so the outputs are synthetic (deterministic values "
         "derived from the input bytes, not what the model computes). Record the real outputs for this "
         "input with rknn_fast.golden.write_golden to replay them. Logged once per context.";
    emu.log_warning(o.str());
}

}  // namespace

void RunJob::execute() {
    Emulator& emu = Emulator::get();
    Counters& counters = emu.counters;
    counters.runs.fetch_add(1);

    const uint32_t bits = CoreScheduler::get().acquire(core_mask, model->npu_cores);
    note_concurrency(counters);
    for (int core = 0; core < 3; ++core) {
        if (bits & (1u << core)) counters.core_runs[core].fetch_add(1);
    }
    int64_t busy_us = npu_time_us;
    if (fault.timeout) busy_us += fault.hang_ms * 1000;
    if (busy_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(busy_us));
    counters.concurrent_runs.fetch_sub(1);
    CoreScheduler::get().release(bits);

    int result = RKNN_SUCC;
    std::vector<std::vector<uint8_t>> produced;
    int record = -1;
    if (fault.timeout) {
        result = RKNN_ERR_TIMEOUT;
        emu.log_error("rknn_run: frame " + std::to_string(frame_id) + " timed out (injected fault)");
    } else if (reused_outputs) {
        counters.skipped_runs.fetch_add(1);  // skip_compute: bound outputs keep their contents
    } else {
        uint64_t hash = 0xcbf29ce484222325ull;
        for (const auto& in : inputs) hash = fnv1a64(in.data(), in.size(), hash);
        counters.last_input_hash = hash;
        for (size_t r = 0; r < model->golden.size() && record < 0; ++r) {
            if (model->golden[r].inputs == inputs) record = static_cast<int>(r);
        }
        if (record >= 0) {
            produced = model->golden[static_cast<size_t>(record)].outputs;
            counters.golden_runs.fetch_add(1);
        } else {
            for (size_t o = 0; o < model->outputs.size(); ++o) {
                produced.push_back(synthetic_output(model->outputs[o], hash, o));
            }
            counters.synthetic_runs.fetch_add(1);
            if (synthetic_logged && !synthetic_logged->exchange(true)) note_synthetic(emu, *this);
        }
        counters.last_golden_record = record;
        // The "NPU" writes bound output memory directly.
        for (size_t o = 0; o < out_bindings.size(); ++o) {
            if (!out_bindings[o]) continue;
            const Binding& b = *out_bindings[o];
            const TensorModel& t = model->outputs[o];
            std::string error;
            const size_t written = write_values(decode_model(t, produced[o]), t.logical, b.layout,
                                                b.encoding, b.mem->data, b.mem->size, error);
            if (written == 0) {
                emu.log_error("rknn_run: output " + std::to_string(o) + ": " + error);
                result = RKNN_ERR_OUTPUT_INVALID;
                break;
            }
            counters.io_mem_output_bytes.fetch_add(written);
        }
    }
    if (result != RKNN_SUCC) counters.runs_failed.fetch_add(1);
    {
        std::lock_guard<std::mutex> lock(mutex);
        rc = result;
        outputs = reused_outputs ? std::move(reused_outputs)
                                 : std::make_shared<const std::vector<std::vector<uint8_t>>>(std::move(produced));
        run_duration_us = npu_time_us;
        cores_used = bits;
        golden_record = record;
        done = true;
    }
    cv.notify_all();
}

Context::~Context() {
    finish_jobs();
    for (void* p : output_buffers) std::free(p);
}

void Context::finish_jobs() {
    for (auto* j : {&prev_job, &job}) {
        if (*j) (*j)->wait_done(0);
    }
}

Contexts& Contexts::get() {
    // Never destroyed: worker threads of runs still in flight at process exit must not find
    // the registry (or the Emulator, created first) gone.
    static Contexts* instance = [] {
        Emulator::get();  // created first, so it outlives every context
        return new Contexts();
    }();
    return *instance;
}

rknn_context Contexts::add(std::shared_ptr<Context> ctx) {
    std::lock_guard<std::mutex> lock(mutex_);
    const rknn_context handle = next_++;
    ctx->handle = handle;
    map_[handle] = std::move(ctx);
    return handle;
}

std::shared_ptr<Context> Contexts::find(rknn_context handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(handle);
    return it == map_.end() ? nullptr : it->second;
}

std::shared_ptr<Context> Contexts::remove(rknn_context handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(handle);
    if (it == map_.end()) return nullptr;
    auto ctx = std::move(it->second);
    map_.erase(it);
    return ctx;
}

size_t Contexts::live() {
    std::lock_guard<std::mutex> lock(mutex_);
    return map_.size();
}

Mems& Mems::get() {
    static Mems* instance = new Mems();  // never destroyed, as Contexts
    return *instance;
}

rknn_tensor_mem* Mems::add(std::shared_ptr<MemRecord> record, const rknn_tensor_mem& fields) {
    auto* mem = new rknn_tensor_mem(fields);
    std::lock_guard<std::mutex> lock(mutex_);
    map_[mem] = std::move(record);
    return mem;
}

std::shared_ptr<MemRecord> Mems::find(const rknn_tensor_mem* mem) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(mem);
    return it == map_.end() ? nullptr : it->second;
}

bool Mems::remove(rknn_tensor_mem* mem) {
    std::shared_ptr<MemRecord> record;  // released outside the lock
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = map_.find(mem);
        if (it == map_.end()) return false;
        record = std::move(it->second);
        map_.erase(it);
    }
    delete mem;
    return true;
}

size_t Mems::live() {
    std::lock_guard<std::mutex> lock(mutex_);
    return map_.size();
}

CoreScheduler& CoreScheduler::get() {
    static CoreScheduler* instance = new CoreScheduler();  // never destroyed, as Contexts
    return *instance;
}

uint32_t CoreScheduler::acquire(uint32_t core_mask, int platform_cores) {
    const uint32_t all = (1u << platform_cores) - 1u;
    std::unique_lock<std::mutex> lock(mutex_);
    uint32_t want = 0;
    if (core_mask == RKNN_NPU_CORE_AUTO) {
        cv_.wait(lock, [&] { return (busy_ & all) != all; });
        const uint32_t free_bits = all & ~busy_;
        want = free_bits & (~free_bits + 1u);  // lowest free core
    } else {
        want = core_mask == RKNN_NPU_CORE_ALL ? all : (core_mask & all);
        if (want == 0) want = 1;
        cv_.wait(lock, [&] { return (busy_ & want) == 0; });
    }
    busy_ |= want;
    return want;
}

void CoreScheduler::release(uint32_t bits) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        busy_ &= ~bits;
    }
    cv_.notify_all();
}

}  // namespace rknn_fast::emulator
