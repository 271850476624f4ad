// The exported C API of the emulator: the functions of librknnrt's rknn_api.h with their exact
// signatures (not rknn_create_mem_from_mb_blk, which no real build exports), plus
// rknn_emulator_control. The matmul and custom-op exports are in unsupported.cpp.
// Everything else in the library is hidden.
// Each function validates its arguments, looks its context up in the registry, and never
// lets a C++ exception cross the C boundary.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <sstream>

#include "abi/rknn_abi.h"
#include "abi/rknn_abi_checks.h"
#include "emulator/board.h"
#include "emulator/context.h"
#include "emulator/golden.h"
#include "emulator/identity.h"
#include "emulator/model.h"
#include "emulator/state.h"

#define RKNN_EMU_EXPORT extern "C" __attribute__((visibility("default")))

using namespace rknn_fast::emulator;
namespace format = rknn_fast::format;

namespace {

Emulator& emu() { return Emulator::get(); }

int fail(int code, const std::string& message) {
    emu().log_error(message);
    return code;
}

std::string hex(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// Runs an API body, counting the call and turning exceptions into error codes.
template <typename Body>
int guarded(Api api, Body&& body) {
    count_call(api);
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(RKNN_ERR_MALLOC_FAIL, std::string(api_name(api)) + ": out of memory");
    } catch (const std::exception& e) {
        return fail(RKNN_ERR_FAIL, std::string(api_name(api)) + ": " + e.what());
    }
}

template <typename Body>
rknn_tensor_mem* guarded_mem(Api api, Body&& body) {
    count_call(api);
    try {
        return body();
    } catch (const std::exception& e) {
        emu().log_error(std::string(api_name(api)) + ": " + e.what());
        return nullptr;
    }
}

std::shared_ptr<Context> lookup(rknn_context handle, Api api) {
    auto ctx = Contexts::get().find(handle);
    if (!ctx) emu().log_error(std::string(api_name(api)) + ": invalid context " + hex(handle));
    return ctx;
}

// The bits of a C enum that came from the caller. Reading them as the enum type would be
// undefined behaviour for values outside the enumeration (a caller may pass any int).
template <typename Enum>
int32_t enum_bits(const Enum& value) {
    static_assert(sizeof(Enum) == sizeof(int32_t), "C enums of the ABI are 4 bytes");
    int32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

bool fault_hit(Api api, int& code) {
    const FaultHit hit = emu().check_fault(api);
    if (!hit.hit) return false;
    code = hit.code;
    emu().log_error(std::string(api_name(api)) + ": injected fault, returning " + std::to_string(code));
    return true;
}

bool read_file(const std::string& path, std::vector<uint8_t>& bytes) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return !f.bad();
}

void copy_string(char* dst, size_t capacity, const std::string& src) {
    const size_t n = std::min(src.size(), capacity - 1);
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

void fill_attr(rknn_tensor_attr* attr, uint32_t index, const TensorModel& t,
               const format::RuntimeAttr& r) {
    std::memset(attr, 0, sizeof *attr);
    attr->index = index;
    attr->n_dims = static_cast<uint32_t>(std::min<size_t>(r.dims.size(), RKNN_MAX_DIMS));
    for (uint32_t i = 0; i < attr->n_dims; ++i) attr->dims[i] = r.dims[i];
    copy_string(attr->name, RKNN_MAX_NAME_LEN, t.name);
    attr->n_elems = r.n_elems;
    attr->size = r.size;
    attr->fmt = static_cast<rknn_tensor_format>(r.fmt);
    attr->type = static_cast<rknn_tensor_type>(r.type);
    attr->qnt_type = static_cast<rknn_tensor_qnt_type>(r.qnt_type);
    attr->fl = 0;
    attr->zp = r.zp;
    attr->scale = r.scale;
    attr->w_stride = r.w_stride;
    attr->size_with_stride = r.size_with_stride;
    attr->pass_through = 0;
    attr->h_stride = r.h_stride;
}

// Model-domain bytes of one input from values read out of a caller buffer: raw values are
// normalised and quantised; model values (pass-through, or given in the model's quantised
// type) are already normalised (only re-encoded, which is exact for values on its grid).
std::vector<uint8_t> to_model(const TensorModel& t, const std::vector<float>& values, bool model_values) {
    if (!model_values) return encode_input(t, values);
    std::vector<uint8_t> bytes(t.model_bytes());
    const size_t esz = codec_type_size(t.encoding.type);
    for (size_t i = 0; i < values.size(); ++i) store_value(bytes.data() + i * esz, t.encoding, values[i]);
    return bytes;
}

bool valid_core_mask(uint32_t mask, int cores) {
    if (mask == RKNN_NPU_CORE_AUTO || mask == RKNN_NPU_CORE_ALL) return true;
    const uint32_t all = (1u << cores) - 1u;
    return mask != 0 && (mask & ~all) == 0;
}

uint32_t align_up(uint64_t v, uint64_t a) { return static_cast<uint32_t>((v + a - 1) / a * a); }

rknn_mem_size mem_sizes(const Model& m) {
    // Estimates: the file size for the weights, the native outputs for the internal memory.
    rknn_mem_size ms{};
    uint64_t io = 0, internal = 0;
    for (const auto& t : m.inputs) io += t.native.size_with_stride;
    for (const auto& t : m.outputs) {
        io += t.native.size_with_stride;
        internal += t.native.size_with_stride;
    }
    ms.total_weight_size = align_up(m.file_size, 4096);
    ms.total_internal_size = align_up(internal, 4096);
    ms.total_dma_allocated_size = uint64_t(ms.total_weight_size) + ms.total_internal_size + align_up(io, 4096);
    return ms;
}

uint64_t next_phys_addr(uint64_t size) {
    // Fake, unique, page-aligned "physical" addresses for runtime-allocated memory.
    static std::atomic<uint64_t> next{0x40000000ull};
    return next.fetch_add((size + 0xfffu) & ~uint64_t(0xfff));
}

// size: the rknn_tensor_mem.size field is 32-bit, so callers reject larger requests (and the
// mapping length then fits size_t on 32-bit targets too).
rknn_tensor_mem* alloc_mem(uint32_t size, uint32_t flags) {
    auto record = std::make_shared<MemRecord>();
    const int fd = memfd_create("rknn_emu_mem", MFD_CLOEXEC);
    if (fd < 0) {
        emu().log_error("rknn_create_mem: memfd_create failed");
        return nullptr;
    }
    record->owned_fd = fd;
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
        emu().log_error("rknn_create_mem: cannot size a " + std::to_string(size) + "-byte buffer");
        return nullptr;
    }
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        emu().log_error("rknn_create_mem: mmap of " + std::to_string(size) + " bytes failed");
        return nullptr;
    }
    record->map_base = p;
    record->map_len = size;
    record->data = static_cast<uint8_t*>(p);
    record->size = size;
    rknn_tensor_mem fields{};
    fields.virt_addr = p;
    fields.phys_addr = next_phys_addr(size);
    fields.fd = fd;
    fields.offset = 0;
    fields.size = size;
    fields.flags = flags;
    fields.priv_data = nullptr;
    return Mems::get().add(std::move(record), fields);
}

bool context_or_zero_valid(rknn_context handle, Api api) {
    return handle == 0 || lookup(handle, api) != nullptr;
}

std::string perf_detail_text(const RunJob* job) {
    std::ostringstream o;
    o << "rknn_fast emulator: no per-layer profile (emulated NPU)\n";
    if (job != nullptr) {
        o << "frame: " << job->frame_id << "\n"
          << "cores: 0x" << std::hex << job->cores_used << std::dec << "\n"
          << "source: " << (job->golden_record >= 0 ? "golden record " + std::to_string(job->golden_record)
                                                    : std::string("synthetic"))
          << "\n"
          << "Total Operator Elapse Time(us): " << job->run_duration_us << "\n";
    }
    return o.str();
}

}  // namespace

// ---------------------------------------------------------------------------------------
RKNN_EMU_EXPORT int rknn_init(rknn_context* context, void* model, uint32_t size, uint32_t flag,
                              rknn_init_extend* extend) {
    return guarded(Api::init, [&]() -> int {
        if (context == nullptr || model == nullptr) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_init: context and model must not be NULL");
        }
        int code = 0;
        if (fault_hit(Api::init, code)) return code;
        std::vector<uint8_t> file;
        const uint8_t* data = static_cast<const uint8_t*>(model);
        size_t n = size;
        std::string golden = emu().golden_override();
        std::string model_path;
        if (size == 0) {
            model_path = static_cast<const char*>(model);
            if (!read_file(model_path, file)) {
                return fail(RKNN_ERR_MODEL_INVALID, "rknn_init: cannot read model file '" + model_path + "'");
            }
            data = file.data();
            n = file.size();
        }
        if (golden.empty()) {
            // Found by content: docs/golden-format.md, "Where the emulator finds a golden set".
            const char* search = std::getenv("RKNN_EMU_GOLDEN_PATH");
            golden = find_golden(
                model_path, search != nullptr ? search : "", [&] { return sha256(data, n); },
                [](const std::string& note) { emu().log_info("rknn_init: golden " + note); });
        }
        const Board board = detect_board();
        std::shared_ptr<Context> shared_from;
        if (flag & RKNN_FLAG_SHARE_WEIGHT_MEM) {
            if (extend == nullptr) {
                return fail(RKNN_ERR_PARAM_INVALID,
                            "rknn_init: RKNN_FLAG_SHARE_WEIGHT_MEM needs extend->ctx");
            }
            shared_from = lookup(extend->ctx, Api::init);
            if (!shared_from) return RKNN_ERR_CTX_INVALID;
        }
        std::shared_ptr<const Model> m;
        try {
            m = load_model(data, n, golden, board.soc);
        } catch (const PlatformMismatch& e) {
            return fail(RKNN_ERR_TARGET_PLATFORM_UNMATCH, std::string("rknn_init: ") + e.what());
        } catch (const format::FormatError& e) {
            return fail(RKNN_ERR_MODEL_INVALID, std::string("rknn_init: invalid model: ") + e.what());
        } catch (const GoldenError& e) {
            return fail(RKNN_ERR_MODEL_INVALID, std::string("rknn_init: invalid golden set: ") + e.what());
        }
        if (shared_from) {
            const Model& other = *shared_from->model;
            bool same = other.inputs.size() == m->inputs.size() && other.outputs.size() == m->outputs.size();
            for (size_t i = 0; same && i < m->inputs.size(); ++i) same = other.inputs[i].logical == m->inputs[i].logical;
            for (size_t i = 0; same && i < m->outputs.size(); ++i) same = other.outputs[i].logical == m->outputs[i].logical;
            if (!same) {
                return fail(RKNN_ERR_MODEL_INVALID,
                            "rknn_init: RKNN_FLAG_SHARE_WEIGHT_MEM with a model of another structure");
            }
        }
        auto ctx = std::make_shared<Context>();
        ctx->model = m;
        ctx->flags = flag;
        for (const auto& t : m->inputs) ctx->inputs.emplace_back(t.model_bytes(), 0);
        ctx->in_bindings.resize(m->inputs.size());
        ctx->out_bindings.resize(m->outputs.size());
        *context = Contexts::get().add(ctx);
        emu().log_info("rknn_init: emulator of librknnrt " + std::string(kApiVersion) + " on " + m->soc +
                       (board.source.empty() ? " (the model's platform)" : " (from " + board.source + ")") +
                       ": " + m->platform + " model, " + std::to_string(m->inputs.size()) + " inputs, " +
                       std::to_string(m->outputs.size()) + " outputs, " + std::to_string(m->golden.size()) +
                       " golden records" + (m->golden_path.empty() ? "" : " from " + m->golden_path));
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_dup_context(rknn_context* context_in, rknn_context* context_out) {
    return guarded(Api::dup_context, [&]() -> int {
        if (context_in == nullptr || context_out == nullptr) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_dup_context: NULL argument");
        }
        int code = 0;
        if (fault_hit(Api::dup_context, code)) return code;
        auto src = lookup(*context_in, Api::dup_context);
        if (!src) return RKNN_ERR_CTX_INVALID;
        auto ctx = std::make_shared<Context>();
        {
            std::lock_guard<std::mutex> lock(src->mutex);
            ctx->model = src->model;  // weights (the parsed model) are shared, not re-read
            ctx->flags = src->flags;
        }
        for (const auto& t : ctx->model->inputs) ctx->inputs.emplace_back(t.model_bytes(), 0);
        ctx->in_bindings.resize(ctx->model->inputs.size());
        ctx->out_bindings.resize(ctx->model->outputs.size());
        *context_out = Contexts::get().add(ctx);
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_destroy(rknn_context context) {
    return guarded(Api::destroy, [&]() -> int {
        int code = 0;
        if (Contexts::get().find(context) && fault_hit(Api::destroy, code)) return code;  // context kept
        auto ctx = Contexts::get().remove(context);
        if (!ctx) return fail(RKNN_ERR_CTX_INVALID, "rknn_destroy: invalid context " + hex(context));
        std::lock_guard<std::mutex> lock(ctx->mutex);
        ctx->finish_jobs();
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_query(rknn_context context, rknn_query_cmd cmd, void* info, uint32_t size) {
    return guarded(Api::query, [&]() -> int {
        auto ctx = lookup(context, Api::query);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        if (info == nullptr) return fail(RKNN_ERR_PARAM_INVALID, "rknn_query: info is NULL");
        int code = 0;
        if (fault_hit(Api::query, code)) return code;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        const Model& m = *ctx->model;
        const auto need = [&](size_t expected) {
            if (size == expected) return true;
            emu().log_error("rknn_query: cmd " + std::to_string(enum_bits(cmd)) + ": info size " +
                            std::to_string(size) + " != sizeof " + std::to_string(expected));
            return false;
        };
        const int c = enum_bits(cmd);
        switch (c) {
            case RKNN_QUERY_IN_OUT_NUM: {
                if (!need(sizeof(rknn_input_output_num))) return RKNN_ERR_PARAM_INVALID;
                auto* io = static_cast<rknn_input_output_num*>(info);
                io->n_input = static_cast<uint32_t>(m.inputs.size());
                io->n_output = static_cast<uint32_t>(m.outputs.size());
                return RKNN_SUCC;
            }
            case RKNN_QUERY_INPUT_ATTR:
            case RKNN_QUERY_OUTPUT_ATTR:
            case RKNN_QUERY_NATIVE_INPUT_ATTR:
            case RKNN_QUERY_NATIVE_OUTPUT_ATTR:
            case RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR:
            case RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR:
            case RKNN_QUERY_CURRENT_INPUT_ATTR:
            case RKNN_QUERY_CURRENT_OUTPUT_ATTR:
            case RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR:
            case RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR: {
                if (!need(sizeof(rknn_tensor_attr))) return RKNN_ERR_PARAM_INVALID;
                auto* attr = static_cast<rknn_tensor_attr*>(info);
                const bool is_input = c == RKNN_QUERY_INPUT_ATTR || c == RKNN_QUERY_NATIVE_INPUT_ATTR ||
                                      c == RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR ||
                                      c == RKNN_QUERY_CURRENT_INPUT_ATTR ||
                                      c == RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR;
                const auto& tensors = is_input ? m.inputs : m.outputs;
                const uint32_t index = attr->index;
                if (index >= tensors.size()) {
                    return fail(RKNN_ERR_PARAM_INVALID,
                                "rknn_query: " + std::string(is_input ? "input" : "output") + " index " +
                                    std::to_string(index) + " out of range (" +
                                    std::to_string(tensors.size()) + ")");
                }
                const TensorModel& t = tensors[index];
                const format::RuntimeAttr* r = &t.normal;
                if (c == RKNN_QUERY_NATIVE_INPUT_ATTR || c == RKNN_QUERY_NATIVE_OUTPUT_ATTR ||
                    c == RKNN_QUERY_CURRENT_NATIVE_INPUT_ATTR || c == RKNN_QUERY_CURRENT_NATIVE_OUTPUT_ATTR) {
                    r = &t.native;
                } else if (c == RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR || c == RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR) {
                    r = &t.native_nhwc;
                }
                fill_attr(attr, index, t, *r);
                return RKNN_SUCC;
            }
            case RKNN_QUERY_PERF_DETAIL: {
                if (!need(sizeof(rknn_perf_detail))) return RKNN_ERR_PARAM_INVALID;
                if (!(ctx->flags & RKNN_FLAG_COLLECT_PERF_MASK)) {
                    return fail(RKNN_ERR_PARAM_INVALID,
                                "rknn_query: RKNN_QUERY_PERF_DETAIL needs RKNN_FLAG_COLLECT_PERF_MASK at init");
                }
                bool done = false;
                if (ctx->job) {
                    std::lock_guard<std::mutex> job_lock(ctx->job->mutex);
                    done = ctx->job->done;
                }
                ctx->perf_detail = perf_detail_text(done ? ctx->job.get() : nullptr);
                auto* perf = static_cast<rknn_perf_detail*>(info);
                perf->perf_data = &ctx->perf_detail[0];
                perf->data_len = ctx->perf_detail.size();
                return RKNN_SUCC;
            }
            case RKNN_QUERY_PERF_RUN: {
                if (!need(sizeof(rknn_perf_run))) return RKNN_ERR_PARAM_INVALID;
                auto* perf = static_cast<rknn_perf_run*>(info);
                perf->run_duration = 0;
                if (ctx->job) {
                    std::lock_guard<std::mutex> job_lock(ctx->job->mutex);
                    if (ctx->job->done) perf->run_duration = ctx->job->run_duration_us;
                }
                return RKNN_SUCC;
            }
            case RKNN_QUERY_SDK_VERSION: {
                if (!need(sizeof(rknn_sdk_version))) return RKNN_ERR_PARAM_INVALID;
                auto* v = static_cast<rknn_sdk_version*>(info);
                std::memset(v, 0, sizeof *v);
                copy_string(v->api_version, sizeof v->api_version, kApiVersion);
                copy_string(v->drv_version, sizeof v->drv_version, kDriverVersion);
                return RKNN_SUCC;
            }
            case RKNN_QUERY_MEM_SIZE: {
                if (!need(sizeof(rknn_mem_size))) return RKNN_ERR_PARAM_INVALID;
                *static_cast<rknn_mem_size*>(info) = mem_sizes(m);
                return RKNN_SUCC;
            }
            case RKNN_QUERY_CUSTOM_STRING: {
                if (!need(sizeof(rknn_custom_string))) return RKNN_ERR_PARAM_INVALID;
                auto* s = static_cast<rknn_custom_string*>(info);
                std::memset(s, 0, sizeof *s);
                copy_string(s->string, sizeof s->string, m.custom_string);
                return RKNN_SUCC;
            }
            case RKNN_QUERY_INPUT_DYNAMIC_RANGE: {
                if (!need(sizeof(rknn_input_range))) return RKNN_ERR_PARAM_INVALID;
                // Every model the reader accepts is static-shape; the real runtime refuses
                // this query for those with RKNN_ERR_MODEL_INVALID.
                return fail(RKNN_ERR_MODEL_INVALID,
                            "rknn_query: RKNN_QUERY_INPUT_DYNAMIC_RANGE error, rknn model is static shape type");
            }
            default:
                return fail(RKNN_ERR_PARAM_INVALID,
                            "rknn_query: unsupported command " + std::to_string(c));
        }
    });
}

RKNN_EMU_EXPORT int rknn_inputs_set(rknn_context context, uint32_t n_inputs, rknn_input inputs[]) {
    return guarded(Api::inputs_set, [&]() -> int {
        auto ctx = lookup(context, Api::inputs_set);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        const Model& m = *ctx->model;
        if (inputs == nullptr || n_inputs == 0 || n_inputs > m.inputs.size()) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_inputs_set: expected 1.." + std::to_string(m.inputs.size()) +
                                                    " inputs, got " + std::to_string(n_inputs) +
                                                    (inputs == nullptr ? " (NULL array)" : ""));
        }
        int code = 0;
        if (fault_hit(Api::inputs_set, code)) return code;
        if (ctx->flags & RKNN_FLAG_COLLECT_MODEL_INFO_ONLY) {
            return fail(RKNN_ERR_FAIL, "rknn_inputs_set: context was created with COLLECT_MODEL_INFO_ONLY");
        }
        // Convert everything first so that a bad input leaves the context unchanged.
        std::vector<std::pair<uint32_t, std::vector<uint8_t>>> converted;
        uint64_t bytes_read = 0;
        for (uint32_t k = 0; k < n_inputs; ++k) {
            const rknn_input& in = inputs[k];
            if (in.index >= m.inputs.size()) {
                return fail(RKNN_ERR_INPUT_INVALID, "rknn_inputs_set: input index " + std::to_string(in.index) +
                                                        " out of range (" + std::to_string(m.inputs.size()) + ")");
            }
            if (in.buf == nullptr) {
                return fail(RKNN_ERR_PARAM_INVALID, "rknn_inputs_set: input " + std::to_string(in.index) + " buf is NULL");
            }
            const TensorModel& t = m.inputs[in.index];
            Layout layout;
            Encoding encoding;
            if (in.pass_through) {
                // Already in the model's format: its type and native layout; type/fmt ignored.
                layout = layout_of(t.native);
                encoding = t.encoding;
            } else {
                const int32_t type = enum_bits(in.type), fmt = enum_bits(in.fmt);
                if (codec_type_size(type) == 0) {
                    return fail(RKNN_ERR_INPUT_INVALID, "rknn_inputs_set: unsupported input type " +
                                                            std::to_string(type));
                }
                if (fmt != RKNN_TENSOR_NCHW && fmt != RKNN_TENSOR_NHWC && fmt != RKNN_TENSOR_UNDEFINED) {
                    return fail(RKNN_ERR_INPUT_INVALID, "rknn_inputs_set: unsupported input fmt " +
                                                            std::to_string(fmt) + " without pass_through");
                }
                layout.fmt = fmt;
                encoding.type = type;
                // The model's own quantised type: quantised values (same rule as rknn_set_io_mem).
                if (given_as_quantised(t.encoding, type)) encoding = t.encoding;
            }
            std::string error;
            const size_t need = layout_bytes(t.logical, layout, encoding.type, error);
            if (need == 0) return fail(RKNN_ERR_INPUT_INVALID, "rknn_inputs_set: input " + std::to_string(in.index) + ": " + error);
            if (in.size < need) {
                return fail(RKNN_ERR_PARAM_INVALID, "rknn_inputs_set: input " + std::to_string(in.index) + " size " +
                                                        std::to_string(in.size) + " < " + std::to_string(need) +
                                                        " bytes needed");
            }
            std::vector<float> values;
            if (!read_values(static_cast<const uint8_t*>(in.buf), in.size, t.logical, layout, encoding, values, error)) {
                return fail(RKNN_ERR_INPUT_INVALID, "rknn_inputs_set: input " + std::to_string(in.index) + ": " + error);
            }
            const bool model_values = in.pass_through != 0 || given_as_quantised(t.encoding, encoding.type);
            converted.emplace_back(in.index, to_model(t, values, model_values));
            bytes_read += need;
        }
        for (auto& [index, bytes] : converted) {
            ctx->inputs[index] = std::move(bytes);
            ctx->in_bindings[index].reset();  // the latest of inputs_set / set_io_mem wins
        }
        emu().counters.inputs_set_bytes.fetch_add(bytes_read);
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_set_batch_core_num(rknn_context context, int core_num) {
    return guarded(Api::set_batch_core_num, [&]() -> int {
        auto ctx = lookup(context, Api::set_batch_core_num);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        int code = 0;
        if (fault_hit(Api::set_batch_core_num, code)) return code;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        const int cores = ctx->model->npu_cores;
        if (cores == 1) {
            return fail(RKNN_ERR_TARGET_PLATFORM_UNMATCH, "rknn_set_batch_core_num: " + ctx->model->soc +
                                                              " has a single NPU core");
        }
        if (core_num < 1 || core_num > cores) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_batch_core_num: core_num " + std::to_string(core_num) +
                                                    " not in 1.." + std::to_string(cores));
        }
        ctx->batch_core_num = core_num;
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_set_core_mask(rknn_context context, rknn_core_mask core_mask) {
    return guarded(Api::set_core_mask, [&]() -> int {
        auto ctx = lookup(context, Api::set_core_mask);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        int code = 0;
        if (fault_hit(Api::set_core_mask, code)) return code;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        const int cores = ctx->model->npu_cores;
        const uint32_t mask = static_cast<uint32_t>(enum_bits(core_mask));
        if (cores == 1) {
            // What librknnrt returns on single-core NPUs (rk3566/rk3568/rk3562).
            return fail(RKNN_ERR_TARGET_PLATFORM_UNMATCH,
                        "rknn_set_core_mask: " + ctx->model->soc + " has a single NPU core");
        }
        if (!valid_core_mask(mask, cores)) {
            return fail(RKNN_ERR_FAIL, "rknn_set_core_mask: Not support core mask: " + std::to_string(mask) +
                                           " on " + ctx->model->soc);
        }
        ctx->core_mask = mask;
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_run(rknn_context context, rknn_run_extend* extend) {
    return guarded(Api::run, [&]() -> int {
        auto ctx = lookup(context, Api::run);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        const FaultHit hit = emu().check_fault(Api::run);
        if (hit.hit && !hit.timeout) {
            emu().counters.runs_failed.fetch_add(1);
            return fail(hit.code, "rknn_run: injected fault, returning " + std::to_string(hit.code));
        }
        const Model& m = *ctx->model;
        if (ctx->flags & RKNN_FLAG_COLLECT_MODEL_INFO_ONLY) {
            return fail(RKNN_ERR_FAIL, "rknn_run: context was created with COLLECT_MODEL_INFO_ONLY");
        }
        if ((ctx->flags & RKNN_FLAG_MEM_ALLOC_OUTSIDE) && (!ctx->weight_mem || !ctx->internal_mem)) {
            return fail(RKNN_ERR_FAIL, "rknn_run: RKNN_FLAG_MEM_ALLOC_OUTSIDE needs rknn_set_weight_mem and "
                                       "rknn_set_internal_mem first");
        }
        if ((ctx->flags & RKNN_FLAG_INTERNAL_ALLOC_OUTSIDE) && !ctx->internal_mem) {
            return fail(RKNN_ERR_FAIL, "rknn_run: RKNN_FLAG_INTERNAL_ALLOC_OUTSIDE needs rknn_set_internal_mem first");
        }
        // One run in flight per context: the previous one completes first.
        if (ctx->job) ctx->job->wait_done(0);

        auto job = std::make_shared<RunJob>();
        job->model = ctx->model;
        job->context = ctx->handle;
        job->synthetic_logged = ctx->synthetic_logged;
        job->frame_id = ++ctx->next_frame;
        job->core_mask = ctx->core_mask;
        job->npu_time_us = emu().npu_time_us();
        job->fault = hit;
        job->out_bindings = ctx->out_bindings;
        // skip_compute (a benchmarking aid): after a successful run, runs do no emulated work.
        if (emu().skip_compute() && !hit.timeout && ctx->job && ctx->job->rc == RKNN_SUCC && ctx->job->outputs) {
            job->reused_outputs = ctx->job->outputs;
        }
        // The "NPU" reads its inputs when the run starts.
        for (size_t i = 0; i < m.inputs.size() && !job->reused_outputs; ++i) {
            if (!ctx->in_bindings[i]) {
                job->inputs.push_back(ctx->inputs[i]);
                continue;
            }
            const Binding& b = *ctx->in_bindings[i];
            const TensorModel& t = m.inputs[i];
            std::vector<float> values;
            std::string error;
            if (!read_values(b.mem->data, b.mem->size, t.logical, b.layout, b.encoding, values, error)) {
                return fail(RKNN_ERR_INPUT_INVALID, "rknn_run: input " + std::to_string(i) + ": " + error);
            }
            job->inputs.push_back(to_model(t, values, b.pass_through || b.quantised));
            emu().counters.io_mem_input_bytes.fetch_add(b.bytes);
        }
        if (extend != nullptr) extend->frame_id = job->frame_id;
        ctx->prev_job = std::move(ctx->job);
        ctx->job = job;

        const bool non_block = extend != nullptr && extend->non_block != 0;
        const int64_t timeout_ms = extend != nullptr ? extend->timeout_ms : 0;
        if (!non_block && timeout_ms <= 0) {
            job->execute();  // on the caller's thread
            job->wait_done(0);
            return job->rc;
        }
        RunJob* raw = job.get();  // the context owns the job and joins the worker before freeing it
        job->worker = std::thread([raw] { raw->execute(); });
        if (non_block) return RKNN_SUCC;
        if (!job->wait_done(timeout_ms)) {
            return fail(RKNN_ERR_TIMEOUT, "rknn_run: frame " + std::to_string(job->frame_id) + " not done after " +
                                              std::to_string(timeout_ms) + " ms");
        }
        return job->rc;
    });
}

RKNN_EMU_EXPORT int rknn_wait(rknn_context context, rknn_run_extend* extend) {
    return guarded(Api::wait, [&]() -> int {
        auto ctx = lookup(context, Api::wait);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        int code = 0;
        if (fault_hit(Api::wait, code)) return code;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        if (!ctx->job) return RKNN_SUCC;  // nothing in flight
        const int64_t timeout_ms = extend != nullptr ? extend->timeout_ms : 0;
        if (extend != nullptr) extend->frame_id = ctx->job->frame_id;
        if (!ctx->job->wait_done(timeout_ms)) {
            return fail(RKNN_ERR_TIMEOUT, "rknn_wait: frame " + std::to_string(ctx->job->frame_id) +
                                              " not done after " + std::to_string(timeout_ms) + " ms");
        }
        return ctx->job->rc;
    });
}

RKNN_EMU_EXPORT int rknn_outputs_get(rknn_context context, uint32_t n_outputs, rknn_output outputs[],
                                     rknn_output_extend* extend) {
    return guarded(Api::outputs_get, [&]() -> int {
        auto ctx = lookup(context, Api::outputs_get);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        const Model& m = *ctx->model;
        if (outputs == nullptr || n_outputs == 0 || n_outputs > m.outputs.size()) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_outputs_get: expected 1.." + std::to_string(m.outputs.size()) +
                                                    " outputs, got " + std::to_string(n_outputs) +
                                                    (outputs == nullptr ? " (NULL array)" : ""));
        }
        int code = 0;
        if (fault_hit(Api::outputs_get, code)) return code;
        // RKNN_FLAG_ASYNC_MASK hands back the previous frame (the current one on the first).
        RunJob* job = ctx->job.get();
        if ((ctx->flags & RKNN_FLAG_ASYNC_MASK) && ctx->prev_job) job = ctx->prev_job.get();
        if (job == nullptr) return fail(RKNN_ERR_FAIL, "rknn_outputs_get: rknn_run has not been called");
        job->wait_done(0);
        if (job->rc != RKNN_SUCC) {
            return fail(job->rc, "rknn_outputs_get: frame " + std::to_string(job->frame_id) + " failed with " +
                                     std::to_string(job->rc));
        }
        // Validate every request before writing or allocating anything.
        std::vector<size_t> sizes(n_outputs);
        for (uint32_t k = 0; k < n_outputs; ++k) {
            const rknn_output& out = outputs[k];
            if (out.index >= m.outputs.size()) {
                return fail(RKNN_ERR_OUTPUT_INVALID, "rknn_outputs_get: output index " + std::to_string(out.index) +
                                                         " out of range (" + std::to_string(m.outputs.size()) + ")");
            }
            const TensorModel& t = m.outputs[out.index];
            sizes[k] = t.n_elems * (out.want_float ? sizeof(float) : codec_type_size(t.encoding.type));
            if (out.is_prealloc && (out.buf == nullptr || out.size < sizes[k])) {
                return fail(RKNN_ERR_PARAM_INVALID, "rknn_outputs_get: preallocated output " + std::to_string(out.index) +
                                                        " needs " + std::to_string(sizes[k]) + " bytes, got " +
                                                        std::to_string(out.buf == nullptr ? 0 : out.size) +
                                                        (out.buf == nullptr ? " (NULL buf)" : ""));
            }
        }
        uint64_t written = 0;
        for (uint32_t k = 0; k < n_outputs; ++k) {
            rknn_output& out = outputs[k];
            const TensorModel& t = m.outputs[out.index];
            uint8_t* dst = nullptr;
            if (out.is_prealloc) {
                dst = static_cast<uint8_t*>(out.buf);
            } else {
                // Runtime-owned until rknn_outputs_release; a caller pointer here is replaced.
                dst = static_cast<uint8_t*>(std::malloc(sizes[k]));
                if (dst == nullptr) return fail(RKNN_ERR_MALLOC_FAIL, "rknn_outputs_get: out of memory");
                ctx->output_buffers.insert(dst);
                out.buf = dst;
                out.size = static_cast<uint32_t>(sizes[k]);
            }
            const std::vector<uint8_t>& q = (*job->outputs)[out.index];
            if (out.want_float) {
                const std::vector<float> values = decode_model(t, q);
                std::memcpy(dst, values.data(), sizes[k]);
            } else {
                std::memcpy(dst, q.data(), sizes[k]);
            }
            written += sizes[k];
        }
        if (extend != nullptr) extend->frame_id = job->frame_id;
        emu().counters.outputs_get_bytes.fetch_add(written);
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_outputs_release(rknn_context context, uint32_t n_outputs, rknn_output outputs[]) {
    return guarded(Api::outputs_release, [&]() -> int {
        auto ctx = lookup(context, Api::outputs_release);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        if (outputs == nullptr && n_outputs != 0) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_outputs_release: outputs is NULL");
        }
        int code = 0;
        if (fault_hit(Api::outputs_release, code)) return code;  // buffers freed with the context
        std::lock_guard<std::mutex> lock(ctx->mutex);
        for (uint32_t k = 0; k < n_outputs; ++k) {
            if (outputs[k].is_prealloc) continue;
            auto it = ctx->output_buffers.find(outputs[k].buf);
            if (it == ctx->output_buffers.end()) continue;  // not ours (or released already)
            std::free(*it);
            ctx->output_buffers.erase(it);
        }
        return RKNN_SUCC;
    });
}

// ---------------------------------------------------------------------------------------
RKNN_EMU_EXPORT rknn_tensor_mem* rknn_create_mem_from_phys(rknn_context ctx, uint64_t phys_addr, void* virt_addr,
                                                           uint32_t size) {
    return guarded_mem(Api::create_mem_from_phys, [&]() -> rknn_tensor_mem* {
        int code = 0;
        if (!lookup(ctx, Api::create_mem_from_phys) || fault_hit(Api::create_mem_from_phys, code)) return nullptr;
        if (virt_addr == nullptr || size == 0) {
            emu().log_error("rknn_create_mem_from_phys: the emulator needs virt_addr and a nonzero size");
            return nullptr;
        }
        auto record = std::make_shared<MemRecord>();
        record->data = static_cast<uint8_t*>(virt_addr);
        record->size = size;
        rknn_tensor_mem fields{};
        fields.virt_addr = virt_addr;
        fields.phys_addr = phys_addr;
        fields.fd = -1;
        fields.size = size;
        fields.flags = RKNN_TENSOR_MEMORY_FLAGS_FROM_PHYS;
        return Mems::get().add(std::move(record), fields);
    });
}

RKNN_EMU_EXPORT rknn_tensor_mem* rknn_create_mem_from_fd(rknn_context ctx, int32_t fd, void* virt_addr,
                                                         uint32_t size, int32_t offset) {
    return guarded_mem(Api::create_mem_from_fd, [&]() -> rknn_tensor_mem* {
        int code = 0;
        if (!lookup(ctx, Api::create_mem_from_fd) || fault_hit(Api::create_mem_from_fd, code)) return nullptr;
        if (fd < 0 || fcntl(fd, F_GETFD) == -1 || size == 0 || offset < 0) {
            emu().log_error("rknn_create_mem_from_fd: expected an open fd, size > 0 and offset >= 0, got fd " +
                            std::to_string(fd) + ", size " + std::to_string(size) + ", offset " +
                            std::to_string(offset));
            return nullptr;
        }
        auto record = std::make_shared<MemRecord>();
        void* base = virt_addr;
        if (base == nullptr) {
            // Map the caller's buffer ourselves, as the runtime does for an fd alone.
            // offset + size in 64 bits: on 32-bit targets the sum can pass SIZE_MAX, and a
            // wrapped length would map less than `size` bytes behind data.
            const uint64_t len64 = static_cast<uint64_t>(offset) + size;
            if (len64 > SIZE_MAX) {
                emu().log_error("rknn_create_mem_from_fd: offset " + std::to_string(offset) + " + size " +
                                std::to_string(size) + " exceeds the address space");
                return nullptr;
            }
            const size_t len = static_cast<size_t>(len64);
            base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (base == MAP_FAILED) {
                emu().log_error("rknn_create_mem_from_fd: cannot map fd " + std::to_string(fd));
                return nullptr;
            }
            record->map_base = base;
            record->map_len = len;
        }
        record->data = static_cast<uint8_t*>(base) + offset;
        record->size = size;
        rknn_tensor_mem fields{};
        fields.virt_addr = base;  // the un-offset mapping; data is at virt_addr + offset
        fields.phys_addr = 0;
        fields.fd = fd;
        fields.offset = offset;
        fields.size = size;
        fields.flags = RKNN_TENSOR_MEMORY_FLAGS_FROM_FD;
        return Mems::get().add(std::move(record), fields);
    });
}

RKNN_EMU_EXPORT rknn_tensor_mem* rknn_create_mem(rknn_context ctx, uint32_t size) {
    return guarded_mem(Api::create_mem, [&]() -> rknn_tensor_mem* {
        int code = 0;
        if (!lookup(ctx, Api::create_mem) || fault_hit(Api::create_mem, code)) return nullptr;
        if (size == 0) {
            emu().log_error("rknn_create_mem: size is 0");
            return nullptr;
        }
        return alloc_mem(size, RKNN_TENSOR_MEMORY_FLAGS_ALLOC_INSIDE);
    });
}

RKNN_EMU_EXPORT rknn_tensor_mem* rknn_create_mem2(rknn_context ctx, uint64_t size, uint64_t alloc_flags) {
    return guarded_mem(Api::create_mem2, [&]() -> rknn_tensor_mem* {
        const uint64_t known = RKNN_FLAG_MEMORY_CACHEABLE | RKNN_FLAG_MEMORY_NON_CACHEABLE |
                               RKNN_FLAG_MEMORY_TRY_ALLOC_SRAM | RKNN_MEM_FLAG_ALLOC_NO_CONTEXT;
        if (!(alloc_flags & RKNN_MEM_FLAG_ALLOC_NO_CONTEXT) && !lookup(ctx, Api::create_mem2)) return nullptr;
        int code = 0;
        if (fault_hit(Api::create_mem2, code)) return nullptr;
        if (size == 0 || size > UINT32_MAX || (alloc_flags & ~known) != 0 ||
            ((alloc_flags & RKNN_FLAG_MEMORY_CACHEABLE) && (alloc_flags & RKNN_FLAG_MEMORY_NON_CACHEABLE))) {
            emu().log_error("rknn_create_mem2: bad size " + std::to_string(size) + " or flags " + hex(alloc_flags));
            return nullptr;
        }
        return alloc_mem(static_cast<uint32_t>(size), RKNN_TENSOR_MEMORY_FLAGS_ALLOC_INSIDE);  // <= UINT32_MAX
    });
}

RKNN_EMU_EXPORT int rknn_destroy_mem(rknn_context ctx, rknn_tensor_mem* mem) {
    return guarded(Api::destroy_mem, [&]() -> int {
        if (!context_or_zero_valid(ctx, Api::destroy_mem)) return RKNN_ERR_CTX_INVALID;
        int code = 0;
        if (mem != nullptr && Mems::get().find(mem) && fault_hit(Api::destroy_mem, code)) return code;  // mem kept
        if (mem == nullptr || !Mems::get().remove(mem)) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_destroy_mem: not a tensor mem of this runtime");
        }
        return RKNN_SUCC;
    });
}

namespace {

int set_context_mem(rknn_context context, rknn_tensor_mem* mem, Api api, bool weight) {
    auto ctx = lookup(context, api);
    if (!ctx) return RKNN_ERR_CTX_INVALID;
    int code = 0;
    if (fault_hit(api, code)) return code;
    auto record = mem == nullptr ? nullptr : Mems::get().find(mem);
    if (!record) return fail(RKNN_ERR_PARAM_INVALID, std::string(api_name(api)) + ": not a tensor mem of this runtime");
    std::lock_guard<std::mutex> lock(ctx->mutex);
    const rknn_mem_size sizes = mem_sizes(*ctx->model);
    const uint32_t need = weight ? sizes.total_weight_size : sizes.total_internal_size;
    if (record->size < need) {
        return fail(RKNN_ERR_PARAM_INVALID, std::string(api_name(api)) + ": mem holds " +
                                                std::to_string(record->size) + " bytes, the model needs " +
                                                std::to_string(need));
    }
    (weight ? ctx->weight_mem : ctx->internal_mem) = record;
    return RKNN_SUCC;
}

}  // namespace

RKNN_EMU_EXPORT int rknn_set_weight_mem(rknn_context ctx, rknn_tensor_mem* mem) {
    return guarded(Api::set_weight_mem, [&] { return set_context_mem(ctx, mem, Api::set_weight_mem, true); });
}

RKNN_EMU_EXPORT int rknn_set_internal_mem(rknn_context ctx, rknn_tensor_mem* mem) {
    return guarded(Api::set_internal_mem, [&] { return set_context_mem(ctx, mem, Api::set_internal_mem, false); });
}

RKNN_EMU_EXPORT int rknn_set_io_mem(rknn_context context, rknn_tensor_mem* mem, rknn_tensor_attr* attr) {
    return guarded(Api::set_io_mem, [&]() -> int {
        auto ctx = lookup(context, Api::set_io_mem);
        if (!ctx) return RKNN_ERR_CTX_INVALID;
        auto record = mem == nullptr ? nullptr : Mems::get().find(mem);
        if (!record) return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: not a tensor mem of this runtime");
        if (attr == nullptr) return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: attr is NULL");
        int code = 0;
        if (fault_hit(Api::set_io_mem, code)) return code;
        std::lock_guard<std::mutex> lock(ctx->mutex);
        const Model& m = *ctx->model;
        // Inputs and outputs are told apart by name, as the attr comes from an input or
        // output query.
        const std::string name(attr->name, strnlen(attr->name, RKNN_MAX_NAME_LEN));
        bool is_input = true;
        const TensorModel* t = nullptr;
        for (const auto* list : {&m.inputs, &m.outputs}) {
            if (t) break;
            for (const auto& candidate : *list) {
                if (candidate.name == name) {
                    t = &candidate;
                    is_input = list == &m.inputs;
                    break;
                }
            }
        }
        if (t == nullptr) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: no input or output named '" + name + "'");
        }
        const auto& tensors = is_input ? m.inputs : m.outputs;
        const uint32_t index = static_cast<uint32_t>(t - tensors.data());
        if (attr->index != index) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: attr index " + std::to_string(attr->index) +
                                                    " but '" + name + "' is " + (is_input ? "input " : "output ") +
                                                    std::to_string(index));
        }
        const int32_t type = enum_bits(attr->type);
        if (codec_type_size(type) == 0) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: unsupported type " + std::to_string(type));
        }
        Binding b;
        b.mem = record;
        b.pass_through = attr->pass_through != 0;
        b.layout.fmt = enum_bits(attr->fmt);
        switch (b.layout.fmt) {
            case RKNN_TENSOR_NC1HWC2:
                if (t->native.fmt != RKNN_TENSOR_NC1HWC2) {
                    return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: '" + name + "' has no NC1HWC2 native layout");
                }
                b.layout = layout_of(t->native);
                break;
            case RKNN_TENSOR_NHWC: b.layout.w_stride = attr->w_stride; break;
            case RKNN_TENSOR_NCHW:
            case RKNN_TENSOR_UNDEFINED: break;
            default:
                return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: unsupported fmt " + std::to_string(b.layout.fmt));
        }
        b.encoding.type = type;
        // Inputs without pass_through: quantised values in the model's own quantised type (the
        // same rule as rknn_inputs_set), raw caller values otherwise; pass-through inputs and
        // outputs: the attr's quantisation.
        const bool quantised = is_integer_type(type) && enum_bits(attr->qnt_type) == RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC;
        if (!is_input || b.pass_through) {
            b.encoding.affine = quantised;
            b.encoding.zp = attr->zp;
            b.encoding.scale = attr->scale;
        } else if (given_as_quantised(t->encoding, type)) {
            b.encoding = t->encoding;
            b.quantised = true;
        }
        std::string error;
        b.bytes = layout_bytes(t->logical, b.layout, type, error);
        if (b.bytes == 0) return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: '" + name + "': " + error);
        if (record->size < b.bytes) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_io_mem: '" + name + "' needs " + std::to_string(b.bytes) +
                                                    " bytes, the mem holds " + std::to_string(record->size));
        }
        (is_input ? ctx->in_bindings : ctx->out_bindings)[index] = std::move(b);
        return RKNN_SUCC;
    });
}

RKNN_EMU_EXPORT int rknn_set_input_shape(rknn_context ctx, rknn_tensor_attr* attr) {
    return guarded(Api::set_input_shape, [&]() -> int {
        auto c = lookup(ctx, Api::set_input_shape);
        if (!c) return RKNN_ERR_CTX_INVALID;
        if (attr == nullptr) return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_input_shape: attr is NULL");
        int code = 0;
        if (fault_hit(Api::set_input_shape, code)) return code;
        return fail(RKNN_ERR_MODEL_INVALID, "rknn_set_input_shape: rknn model is static shape type");
    });
}

RKNN_EMU_EXPORT int rknn_set_input_shapes(rknn_context ctx, uint32_t n_inputs, rknn_tensor_attr attr[]) {
    return guarded(Api::set_input_shapes, [&]() -> int {
        auto c = lookup(ctx, Api::set_input_shapes);
        if (!c) return RKNN_ERR_CTX_INVALID;
        int code = 0;
        if (fault_hit(Api::set_input_shapes, code)) return code;
        if (attr == nullptr || n_inputs != c->model->inputs.size()) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_set_input_shapes: expected " +
                                                    std::to_string(c->model->inputs.size()) + " attrs");
        }
        return fail(RKNN_ERR_MODEL_INVALID, "rknn_set_input_shapes: rknn model is static shape type");
    });
}

RKNN_EMU_EXPORT int rknn_mem_sync(rknn_context context, rknn_tensor_mem* mem, rknn_mem_sync_mode mode) {
    return guarded(Api::mem_sync, [&]() -> int {
        if (!context_or_zero_valid(context, Api::mem_sync)) return RKNN_ERR_CTX_INVALID;
        if (mem == nullptr || !Mems::get().find(mem)) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_mem_sync: not a tensor mem of this runtime");
        }
        const int m = enum_bits(mode);
        if (m < RKNN_MEMORY_SYNC_TO_DEVICE || m > RKNN_MEMORY_SYNC_BIDIRECTIONAL) {
            return fail(RKNN_ERR_PARAM_INVALID, "rknn_mem_sync: bad mode " + std::to_string(m));
        }
        int code = 0;
        if (fault_hit(Api::mem_sync, code)) return code;
        Counters& c = emu().counters;
        c.mem_sync_calls.fetch_add(1);
        if (m & RKNN_MEMORY_SYNC_TO_DEVICE) c.mem_sync_to_device.fetch_add(1);
        if (m & RKNN_MEMORY_SYNC_FROM_DEVICE) c.mem_sync_from_device.fetch_add(1);
        return RKNN_SUCC;
    });
}

// ---------------------------------------------------------------------------------------
// Emulator-only control entry point (docs/emulator.md). Returns the length of the full reply
// (like snprintf: a reply longer than reply_size - 1 is truncated) or a negative RKNN_ERR_*
// code for an unknown or malformed command (the reply then holds the error text).
RKNN_EMU_EXPORT int rknn_emulator_control(const char* command, char* reply, uint32_t reply_size) {
    try {
        if (command == nullptr) return RKNN_ERR_PARAM_INVALID;
        std::string text;
        const int rc = emu().control(command, text);
        if (rc == RKNN_SUCC && std::string(command).find("counters") == 0) {
            // Live gauges that belong to the registries rather than the counters.
            text.insert(text.size() - 1, ", \"contexts_live\": " + std::to_string(Contexts::get().live()) +
                                             ", \"mems_live\": " + std::to_string(Mems::get().live()));
        }
        if (reply != nullptr && reply_size > 0) copy_string(reply, reply_size, text);
        return rc == RKNN_SUCC ? static_cast<int>(text.size()) : rc;
    } catch (const std::exception&) {
        return RKNN_ERR_FAIL;
    }
}
