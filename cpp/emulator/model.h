// A loaded model as the emulator uses it: the parsed .rknn description, the attributes the
// runtime reports for every tensor, input normalisation, the platform's NPU core count and
// the golden records converted to the model's own tensor encodings. Immutable once built and
// shared (by shared_ptr) between a context and its duplicates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulator/tensor_codec.h"
#include "format/rknn_file.h"

namespace rknn_fast::emulator {

struct TensorModel {
    std::string name;
    std::vector<int64_t> logical;  // the file's logical shape (NCHW for 4-D)
    size_t n_elems = 0;
    format::RuntimeAttr normal;       // RKNN_QUERY_INPUT_ATTR / OUTPUT_ATTR
    format::RuntimeAttr native;       // RKNN_QUERY_NATIVE_*_ATTR
    format::RuntimeAttr native_nhwc;  // RKNN_QUERY_NATIVE_NHWC_*_ATTR
    Encoding encoding;  // the model-side element encoding (normal attr type / qnt / zp / scale)
    // Input normalisation applied to raw (non pass-through) values per channel:
    // (value - mean[c]) / std[c]. Empty when the file names none.
    std::vector<float> mean;
    std::vector<float> std;

    size_t model_bytes() const { return n_elems * codec_type_size(encoding.type); }
};

// One golden record with every tensor in the model's encoding and logical layout.
struct ReplayRecord {
    std::vector<std::vector<uint8_t>> inputs;
    std::vector<std::vector<uint8_t>> outputs;
};

struct Model {
    format::ModelDesc desc;
    std::vector<TensorModel> inputs;
    std::vector<TensorModel> outputs;
    std::string platform;  // lower case, e.g. "rk3588": what the model was converted for
    std::string soc;       // the emulated board's SoC (board.h); the platform when none is set
    int npu_cores = 1;     // of the SoC: rk3588: 3, rk3576: 2, others: 1
    size_t file_size = 0;
    std::string custom_string;
    std::string golden_path;
    std::vector<ReplayRecord> golden;
};

// Layout of a runtime attribute (fmt, dims, w_stride) for conversions.
Layout layout_of(const format::RuntimeAttr& attr);

// Raw caller values (logical order) to model-domain bytes: normalise, then encode.
std::vector<uint8_t> encode_input(const TensorModel& t, const std::vector<float>& raw);

// Reads a tensor of logical shape `logical` stored at `src` (size `src_bytes`) in
// `layout` / `encoding` into real values in logical order. Returns false with `error` set
// when the layout cannot hold the shape or the buffer is too small.
bool read_values(const uint8_t* src, size_t src_bytes, const std::vector<int64_t>& logical,
                 const Layout& layout, const Encoding& encoding, std::vector<float>& out,
                 std::string& error);
// Writes real values (logical order) to `dst` in `layout` / `encoding`; padding bytes are
// zeroed. Returns the number of bytes of the layout, or 0 with `error` set.
size_t write_values(const std::vector<float>& values, const std::vector<int64_t>& logical,
                    const Layout& layout, const Encoding& encoding, uint8_t* dst,
                    size_t dst_bytes, std::string& error);
// Bytes a buffer of `layout` / element type `type` needs for the logical shape; 0 when the
// layout cannot hold it.
size_t layout_bytes(const std::vector<int64_t>& logical, const Layout& layout, int32_t type,
                    std::string& error);

// Decodes model-domain bytes (logical order, the tensor's own encoding) to real values.
std::vector<float> decode_model(const TensorModel& t, const std::vector<uint8_t>& bytes);

// Parses a model and its golden set. `golden_path` empty = none. `soc` is the emulated
// board ("" = the model's platform). Throws format::FormatError (bad model) or GoldenError
// (bad or mismatching golden set).
std::shared_ptr<const Model> load_model(const uint8_t* data, size_t size,
                                        const std::string& golden_path, const std::string& soc = "");

// Number of NPU cores of a target platform name.
int platform_cores(const std::string& platform);

}  // namespace rknn_fast::emulator
