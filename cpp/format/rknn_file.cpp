// .rknn reader. Layout facts: ../shared/rknn/RKNN_FILE_FORMAT.md (cited below as "format doc §N").
#include "format/rknn_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "format/flatbuffer_view.h"
#include "format/json_lite.h"

namespace rknn_fast::format {

namespace {

// rknn_tensor_type values (API_FACTS.md §3.2); kept local so this file needs no ABI header.
constexpr int32_t kFloat32 = 0, kFloat16 = 1, kInt8 = 2, kUint8 = 3, kInt16 = 4, kUint16 = 5, kInt32 = 6,
                  kUint32 = 7, kInt64 = 8, kBool = 9, kInt4 = 10, kBfloat16 = 11;
// rknn_tensor_format (§3.4) and rknn_tensor_qnt_type (§3.3).
constexpr int32_t kFmtNCHW = 0, kFmtNHWC = 1, kFmtNC1HWC2 = 2, kFmtUndefined = 3;
constexpr int32_t kQntNone = 0, kQntAffine = 2;

constexpr size_t kHeaderSize = 64;    // format doc §1
constexpr size_t kMaxDims = 16;       // RKNN_MAX_DIMS: rknn_tensor_attr.dims holds 16 entries
constexpr uint64_t kFormatV2 = 6;     // RKNPU v2 / lite
constexpr uint64_t kFormatT3 = 0x1004;  // rv1106 / rv1103

uint64_t read_u64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

[[noreturn]] void fail(const std::string& msg) { throw FormatError(msg); }

std::string quoted(std::string_view s) {
    // Names come from the file: show at most 64 bytes, escaping what is not printable.
    std::string out = "'";
    size_t n = 0;
    for (char c : s) {
        if (++n > 64) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", u);
            out += b;
        }
    }
    return out + "'";
}

// The tensor dtype code stored at Tensor S=4. Observed (format doc §2): 3 = int8,
// 10 = float16, 6 = int32. These match ONNX TensorProto numbering, but other codes were never
// seen, so they map to "unknown" (-1) and the I/O JSON dtype is used instead when present.
int32_t type_from_file_code(int8_t code) {
    switch (code) {
        case 3: return kInt8;
        case 10: return kFloat16;
        case 6: return kInt32;
        default: return -1;
    }
}

// numpy-style dtype names as written in the S=28/S=30 JSON and the trailing JSON.
int32_t type_from_name(std::string_view name) {
    static const std::pair<std::string_view, int32_t> kNames[] = {
        {"float32", kFloat32}, {"float16", kFloat16}, {"int8", kInt8},   {"uint8", kUint8},
        {"int16", kInt16},     {"uint16", kUint16},   {"int32", kInt32}, {"uint32", kUint32},
        {"int64", kInt64},     {"bool", kBool},       {"int4", kInt4},   {"bfloat16", kBfloat16},
    };
    for (const auto& [n, t] : kNames)
        if (n == name) return t;
    return -1;
}

std::vector<int64_t> read_shape(const fb::Table& t, uint16_t slot, const std::string& what) {
    const fb::VectorRef v = t.vector(slot, 4);
    if (!v.present) return {};
    if (v.count > kMaxDims)
        fail(what + ": " + std::to_string(v.count) + " dimensions, more than the runtime's 16");
    std::vector<int64_t> shape(v.count);
    for (size_t i = 0; i < v.count; ++i) shape[i] = t.buffer().read<int32_t>(v.first + 4 * i, "shape");
    return shape;
}

// Reads one I/O tensor (format doc §2, `Tensor`).
TensorDesc read_tensor(const fb::Table& t, uint32_t api_index, bool is_input) {
    TensorDesc d;
    d.index = api_index;
    const std::string role = std::string(is_input ? "input " : "output ") + std::to_string(api_index);
    d.name = std::string(t.string(14));
    const std::string what = role + " " + quoted(d.name);
    d.type = type_from_file_code(t.scalar<int8_t>(4, -1));
    d.native_shape = read_shape(t, 10, what + " native shape");
    if (!t.vector(12, 4).present) fail(what + ": the tensor has no shape");
    d.shape = read_shape(t, 12, what + " shape");
    d.qnt_method = std::string(t.string(16));
    d.qnt_type = std::string(t.string(18));
    const fb::VectorRef scale = t.vector(24, 4);
    const fb::VectorRef zp = t.vector(26, 4);
    // Per-layer quantisation: one scale and one zero point. A tensor-level I/O never carries
    // per-channel parameters in the files seen; the first entry is the layer's value.
    if (scale.count > 0 && zp.count > 0) {
        d.quantized = true;
        d.scale = t.buffer().read<float>(scale.first, "scale");
        d.zero_point = t.buffer().read<int32_t>(zp.first, "zero point");
    }
    // S=28 "size in bytes": read 4 bytes, correct whatever the stored scalar width is (LE).
    d.size_bytes = t.scalar<uint32_t>(28, 0);
    return d;
}

// The S=28/S=30 strings: {"name": {"dtype": "int8", "layout": "NHWC"}, ...}.
void apply_io_json(std::string_view text, const char* what, std::vector<TensorDesc>& tensors) {
    if (text.empty()) return;
    const json::Value doc = json::parse(text, what);
    if (doc.kind != json::Kind::Object) fail(std::string(what) + ": expected a JSON object");
    for (auto& t : tensors) {
        const json::Value* entry = doc.find(t.name);
        if (!entry) continue;
        if (entry->kind != json::Kind::Object)
            fail(std::string(what) + ": entry " + quoted(t.name) + " is not an object");
        if (const json::Value* v = entry->find("dtype"); v && v->kind == json::Kind::String) t.io_dtype = v->string;
        if (const json::Value* v = entry->find("layout"); v && v->kind == json::Kind::String) t.io_layout = v->string;
        if (t.type < 0) t.type = type_from_name(t.io_dtype);
    }
}

const json::Value* find_kind(const json::Value& obj, std::string_view key, json::Kind kind) {
    const json::Value* v = obj.find(key);
    return (v && v->kind == kind) ? v : nullptr;
}

// Fields of the trailing JSON summary (format doc §1) that every format carries.
void apply_summary(const json::Value& doc, ModelDesc& m) {
    if (doc.kind != json::Kind::Object) fail("trailing JSON: expected a JSON object");
    if (const json::Value* v = doc.find("target_platform")) {
        if (v->kind == json::Kind::String) {
            m.target_platforms.push_back(v->string);
        } else if (v->kind == json::Kind::Array) {
            for (const auto& item : v->items) {
                if (item.kind != json::Kind::String) fail("trailing JSON: target_platform holds a non-string");
                m.target_platforms.push_back(item.string);
            }
        } else {
            fail("trailing JSON: target_platform is neither a list nor a string");
        }
    }
    if (const json::Value* v = find_kind(doc, "version", json::Kind::String)) m.toolkit_version = v->string;
}

int64_t json_count(const json::Value& doc, std::string_view key) {
    const json::Value* v = doc.find(key);
    if (!v) return -1;
    if (v->kind != json::Kind::Number || !v->is_integer || v->integer < 0 || v->integer > 65536)
        fail("trailing JSON: " + std::string(key) + " is not a small non-negative integer");
    return v->integer;
}

TensorDesc tensor_from_norm_entry(const json::Value& e, uint32_t index, bool is_input) {
    const std::string role = std::string("trailing JSON: norm_tensor for ") + (is_input ? "input " : "output ") +
                             std::to_string(index);
    if (e.kind != json::Kind::Object) fail(role + " is not an object");
    TensorDesc d;
    d.index = index;
    if (const json::Value* v = find_kind(e, "url", json::Kind::String)) d.name = v->string;
    const json::Value* size = find_kind(e, "size", json::Kind::Array);
    if (!size) fail(role + " has no 'size' list");
    if (size->items.size() > kMaxDims) fail(role + ": more than 16 dimensions");
    for (const auto& dim : size->items) {
        if (dim.kind != json::Kind::Number || !dim.is_integer) fail(role + ": 'size' holds a non-integer");
        d.shape.push_back(dim.integer);
    }
    if (const json::Value* dt = find_kind(e, "dtype", json::Kind::Object)) {
        if (const json::Value* v = find_kind(*dt, "qnt_type", json::Kind::String)) d.qnt_type = v->string;
        if (const json::Value* v = find_kind(*dt, "qnt_method", json::Kind::String)) d.qnt_method = v->string;
    }
    d.type = type_from_name(d.qnt_type);
    return d;
}

// Format 0x1004 (format doc §1): the inner blob is a different layout, so the I/O list comes
// from the JSON summary. The summary's "graph" list links API inputs/outputs to norm_tensor
// entries ({"left": "input", "left_tensor_id": i, "right": "norm_tensor", "right_tensor_id": k});
// without it, the norm_tensor list is taken as inputs then outputs when its length is exactly
// input_num + output_num. Anything else leaves the I/O lists empty (complete stays false).
void fill_from_summary(const json::Value& doc, ModelDesc& m) {
    const json::Value* norm = find_kind(doc, "norm_tensor", json::Kind::Array);
    const int64_t n_in = json_count(doc, "input_num");
    const int64_t n_out = json_count(doc, "output_num");
    if (!norm) return;
    // norm_tensor entries are referred to by their "tensor_id" when they have one.
    std::unordered_map<int64_t, const json::Value*> by_id;
    for (size_t i = 0; i < norm->items.size(); ++i) {
        const json::Value& e = norm->items[i];
        const json::Value* id = find_kind(e, "tensor_id", json::Kind::Number);
        by_id.emplace(id && id->is_integer ? id->integer : static_cast<int64_t>(i), &e);
    }
    const json::Value* graph = find_kind(doc, "graph", json::Kind::Array);
    std::vector<std::pair<int64_t, const json::Value*>> ins, outs;
    if (graph) {
        for (const auto& link : graph->items) {
            const json::Value* left = find_kind(link, "left", json::Kind::String);
            const json::Value* right = find_kind(link, "right", json::Kind::String);
            const json::Value* lid = find_kind(link, "left_tensor_id", json::Kind::Number);
            const json::Value* rid = find_kind(link, "right_tensor_id", json::Kind::Number);
            if (!left || !right || !lid || !rid || right->string != "norm_tensor") continue;
            if (!lid->is_integer || !rid->is_integer) fail("trailing JSON: graph link ids are not integers");
            auto it = by_id.find(rid->integer);
            if (it == by_id.end())
                fail("trailing JSON: graph links to norm_tensor " + std::to_string(rid->integer) + ", which is absent");
            if (left->string == "input") ins.emplace_back(lid->integer, it->second);
            else if (left->string == "output") outs.emplace_back(lid->integer, it->second);
        }
    } else if (n_in >= 0 && n_out >= 0 && static_cast<size_t>(n_in + n_out) == norm->items.size()) {
        for (int64_t i = 0; i < n_in + n_out; ++i) {
            auto& list = i < n_in ? ins : outs;
            list.emplace_back(i < n_in ? i : i - n_in, &norm->items[static_cast<size_t>(i)]);
        }
    }
    auto place = [](std::vector<std::pair<int64_t, const json::Value*>>& links, int64_t expected, bool is_input,
                    std::vector<TensorDesc>& out) {
        const char* role = is_input ? "input" : "output";
        if (expected >= 0 && links.size() != static_cast<size_t>(expected))
            fail(std::string("trailing JSON: ") + std::to_string(links.size()) + " " + role + " links but " + role +
                 "_num is " + std::to_string(expected));
        out.assign(links.size(), TensorDesc{});
        std::vector<bool> seen(links.size(), false);
        for (const auto& [i, entry] : links) {
            if (i < 0 || static_cast<size_t>(i) >= links.size() || seen[static_cast<size_t>(i)])
                fail(std::string("trailing JSON: ") + role + " ids are not 0.." + std::to_string(links.size() - 1));
            seen[static_cast<size_t>(i)] = true;
            out[static_cast<size_t>(i)] = tensor_from_norm_entry(*entry, static_cast<uint32_t>(i), is_input);
        }
    };
    place(ins, n_in, true, m.inputs);
    place(outs, n_out, false, m.outputs);
}

void parse_format6(const uint8_t* blob, size_t blob_size, ModelDesc& m) {
    const fb::Buffer buf(blob, blob_size, "model FlatBuffer");
    // FlatBuffer root: uoffset to the root table, then the 4-byte file identifier.
    if (blob_size < 8) buf.fail(0, "blob too small for a FlatBuffer (" + std::to_string(blob_size) + " bytes)");
    if (std::memcmp(blob + 4, "RKNN", 4) != 0) buf.fail(4, "file identifier is not 'RKNN'");
    const fb::Table model(buf, buf.follow(0, "root offset outside the buffer"), "Model");

    m.model_format = std::string(model.string(6));
    m.generator = std::string(model.string(10));
    m.compiler_version = std::string(model.string(18));
    m.target_platform = std::string(model.string(20));
    m.source_framework = std::string(model.string(22));

    const fb::VectorRef graphs = model.vector(8, 4);
    if (graphs.count == 0) fail("model FlatBuffer: the model has no graph");
    const fb::Table graph = model.table_at(graphs, 0, "Graph");
    const fb::VectorRef tensors = graph.vector(4, 4);
    const fb::VectorRef in_idx = graph.vector(8, 4);
    const fb::VectorRef out_idx = graph.vector(10, 4);
    if (!tensors.present) fail("model FlatBuffer: the graph has no tensor list");
    if (!in_idx.present || !out_idx.present) fail("model FlatBuffer: the graph has no input/output index lists");

    auto load = [&](const fb::VectorRef& idx, bool is_input, std::vector<TensorDesc>& out) {
        out.reserve(idx.count);
        for (size_t i = 0; i < idx.count; ++i) {
            const int32_t t = buf.read<int32_t>(idx.first + 4 * i, "index");
            if (t < 0 || static_cast<size_t>(t) >= tensors.count)
                fail(std::string("model FlatBuffer: ") + (is_input ? "input " : "output ") + std::to_string(i) +
                     " refers to tensor " + std::to_string(t) + " of " + std::to_string(tensors.count));
            const fb::Table tensor = graph.table_at(tensors, static_cast<size_t>(t), "Tensor");
            out.push_back(read_tensor(tensor, static_cast<uint32_t>(i), is_input));
        }
    };
    load(in_idx, true, m.inputs);
    load(out_idx, false, m.outputs);

    apply_io_json(model.string(28), "input JSON (Model field 28)", m.inputs);
    apply_io_json(model.string(30), "output JSON (Model field 30)", m.outputs);
}

uint64_t checked_product(const std::vector<int64_t>& shape, const std::string& what) {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0 || d > static_cast<int64_t>(std::numeric_limits<uint32_t>::max()))
            fail(what + ": dimension " + std::to_string(d) + " out of range");
        if (d != 0 && n > std::numeric_limits<uint32_t>::max() / static_cast<uint64_t>(d))
            fail(what + ": element count does not fit the runtime's 32-bit attribute");
        n *= static_cast<uint64_t>(d);
    }
    return n;
}

uint32_t to_u32(uint64_t v, const std::string& what) {
    if (v > std::numeric_limits<uint32_t>::max()) fail(what + ": byte size does not fit the runtime's 32-bit attribute");
    return static_cast<uint32_t>(v);
}

void set_dims(RuntimeAttr& a, const std::vector<int64_t>& dims, const std::string& what) {
    a.dims.clear();
    for (int64_t d : dims) {
        if (d < 0 || d > static_cast<int64_t>(std::numeric_limits<uint32_t>::max()))
            fail(what + ": dimension " + std::to_string(d) + " out of range");
        a.dims.push_back(static_cast<uint32_t>(d));
    }
}

}  // namespace

size_t element_size(int32_t rknn_type) {
    switch (rknn_type) {
        case kFloat32: return 4;
        case kFloat16: return 2;
        case kInt8: return 1;
        case kUint8: return 1;
        case kInt16: return 2;
        case kUint16: return 2;
        case kInt32: return 4;
        case kUint32: return 4;
        case kInt64: return 8;
        case kBool: return 1;
        case kInt4: return 1;  // packed two per byte in memory, but the agreed header says 1
        case kBfloat16: return 2;
        default: return 0;
    }
}

ModelDesc parse_rknn(const uint8_t* data, size_t size) {
    if (data == nullptr && size != 0) fail("null buffer");
    // Envelope (format doc §1).
    if (size < kHeaderSize)
        fail("not a .rknn file: " + std::to_string(size) + " bytes, shorter than the 64-byte header");
    if (std::memcmp(data, "RKNN", 4) != 0) fail("not a .rknn file: the first 4 bytes are not 'RKNN'");
    ModelDesc m;
    m.file_format = read_u64(data + 8);
    if (m.file_format != kFormatV2 && m.file_format != kFormatT3)
        fail("unsupported .rknn file format number " + std::to_string(m.file_format) + " (known: 6, 0x1004)");
    const uint64_t blob_size = read_u64(data + 16);
    if (blob_size > size - kHeaderSize)
        fail("truncated .rknn file: the header announces a " + std::to_string(blob_size) +
             "-byte model but only " + std::to_string(size - kHeaderSize) + " bytes follow the header");
    const size_t json_len_pos = kHeaderSize + static_cast<size_t>(blob_size);
    if (size - json_len_pos < 8)
        fail("truncated .rknn file: no JSON length after the " + std::to_string(blob_size) + "-byte model");
    const uint64_t json_size = read_u64(data + json_len_pos);
    if (json_size > size - json_len_pos - 8)
        fail("truncated .rknn file: the JSON summary announces " + std::to_string(json_size) + " bytes but only " +
             std::to_string(size - json_len_pos - 8) + " remain");
    m.json.assign(reinterpret_cast<const char*>(data + json_len_pos + 8), static_cast<size_t>(json_size));

    const json::Value summary = json::parse(m.json, "trailing JSON");
    apply_summary(summary, m);
    if (m.file_format == kFormatV2) {
        parse_format6(data + kHeaderSize, static_cast<size_t>(blob_size), m);
        m.complete = true;
    } else {
        fill_from_summary(summary, m);
        m.complete = false;
    }
    // The FlatBuffer's platform string when present, else the summary's first platform.
    if (m.target_platform.empty() && !m.target_platforms.empty()) m.target_platform = m.target_platforms.front();
    return m;
}

ModelDesc parse_rknn_file(const std::string& path) {
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
    if (!f) fail("cannot open " + path + ": " + std::strerror(errno));
    std::vector<uint8_t> bytes;
    uint8_t chunk[1 << 16];
    for (;;) {
        const size_t n = std::fread(chunk, 1, sizeof chunk, f.get());
        bytes.insert(bytes.end(), chunk, chunk + n);
        if (n < sizeof chunk) break;
    }
    if (std::ferror(f.get())) fail("cannot read " + path);
    try {
        return parse_rknn(bytes.data(), bytes.size());
    } catch (const FormatError& e) {
        throw FormatError(path + ": " + e.what());
    }
}

// How librknnrt reports a tensor (format doc §4; API_FACTS.md rknn_tensor_attr notes).
RuntimeAttr runtime_attr(const ModelDesc& model, bool is_input, size_t index, AttrKind kind) {
    const auto& list = is_input ? model.inputs : model.outputs;
    if (index >= list.size())
        fail(std::string(is_input ? "input" : "output") + " index " + std::to_string(index) + " out of range (" +
             std::to_string(list.size()) + " tensors)");
    const TensorDesc& t = list[index];
    const std::string what = std::string(is_input ? "input " : "output ") + quoted(t.name);

    RuntimeAttr a;
    // Type and quantisation: the model's own element type (format doc §4: an int8 model reports
    // INT8 with AFFINE and the file's zp/scale; an fp16 model reports FLOAT16 without quantisation).
    // An unknown type (-1) is reported as FLOAT32, the struct default.
    a.type = t.type >= 0 ? t.type : kFloat32;
    const bool int_type = a.type == kInt8 || a.type == kUint8 || a.type == kInt16 || a.type == kUint16;
    if (int_type && (t.quantized || !t.qnt_type.empty())) {
        a.qnt_type = kQntAffine;
        a.zp = t.zero_point;
        a.scale = t.scale;
    } else {
        a.qnt_type = kQntNone;
    }
    const size_t es = element_size(a.type);

    const std::vector<int64_t>& s = t.shape;
    const std::vector<int64_t>& ns = t.native_shape;
    const bool four_d = s.size() == 4;
    const bool nc1hwc2 = ns.size() == 5;
    // An image input's native shape is [N, 1, H, W, C] (format doc §3): NHWC with C1 = 1.
    const bool native_is_nhwc = is_input && nc1hwc2 && ns[1] == 1;
    const uint64_t n_elems = checked_product(s, what);
    const uint64_t native_elems = ns.empty() ? 0 : checked_product(ns, what + " native");

    std::vector<int64_t> dims = s;
    uint64_t elems = n_elems;
    uint64_t stride_elems = std::max(n_elems, native_elems);  // native padding, never below the data
    int32_t fmt = kFmtUndefined;

    switch (kind) {
        case AttrKind::Normal:
            // Normal attrs: 4-D inputs in NHWC dims with fmt NHWC, 4-D outputs NCHW (format doc §4,
            // "Normal input attr" / "Normal output attr"); other ranks keep the model's order, UNDEFINED.
            if (four_d) {
                if (is_input) {
                    dims = {s[0], s[2], s[3], s[1]};
                    fmt = kFmtNHWC;
                } else {
                    fmt = kFmtNCHW;
                }
            }
            // size_with_stride includes the native channel padding to C2 blocks (format doc §4:
            // yolov5s [1,255,80,80] int8: size 1,632,000, size_with_stride 1,638,400 = 16*80*80*16).
            break;
        case AttrKind::Native:
            // Native attrs (query 8/9): outputs are NC1HWC2 with the file's 5-D native shape
            // (format doc §4). An input whose native shape is [N,1,H,W,C] is reported as NHWC
            // [N,H,W,C], the layout the runtime takes images in (format doc §3).
            if (native_is_nhwc) {
                dims = {ns[0], ns[2], ns[3], ns[4]};
                fmt = kFmtNHWC;
            } else if (nc1hwc2) {
                dims = ns;
                fmt = kFmtNC1HWC2;
            } else if (four_d && is_input) {  // native shape unknown: as the normal attr
                dims = {s[0], s[2], s[3], s[1]};
                fmt = kFmtNHWC;
            } else if (four_d) {
                fmt = kFmtNCHW;
            }
            elems = checked_product(dims, what);
            stride_elems = std::max(elems, native_elems);
            break;
        case AttrKind::NativeNhwc:
            // NHWC view of the native buffer (query 10/11): dims (N,H,W,C) of the tensor, fmt NHWC;
            // the channel dim is padded to whole C2 blocks when the native layout pads it, so
            // size_with_stride = N*H*W*C1*C2 * elemsize.
            if (four_d) {
                dims = {s[0], s[2], s[3], s[1]};
                fmt = kFmtNHWC;
                if (nc1hwc2) {
                    const std::vector<int64_t> padded = {s[0], s[2], s[3], ns[1] * ns[4]};
                    stride_elems = std::max(n_elems, checked_product(padded, what + " padded"));
                }
            }
            break;
    }
    set_dims(a, dims, what);
    a.fmt = fmt;
    a.n_elems = to_u32(elems, what);
    a.size = to_u32(elems * es, what);
    a.size_with_stride = to_u32(stride_elems * es, what);
    // w_stride: inputs in NHWC report their width (vendor demo logs: "w_stride = 640" for a
    // [1,640,640,3] input); outputs report 0, which API_FACTS.md defines as "equal to width".
    // h_stride is write-only for callers (API_FACTS.md), so the runtime reports 0.
    a.w_stride = (fmt == kFmtNHWC && is_input) ? a.dims[2] : 0;
    a.h_stride = 0;
    return a;
}

}  // namespace rknn_fast::format
