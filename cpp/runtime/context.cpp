#include "runtime/context.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace rknn_fast::runtime {

CallError::CallError(int code, std::string api, const std::string& detail)
    : std::runtime_error(api + " failed with " + std::to_string(code) +
                         (detail.empty() ? std::string() : ": " + detail)),
      code_(code),
      api_(std::move(api)),
      detail_(detail) {}

void Context::check(int rc, const char* api) {
    if (rc < 0) throw CallError(rc, api);
}

Context::Context(std::shared_ptr<const Library> lib, const void* model, size_t size, const std::string& path,
                 uint32_t flags)
    : lib_(std::move(lib)) {
    int rc = 0;
    if (!path.empty()) {
        rc = lib_->init(&ctx_, const_cast<char*>(path.c_str()), 0, flags, nullptr);
    } else {
        if (size == 0 || size > std::numeric_limits<uint32_t>::max()) {
            throw std::invalid_argument("model size must be 1 byte .. 4 GiB, got " + std::to_string(size));
        }
        // rknn_init takes a non-const pointer but only reads the model.
        rc = lib_->init(&ctx_, const_cast<void*>(model), static_cast<uint32_t>(size), flags, nullptr);
    }
    if (rc < 0) {
        // Name the runtime: most init failures are a model/runtime version or platform mismatch.
        const std::string version = lib_->embedded_version();
        throw CallError(rc, "rknn_init",
                        "runtime " + lib_->path() + (version.empty() ? "" : " (librknnrt version " + version + ")"));
    }
}

Context::Context(std::shared_ptr<const Library> lib, rknn_context src) : lib_(std::move(lib)) {
    if (lib_->dup_context == nullptr) throw std::logic_error("rknn_dup_context is missing from " + lib_->path());
    rknn_context in = src;
    const int rc = lib_->dup_context(&in, &ctx_);
    if (rc < 0) {
        ctx_ = 0;
        throw CallError(rc, "rknn_dup_context");
    }
}

Context::~Context() {
    if (ctx_) lib_->destroy(ctx_);
}

TensorMem::TensorMem(std::shared_ptr<Context> ctx, rknn_tensor_mem* mem, size_t size)
    : ctx_(std::move(ctx)), mem_(mem), size_(size) {}

std::shared_ptr<TensorMem> TensorMem::allocate(std::shared_ptr<Context> ctx, size_t size, bool cacheable) {
    if (size > std::numeric_limits<uint32_t>::max()) throw std::invalid_argument("tensor memory over 4 GiB");
    const Library& lib = ctx->lib();
    rknn_tensor_mem* mem = nullptr;
    const char* api = "rknn_create_mem";
    const bool use2 = cacheable && lib.create_mem2 && lib.mem_sync;
    if (use2) {
        api = "rknn_create_mem2";
        mem = lib.create_mem2(ctx->handle(), size, RKNN_FLAG_MEMORY_CACHEABLE);
    } else {
        mem = lib.create_mem(ctx->handle(), static_cast<uint32_t>(size));
    }
    if (!mem) throw CallError(RKNN_ERR_MALLOC_FAIL, api, "no memory of " + std::to_string(size) + " bytes");
    std::shared_ptr<TensorMem> out(new TensorMem(std::move(ctx), mem, size));
    out->needs_sync_ = use2;
    return out;
}

std::shared_ptr<TensorMem> TensorMem::from_fd(std::shared_ptr<Context> ctx, int fd, size_t size, size_t offset) {
    if (size == 0 || size + offset > std::numeric_limits<uint32_t>::max() ||
        offset > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        throw std::invalid_argument("dma-buf size must be 1 byte .. 4 GiB and offset < 2 GiB");
    }
    const size_t total = size + offset;
    void* map = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        throw std::invalid_argument("cannot map fd " + std::to_string(fd) + " (" + std::to_string(total) +
                                    " bytes): " + std::strerror(errno));
    }
    rknn_tensor_mem* mem = ctx->lib().create_mem_from_fd(ctx->handle(), fd, map, static_cast<uint32_t>(size),
                                                         static_cast<int32_t>(offset));
    if (!mem) {
        munmap(map, total);
        throw CallError(RKNN_ERR_FAIL, "rknn_create_mem_from_fd", "the runtime refused fd " + std::to_string(fd));
    }
    std::shared_ptr<TensorMem> out(new TensorMem(std::move(ctx), mem, size));
    out->offset_ = offset;
    out->mapping_ = map;
    out->mapping_size_ = total;
    return out;
}

uint8_t* TensorMem::data() const {
    if (mapping_) return static_cast<uint8_t*>(mapping_) + offset_;
    return static_cast<uint8_t*>(mem_->virt_addr);
}

TensorMem::~TensorMem() {
    if (mem_) ctx_->lib().destroy_mem(ctx_->handle(), mem_);
    if (mapping_) munmap(mapping_, mapping_size_);
}

RuntimeOutputs::RuntimeOutputs(const Context& ctx, std::vector<rknn_output> outputs)
    : ctx_(ctx), outputs_(std::move(outputs)) {
    Context::check(ctx_.lib().outputs_get(ctx_.handle(), static_cast<uint32_t>(outputs_.size()),
                                          outputs_.data(), nullptr),
                   "rknn_outputs_get");
    got_ = true;
}

RuntimeOutputs::~RuntimeOutputs() {
    if (got_) ctx_.lib().outputs_release(ctx_.handle(), static_cast<uint32_t>(outputs_.size()), outputs_.data());
}

}  // namespace rknn_fast::runtime
