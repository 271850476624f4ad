// _core.parse_rknn: the .rknn reader (cpp/format) as plain Python dicts.
// Only argument conversion here; the reading and the runtime-attr rules live in cpp/format.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "format/rknn_file.h"

namespace py = pybind11;
namespace fmt = rknn_fast::format;

namespace rknn_fast::bindings {
namespace {

// Holds a contiguous byte buffer exported by a Python object (bytes, bytearray, memoryview,
// numpy uint8...). While the view is held the exporter cannot resize or free the memory
// (bytearray refuses to resize with live exports), so reading it without the GIL is safe.
class ByteView {
  public:
    explicit ByteView(const py::handle& obj) {
        if (!PyObject_CheckBuffer(obj.ptr()))
            throw py::type_error(std::string("expected a bytes-like object (bytes, bytearray, memoryview, "
                                             "uint8 array), got ") +
                                 Py_TYPE(obj.ptr())->tp_name);
        if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
            PyErr_Clear();
            throw py::type_error("expected a C-contiguous bytes-like object, got a non-contiguous " +
                                 std::string(Py_TYPE(obj.ptr())->tp_name));
        }
        held_ = true;
        if (view_.itemsize != 1)
            throw py::type_error("expected a buffer of single bytes (itemsize 1, e.g. uint8), got itemsize " +
                                 std::to_string(view_.itemsize));
    }
    ~ByteView() {
        if (held_) PyBuffer_Release(&view_);
    }
    ByteView(const ByteView&) = delete;
    ByteView& operator=(const ByteView&) = delete;

    const uint8_t* data() const { return static_cast<const uint8_t*>(view_.buf); }
    size_t size() const { return static_cast<size_t>(view_.len); }

  private:
    Py_buffer view_{};
    bool held_ = false;
};

py::tuple to_tuple(const std::vector<int64_t>& v) {
    py::tuple t(v.size());
    for (size_t i = 0; i < v.size(); ++i) t[i] = py::int_(v[i]);
    return t;
}

py::dict attr_dict(const fmt::RuntimeAttr& a) {
    py::tuple dims(a.dims.size());
    for (size_t i = 0; i < a.dims.size(); ++i) dims[i] = py::int_(a.dims[i]);
    py::dict d;
    d["dims"] = dims;
    d["fmt"] = a.fmt;
    d["type"] = a.type;
    d["qnt_type"] = a.qnt_type;
    d["zp"] = a.zp;
    d["scale"] = a.scale;
    d["n_elems"] = a.n_elems;
    d["size"] = a.size;
    d["size_with_stride"] = a.size_with_stride;
    d["w_stride"] = a.w_stride;
    d["h_stride"] = a.h_stride;
    return d;
}

py::dict tensor_dict(const fmt::TensorDesc& t, const std::vector<fmt::RuntimeAttr>& attrs) {
    py::dict d;
    d["name"] = t.name;
    d["index"] = t.index;
    d["shape"] = to_tuple(t.shape);
    d["native_shape"] = to_tuple(t.native_shape);
    d["type"] = t.type;
    d["io_dtype"] = t.io_dtype;
    d["io_layout"] = t.io_layout;
    d["qnt_method"] = t.qnt_method;
    d["qnt_type"] = t.qnt_type;
    d["quantized"] = t.quantized;
    d["scale"] = t.scale;
    d["zero_point"] = t.zero_point;
    d["size_bytes"] = t.size_bytes;
    d["normal"] = attr_dict(attrs[0]);
    d["native"] = attr_dict(attrs[1]);
    d["native_nhwc"] = attr_dict(attrs[2]);
    return d;
}

struct Parsed {
    fmt::ModelDesc model;
    std::vector<std::vector<fmt::RuntimeAttr>> in_attrs, out_attrs;
};

Parsed parse_all(const uint8_t* data, size_t size) {
    Parsed p;
    p.model = fmt::parse_rknn(data, size);
    for (bool is_input : {true, false}) {
        auto& attrs = is_input ? p.in_attrs : p.out_attrs;
        const size_t n = (is_input ? p.model.inputs : p.model.outputs).size();
        for (size_t i = 0; i < n; ++i) {
            attrs.push_back({fmt::runtime_attr(p.model, is_input, i, fmt::AttrKind::Normal),
                             fmt::runtime_attr(p.model, is_input, i, fmt::AttrKind::Native),
                             fmt::runtime_attr(p.model, is_input, i, fmt::AttrKind::NativeNhwc)});
        }
    }
    return p;
}

py::dict parse_rknn(const py::object& data) {
    const ByteView view(data);
    Parsed p;
    {
        // Safe without the GIL: `view` pins the bytes and nothing below touches Python.
        py::gil_scoped_release release;
        p = parse_all(view.data(), view.size());
    }
    const fmt::ModelDesc& m = p.model;
    py::dict d;
    d["file_format"] = m.file_format;
    d["model_format"] = m.model_format;
    d["generator"] = m.generator;
    d["compiler_version"] = m.compiler_version;
    d["target_platform"] = m.target_platform;
    d["target_platforms"] = py::tuple(py::cast(m.target_platforms));
    d["source_framework"] = m.source_framework;
    d["toolkit_version"] = m.toolkit_version;
    d["json"] = py::bytes(m.json).attr("decode")("utf-8", "replace");
    d["complete"] = m.complete;
    py::list inputs, outputs;
    for (size_t i = 0; i < m.inputs.size(); ++i) inputs.append(tensor_dict(m.inputs[i], p.in_attrs[i]));
    for (size_t i = 0; i < m.outputs.size(); ++i) outputs.append(tensor_dict(m.outputs[i], p.out_attrs[i]));
    d["inputs"] = py::tuple(inputs);
    d["outputs"] = py::tuple(outputs);
    return d;
}

}  // namespace

void bind_format(py::module_& m) {
    // FormatError is "bad content": Python sees ValueError with the reader's message.
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const fmt::FormatError& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        }
    });
    m.def("parse_rknn", &parse_rknn, py::arg("data"),
          "Parse a whole .rknn file held in a bytes-like object (read without copying).\n\n"
          "Returns a dict: file_format, model_format, generator, compiler_version, target_platform,\n"
          "target_platforms, source_framework, toolkit_version, json, complete, inputs, outputs.\n"
          "Each tensor is a dict with the file's fields (shape as stored, NCHW for 4-D; native_shape,\n"
          "NC1HWC2 for 5-D; type as an rknn_tensor_type value, -1 unknown; scale, zero_point...) and\n"
          "'normal', 'native', 'native_nhwc': the rknn_tensor_attr the runtime reports for each query\n"
          "(dims, fmt, type, qnt_type, zp, scale, n_elems, size, size_with_stride in bytes, w_stride,\n"
          "h_stride in elements). Raises ValueError for malformed files, TypeError for non-buffers.");
    m.def(
        "element_size", [](int32_t t) { return fmt::element_size(t); }, py::arg("rknn_type"),
        "Bytes per element of an rknn_tensor_type value (0 when unknown).");
}

}  // namespace rknn_fast::bindings
