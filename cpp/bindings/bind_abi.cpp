// _core._abi_layout(): the layout of our ABI declarations (cpp/abi/rknn_abi.h) as this
// build's compiler sees it, for tests/test_abi.py to compare with tests/data/rknn_abi.json.
#include <cstddef>

#include <pybind11/pybind11.h>

#include "abi/rknn_abi.h"
#include "abi/rknn_abi_checks.h"

namespace py = pybind11;

namespace rknn_fast::bindings {
namespace {

template <typename T>
py::dict struct_entry() {
    py::dict entry;
    entry["size"] = sizeof(T);
    entry["align"] = alignof(T);
    entry["fields"] = py::dict();
    entry["field_sizes"] = py::dict();
    return entry;
}

void add_field(py::dict& entry, const char* name, size_t offset, size_t size) {
    entry["fields"].cast<py::dict>()[name] = offset;
    entry["field_sizes"].cast<py::dict>()[name] = size;
}

#define RKNN_FAST_FIELD(entry, S, f) add_field(entry, #f, offsetof(S, f), sizeof(S::f))
#define RKNN_FAST_CONSTANT(d, c) d[#c] = static_cast<long long>(c)
#define RKNN_FAST_ENUM_SIZE(d, e) d[#e] = sizeof(e)

py::dict api_structs() {
    py::dict structs;
    {
        py::dict e = struct_entry<rknn_input_output_num>();
        RKNN_FAST_FIELD(e, rknn_input_output_num, n_input);
        RKNN_FAST_FIELD(e, rknn_input_output_num, n_output);
        structs["rknn_input_output_num"] = e;
    }
    {
        py::dict e = struct_entry<rknn_tensor_attr>();
        RKNN_FAST_FIELD(e, rknn_tensor_attr, index);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, n_dims);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, dims);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, name);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, n_elems);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, size);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, fmt);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, type);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, qnt_type);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, fl);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, zp);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, scale);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, w_stride);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, size_with_stride);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, pass_through);
        RKNN_FAST_FIELD(e, rknn_tensor_attr, h_stride);
        structs["rknn_tensor_attr"] = e;
    }
    {
        py::dict e = struct_entry<rknn_input_range>();
        RKNN_FAST_FIELD(e, rknn_input_range, index);
        RKNN_FAST_FIELD(e, rknn_input_range, shape_number);
        RKNN_FAST_FIELD(e, rknn_input_range, fmt);
        RKNN_FAST_FIELD(e, rknn_input_range, name);
        RKNN_FAST_FIELD(e, rknn_input_range, dyn_range);
        RKNN_FAST_FIELD(e, rknn_input_range, n_dims);
        structs["rknn_input_range"] = e;
    }
    {
        py::dict e = struct_entry<rknn_perf_detail>();
        RKNN_FAST_FIELD(e, rknn_perf_detail, perf_data);
        RKNN_FAST_FIELD(e, rknn_perf_detail, data_len);
        structs["rknn_perf_detail"] = e;
    }
    {
        py::dict e = struct_entry<rknn_perf_run>();
        RKNN_FAST_FIELD(e, rknn_perf_run, run_duration);
        structs["rknn_perf_run"] = e;
    }
    {
        py::dict e = struct_entry<rknn_sdk_version>();
        RKNN_FAST_FIELD(e, rknn_sdk_version, api_version);
        RKNN_FAST_FIELD(e, rknn_sdk_version, drv_version);
        structs["rknn_sdk_version"] = e;
    }
    {
        py::dict e = struct_entry<rknn_mem_size>();
        RKNN_FAST_FIELD(e, rknn_mem_size, total_weight_size);
        RKNN_FAST_FIELD(e, rknn_mem_size, total_internal_size);
        RKNN_FAST_FIELD(e, rknn_mem_size, total_dma_allocated_size);
        RKNN_FAST_FIELD(e, rknn_mem_size, total_sram_size);
        RKNN_FAST_FIELD(e, rknn_mem_size, free_sram_size);
        RKNN_FAST_FIELD(e, rknn_mem_size, reserved);
        structs["rknn_mem_size"] = e;
    }
    {
        py::dict e = struct_entry<rknn_custom_string>();
        RKNN_FAST_FIELD(e, rknn_custom_string, string);
        structs["rknn_custom_string"] = e;
    }
    {
        py::dict e = struct_entry<rknn_tensor_mem>();
        RKNN_FAST_FIELD(e, rknn_tensor_mem, virt_addr);
        RKNN_FAST_FIELD(e, rknn_tensor_mem, phys_addr);
        RKNN_FAST_FIELD(e, rknn_tensor_mem, fd);
        RKNN_FAST_FIELD(e, rknn_tensor_mem, offset);
        RKNN_FAST_FIELD(e, rknn_tensor_mem, size);
        RKNN_FAST_FIELD(e, rknn_tensor_mem, flags);
        RKNN_FAST_FIELD(e, rknn_tensor_mem, priv_data);
        structs["rknn_tensor_mem"] = e;
    }
    {
        py::dict e = struct_entry<rknn_input>();
        RKNN_FAST_FIELD(e, rknn_input, index);
        RKNN_FAST_FIELD(e, rknn_input, buf);
        RKNN_FAST_FIELD(e, rknn_input, size);
        RKNN_FAST_FIELD(e, rknn_input, pass_through);
        RKNN_FAST_FIELD(e, rknn_input, type);
        RKNN_FAST_FIELD(e, rknn_input, fmt);
        structs["rknn_input"] = e;
    }
    {
        py::dict e = struct_entry<rknn_output>();
        RKNN_FAST_FIELD(e, rknn_output, want_float);
        RKNN_FAST_FIELD(e, rknn_output, is_prealloc);
        RKNN_FAST_FIELD(e, rknn_output, index);
        RKNN_FAST_FIELD(e, rknn_output, buf);
        RKNN_FAST_FIELD(e, rknn_output, size);
        structs["rknn_output"] = e;
    }
    {
        py::dict e = struct_entry<rknn_init_extend>();
        RKNN_FAST_FIELD(e, rknn_init_extend, ctx);
        RKNN_FAST_FIELD(e, rknn_init_extend, real_model_offset);
        RKNN_FAST_FIELD(e, rknn_init_extend, real_model_size);
        RKNN_FAST_FIELD(e, rknn_init_extend, model_buffer_fd);
        RKNN_FAST_FIELD(e, rknn_init_extend, model_buffer_flags);
        RKNN_FAST_FIELD(e, rknn_init_extend, reserved);
        structs["rknn_init_extend"] = e;
    }
    {
        py::dict e = struct_entry<rknn_run_extend>();
        RKNN_FAST_FIELD(e, rknn_run_extend, frame_id);
        RKNN_FAST_FIELD(e, rknn_run_extend, non_block);
        RKNN_FAST_FIELD(e, rknn_run_extend, timeout_ms);
        RKNN_FAST_FIELD(e, rknn_run_extend, fence_fd);
        structs["rknn_run_extend"] = e;
    }
    {
        py::dict e = struct_entry<rknn_output_extend>();
        RKNN_FAST_FIELD(e, rknn_output_extend, frame_id);
        structs["rknn_output_extend"] = e;
    }
    return structs;
}

py::dict extra_structs() {
    py::dict structs;
    {
        py::dict e = struct_entry<rknn_quant_params>();
        RKNN_FAST_FIELD(e, rknn_quant_params, name);
        RKNN_FAST_FIELD(e, rknn_quant_params, scale);
        RKNN_FAST_FIELD(e, rknn_quant_params, scale_len);
        RKNN_FAST_FIELD(e, rknn_quant_params, zp);
        RKNN_FAST_FIELD(e, rknn_quant_params, zp_len);
        structs["rknn_quant_params"] = e;
    }
    {
        py::dict e = struct_entry<rknn_matmul_tensor_attr>();
        RKNN_FAST_FIELD(e, rknn_matmul_tensor_attr, name);
        RKNN_FAST_FIELD(e, rknn_matmul_tensor_attr, n_dims);
        RKNN_FAST_FIELD(e, rknn_matmul_tensor_attr, dims);
        RKNN_FAST_FIELD(e, rknn_matmul_tensor_attr, size);
        RKNN_FAST_FIELD(e, rknn_matmul_tensor_attr, type);
        structs["rknn_matmul_tensor_attr"] = e;
    }
    {
        py::dict e = struct_entry<rknn_matmul_io_attr>();
        RKNN_FAST_FIELD(e, rknn_matmul_io_attr, A);
        RKNN_FAST_FIELD(e, rknn_matmul_io_attr, B);
        RKNN_FAST_FIELD(e, rknn_matmul_io_attr, C);
        structs["rknn_matmul_io_attr"] = e;
    }
    {
        py::dict e = struct_entry<rknn_matmul_shape>();
        RKNN_FAST_FIELD(e, rknn_matmul_shape, M);
        RKNN_FAST_FIELD(e, rknn_matmul_shape, K);
        RKNN_FAST_FIELD(e, rknn_matmul_shape, N);
        structs["rknn_matmul_shape"] = e;
    }
    {
        py::dict e = struct_entry<rknn_matmul_info>();
        RKNN_FAST_FIELD(e, rknn_matmul_info, M);
        RKNN_FAST_FIELD(e, rknn_matmul_info, K);
        RKNN_FAST_FIELD(e, rknn_matmul_info, N);
        RKNN_FAST_FIELD(e, rknn_matmul_info, type);
        RKNN_FAST_FIELD(e, rknn_matmul_info, B_layout);
        RKNN_FAST_FIELD(e, rknn_matmul_info, B_quant_type);
        RKNN_FAST_FIELD(e, rknn_matmul_info, AC_layout);
        RKNN_FAST_FIELD(e, rknn_matmul_info, AC_quant_type);
        RKNN_FAST_FIELD(e, rknn_matmul_info, iommu_domain_id);
        RKNN_FAST_FIELD(e, rknn_matmul_info, group_size);
        RKNN_FAST_FIELD(e, rknn_matmul_info, reserved);
        structs["rknn_matmul_info"] = e;
    }
    {
        py::dict e = struct_entry<rknn_gpu_op_context>();
        RKNN_FAST_FIELD(e, rknn_gpu_op_context, cl_context);
        RKNN_FAST_FIELD(e, rknn_gpu_op_context, cl_command_queue);
        RKNN_FAST_FIELD(e, rknn_gpu_op_context, cl_kernel);
        structs["rknn_gpu_op_context"] = e;
    }
    {
        py::dict e = struct_entry<rknn_custom_op_context>();
        RKNN_FAST_FIELD(e, rknn_custom_op_context, target);
        RKNN_FAST_FIELD(e, rknn_custom_op_context, internal_ctx);
        RKNN_FAST_FIELD(e, rknn_custom_op_context, gpu_ctx);
        RKNN_FAST_FIELD(e, rknn_custom_op_context, priv_data);
        structs["rknn_custom_op_context"] = e;
    }
    {
        py::dict e = struct_entry<rknn_custom_op_tensor>();
        RKNN_FAST_FIELD(e, rknn_custom_op_tensor, attr);
        RKNN_FAST_FIELD(e, rknn_custom_op_tensor, mem);
        structs["rknn_custom_op_tensor"] = e;
    }
    {
        py::dict e = struct_entry<rknn_custom_op_attr>();
        RKNN_FAST_FIELD(e, rknn_custom_op_attr, name);
        RKNN_FAST_FIELD(e, rknn_custom_op_attr, dtype);
        RKNN_FAST_FIELD(e, rknn_custom_op_attr, n_elems);
        RKNN_FAST_FIELD(e, rknn_custom_op_attr, data);
        structs["rknn_custom_op_attr"] = e;
    }
    {
        py::dict e = struct_entry<rknn_custom_op>();
        RKNN_FAST_FIELD(e, rknn_custom_op, version);
        RKNN_FAST_FIELD(e, rknn_custom_op, target);
        RKNN_FAST_FIELD(e, rknn_custom_op, op_type);
        RKNN_FAST_FIELD(e, rknn_custom_op, cl_kernel_name);
        RKNN_FAST_FIELD(e, rknn_custom_op, cl_kernel_source);
        RKNN_FAST_FIELD(e, rknn_custom_op, cl_source_size);
        RKNN_FAST_FIELD(e, rknn_custom_op, cl_build_options);
        RKNN_FAST_FIELD(e, rknn_custom_op, init);
        RKNN_FAST_FIELD(e, rknn_custom_op, prepare);
        RKNN_FAST_FIELD(e, rknn_custom_op, compute);
        RKNN_FAST_FIELD(e, rknn_custom_op, compute_native);
        RKNN_FAST_FIELD(e, rknn_custom_op, destroy);
        structs["rknn_custom_op"] = e;
    }
    return structs;
}

py::dict api_constants() {
    py::dict c;
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_PRIOR_HIGH);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_PRIOR_MEDIUM);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_PRIOR_LOW);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_ASYNC_MASK);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_COLLECT_PERF_MASK);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_MEM_ALLOC_OUTSIDE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_SHARE_WEIGHT_MEM);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_FENCE_IN_OUTSIDE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_FENCE_OUT_OUTSIDE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_COLLECT_MODEL_INFO_ONLY);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_INTERNAL_ALLOC_OUTSIDE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_EXECUTE_FALLBACK_PRIOR_DEVICE_GPU);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_ENABLE_SRAM);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_SHARE_SRAM);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_DISABLE_PROC_HIGH_PRIORITY);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_DISABLE_FLUSH_INPUT_MEM_CACHE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_DISABLE_FLUSH_OUTPUT_MEM_CACHE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_MODEL_BUFFER_ZERO_COPY);
    RKNN_FAST_CONSTANT(c, RKNN_MEM_FLAG_ALLOC_NO_CONTEXT);
    RKNN_FAST_CONSTANT(c, RKNN_SUCC);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_FAIL);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_TIMEOUT);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_DEVICE_UNAVAILABLE);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_MALLOC_FAIL);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_PARAM_INVALID);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_MODEL_INVALID);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_CTX_INVALID);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_INPUT_INVALID);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_OUTPUT_INVALID);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_DEVICE_UNMATCH);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_INCOMPATILE_PRE_COMPILE_MODEL);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_INCOMPATILE_OPTIMIZATION_LEVEL_VERSION);
    RKNN_FAST_CONSTANT(c, RKNN_ERR_TARGET_PLATFORM_UNMATCH);
    RKNN_FAST_CONSTANT(c, RKNN_MAX_DIMS);
    RKNN_FAST_CONSTANT(c, RKNN_MAX_NUM_CHANNEL);
    RKNN_FAST_CONSTANT(c, RKNN_MAX_NAME_LEN);
    RKNN_FAST_CONSTANT(c, RKNN_MAX_DYNAMIC_SHAPE_NUM);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_IN_OUT_NUM);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_INPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_OUTPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_PERF_DETAIL);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_PERF_RUN);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_SDK_VERSION);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_MEM_SIZE);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_CUSTOM_STRING);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_NATIVE_INPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_NATIVE_OUTPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_NATIVE_NC1HWC2_INPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_NATIVE_NC1HWC2_OUTPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_DEVICE_MEM_INFO);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_INPUT_DYNAMIC_RANGE);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_CURRENT_INPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_CURRENT_OUTPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR);
    RKNN_FAST_CONSTANT(c, RKNN_QUERY_CMD_MAX);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_FLOAT32);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_FLOAT16);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_INT8);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_UINT8);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_INT16);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_UINT16);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_INT32);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_UINT32);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_INT64);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_BOOL);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_INT4);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_BFLOAT16);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_TYPE_MAX);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_QNT_NONE);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_QNT_DFP);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_QNT_MAX);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_NCHW);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_NHWC);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_NC1HWC2);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_UNDEFINED);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_FORMAT_MAX);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_AUTO);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_0);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_1);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_2);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_0_1);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_0_1_2);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_ALL);
    RKNN_FAST_CONSTANT(c, RKNN_NPU_CORE_UNDEFINED);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_MEMORY_FLAGS_ALLOC_INSIDE);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_MEMORY_FLAGS_FROM_FD);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_MEMORY_FLAGS_FROM_PHYS);
    RKNN_FAST_CONSTANT(c, RKNN_TENSOR_MEMORY_FLAGS_UNKNOWN);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_MEMORY_FLAGS_DEFAULT);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_MEMORY_CACHEABLE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_MEMORY_NON_CACHEABLE);
    RKNN_FAST_CONSTANT(c, RKNN_FLAG_MEMORY_TRY_ALLOC_SRAM);
    RKNN_FAST_CONSTANT(c, RKNN_MEMORY_SYNC_TO_DEVICE);
    RKNN_FAST_CONSTANT(c, RKNN_MEMORY_SYNC_FROM_DEVICE);
    RKNN_FAST_CONSTANT(c, RKNN_MEMORY_SYNC_BIDIRECTIONAL);
    return c;
}

py::dict extra_constants() {
    py::dict c;
    RKNN_FAST_CONSTANT(c, RKNN_QUANT_TYPE_PER_LAYER_SYM);
    RKNN_FAST_CONSTANT(c, RKNN_QUANT_TYPE_PER_LAYER_ASYM);
    RKNN_FAST_CONSTANT(c, RKNN_QUANT_TYPE_PER_CHANNEL_SYM);
    RKNN_FAST_CONSTANT(c, RKNN_QUANT_TYPE_PER_CHANNEL_ASYM);
    RKNN_FAST_CONSTANT(c, RKNN_QUANT_TYPE_PER_GROUP_SYM);
    RKNN_FAST_CONSTANT(c, RKNN_QUANT_TYPE_PER_GROUP_ASYM);
    RKNN_FAST_CONSTANT(c, RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32);
    RKNN_FAST_CONSTANT(c, RKNN_INT8_MM_INT8_TO_INT32);
    RKNN_FAST_CONSTANT(c, RKNN_INT8_MM_INT8_TO_INT8);
    RKNN_FAST_CONSTANT(c, RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT16);
    RKNN_FAST_CONSTANT(c, RKNN_FLOAT16_MM_INT8_TO_FLOAT32);
    RKNN_FAST_CONSTANT(c, RKNN_FLOAT16_MM_INT8_TO_FLOAT16);
    RKNN_FAST_CONSTANT(c, RKNN_FLOAT16_MM_INT4_TO_FLOAT32);
    RKNN_FAST_CONSTANT(c, RKNN_FLOAT16_MM_INT4_TO_FLOAT16);
    RKNN_FAST_CONSTANT(c, RKNN_INT8_MM_INT8_TO_FLOAT32);
    RKNN_FAST_CONSTANT(c, RKNN_INT4_MM_INT4_TO_INT16);
    RKNN_FAST_CONSTANT(c, RKNN_INT8_MM_INT4_TO_INT32);
    RKNN_FAST_CONSTANT(c, RKNN_FLOAT16_MM_INT4_TO_BFLOAT16);
    RKNN_FAST_CONSTANT(c, RKNN_INT8_MM_INT4_TO_FLOAT16);
    RKNN_FAST_CONSTANT(c, RKNN_MM_LAYOUT_NORM);
    RKNN_FAST_CONSTANT(c, RKNN_MM_LAYOUT_NATIVE);
    RKNN_FAST_CONSTANT(c, RKNN_MM_LAYOUT_TP_NORM);
    RKNN_FAST_CONSTANT(c, RKNN_WARNING_SKIP_CUSTOM_OP_COMPUTE);
    RKNN_FAST_CONSTANT(c, RKNN_CUSTOM_OP_MAX_STR_LEN);
    RKNN_FAST_CONSTANT(c, RKNN_CUSTOM_OP_MAX_VALUE_LEN);
    RKNN_FAST_CONSTANT(c, RKNN_TARGET_TYPE_CPU);
    RKNN_FAST_CONSTANT(c, RKNN_TARGET_TYPE_GPU);
    RKNN_FAST_CONSTANT(c, RKNN_TARGET_TYPE_MAX);
    return c;
}

py::dict enum_sizes() {
    py::dict e;
    RKNN_FAST_ENUM_SIZE(e, rknn_query_cmd);
    RKNN_FAST_ENUM_SIZE(e, rknn_tensor_type);
    RKNN_FAST_ENUM_SIZE(e, rknn_tensor_qnt_type);
    RKNN_FAST_ENUM_SIZE(e, rknn_tensor_format);
    RKNN_FAST_ENUM_SIZE(e, rknn_core_mask);
    RKNN_FAST_ENUM_SIZE(e, rknn_tensor_mem_flags);
    RKNN_FAST_ENUM_SIZE(e, rknn_mem_alloc_flags);
    RKNN_FAST_ENUM_SIZE(e, rknn_mem_sync_mode);
    RKNN_FAST_ENUM_SIZE(e, rknn_matmul_quant_type);
    RKNN_FAST_ENUM_SIZE(e, rknn_matmul_type);
    RKNN_FAST_ENUM_SIZE(e, rknn_matmul_layout);
    RKNN_FAST_ENUM_SIZE(e, rknn_target_type);
    return e;
}

py::dict abi_layout() {
    py::dict layout;
    layout["structs"] = api_structs();
    layout["extra_structs"] = extra_structs();
    layout["constants"] = api_constants();
    layout["extra_constants"] = extra_constants();
    layout["enum_sizes"] = enum_sizes();
    layout["sizeof_rknn_context"] = sizeof(rknn_context);
    layout["alignof_rknn_context"] = alignof(rknn_context);
    layout["pointer_size"] = sizeof(void*);
    layout["sizeof_long"] = sizeof(long);
    layout["sizeof_rknn_matmul_ctx"] = sizeof(rknn_matmul_ctx);
    layout["sizeof_rknn_custom_op_interal_context"] = sizeof(rknn_custom_op_interal_context);
    return layout;
}

#undef RKNN_FAST_FIELD
#undef RKNN_FAST_CONSTANT
#undef RKNN_FAST_ENUM_SIZE

}  // namespace

void bind_abi(py::module_& m) {
    m.def("_abi_layout", &abi_layout,
          "Layout of cpp/abi/rknn_abi.h in this build: {'structs': {name: {'size', 'align', "
          "'fields': {field: offset}, 'field_sizes': {field: bytes}}}, 'extra_structs', "
          "'constants', 'extra_constants', 'enum_sizes', 'sizeof_rknn_context', ...} (bytes).");
}

}  // namespace rknn_fast::bindings
