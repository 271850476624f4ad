// libFuzzer target on the librknnrt emulator's C API (cpp/emulator, linked in statically):
// rknn_init on the fuzzed bytes as an in-memory model, then, when it is accepted, the calls
// a client makes: query counts and every input/output attr (normal and native), set each
// input to zeros, rknn_run, rknn_outputs_get (raw and want_float), release, destroy.
// Every call must return a status (no crash, no sanitizer report, no leak); a model the
// emulator accepts must also run. Built and run by scripts/sanitizers.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "abi/rknn_abi.h"

extern "C" int rknn_emulator_control(const char* command, char* reply, uint32_t reply_size);

namespace {

// Inputs larger than this are not run (the fuzzer would spend its time memsetting).
constexpr uint32_t kMaxRunBytes = 8u << 20;

void fail(const char* what, int code) {
    std::fprintf(stderr, "emulator fuzz: %s returned %d for a model it accepted\n", what, code);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    char reply[256];
    rknn_emulator_control("set log=0", reply, sizeof reply);  // no per-input error lines
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0 || size > (64u << 20)) return 0;  // size 0 means "a path" in rknn_init
    std::vector<uint8_t> model(data, data + size);
    rknn_context ctx = 0;
    if (rknn_init(&ctx, model.data(), static_cast<uint32_t>(model.size()), 0, nullptr) != RKNN_SUCC) return 0;
    rknn_input_output_num num{};
    int rc = rknn_query(ctx, RKNN_QUERY_IN_OUT_NUM, &num, sizeof num);
    if (rc != RKNN_SUCC) fail("rknn_query(IN_OUT_NUM)", rc);
    std::vector<rknn_input> inputs(num.n_input);
    std::vector<std::vector<uint8_t>> buffers(num.n_input);
    bool runnable = true;
    for (uint32_t i = 0; i < num.n_input; ++i) {
        rknn_tensor_attr attr{};
        attr.index = i;
        rc = rknn_query(ctx, RKNN_QUERY_INPUT_ATTR, &attr, sizeof attr);
        if (rc != RKNN_SUCC) fail("rknn_query(INPUT_ATTR)", rc);
        rknn_tensor_attr native{};
        native.index = i;
        (void)rknn_query(ctx, RKNN_QUERY_NATIVE_INPUT_ATTR, &native, sizeof native);
        if (attr.size == 0 || attr.size > kMaxRunBytes) {
            runnable = false;
            continue;
        }
        buffers[i].assign(attr.size, 0);
        inputs[i].index = i;
        inputs[i].buf = buffers[i].data();
        inputs[i].size = attr.size;
        inputs[i].pass_through = 1;  // the model's own type and layout: no conversion
        inputs[i].type = attr.type;
        inputs[i].fmt = attr.fmt;
    }
    for (uint32_t i = 0; i < num.n_output; ++i) {
        rknn_tensor_attr attr{};
        attr.index = i;
        rc = rknn_query(ctx, RKNN_QUERY_OUTPUT_ATTR, &attr, sizeof attr);
        if (rc != RKNN_SUCC) fail("rknn_query(OUTPUT_ATTR)", rc);
        rknn_tensor_attr native{};
        native.index = i;
        (void)rknn_query(ctx, RKNN_QUERY_NATIVE_OUTPUT_ATTR, &native, sizeof native);
        if (attr.size > kMaxRunBytes) runnable = false;
    }
    if (runnable && num.n_input > 0 && rknn_inputs_set(ctx, num.n_input, inputs.data()) == RKNN_SUCC &&
        rknn_run(ctx, nullptr) == RKNN_SUCC) {
        for (uint8_t want_float : {0, 1}) {
            std::vector<rknn_output> outs(num.n_output);
            for (uint32_t i = 0; i < num.n_output; ++i) {
                outs[i].index = i;
                outs[i].want_float = want_float;
            }
            if (rknn_outputs_get(ctx, num.n_output, outs.data(), nullptr) == RKNN_SUCC) {
                rc = rknn_outputs_release(ctx, num.n_output, outs.data());
                if (rc != RKNN_SUCC) fail("rknn_outputs_release", rc);
            }
        }
    }
    rc = rknn_destroy(ctx);
    if (rc != RKNN_SUCC) fail("rknn_destroy", rc);
    return 0;
}
