// Multi-threaded stress driver of the librknnrt emulator, for ThreadSanitizer / ASan builds
// (docs/emulator.md gives the command lines). Threads init or duplicate contexts, pin cores,
// set inputs, run blocking and non-blocking, read outputs, bind and destroy memory and read
// the counters, all at once; every output must be reproducible for its input.
// Usage: emulator_stress <model.rknn>; exit status 0 when every check passed.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "abi/rknn_abi.h"

extern "C" int rknn_emulator_control(const char* command, char* reply, uint32_t reply_size);

namespace {

std::atomic<int> failures{0};

void check(bool ok, const char* what, int thread) {
    if (!ok) {
        std::fprintf(stderr, "thread %d: %s\n", thread, what);
        failures.fetch_add(1);
    }
}

std::vector<int8_t> run_once(rknn_context ctx, const std::vector<uint8_t>& image, bool non_block, int t) {
    rknn_input in{};
    in.index = 0;
    in.buf = const_cast<uint8_t*>(image.data());
    in.size = static_cast<uint32_t>(image.size());
    in.type = RKNN_TENSOR_UINT8;
    in.fmt = RKNN_TENSOR_NHWC;
    check(rknn_inputs_set(ctx, 1, &in) == RKNN_SUCC, "inputs_set", t);
    rknn_run_extend ext{};
    ext.non_block = non_block ? 1 : 0;
    check(rknn_run(ctx, &ext) == RKNN_SUCC, "run", t);
    if (non_block) check(rknn_wait(ctx, &ext) == RKNN_SUCC, "wait", t);
    rknn_output out{};
    out.index = 0;
    std::vector<int8_t> result;
    if (rknn_outputs_get(ctx, 1, &out, nullptr) != RKNN_SUCC) {
        check(false, "outputs_get", t);
        return result;
    }
    const int8_t* p = static_cast<const int8_t*>(out.buf);
    result.assign(p, p + out.size);
    check(rknn_outputs_release(ctx, 1, &out) == RKNN_SUCC, "outputs_release", t);
    return result;
}

void worker(int t, const char* model, rknn_context base) {
    rknn_context ctx = 0;
    if (t % 2 == 0) {
        check(rknn_init(&ctx, const_cast<char*>(model), 0, 0, nullptr) == RKNN_SUCC, "init", t);
    } else {
        check(rknn_dup_context(&base, &ctx) == RKNN_SUCC, "dup_context", t);
    }
    check(rknn_set_core_mask(ctx, static_cast<rknn_core_mask>(1 << (t % 3))) == RKNN_SUCC, "core mask", t);
    rknn_tensor_attr attr{};
    attr.index = 0;
    check(rknn_query(ctx, RKNN_QUERY_INPUT_ATTR, &attr, sizeof attr) == RKNN_SUCC, "query", t);
    std::mt19937 rng(static_cast<unsigned>(t));
    std::vector<uint8_t> image(attr.n_elems);
    for (auto& v : image) v = static_cast<uint8_t>(rng());
    const std::vector<int8_t> first = run_once(ctx, image, false, t);
    for (int i = 0; i < 20; ++i) {
        check(run_once(ctx, image, i % 2 == 1, t) == first, "output not reproducible", t);
        rknn_tensor_mem* mem = rknn_create_mem(ctx, 4096);
        check(mem != nullptr, "create_mem", t);
        if (mem) {
            check(rknn_mem_sync(ctx, mem, RKNN_MEMORY_SYNC_TO_DEVICE) == RKNN_SUCC, "mem_sync", t);
            check(rknn_destroy_mem(ctx, mem) == RKNN_SUCC, "destroy_mem", t);
        }
    }
    // Zero-copy: native int8 output bound to runtime memory, destroyed while still bound.
    rknn_tensor_attr out_attr{};
    out_attr.index = 0;
    check(rknn_query(ctx, RKNN_QUERY_NATIVE_OUTPUT_ATTR, &out_attr, sizeof out_attr) == RKNN_SUCC, "query", t);
    rknn_tensor_mem* out_mem = rknn_create_mem(ctx, out_attr.size_with_stride);
    check(rknn_set_io_mem(ctx, out_mem, &out_attr) == RKNN_SUCC, "set_io_mem", t);
    rknn_run_extend ext{};
    ext.non_block = 1;
    check(rknn_run(ctx, &ext) == RKNN_SUCC, "run", t);
    check(rknn_destroy_mem(ctx, out_mem) == RKNN_SUCC, "destroy bound mem", t);
    check(rknn_destroy(ctx) == RKNN_SUCC, "destroy", t);  // joins the run in flight
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s model.rknn\n", argv[0]);
        return 2;
    }
    char reply[4096];
    rknn_emulator_control("set log=0", reply, sizeof reply);
    rknn_emulator_control("set npu_time_us=300", reply, sizeof reply);
    rknn_context base = 0;
    if (rknn_init(&base, argv[1], 0, 0, nullptr) != RKNN_SUCC) return 2;
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        while (!stop.load()) rknn_emulator_control("counters", reply, sizeof reply);
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) threads.emplace_back(worker, t, argv[1], base);
    for (auto& th : threads) th.join();
    stop = true;
    reader.join();
    check(rknn_destroy(base) == RKNN_SUCC, "destroy base", -1);
    rknn_emulator_control("counters", reply, sizeof reply);
    std::printf("%s\n%s\n", failures.load() == 0 ? "emulator_stress: OK" : "emulator_stress: FAILED", reply);
    return failures.load() == 0 ? 0 : 1;
}
