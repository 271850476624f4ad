/* A stand-in for an old librknnrt (1.4.0: no rknn_mem_sync, rknn_create_mem2,
 * rknn_set_input_shape(s)) or, with -DMINI, the RV1106 mini runtime (also no
 * rknn_set_core_mask / rknn_set_batch_core_num), or with -DV120 a 1.2.0 runtime (rknn_destory_mem
 * instead of rknn_destroy_mem). Each exported function forwards to the
 * emulator named by RKNN_SHIM_TARGET. Built by tests/test_model.py. */
#include <dlfcn.h>
#include <stdlib.h>

#include "abi/rknn_abi.h"

static void* target(const char* name) {
    static void* handle;
    if (!handle) handle = dlopen(getenv("RKNN_SHIM_TARGET"), RTLD_NOW | RTLD_LOCAL);
    return handle ? dlsym(handle, name) : NULL;
}

#define FWD(ret, name, params, args) \
    ret name params { return ((name##_fn)target(#name)) args; }

FWD(int, rknn_init, (rknn_context* c, void* m, uint32_t s, uint32_t f, rknn_init_extend* e), (c, m, s, f, e))
FWD(int, rknn_dup_context, (rknn_context* a, rknn_context* b), (a, b))
FWD(int, rknn_destroy, (rknn_context c), (c))
FWD(int, rknn_query, (rknn_context c, rknn_query_cmd q, void* i, uint32_t s), (c, q, i, s))
FWD(int, rknn_inputs_set, (rknn_context c, uint32_t n, rknn_input* i), (c, n, i))
FWD(int, rknn_run, (rknn_context c, rknn_run_extend* e), (c, e))
FWD(int, rknn_wait, (rknn_context c, rknn_run_extend* e), (c, e))
FWD(int, rknn_outputs_get, (rknn_context c, uint32_t n, rknn_output* o, rknn_output_extend* e), (c, n, o, e))
FWD(int, rknn_outputs_release, (rknn_context c, uint32_t n, rknn_output* o), (c, n, o))
FWD(rknn_tensor_mem*, rknn_create_mem_from_phys, (rknn_context c, uint64_t p, void* v, uint32_t s), (c, p, v, s))
FWD(rknn_tensor_mem*, rknn_create_mem_from_fd, (rknn_context c, int32_t fd, void* v, uint32_t s, int32_t o),
    (c, fd, v, s, o))
FWD(rknn_tensor_mem*, rknn_create_mem, (rknn_context c, uint32_t s), (c, s))
#ifdef V120
/* 1.0.0-1.2.0 spelling: such a runtime does not load (rknn_destroy_mem is required). */
int rknn_destory_mem(rknn_context c, rknn_tensor_mem* m) {
    return ((rknn_destroy_mem_fn)target("rknn_destroy_mem"))(c, m);
}
#else
FWD(int, rknn_destroy_mem, (rknn_context c, rknn_tensor_mem* m), (c, m))
#endif
FWD(int, rknn_set_weight_mem, (rknn_context c, rknn_tensor_mem* m), (c, m))
FWD(int, rknn_set_internal_mem, (rknn_context c, rknn_tensor_mem* m), (c, m))
FWD(int, rknn_set_io_mem, (rknn_context c, rknn_tensor_mem* m, rknn_tensor_attr* a), (c, m, a))
#ifndef MINI
FWD(int, rknn_set_core_mask, (rknn_context c, rknn_core_mask m), (c, m))
FWD(int, rknn_set_batch_core_num, (rknn_context c, int n), (c, n))
#endif
