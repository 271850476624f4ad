// Reader of .rknn model files (see ../shared RKNN_FILE_FORMAT.md and docs/).
// One implementation shared by the emulator (cpp/emulator) and the Python module
// (rknn_fast.inspect). Every offset read from the file is bounds-checked: malformed input
// throws FormatError, it never reads outside [data, data + size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace rknn_fast::format {

// Anything that is not a well-formed .rknn file. what() names the problem and, where it
// helps, the byte offset.
class FormatError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// One tensor as the file describes it.
struct TensorDesc {
    std::string name;
    uint32_t index = 0;                 // position in API order (input i / output i)
    std::vector<int64_t> shape;         // logical shape as stored (NCHW for 4-D)
    std::vector<int64_t> native_shape;  // as stored (NC1HWC2 for 5-D); empty when unknown
    int32_t type = -1;       // element type inside the model as an rknn_tensor_type value; -1 unknown
    std::string io_dtype;    // runtime dtype from the input/output JSON ("int8", "float16"...); may be empty
    std::string io_layout;   // runtime layout from the input/output JSON ("NHWC", "NCHW"...); may be empty
    std::string qnt_method;  // e.g. "layer"; empty when absent
    std::string qnt_type;    // e.g. "int8"; empty when not quantised
    bool quantized = false;  // true when scale/zero_point below come from the file
    float scale = 1.0f;
    int32_t zero_point = 0;
    uint64_t size_bytes = 0;  // as stored (S=28); 0 when absent
};

struct ModelDesc {
    uint64_t file_format = 0;        // 6, or 0x1004 for rv1106-style files
    std::string model_format;        // "RKNPU v2" / "RKNPU lite"; empty when unknown
    std::string generator;           // conversion settings text (mean/std, reorder...)
    std::string compiler_version;
    std::string target_platform;     // e.g. "rk3588"
    std::vector<std::string> target_platforms;  // from the JSON summary
    std::string source_framework;    // e.g. "ONNX"
    std::string toolkit_version;     // JSON "version"
    std::string json;                // the trailing JSON document, verbatim
    std::vector<TensorDesc> inputs;
    std::vector<TensorDesc> outputs;
    bool complete = true;            // false for 0x1004 files: only JSON fields are known
};

// Parses a whole file held in memory. Throws FormatError.
ModelDesc parse_rknn(const uint8_t* data, size_t size);
// Reads and parses a file. Throws FormatError (also for I/O errors, naming the path).
ModelDesc parse_rknn_file(const std::string& path);

// How librknnrt reports a tensor in an rknn_tensor_attr, derived from the file alone.
// Enum-valued fields hold the C API's values (rknn_tensor_format, rknn_tensor_type,
// rknn_tensor_qnt_type) so this header stays free of the ABI header.
struct RuntimeAttr {
    std::vector<uint32_t> dims;
    int32_t fmt = 3;        // RKNN_TENSOR_UNDEFINED
    int32_t type = 0;       // RKNN_TENSOR_FLOAT32
    int32_t qnt_type = 0;   // RKNN_TENSOR_QNT_NONE
    int32_t zp = 0;
    float scale = 1.0f;
    uint32_t n_elems = 0;
    uint32_t size = 0;              // n_elems * element size
    uint32_t size_with_stride = 0;  // bytes including native padding
    uint32_t w_stride = 0;
    uint32_t h_stride = 0;
};

enum class AttrKind {
    Normal,       // RKNN_QUERY_INPUT_ATTR / OUTPUT_ATTR: 4-D inputs NHWC, 4-D outputs NCHW
    Native,       // RKNN_QUERY_NATIVE_(INPUT|OUTPUT)_ATTR: file native shape (NC1HWC2 for outputs)
    NativeNhwc,   // RKNN_QUERY_NATIVE_NHWC_(INPUT|OUTPUT)_ATTR
};

RuntimeAttr runtime_attr(const ModelDesc& model, bool is_input, size_t index, AttrKind kind);

// Element size in bytes of an rknn_tensor_type value; 0 for unknown types (INT4 reports 1).
size_t element_size(int32_t rknn_type);

}  // namespace rknn_fast::format
