/*
 * Our own declarations of the librknnrt (RKNPU2) C ABI, written by the rknn_fast project
 * from the facts collected in API_FACTS.md / rknn_abi.json (struct layouts measured against
 * the SDK 2.3.2 runtime). No vendor text is reproduced here.
 *
 * - Names are the runtime's own C names at global scope, so C and C++ code can include this
 *   header in place of the vendor's and call a real librknnrt or our emulator.
 * - Only <stdint.h> is needed. All enums are plain C enums (4 bytes on every target).
 * - rknn_context is 32-bit on 32-bit ARM (__arm__) and 64-bit elsewhere (aarch64, x86_64).
 * - Every function also has a pointer type `<name>_fn` for dlsym()-based loading. Functions
 *   newer than the oldest runtime you support are optional: resolve them lazily.
 * - Structs have natural alignment: no packing, no bitfields, no unions. Zero the whole struct
 *   before filling it (uint8_t flags are followed by padding bytes).
 */
#ifndef RKNN_FAST_RKNN_ABI_H
#define RKNN_FAST_RKNN_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------- */
/* Context handle: opaque, passed by value (by pointer to rknn_init / rknn_dup_context).   */
#if defined(__arm__)
typedef uint32_t rknn_context;
#else
typedef uint64_t rknn_context;
#endif

/* ------------------------------------------------------------------------------------- */
/* rknn_init flags. Bits, except the priority which is a 2-bit value in bits 0..1.        */
#define RKNN_FLAG_PRIOR_HIGH 0x00000000u
#define RKNN_FLAG_PRIOR_MEDIUM 0x00000001u
#define RKNN_FLAG_PRIOR_LOW 0x00000002u
#define RKNN_FLAG_ASYNC_MASK 0x00000004u                 /* outputs_get returns the previous frame */
#define RKNN_FLAG_COLLECT_PERF_MASK 0x00000008u          /* needed for RKNN_QUERY_PERF_DETAIL */
#define RKNN_FLAG_MEM_ALLOC_OUTSIDE 0x00000010u          /* caller allocates all memory */
#define RKNN_FLAG_SHARE_WEIGHT_MEM 0x00000020u           /* share weights with extend->ctx */
#define RKNN_FLAG_FENCE_IN_OUTSIDE 0x00000040u
#define RKNN_FLAG_FENCE_OUT_OUTSIDE 0x00000080u
#define RKNN_FLAG_COLLECT_MODEL_INFO_ONLY 0x00000100u    /* dummy init for RKNN_QUERY_MEM_SIZE */
#define RKNN_FLAG_INTERNAL_ALLOC_OUTSIDE 0x00000200u     /* caller allocates internal memory */
#define RKNN_FLAG_EXECUTE_FALLBACK_PRIOR_DEVICE_GPU 0x00000400u
#define RKNN_FLAG_ENABLE_SRAM 0x00000800u
#define RKNN_FLAG_SHARE_SRAM 0x00001000u
#define RKNN_FLAG_DISABLE_PROC_HIGH_PRIORITY 0x00002000u
#define RKNN_FLAG_DISABLE_FLUSH_INPUT_MEM_CACHE 0x00004000u
#define RKNN_FLAG_DISABLE_FLUSH_OUTPUT_MEM_CACHE 0x00008000u
#define RKNN_FLAG_MODEL_BUFFER_ZERO_COPY 0x00010000u
/* An allocation flag for rknn_create_mem2 (not an init flag): allocate without a context. */
#define RKNN_MEM_FLAG_ALLOC_NO_CONTEXT 0x00020000u

/* ------------------------------------------------------------------------------------- */
/* Return codes: 0 on success, negative on failure.                                       */
#define RKNN_SUCC 0
#define RKNN_ERR_FAIL (-1)
#define RKNN_ERR_TIMEOUT (-2)
#define RKNN_ERR_DEVICE_UNAVAILABLE (-3)
#define RKNN_ERR_MALLOC_FAIL (-4)
#define RKNN_ERR_PARAM_INVALID (-5)
#define RKNN_ERR_MODEL_INVALID (-6)
#define RKNN_ERR_CTX_INVALID (-7)
#define RKNN_ERR_INPUT_INVALID (-8)
#define RKNN_ERR_OUTPUT_INVALID (-9)
#define RKNN_ERR_DEVICE_UNMATCH (-10)
/* The misspelling "INCOMPATILE" is part of the runtime's names. */
#define RKNN_ERR_INCOMPATILE_PRE_COMPILE_MODEL (-11)
#define RKNN_ERR_INCOMPATILE_OPTIMIZATION_LEVEL_VERSION (-12)
#define RKNN_ERR_TARGET_PLATFORM_UNMATCH (-13)

/* ------------------------------------------------------------------------------------- */
/* Limits.                                                                                */
#define RKNN_MAX_DIMS 16
#define RKNN_MAX_NUM_CHANNEL 15
#define RKNN_MAX_NAME_LEN 256
#define RKNN_MAX_DYNAMIC_SHAPE_NUM 512

/* ------------------------------------------------------------------------------------- */
/* Enums.                                                                                 */
typedef enum _rknn_query_cmd {
    RKNN_QUERY_IN_OUT_NUM = 0,          /* -> rknn_input_output_num */
    RKNN_QUERY_INPUT_ATTR = 1,          /* -> rknn_tensor_attr (caller sets .index) */
    RKNN_QUERY_OUTPUT_ATTR = 2,         /* -> rknn_tensor_attr (caller sets .index) */
    RKNN_QUERY_PERF_DETAIL = 3,         /* -> rknn_perf_detail (needs COLLECT_PERF flag) */
    RKNN_QUERY_PERF_RUN = 4,            /* -> rknn_perf_run */
    RKNN_QUERY_SDK_VERSION = 5,         /* -> rknn_sdk_version */
    RKNN_QUERY_MEM_SIZE = 6,            /* -> rknn_mem_size */
    RKNN_QUERY_CUSTOM_STRING = 7,       /* -> rknn_custom_string */
    RKNN_QUERY_NATIVE_INPUT_ATTR = 8,   /* -> rknn_tensor_attr, hardware layout */
    RKNN_QUERY_NATIVE_OUTPUT_ATTR = 9,  /* -> rknn_tensor_attr, hardware layout */
    RKNN_QUERY_NATIVE_NC1HWC2_INPUT_ATTR = 8,   /* alias of 8 */
    RKNN_QUERY_NATIVE_NC1HWC2_OUTPUT_ATTR = 9,  /* alias of 9 */
    RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR = 10,
    RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR = 11,
    RKNN_QUERY_DEVICE_MEM_INFO = 12,    /* no struct is declared for it */
    RKNN_QUERY_INPUT_DYNAMIC_RANGE = 13, /* -> rknn_input_range (caller sets .index) */
    RKNN_QUERY_CURRENT_INPUT_ATTR = 14,
    RKNN_QUERY_CURRENT_OUTPUT_ATTR = 15,
    RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR = 16,
    RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR = 17,
    RKNN_QUERY_CMD_MAX = 18
} rknn_query_cmd;

typedef enum _rknn_tensor_type {
    RKNN_TENSOR_FLOAT32 = 0,
    RKNN_TENSOR_FLOAT16 = 1,
    RKNN_TENSOR_INT8 = 2,
    RKNN_TENSOR_UINT8 = 3,
    RKNN_TENSOR_INT16 = 4,
    RKNN_TENSOR_UINT16 = 5,
    RKNN_TENSOR_INT32 = 6,
    RKNN_TENSOR_UINT32 = 7,
    RKNN_TENSOR_INT64 = 8,
    RKNN_TENSOR_BOOL = 9,
    RKNN_TENSOR_INT4 = 10,
    RKNN_TENSOR_BFLOAT16 = 11,
    RKNN_TENSOR_TYPE_MAX = 12 /* moves as types are added: never persist it */
} rknn_tensor_type;

typedef enum _rknn_tensor_qnt_type {
    RKNN_TENSOR_QNT_NONE = 0,
    RKNN_TENSOR_QNT_DFP = 1,               /* dynamic fixed point: uses fl */
    RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC = 2, /* uses zp and scale */
    RKNN_TENSOR_QNT_MAX = 3
} rknn_tensor_qnt_type;

typedef enum _rknn_tensor_format {
    RKNN_TENSOR_NCHW = 0,
    RKNN_TENSOR_NHWC = 1,
    RKNN_TENSOR_NC1HWC2 = 2,
    RKNN_TENSOR_UNDEFINED = 3,
    RKNN_TENSOR_FORMAT_MAX = 4
} rknn_tensor_format;

typedef enum _rknn_core_mask {
    RKNN_NPU_CORE_AUTO = 0,
    RKNN_NPU_CORE_0 = 1,
    RKNN_NPU_CORE_1 = 2,
    RKNN_NPU_CORE_2 = 4,
    RKNN_NPU_CORE_0_1 = 3,
    RKNN_NPU_CORE_0_1_2 = 7,
    RKNN_NPU_CORE_ALL = 0xffff,
    RKNN_NPU_CORE_UNDEFINED = 0x10000
} rknn_core_mask;

/* Values of rknn_tensor_mem.flags (enumerated, not bits). */
typedef enum _rknn_tensor_mem_flags {
    RKNN_TENSOR_MEMORY_FLAGS_ALLOC_INSIDE = 1,
    RKNN_TENSOR_MEMORY_FLAGS_FROM_FD = 2,
    RKNN_TENSOR_MEMORY_FLAGS_FROM_PHYS = 3,
    RKNN_TENSOR_MEMORY_FLAGS_UNKNOWN = 4
} rknn_tensor_mem_flags;

/* alloc_flags of rknn_create_mem2 (a uint64_t parameter although the enum is 4 bytes). */
typedef enum _rknn_mem_alloc_flags {
    RKNN_FLAG_MEMORY_FLAGS_DEFAULT = 0, /* same as cacheable */
    RKNN_FLAG_MEMORY_CACHEABLE = 1,
    RKNN_FLAG_MEMORY_NON_CACHEABLE = 2,
    RKNN_FLAG_MEMORY_TRY_ALLOC_SRAM = 4
} rknn_mem_alloc_flags;

typedef enum _rknn_mem_sync_mode {
    RKNN_MEMORY_SYNC_TO_DEVICE = 1,   /* CPU wrote, device reads */
    RKNN_MEMORY_SYNC_FROM_DEVICE = 2, /* device wrote, CPU reads */
    RKNN_MEMORY_SYNC_BIDIRECTIONAL = 3
} rknn_mem_sync_mode;

/* ------------------------------------------------------------------------------------- */
/* Structs (offsets in comments are for 64-bit targets).                                  */

typedef struct _rknn_input_output_num {
    uint32_t n_input;
    uint32_t n_output;
} rknn_input_output_num;

/* A tensor as the runtime reports it. `index` is an input to rknn_query; dims[0..n_dims)
 * are valid; size excludes stride padding, size_with_stride includes it; w_stride is
 * read-only (0 = width); h_stride may be set by the caller (0 = height); pass_through is
 * read by rknn_set_io_mem (nonzero: bytes go to the model unconverted). */
typedef struct _rknn_tensor_attr {
    uint32_t index;                      /*   0 */
    uint32_t n_dims;                     /*   4 */
    uint32_t dims[RKNN_MAX_DIMS];        /*   8 */
    char name[RKNN_MAX_NAME_LEN];        /*  72 */
    uint32_t n_elems;                    /* 328 */
    uint32_t size;                       /* 332 */
    rknn_tensor_format fmt;              /* 336 */
    rknn_tensor_type type;               /* 340 */
    rknn_tensor_qnt_type qnt_type;       /* 344 */
    int8_t fl;                           /* 348, then 3 padding bytes */
    int32_t zp;                          /* 352 */
    float scale;                         /* 356 */
    uint32_t w_stride;                   /* 360 */
    uint32_t size_with_stride;           /* 364 */
    uint8_t pass_through;                /* 368, then 3 padding bytes */
    uint32_t h_stride;                   /* 372 */
} rknn_tensor_attr;                      /* 376 bytes */

/* Shapes accepted by a dynamic-shape input: dyn_range[i][0..n_dims) is shape i of
 * shape_number. 33,040 bytes: keep it off small stacks. */
typedef struct _rknn_input_range {
    uint32_t index;
    uint32_t shape_number;
    rknn_tensor_format fmt;
    char name[RKNN_MAX_NAME_LEN];
    uint32_t dyn_range[RKNN_MAX_DYNAMIC_SHAPE_NUM][RKNN_MAX_DIMS];
    uint32_t n_dims;
} rknn_input_range;

/* perf_data is a string owned by the runtime (never free it); data_len is its length. */
typedef struct _rknn_perf_detail {
    char* perf_data;
    uint64_t data_len;
} rknn_perf_detail;

typedef struct _rknn_perf_run {
    int64_t run_duration; /* microseconds */
} rknn_perf_run;

typedef struct _rknn_sdk_version {
    char api_version[256];
    char drv_version[256];
} rknn_sdk_version;

typedef struct _rknn_mem_size {
    uint32_t total_weight_size;
    uint32_t total_internal_size; /* excludes inputs and outputs */
    uint64_t total_dma_allocated_size;
    uint32_t total_sram_size;
    uint32_t free_sram_size;
    uint32_t reserved[10];
} rknn_mem_size;

typedef struct _rknn_custom_string {
    char string[1024];
} rknn_custom_string;

/* A buffer the NPU can use. For buffers from rknn_create_mem_from_fd, virt_addr is the
 * mapping WITHOUT offset; the data starts at virt_addr + offset. Structs returned by
 * rknn_create_mem* belong to the library and are released by rknn_destroy_mem. */
typedef struct _rknn_tensor_mem {
    void* virt_addr;     /*  0 */
    uint64_t phys_addr;  /*  8 */
    int32_t fd;          /* 16: dma-buf fd */
    int32_t offset;      /* 20 */
    uint32_t size;       /* 24 */
    uint32_t flags;      /* 28: rknn_tensor_mem_flags value */
    void* priv_data;     /* 32 */
} rknn_tensor_mem;       /* 40 bytes on all targets */

/* One input of rknn_inputs_set. pass_through nonzero: bytes are copied unconverted and
 * type/fmt are ignored; 0: the runtime converts from type/fmt. */
typedef struct _rknn_input {
    uint32_t index;
    void* buf;
    uint32_t size;
    uint8_t pass_through;
    rknn_tensor_type type;
    rknn_tensor_format fmt;
} rknn_input;

/* One output of rknn_outputs_get. want_float: dequantise to float32. is_prealloc: the
 * caller supplies buf/size; otherwise the runtime allocates buf, owned until
 * rknn_outputs_release. */
typedef struct _rknn_output {
    uint8_t want_float;
    uint8_t is_prealloc;
    uint32_t index;
    void* buf;
    uint32_t size;
} rknn_output;

/* Input to rknn_init. ctx: the context whose weights are shared under
 * RKNN_FLAG_SHARE_WEIGHT_MEM. Since SDK 1.2.0 the layout is ctx + 128 bytes. */
typedef struct _rknn_init_extend {
    rknn_context ctx;
    int32_t real_model_offset;
    uint32_t real_model_size;
    int32_t model_buffer_fd;
    uint32_t model_buffer_flags;
    uint8_t reserved[112];
} rknn_init_extend;

/* frame_id is an output (the id of this run); non_block 1 returns at once (see rknn_wait);
 * timeout_ms applies to blocking waits; fence_fd is an input fence. */
typedef struct _rknn_run_extend {
    uint64_t frame_id;
    int32_t non_block;
    int32_t timeout_ms;
    int32_t fence_fd;
} rknn_run_extend;

/* frame_id (output): the run these outputs belong to. */
typedef struct _rknn_output_extend {
    uint64_t frame_id;
} rknn_output_extend;

/* ------------------------------------------------------------------------------------- */
/* The 23 functions of the runtime API, and a pointer type for each.                      */
/* rknn_init: size > 0 -> model points to the model bytes; size == 0 -> model is a path.  */
int rknn_init(rknn_context* context, void* model, uint32_t size, uint32_t flag,
              rknn_init_extend* extend);
int rknn_dup_context(rknn_context* context_in, rknn_context* context_out);
int rknn_destroy(rknn_context context);
int rknn_query(rknn_context context, rknn_query_cmd cmd, void* info, uint32_t size);
int rknn_inputs_set(rknn_context context, uint32_t n_inputs, rknn_input inputs[]);
int rknn_set_batch_core_num(rknn_context context, int core_num);
int rknn_set_core_mask(rknn_context context, rknn_core_mask core_mask);
int rknn_run(rknn_context context, rknn_run_extend* extend);
int rknn_wait(rknn_context context, rknn_run_extend* extend);
int rknn_outputs_get(rknn_context context, uint32_t n_outputs, rknn_output outputs[],
                     rknn_output_extend* extend);
int rknn_outputs_release(rknn_context context, uint32_t n_outputs, rknn_output outputs[]);
rknn_tensor_mem* rknn_create_mem_from_phys(rknn_context ctx, uint64_t phys_addr, void* virt_addr,
                                           uint32_t size);
rknn_tensor_mem* rknn_create_mem_from_fd(rknn_context ctx, int32_t fd, void* virt_addr,
                                         uint32_t size, int32_t offset);
rknn_tensor_mem* rknn_create_mem_from_mb_blk(rknn_context ctx, void* mb_blk, int32_t offset);
rknn_tensor_mem* rknn_create_mem(rknn_context ctx, uint32_t size);
rknn_tensor_mem* rknn_create_mem2(rknn_context ctx, uint64_t size, uint64_t alloc_flags);
int rknn_destroy_mem(rknn_context ctx, rknn_tensor_mem* mem);
int rknn_set_weight_mem(rknn_context ctx, rknn_tensor_mem* mem);
int rknn_set_internal_mem(rknn_context ctx, rknn_tensor_mem* mem);
int rknn_set_io_mem(rknn_context ctx, rknn_tensor_mem* mem, rknn_tensor_attr* attr);
int rknn_set_input_shape(rknn_context ctx, rknn_tensor_attr* attr);
int rknn_set_input_shapes(rknn_context ctx, uint32_t n_inputs, rknn_tensor_attr attr[]);
int rknn_mem_sync(rknn_context context, rknn_tensor_mem* mem, rknn_mem_sync_mode mode);

typedef int (*rknn_init_fn)(rknn_context*, void*, uint32_t, uint32_t, rknn_init_extend*);
typedef int (*rknn_dup_context_fn)(rknn_context*, rknn_context*);
typedef int (*rknn_destroy_fn)(rknn_context);
typedef int (*rknn_query_fn)(rknn_context, rknn_query_cmd, void*, uint32_t);
typedef int (*rknn_inputs_set_fn)(rknn_context, uint32_t, rknn_input*);
typedef int (*rknn_set_batch_core_num_fn)(rknn_context, int);
typedef int (*rknn_set_core_mask_fn)(rknn_context, rknn_core_mask);
typedef int (*rknn_run_fn)(rknn_context, rknn_run_extend*);
typedef int (*rknn_wait_fn)(rknn_context, rknn_run_extend*);
typedef int (*rknn_outputs_get_fn)(rknn_context, uint32_t, rknn_output*, rknn_output_extend*);
typedef int (*rknn_outputs_release_fn)(rknn_context, uint32_t, rknn_output*);
typedef rknn_tensor_mem* (*rknn_create_mem_from_phys_fn)(rknn_context, uint64_t, void*, uint32_t);
typedef rknn_tensor_mem* (*rknn_create_mem_from_fd_fn)(rknn_context, int32_t, void*, uint32_t,
                                                       int32_t);
typedef rknn_tensor_mem* (*rknn_create_mem_from_mb_blk_fn)(rknn_context, void*, int32_t);
typedef rknn_tensor_mem* (*rknn_create_mem_fn)(rknn_context, uint32_t);
typedef rknn_tensor_mem* (*rknn_create_mem2_fn)(rknn_context, uint64_t, uint64_t);
typedef int (*rknn_destroy_mem_fn)(rknn_context, rknn_tensor_mem*);
typedef int (*rknn_set_weight_mem_fn)(rknn_context, rknn_tensor_mem*);
typedef int (*rknn_set_internal_mem_fn)(rknn_context, rknn_tensor_mem*);
typedef int (*rknn_set_io_mem_fn)(rknn_context, rknn_tensor_mem*, rknn_tensor_attr*);
typedef int (*rknn_set_input_shape_fn)(rknn_context, rknn_tensor_attr*);
typedef int (*rknn_set_input_shapes_fn)(rknn_context, uint32_t, rknn_tensor_attr*);
typedef int (*rknn_mem_sync_fn)(rknn_context, rknn_tensor_mem*, rknn_mem_sync_mode);

/* ===================================================================================== */
/* Companion APIs (rknn_matmul_api.h, rknn_custom_op.h): types, constants and functions.  */
/* Not implemented by the emulator; declared so that layouts can be checked and code     */
/* that loads them from a real librknnrt can use the same names.                          */

typedef rknn_context rknn_matmul_ctx;

typedef enum _rknn_matmul_quant_type {
    RKNN_QUANT_TYPE_PER_LAYER_SYM = 0,
    RKNN_QUANT_TYPE_PER_LAYER_ASYM = 1,
    RKNN_QUANT_TYPE_PER_CHANNEL_SYM = 2,
    RKNN_QUANT_TYPE_PER_CHANNEL_ASYM = 3,
    RKNN_QUANT_TYPE_PER_GROUP_SYM = 4,
    RKNN_QUANT_TYPE_PER_GROUP_ASYM = 5
} rknn_matmul_quant_type;

typedef enum _rknn_matmul_type {
    RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32 = 1,
    RKNN_INT8_MM_INT8_TO_INT32 = 2,
    RKNN_INT8_MM_INT8_TO_INT8 = 3,
    RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT16 = 4,
    RKNN_FLOAT16_MM_INT8_TO_FLOAT32 = 5,
    RKNN_FLOAT16_MM_INT8_TO_FLOAT16 = 6,
    RKNN_FLOAT16_MM_INT4_TO_FLOAT32 = 7,
    RKNN_FLOAT16_MM_INT4_TO_FLOAT16 = 8,
    RKNN_INT8_MM_INT8_TO_FLOAT32 = 9,
    RKNN_INT4_MM_INT4_TO_INT16 = 10,
    RKNN_INT8_MM_INT4_TO_INT32 = 11,
    RKNN_FLOAT16_MM_INT4_TO_BFLOAT16 = 12,
    RKNN_INT8_MM_INT4_TO_FLOAT16 = 15
} rknn_matmul_type;

typedef enum {
    RKNN_MM_LAYOUT_NORM = 0,
    RKNN_MM_LAYOUT_NATIVE = 1,
    RKNN_MM_LAYOUT_TP_NORM = 2
} rknn_matmul_layout;

typedef struct _rknn_quant_params {
    char name[RKNN_MAX_NAME_LEN];
    float* scale;
    int32_t scale_len;
    int32_t* zp;
    int32_t zp_len;
} rknn_quant_params;

typedef struct _rknn_matmul_tensor_attr {
    char name[RKNN_MAX_NAME_LEN];
    uint32_t n_dims;
    uint32_t dims[RKNN_MAX_DIMS];
    uint32_t size;
    rknn_tensor_type type;
} rknn_matmul_tensor_attr;

typedef struct _rknn_matmul_io_attr {
    rknn_matmul_tensor_attr A;
    rknn_matmul_tensor_attr B;
    rknn_matmul_tensor_attr C;
} rknn_matmul_io_attr;

typedef struct _rknn_matmul_shape {
    int32_t M;
    int32_t K;
    int32_t N;
} rknn_matmul_shape;

typedef struct _rknn_matmul_info {
    int32_t M;
    int32_t K;
    int32_t N;
    rknn_matmul_type type;
    int16_t B_layout;
    int16_t B_quant_type;
    int16_t AC_layout;
    int16_t AC_quant_type;
    int32_t iommu_domain_id;
    int16_t group_size;
    int8_t reserved[34];
} rknn_matmul_info; /* 64 bytes */

int rknn_matmul_create(rknn_matmul_ctx* ctx, rknn_matmul_info* info, rknn_matmul_io_attr* io_attr);
int rknn_matmul_create_dynamic_shape(rknn_matmul_ctx* ctx, rknn_matmul_info* info, int shape_num,
                                     rknn_matmul_shape dynamic_shapes[],
                                     rknn_matmul_io_attr io_attrs[]);
int rknn_matmul_set_io_mem(rknn_matmul_ctx ctx, rknn_tensor_mem* mem, rknn_matmul_tensor_attr* attr);
int rknn_matmul_set_core_mask(rknn_matmul_ctx context, rknn_core_mask core_mask);
int rknn_matmul_set_quant_params(rknn_matmul_ctx context, rknn_quant_params* params);
int rknn_matmul_get_quant_params(rknn_matmul_ctx ctx, rknn_quant_params* params, float* scale);
int rknn_matmul_set_dynamic_shape(rknn_matmul_ctx ctx, rknn_matmul_shape* shape);
int rknn_matmul_run(rknn_matmul_ctx ctx);
int rknn_matmul_destroy(rknn_matmul_ctx ctx);
int rknn_B_normal_layout_to_native_layout(void* B_input, void* B_output, int K, int N,
                                          rknn_matmul_info* info);

typedef int (*rknn_matmul_create_fn)(rknn_matmul_ctx*, rknn_matmul_info*, rknn_matmul_io_attr*);
typedef int (*rknn_matmul_create_dynamic_shape_fn)(rknn_matmul_ctx*, rknn_matmul_info*, int,
                                                   rknn_matmul_shape*, rknn_matmul_io_attr*);
typedef int (*rknn_matmul_set_io_mem_fn)(rknn_matmul_ctx, rknn_tensor_mem*,
                                         rknn_matmul_tensor_attr*);
typedef int (*rknn_matmul_set_core_mask_fn)(rknn_matmul_ctx, rknn_core_mask);
typedef int (*rknn_matmul_set_quant_params_fn)(rknn_matmul_ctx, rknn_quant_params*);
typedef int (*rknn_matmul_get_quant_params_fn)(rknn_matmul_ctx, rknn_quant_params*, float*);
typedef int (*rknn_matmul_set_dynamic_shape_fn)(rknn_matmul_ctx, rknn_matmul_shape*);
typedef int (*rknn_matmul_run_fn)(rknn_matmul_ctx);
typedef int (*rknn_matmul_destroy_fn)(rknn_matmul_ctx);
typedef int (*rknn_B_normal_layout_to_native_layout_fn)(void*, void*, int, int, rknn_matmul_info*);

/* Custom operators. */
#define RKNN_WARNING_SKIP_CUSTOM_OP_COMPUTE (-14)
#define RKNN_CUSTOM_OP_MAX_STR_LEN 64
#define RKNN_CUSTOM_OP_MAX_VALUE_LEN 32

/* The misspelling "interal" is part of the runtime's name. */
#if defined(__arm__)
typedef uint32_t rknn_custom_op_interal_context;
#else
typedef uint64_t rknn_custom_op_interal_context;
#endif

typedef enum _rknn_target_type {
    RKNN_TARGET_TYPE_CPU = 1,
    RKNN_TARGET_TYPE_GPU = 2,
    RKNN_TARGET_TYPE_MAX = 3
} rknn_target_type;

typedef struct _rknn_gpu_op_context {
    void* cl_context;
    void* cl_command_queue;
    void* cl_kernel;
} rknn_gpu_op_context;

typedef struct _rknn_custom_op_context {
    rknn_target_type target;
    rknn_custom_op_interal_context internal_ctx;
    rknn_gpu_op_context gpu_ctx;
    void* priv_data;
} rknn_custom_op_context;

typedef struct _rknn_custom_op_tensor {
    rknn_tensor_attr attr;
    rknn_tensor_mem mem;
} rknn_custom_op_tensor;

typedef struct _rknn_custom_op_attr {
    char name[RKNN_MAX_NAME_LEN];
    rknn_tensor_type dtype;
    uint32_t n_elems;
    void* data;
} rknn_custom_op_attr;

/* Callback signature: our reading (context, inputs, n_inputs, outputs, n_outputs); only
 * the pointer size matters for the layout. */
typedef int (*rknn_custom_op_callback)(rknn_custom_op_context* op_ctx,
                                       rknn_custom_op_tensor* inputs, uint32_t n_inputs,
                                       rknn_custom_op_tensor* outputs, uint32_t n_outputs);

typedef struct _rknn_custom_op {
    uint32_t version;
    rknn_target_type target;
    char op_type[RKNN_MAX_NAME_LEN];
    char cl_kernel_name[RKNN_MAX_NAME_LEN];
    char* cl_kernel_source;
    uint64_t cl_source_size;
    char cl_build_options[RKNN_MAX_NAME_LEN];
    rknn_custom_op_callback init;
    rknn_custom_op_callback prepare;
    rknn_custom_op_callback compute;
    rknn_custom_op_callback compute_native;
    rknn_custom_op_callback destroy;
} rknn_custom_op;

int rknn_register_custom_ops(rknn_context ctx, rknn_custom_op* op, uint32_t custom_op_num);
void rknn_custom_op_get_op_attr(rknn_custom_op_context* op_ctx, const char* attr_name,
                                rknn_custom_op_attr* op_attr);

typedef int (*rknn_register_custom_ops_fn)(rknn_context, rknn_custom_op*, uint32_t);
typedef void (*rknn_custom_op_get_op_attr_fn)(rknn_custom_op_context*, const char*,
                                              rknn_custom_op_attr*);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RKNN_FAST_RKNN_ABI_H */
