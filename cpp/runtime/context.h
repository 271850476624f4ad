// RAII owners of runtime handles: a context (rknn_destroy), tensor memory
// (rknn_destroy_mem, always before its context: a TensorMem keeps its Context alive) and
// runtime-owned outputs (rknn_outputs_release).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "abi/rknn_abi.h"
#include "runtime/loader.h"

namespace rknn_fast::runtime {

// A runtime call returned a negative RKNN_ERR_* code (or a create_mem* returned NULL).
class CallError : public std::runtime_error {
  public:
    CallError(int code, std::string api, const std::string& detail = "");
    int code() const { return code_; }
    const std::string& api() const { return api_; }
    const std::string& detail() const { return detail_; }

  private:
    int code_;
    std::string api_;
    std::string detail_;
};

class Context {
  public:
    // rknn_init on an in-memory model (the runtime does not keep `model` after init), or,
    // when `path` is not empty, on the file at `path` (rknn_init's size-0 form).
    Context(std::shared_ptr<const Library> lib, const void* model, size_t size, const std::string& path,
            uint32_t flags);
    // A context sharing `src`'s weights through rknn_dup_context (the runtime reads no file).
    Context(std::shared_ptr<const Library> lib, rknn_context src);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    rknn_context handle() const { return ctx_; }
    const Library& lib() const { return *lib_; }
    const std::shared_ptr<const Library>& lib_ptr() const { return lib_; }

    // Throws CallError when rc < 0.
    static void check(int rc, const char* api);

    // rknn_query of a fixed-size struct.
    template <class T>
    int query(rknn_query_cmd cmd, T& out) const {
        return lib_->query(ctx_, cmd, &out, static_cast<uint32_t>(sizeof(T)));
    }

  private:
    std::shared_ptr<const Library> lib_;
    rknn_context ctx_ = 0;
};

// One rknn_tensor_mem from rknn_create_mem*, destroyed before its context.
class TensorMem {
  public:
    // rknn_create_mem2(size, flags) when available and `cacheable`, else rknn_create_mem.
    static std::shared_ptr<TensorMem> allocate(std::shared_ptr<Context> ctx, size_t size, bool cacheable);
    // Wraps a caller's dma-buf fd; maps it (MAP_SHARED) so the CPU side has an address.
    static std::shared_ptr<TensorMem> from_fd(std::shared_ptr<Context> ctx, int fd, size_t size,
                                              size_t offset);
    ~TensorMem();
    TensorMem(const TensorMem&) = delete;
    TensorMem& operator=(const TensorMem&) = delete;

    rknn_tensor_mem* mem() const { return mem_; }
    // CPU address of the data (offset applied).
    uint8_t* data() const;
    size_t size() const { return size_; }
    // True when created cacheable through create_mem2: the caller syncs it.
    bool needs_sync() const { return needs_sync_; }
    const Context& context() const { return *ctx_; }

  private:
    TensorMem(std::shared_ptr<Context> ctx, rknn_tensor_mem* mem, size_t size);
    std::shared_ptr<Context> ctx_;
    rknn_tensor_mem* mem_ = nullptr;
    size_t size_ = 0;
    size_t offset_ = 0;
    bool needs_sync_ = false;
    void* mapping_ = nullptr;  // our mmap of an imported fd
    size_t mapping_size_ = 0;
};

// rknn_outputs_get with runtime-allocated buffers, released on scope exit.
class RuntimeOutputs {
  public:
    RuntimeOutputs(const Context& ctx, std::vector<rknn_output> outputs);
    ~RuntimeOutputs();
    RuntimeOutputs(const RuntimeOutputs&) = delete;
    RuntimeOutputs& operator=(const RuntimeOutputs&) = delete;
    const std::vector<rknn_output>& outputs() const { return outputs_; }

  private:
    const Context& ctx_;
    std::vector<rknn_output> outputs_;
    bool got_ = false;
};

}  // namespace rknn_fast::runtime
