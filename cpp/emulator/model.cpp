#include "emulator/model.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "abi/rknn_abi.h"
#include "emulator/board.h"
#include "emulator/golden.h"
#include "emulator/state.h"

namespace rknn_fast::emulator {
namespace {

// Parses a (possibly nested) list of numbers starting at text[pos] == '[' into groups: the
// innermost lists, in order ("[[0, 0, 0]]" -> {{0, 0, 0}}; "[0, 0]" -> {{0, 0}}).
bool parse_number_lists(const std::string& text, size_t pos, std::vector<std::vector<float>>& out) {
    int depth = 0;
    std::vector<float> current;
    bool have_current = false;
    while (pos < text.size()) {
        const char ch = text[pos];
        if (ch == '[') {
            ++depth;
            current.clear();
            have_current = true;
            ++pos;
        } else if (ch == ']') {
            if (have_current) out.push_back(current);
            have_current = false;
            current.clear();
            if (--depth == 0) return true;
            ++pos;
        } else if (ch == '-' || ch == '+' || ch == '.' || std::isdigit(static_cast<unsigned char>(ch))) {
            const char* begin = text.c_str() + pos;
            char* end = nullptr;
            const float v = std::strtof(begin, &end);
            if (end == begin) return false;
            current.push_back(v);
            pos += static_cast<size_t>(end - begin);
        } else if (ch == ',' || std::isspace(static_cast<unsigned char>(ch))) {
            ++pos;
        } else {
            return false;  // anything else (e.g. None) is not a number list
        }
    }
    return false;
}

// The flat number list after `'key':` inside text[begin, end); empty when absent.
std::vector<float> settings_list(const std::string& text, size_t begin, size_t end, const std::string& key) {
    const std::string quoted = "'" + key + "':";
    const size_t at = text.find(quoted, begin);
    std::vector<std::vector<float>> lists;
    if (at == std::string::npos || at >= end) return {};
    size_t pos = at + quoted.size();
    while (pos < end && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos >= end || text[pos] != '[' || !parse_number_lists(text, pos, lists) || lists.size() != 1) return {};
    return lists[0];
}

// Mean and std of input `name` from the conversion-settings text, a Python-dict-like string
// holding {'attrs': {'<name>': {..., 'mean': [0], 'std': [255.0, 255.0, 255.0], ...}}, ...}.
// Lists of length 1 apply to every channel. False when the text names none.
bool settings_mean_std(const std::string& text, const std::string& name, std::vector<float>& mean,
                       std::vector<float>& std) {
    const size_t attrs = text.find("'attrs':");
    if (attrs == std::string::npos) return false;
    const size_t at = text.find("'" + name + "': {", attrs);
    if (at == std::string::npos) return false;
    const size_t end = text.find('}', at);
    if (end == std::string::npos) return false;
    mean = settings_list(text, at, end, "mean");
    std = settings_list(text, at, end, "std");
    return !mean.empty() && !std.empty();
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// A JSON string value of `key` in a flat search of the document; "" when absent.
std::string json_string_value(const std::string& json, const std::string& key) {
    const std::string quoted = "\"" + key + "\"";
    size_t at = json.find(quoted);
    if (at == std::string::npos) return "";
    at = json.find(':', at + quoted.size());
    if (at == std::string::npos) return "";
    at = json.find_first_not_of(" \t\r\n", at + 1);
    if (at == std::string::npos || json[at] != '"') return "";
    std::string value;
    for (size_t i = at + 1; i < json.size(); ++i) {
        if (json[i] == '\\' && i + 1 < json.size()) {
            value += json[++i];
        } else if (json[i] == '"') {
            return value;
        } else {
            value += json[i];
        }
    }
    return "";
}

TensorModel build_tensor(const format::ModelDesc& desc, bool is_input, size_t index) {
    const format::TensorDesc& td = is_input ? desc.inputs[index] : desc.outputs[index];
    TensorModel t;
    t.name = td.name;
    t.logical = td.shape;
    t.n_elems = 1;
    // Every context allocates each input at init and each output per run: a header declaring
    // a huge tensor (a 41 KB fuzzed file asked for 3.2 GB at rknn_init) is refused instead.
    constexpr size_t kMaxTensorElems = size_t{1} << 28;  // 1 GiB of float32
    for (int64_t d : t.logical) {
        if (d <= 0) throw format::FormatError("tensor '" + td.name + "' has a non-positive dimension");
        if (static_cast<uint64_t>(d) > kMaxTensorElems / t.n_elems) {
            throw format::FormatError("tensor '" + td.name + "' has more than 2^28 elements, more than the emulator allocates");
        }
        t.n_elems *= static_cast<size_t>(d);
    }
    t.normal = format::runtime_attr(desc, is_input, index, format::AttrKind::Normal);
    t.native = format::runtime_attr(desc, is_input, index, format::AttrKind::Native);
    t.native_nhwc = format::runtime_attr(desc, is_input, index, format::AttrKind::NativeNhwc);
    t.encoding.type = t.normal.type;
    t.encoding.affine = t.normal.qnt_type == RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC &&
                        is_integer_type(t.normal.type);
    t.encoding.zp = t.normal.zp;
    t.encoding.scale = t.normal.scale;
    if (codec_type_size(t.encoding.type) == 0) {
        throw format::FormatError("tensor '" + td.name + "' has element type " +
                                  std::to_string(t.encoding.type) + ", which the emulator cannot convert");
    }
    return t;
}

// Raw values of a recorded input, in the model input's logical order (real values of the
// quantised grid when the record is in the model's own quantised type).
std::vector<float> golden_input_values(const GoldenTensor& g, const TensorModel& t, size_t record) {
    std::vector<int64_t> dims(g.dims.begin(), g.dims.end());
    Layout layout;
    layout.fmt = g.fmt;
    if (g.fmt == RKNN_TENSOR_NHWC && t.logical.size() == 4) {
        const std::vector<int64_t> nhwc = {t.logical[0], t.logical[2], t.logical[3], t.logical[1]};
        if (dims != nhwc) {
            throw GoldenError("record " + std::to_string(record) + " input '" + t.name +
                              "': NHWC dims do not match the model's input shape");
        }
    } else {
        layout.fmt = RKNN_TENSOR_UNDEFINED;
    }
    size_t count = 1;
    for (int64_t d : dims) count *= static_cast<size_t>(d);
    if (count != t.n_elems) {
        throw GoldenError("record " + std::to_string(record) + " input '" + t.name + "' has " +
                          std::to_string(count) + " elements, the model input " +
                          std::to_string(t.n_elems));
    }
    std::vector<float> values;
    std::string error;
    Encoding raw;
    raw.type = g.type;
    if (given_as_quantised(t.encoding, g.type)) raw = t.encoding;
    if (!read_values(g.data.data(), g.data.size(), t.logical, layout, raw, values, error)) {
        throw GoldenError("record " + std::to_string(record) + " input '" + t.name + "': " + error);
    }
    return values;
}

std::vector<uint8_t> golden_output_bytes(const GoldenTensor& g, const TensorModel& t, size_t record) {
    size_t count = 1;
    for (uint32_t d : g.dims) count *= d;
    if (count != t.n_elems) {
        throw GoldenError("record " + std::to_string(record) + " output '" + t.name + "' has " +
                          std::to_string(count) + " elements, the model output " +
                          std::to_string(t.n_elems));
    }
    Layout identity;
    Encoding stored;
    stored.type = g.type;
    std::vector<float> values;
    std::string error;
    if (!read_values(g.data.data(), g.data.size(), t.logical, identity, stored, values, error)) {
        throw GoldenError("record " + std::to_string(record) + " output '" + t.name + "': " + error);
    }
    std::vector<uint8_t> bytes(t.model_bytes());
    if (write_values(values, t.logical, identity, t.encoding, bytes.data(), bytes.size(), error) == 0) {
        throw GoldenError("record " + std::to_string(record) + " output '" + t.name + "': " + error);
    }
    return bytes;
}

}  // namespace

int platform_cores(const std::string& platform) {
    const std::string p = lower(platform);
    if (p.rfind("rk3588", 0) == 0) return 3;
    if (p.rfind("rk3576", 0) == 0) return 2;
    return 1;
}

Layout layout_of(const format::RuntimeAttr& attr) {
    Layout layout;
    layout.fmt = attr.fmt;
    layout.dims = attr.dims;
    layout.w_stride = attr.fmt == RKNN_TENSOR_NHWC ? attr.w_stride : 0;
    return layout;
}

size_t layout_bytes(const std::vector<int64_t>& logical, const Layout& layout, int32_t type,
                    std::string& error) {
    std::vector<size_t> offsets;
    size_t elems = 0;
    if (!layout_offsets(logical, layout, offsets, elems, error)) return 0;
    const size_t esz = codec_type_size(type);
    if (esz == 0) {
        error = "unsupported tensor type " + std::to_string(type);
        return 0;
    }
    return elems * esz;
}

namespace {

// NCHW / UNDEFINED (and NHWC on a tensor that is not 4-D) store the logical order itself:
// the conversions then need no offset table.
bool identity_layout(const std::vector<int64_t>& logical, const Layout& layout, size_t& count) {
    if (layout.fmt == RKNN_TENSOR_NC1HWC2 || (layout.fmt == RKNN_TENSOR_NHWC && logical.size() == 4)) {
        return false;
    }
    count = 1;
    for (int64_t d : logical) {
        if (d < 0) return false;
        count *= static_cast<size_t>(d);
    }
    return true;
}

}  // namespace

bool read_values(const uint8_t* src, size_t src_bytes, const std::vector<int64_t>& logical,
                 const Layout& layout, const Encoding& encoding, std::vector<float>& out,
                 std::string& error) {
    size_t count = 0;
    const size_t item = codec_type_size(encoding.type);
    if (item != 0 && identity_layout(logical, layout, count)) {
        if (count * item > src_bytes) {
            error = "buffer holds " + std::to_string(src_bytes) + " bytes, the layout needs " +
                    std::to_string(count * item);
            return false;
        }
        out.resize(count);
        for (size_t i = 0; i < count; ++i) out[i] = load_value(src + i * item, encoding);
        return true;
    }
    std::vector<size_t> offsets;
    size_t elems = 0;
    if (!layout_offsets(logical, layout, offsets, elems, error)) return false;
    const size_t esz = codec_type_size(encoding.type);
    if (esz == 0) {
        error = "unsupported tensor type " + std::to_string(encoding.type);
        return false;
    }
    if (elems * esz > src_bytes) {
        error = "buffer holds " + std::to_string(src_bytes) + " bytes, the layout needs " +
                std::to_string(elems * esz);
        return false;
    }
    out.resize(offsets.size());
    for (size_t i = 0; i < offsets.size(); ++i) out[i] = load_value(src + offsets[i] * esz, encoding);
    return true;
}

size_t write_values(const std::vector<float>& values, const std::vector<int64_t>& logical,
                    const Layout& layout, const Encoding& encoding, uint8_t* dst,
                    size_t dst_bytes, std::string& error) {
    size_t count = 0;
    const size_t item = codec_type_size(encoding.type);
    if (item != 0 && identity_layout(logical, layout, count) && count == values.size()) {
        if (count * item > dst_bytes) {
            error = "buffer holds " + std::to_string(dst_bytes) + " bytes, the layout needs " +
                    std::to_string(count * item);
            return 0;
        }
        for (size_t i = 0; i < count; ++i) store_value(dst + i * item, encoding, values[i]);
        return count * item;
    }
    std::vector<size_t> offsets;
    size_t elems = 0;
    if (!layout_offsets(logical, layout, offsets, elems, error)) return 0;
    const size_t esz = codec_type_size(encoding.type);
    if (esz == 0) {
        error = "unsupported tensor type " + std::to_string(encoding.type);
        return 0;
    }
    if (elems * esz > dst_bytes || offsets.size() != values.size()) {
        error = "buffer holds " + std::to_string(dst_bytes) + " bytes, the layout needs " +
                std::to_string(elems * esz);
        return 0;
    }
    if (elems != offsets.size()) std::memset(dst, 0, elems * esz);  // padding
    for (size_t i = 0; i < offsets.size(); ++i) store_value(dst + offsets[i] * esz, encoding, values[i]);
    return elems * esz;
}

std::vector<uint8_t> encode_input(const TensorModel& t, const std::vector<float>& raw) {
    std::vector<float> values = raw;
    int64_t s[4];
    if (!t.mean.empty() && t.logical.size() == 4 && as_nchw(t.logical, s)) {
        const size_t C = static_cast<size_t>(s[1]), HW = static_cast<size_t>(s[2] * s[3]);
        for (size_t i = 0; i < values.size(); ++i) {
            const size_t c = (i / HW) % C;
            const float mean = t.mean.size() == C ? t.mean[c] : t.mean[0];
            const float std = t.std.size() == C ? t.std[c] : t.std[0];
            values[i] = (values[i] - mean) / std;
        }
    }
    std::vector<uint8_t> bytes(t.model_bytes());
    const size_t esz = codec_type_size(t.encoding.type);
    for (size_t i = 0; i < values.size(); ++i) store_value(bytes.data() + i * esz, t.encoding, values[i]);
    return bytes;
}

std::vector<float> decode_model(const TensorModel& t, const std::vector<uint8_t>& bytes) {
    const size_t esz = codec_type_size(t.encoding.type);
    std::vector<float> values(t.n_elems);
    for (size_t i = 0; i < t.n_elems; ++i) values[i] = load_value(bytes.data() + i * esz, t.encoding);
    return values;
}

std::shared_ptr<const Model> load_model(const uint8_t* data, size_t size, const std::string& golden_path,
                                        const std::string& soc) {
    auto model = std::make_shared<Model>();
    model->desc = format::parse_rknn(data, size);
    Emulator::get().counters.model_parses.fetch_add(1);
    if (!model->desc.complete) {
        throw format::FormatError("file format " + std::to_string(model->desc.file_format) +
                                  " (rv1103/rv1106) is not runnable by librknnrt");
    }
    if (model->desc.inputs.empty() || model->desc.outputs.empty()) {
        throw format::FormatError("model has no inputs or no outputs");
    }
    model->file_size = size;
    model->platform = lower(model->desc.target_platform);
    if (model->platform.empty() && !model->desc.target_platforms.empty()) {
        model->platform = lower(model->desc.target_platforms[0]);
    }
    model->soc = soc.empty() ? model->platform : soc;
    if (!soc.empty() && !platform_runs_on(model->platform, soc)) {
        throw PlatformMismatch("This rknn model is for " + model->platform + ", but current platform is " + soc);
    }
    model->npu_cores = platform_cores(model->soc);
    model->custom_string = json_string_value(model->desc.json, "custom_string");

    for (size_t i = 0; i < model->desc.inputs.size(); ++i) {
        TensorModel t = build_tensor(model->desc, true, i);
        std::vector<float> mean, std;
        int64_t s[4];
        if (settings_mean_std(model->desc.generator, t.name, mean, std) && t.logical.size() == 4 &&
            as_nchw(t.logical, s)) {
            const size_t C = static_cast<size_t>(s[1]);
            const bool fits = (mean.size() == 1 || mean.size() == C) && (std.size() == 1 || std.size() == C);
            if (fits && std::none_of(std.begin(), std.end(), [](float v) { return v == 0.0f; })) {
                t.mean.resize(C);
                t.std.resize(C);
                for (size_t c = 0; c < C; ++c) {
                    t.mean[c] = mean.size() == 1 ? mean[0] : mean[c];
                    t.std[c] = std.size() == 1 ? std[0] : std[c];
                }
            }
        }
        model->inputs.push_back(std::move(t));
    }
    for (size_t i = 0; i < model->desc.outputs.size(); ++i) {
        model->outputs.push_back(build_tensor(model->desc, false, i));
    }

    if (!golden_path.empty()) {
        const std::vector<GoldenRecord> records = read_golden_file(golden_path);
        model->golden_path = golden_path;
        for (size_t r = 0; r < records.size(); ++r) {
            const GoldenRecord& rec = records[r];
            if (rec.inputs.size() != model->inputs.size() || rec.outputs.size() != model->outputs.size()) {
                throw GoldenError(golden_path + ": records have " + std::to_string(rec.inputs.size()) +
                                  " inputs / " + std::to_string(rec.outputs.size()) +
                                  " outputs, the model " + std::to_string(model->inputs.size()) +
                                  " / " + std::to_string(model->outputs.size()));
            }
            ReplayRecord replay;
            for (size_t i = 0; i < rec.inputs.size(); ++i) {
                const TensorModel& t = model->inputs[i];
                // The caller-input rule (tensor_codec.h): a record in the model's own quantised
                // type holds quantised values; anything else is normalised and quantised.
                const std::vector<float> values = golden_input_values(rec.inputs[i], t, r);
                if (given_as_quantised(t.encoding, rec.inputs[i].type)) {
                    std::vector<uint8_t> bytes(t.model_bytes());
                    const size_t esz = codec_type_size(t.encoding.type);
                    for (size_t k = 0; k < values.size(); ++k) store_value(bytes.data() + k * esz, t.encoding, values[k]);
                    replay.inputs.push_back(std::move(bytes));
                } else {
                    replay.inputs.push_back(encode_input(t, values));
                }
            }
            for (size_t i = 0; i < rec.outputs.size(); ++i) {
                replay.outputs.push_back(golden_output_bytes(rec.outputs[i], model->outputs[i], r));
            }
            model->golden.push_back(std::move(replay));
        }
    }
    return model;
}

}  // namespace rknn_fast::emulator
