// Exports that real librknnrt builds have but the emulator does not implement: the matmul API
// (rknn_matmul_api.h; 5 functions since 1.4.0, the rest since 2.0.0b0/2.1.0) and the custom-op
// API (rknn_custom_op.h, since 1.6.0). They exist so that the emulator exports a real runtime's
// symbol set (a client resolving them at load time finds them, as on a board); each returns
// RKNN_ERR_FAIL and logs "<function>: not supported by the emulator" (docs/emulator.md).
//
// Also holds the embedded "librknnrt version: " string that vendor tools and
// rknn_fast's Library::embedded_version() read from the file.
#include <string>

#include "abi/rknn_abi.h"
#include "emulator/identity.h"
#include "emulator/state.h"

#define RKNN_EMU_EXPORT extern "C" __attribute__((visibility("default")))

// Kept in .rodata even though nothing references it.
extern "C" __attribute__((used, visibility("hidden"))) const char rknn_emu_embedded_version[] =
    "librknnrt version: " RKNN_EMU_API_LEVEL " (" RKNN_EMU_BUILD ")";

namespace {

int not_supported(const char* function) {
    rknn_fast::emulator::Emulator::get().log_error(std::string(function) +
                                                   ": not supported by the emulator");
    return RKNN_ERR_FAIL;
}

}  // namespace

// Signatures as declared in abi/rknn_abi.h. The stubs never read their arguments.
RKNN_EMU_EXPORT int rknn_matmul_create(rknn_matmul_ctx* ctx, rknn_matmul_info* info, rknn_matmul_io_attr* io_attr) {
    (void)ctx, (void)info, (void)io_attr;
    return not_supported("rknn_matmul_create");
}
RKNN_EMU_EXPORT int rknn_matmul_create_dynamic_shape(rknn_matmul_ctx* ctx, rknn_matmul_info* info, int shape_num,
                                                     rknn_matmul_shape dynamic_shapes[],
                                                     rknn_matmul_io_attr io_attrs[]) {
    (void)ctx, (void)info, (void)shape_num, (void)dynamic_shapes, (void)io_attrs;
    return not_supported("rknn_matmul_create_dynamic_shape");
}
RKNN_EMU_EXPORT int rknn_matmul_set_io_mem(rknn_matmul_ctx ctx, rknn_tensor_mem* mem, rknn_matmul_tensor_attr* attr) {
    (void)ctx, (void)mem, (void)attr;
    return not_supported("rknn_matmul_set_io_mem");
}
RKNN_EMU_EXPORT int rknn_matmul_set_core_mask(rknn_matmul_ctx ctx, rknn_core_mask core_mask) {
    (void)ctx, (void)core_mask;
    return not_supported("rknn_matmul_set_core_mask");
}
RKNN_EMU_EXPORT int rknn_matmul_set_quant_params(rknn_matmul_ctx ctx, rknn_quant_params* params) {
    (void)ctx, (void)params;
    return not_supported("rknn_matmul_set_quant_params");
}
RKNN_EMU_EXPORT int rknn_matmul_get_quant_params(rknn_matmul_ctx ctx, rknn_quant_params* params, float* scale) {
    (void)ctx, (void)params, (void)scale;
    return not_supported("rknn_matmul_get_quant_params");
}
RKNN_EMU_EXPORT int rknn_matmul_set_dynamic_shape(rknn_matmul_ctx ctx, rknn_matmul_shape* shape) {
    (void)ctx, (void)shape;
    return not_supported("rknn_matmul_set_dynamic_shape");
}
RKNN_EMU_EXPORT int rknn_matmul_run(rknn_matmul_ctx ctx) {
    (void)ctx;
    return not_supported("rknn_matmul_run");
}
RKNN_EMU_EXPORT int rknn_matmul_destroy(rknn_matmul_ctx ctx) {
    (void)ctx;
    return not_supported("rknn_matmul_destroy");
}
RKNN_EMU_EXPORT int rknn_B_normal_layout_to_native_layout(void* B_input, void* B_output, int K, int N,
                                                          rknn_matmul_info* info) {
    (void)B_input, (void)B_output, (void)K, (void)N, (void)info;
    return not_supported("rknn_B_normal_layout_to_native_layout");
}
RKNN_EMU_EXPORT int rknn_register_custom_ops(rknn_context ctx, rknn_custom_op* op, uint32_t custom_op_num) {
    (void)ctx, (void)op, (void)custom_op_num;
    return not_supported("rknn_register_custom_ops");
}
// void in the real API: nothing to return; op_attr is left untouched.
RKNN_EMU_EXPORT void rknn_custom_op_get_op_attr(rknn_custom_op_context* op_ctx, const char* attr_name,
                                                rknn_custom_op_attr* op_attr) {
    (void)op_ctx, (void)attr_name, (void)op_attr;
    not_supported("rknn_custom_op_get_op_attr");
}
