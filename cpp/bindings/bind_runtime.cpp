// _core.Session (cpp/runtime/session.h) and the conversion kernels (cpp/kernels/convert.h).
// Arguments are converted here, the GIL is released around every runtime call and kernel
// loop, and runtime errors are turned into rknn_fast.errors exceptions. Policy and
// validation messages live in python/rknn_fast/model.py.
//
// Releasing the GIL is safe because nothing below touches Python objects while it is
// released: buffer pointers are taken first, and the arrays they point into are kept alive
// by the caller's references for the duration of the call.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bindings/array_args.h"
#include "bindings/errors.h"
#include "kernels/convert.h"
#include "runtime/context.h"
#include "runtime/loader.h"
#include "runtime/session.h"

namespace py = pybind11;

namespace rknn_fast::bindings {
namespace {

using runtime::AttrKind;
using runtime::Session;

// The one mapping from runtime failures to Python exceptions lives in rknn_fast.errors.
void translate(std::exception_ptr p) {
    try {
        if (p) std::rethrow_exception(p);
    } catch (const runtime::CallError& e) {
        py::object errors = py::module_::import("rknn_fast.errors");
        py::object exc = errors.attr("error_for_code")(e.code(), e.api(), e.detail());
        PyErr_SetObject(py::type::handle_of(exc).ptr(), exc.ptr());
    } catch (const runtime::LoadError& e) {
        py::object errors = py::module_::import("rknn_fast.errors");
        py::object exc = errors.attr("RuntimeNotFoundError")(e.what());
        PyErr_SetObject(py::type::handle_of(exc).ptr(), exc.ptr());
    } catch (const runtime::NotSupportedError& e) {
        py::object errors = py::module_::import("rknn_fast.errors");
        py::object exc = errors.attr("RuntimeTooOldError")(e.what());
        PyErr_SetObject(py::type::handle_of(exc).ptr(), exc.ptr());
    } catch (const runtime::ClosedError& e) {
        py::object errors = py::module_::import("rknn_fast.errors");
        py::object exc = errors.attr("ModelClosedError")(e.what());
        PyErr_SetObject(py::type::handle_of(exc).ptr(), exc.ptr());
    }
}

// Sets the Python error for the exception in flight (outside pybind11's dispatcher).
void set_python_error() noexcept {
    try {
        try {
            translate(std::current_exception());
        } catch (py::error_already_set& e) {
            e.restore();
        }
    } catch (const std::exception& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
    }
}

// The zero-copy Model.run() as one plain C function (no pybind11 dispatch, no Python frame):
// release the GIL, syncs + rknn_run + syncs under the session mutex, take the GIL back and
// return a new list of the output views built once at open. Nothing else happens per call,
// which matters because an emulated (CPU) run leaves every cache cold: each cache line the
// binding touches afterwards costs ~0.1 us. Model installs it as the instance's `run`;
// calls with arguments go to `fallback(model, *args, **kwargs)` (Model.run itself).
struct BoundRunner {
    std::shared_ptr<Session> session;
    PyObject* outputs;    // tuple of numpy views
    PyObject* fallback;   // callable or NULL
    PyObject* model_ref;  // weakref to the Model (no reference cycle through its __dict__) or NULL
};
constexpr const char* kBoundRunnerName = "rknn_fast._core.BoundRunner";

PyObject* call_fallback(const BoundRunner& r, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    if (r.fallback == nullptr || r.model_ref == nullptr) {
        PyErr_SetString(PyExc_TypeError, "this runner takes no arguments");
        return nullptr;
    }
    const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    const Py_ssize_t nkw = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
    std::vector<PyObject*> full(static_cast<size_t>(nargs + nkw + 1));  // may throw: before any reference
    // A new reference, kept across the call even if the last other reference goes.
#if PY_VERSION_HEX >= 0x030D0000
    PyObject* model = nullptr;
    if (PyWeakref_GetRef(r.model_ref, &model) < 0) return nullptr;
#else
    PyObject* model = PyWeakref_GetObject(r.model_ref);
    if (model == Py_None) model = nullptr;
    Py_XINCREF(model);
#endif
    if (model == nullptr) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ReferenceError, "the Model of this run() no longer exists");
        return nullptr;
    }
    full[0] = model;
    std::copy(args, args + nargs + nkw, full.begin() + 1);
    PyObject* res = PyObject_Vectorcall(r.fallback, full.data(), static_cast<size_t>(nargs + 1), kwnames);
    Py_DECREF(model);
    return res;
}

PyObject* bound_run(PyObject* self, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) noexcept {
    auto* r = static_cast<BoundRunner*>(PyCapsule_GetPointer(self, kBoundRunnerName));
    if (r == nullptr) return nullptr;
    if (PyVectorcall_NARGS(nargsf) != 0 || (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) != 0)) {
        try {
            return call_fallback(*r, args, static_cast<size_t>(nargsf), kwnames);
        } catch (...) {
            set_python_error();
            return nullptr;
        }
    }
    bool ok = true;
    // Safe without the GIL: only the session (kept alive by the capsule) is touched.
    PyThreadState* ts = PyEval_SaveThread();
    try {
        r->session->run_bound();
    } catch (...) {
        PyEval_RestoreThread(ts);
        ts = nullptr;
        set_python_error();
        ok = false;
    }
    if (ts != nullptr) PyEval_RestoreThread(ts);
    return ok ? PySequence_List(r->outputs) : nullptr;
}

PyMethodDef bound_run_def = {
    "run", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&bound_run)), METH_FASTCALL | METH_KEYWORDS,
    "run(*inputs, **options)\n--\n\nModel.run() of a zero-copy Model: without arguments one C call that returns\n"
    "a new list of the output views; with arguments the full Model.run."};

py::object make_bound_runner(const std::shared_ptr<Session>& session, const py::tuple& outputs,
                             const py::object& fallback, const py::object& model_ref) {
    if (!fallback.is_none() && !PyCallable_Check(fallback.ptr())) throw py::type_error("fallback must be callable");
    if (!model_ref.is_none() && !PyWeakref_CheckRef(model_ref.ptr()))
        throw py::type_error("model_ref must be a weakref.ref");
    auto* r = new BoundRunner{session, outputs.inc_ref().ptr(), nullptr, nullptr};
    if (!fallback.is_none()) r->fallback = fallback.inc_ref().ptr();
    if (!model_ref.is_none()) r->model_ref = model_ref.inc_ref().ptr();
    PyObject* capsule = PyCapsule_New(r, kBoundRunnerName, [](PyObject* c) {
        auto* p = static_cast<BoundRunner*>(PyCapsule_GetPointer(c, kBoundRunnerName));
        Py_XDECREF(p->outputs);
        Py_XDECREF(p->fallback);
        Py_XDECREF(p->model_ref);
        delete p;
    });
    if (capsule == nullptr) {
        Py_XDECREF(r->outputs);
        Py_XDECREF(r->fallback);
        Py_XDECREF(r->model_ref);
        delete r;
        throw py::error_already_set();
    }
    PyObject* fn = PyCFunction_New(&bound_run_def, capsule);
    Py_DECREF(capsule);  // the function holds it now
    if (fn == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(fn);
}

py::dict attr_dict(const rknn_tensor_attr& a) {
    py::dict d;
    d["index"] = a.index;
    std::vector<uint32_t> dims(a.dims, a.dims + std::min<uint32_t>(a.n_dims, RKNN_MAX_DIMS));
    d["dims"] = py::tuple(py::cast(dims));
    size_t n = 0;
    while (n < sizeof a.name && a.name[n]) ++n;
    d["name"] = py::str(std::string(a.name, n));
    d["n_elems"] = a.n_elems;
    d["size"] = a.size;
    d["fmt"] = static_cast<int>(a.fmt);
    d["type"] = static_cast<int>(a.type);
    d["qnt_type"] = static_cast<int>(a.qnt_type);
    d["fl"] = static_cast<int>(a.fl);
    d["zp"] = a.zp;
    d["scale"] = a.scale;
    d["w_stride"] = a.w_stride;
    d["size_with_stride"] = a.size_with_stride;
    d["pass_through"] = static_cast<int>(a.pass_through);
    d["h_stride"] = a.h_stride;
    return d;
}

// A C-contiguous array's data pointer and byte size; refuses anything else (no hidden copy).
struct Buffer {
    void* data;
    size_t size;
};
Buffer contiguous(const py::array& a, bool writable, const char* what) {
    require_c_contiguous(a, what);
    if (writable) require_writable(a, what);
    return {const_cast<void*>(a.data()), static_cast<size_t>(a.nbytes())};
}

std::vector<runtime::InputData> input_data(const std::vector<py::array>& arrays, const std::vector<int>& types,
                                           const std::vector<int>& fmts, const std::vector<bool>& pass_through) {
    if (types.size() != arrays.size() || fmts.size() != arrays.size() ||
        (!pass_through.empty() && pass_through.size() != arrays.size())) {
        throw py::value_error("inputs, types, fmts and pass_through must have the same length");
    }
    std::vector<runtime::InputData> v(arrays.size());
    for (size_t i = 0; i < arrays.size(); ++i) {
        Buffer b = contiguous(arrays[i], false, "input");
        v[i].data = b.data;
        v[i].size = b.size;
        v[i].type = static_cast<rknn_tensor_type>(types[i]);
        v[i].fmt = static_cast<rknn_tensor_format>(fmts[i]);
        v[i].pass_through = !pass_through.empty() && pass_through[i];
    }
    return v;
}

std::vector<runtime::OutputData> output_data(const std::vector<py::array>& arrays, const std::vector<bool>& want_float) {
    if (want_float.size() != arrays.size()) throw py::value_error("outputs and want_float must have the same length");
    std::vector<runtime::OutputData> v(arrays.size());
    for (size_t i = 0; i < arrays.size(); ++i) {
        Buffer b = contiguous(arrays[i], true, "output");
        v[i].data = b.data;
        v[i].size = b.size;
        v[i].want_float = want_float[i];
    }
    return v;
}

rknn_tensor_attr bind_attr(const Session& s, bool input, int kind, size_t i, int type, int fmt, bool pass_through) {
    if (kind < 0 || kind > 2) throw py::value_error("attr kind must be 0, 1 or 2");
    rknn_tensor_attr a = s.attr(input, static_cast<AttrKind>(kind), i);
    if (type >= 0) a.type = static_cast<rknn_tensor_type>(type);
    if (fmt >= 0) a.fmt = static_cast<rknn_tensor_format>(fmt);
    a.pass_through = pass_through ? 1 : 0;
    return a;
}

// A numpy array over tensor memory; the capsule keeps the memory (and its context) alive.
py::array mem_array(const std::shared_ptr<runtime::TensorMem>& mem, const py::dtype& dtype,
                    const std::vector<py::ssize_t>& shape, const std::vector<py::ssize_t>& strides) {
    if (shape.size() != strides.size()) throw py::value_error("shape and strides differ in length");
    // Bounds: the furthest byte reachable through shape/strides must lie inside the buffer.
    py::ssize_t last = 0;
    for (size_t k = 0; k < shape.size(); ++k) {
        if (shape[k] <= 0) return py::array(dtype, shape, strides);  // empty: no memory needed
        if (strides[k] < 0) throw py::value_error("negative strides are not supported");
        last += (shape[k] - 1) * strides[k];
    }
    if (static_cast<size_t>(last + dtype.itemsize()) > mem->size()) {
        throw py::value_error("view of " + std::to_string(last + dtype.itemsize()) + " bytes exceeds the " +
                              std::to_string(mem->size()) + "-byte tensor buffer");
    }
    auto* holder = new std::shared_ptr<runtime::TensorMem>(mem);
    py::capsule owner(holder, [](void* p) { delete static_cast<std::shared_ptr<runtime::TensorMem>*>(p); });
    return py::array(dtype, shape, strides, mem->data(), owner);
}

kernels::Nc1hwc2Dims dims_of(size_t n, size_t c, size_t h, size_t w, size_t c1, size_t c2, size_t w_stride) {
    kernels::Nc1hwc2Dims d;
    d.n = n; d.c = c; d.h = h; d.w = w; d.c1 = c1; d.c2 = c2; d.w_stride = w_stride;
    if (!d.valid()) {
        throw py::value_error("invalid NC1HWC2 dims: need C2 > 0, C1*C2 >= C and W_stride >= W, got C=" +
                              std::to_string(c) + " C1=" + std::to_string(c1) + " C2=" + std::to_string(c2) +
                              " W=" + std::to_string(w) + " W_stride=" + std::to_string(w_stride));
    }
    return d;
}

void check_sizes(const py::array& src, const py::array& dst, size_t src_elems, size_t dst_elems) {
    if (static_cast<size_t>(src.size()) != src_elems) {
        throw py::value_error("source has " + std::to_string(src.size()) + " elements, expected " +
                              std::to_string(src_elems));
    }
    if (static_cast<size_t>(dst.size()) != dst_elems) {
        throw py::value_error("destination has " + std::to_string(dst.size()) + " elements, expected " +
                              std::to_string(dst_elems));
    }
}

char kind_of(const py::array& a) { return a.dtype().kind(); }

void bind_kernels_convert(py::module_& m) {
    m.def("_fp16_to_fp32", [](const py::array& src, const py::array& dst) {
        if (!(has_dtype(src, 'f', 2) || has_dtype<uint16_t>(src)) || !has_dtype<float>(dst))
            throw py::type_error("expected float16 (or uint16 bits) source and float32 destination");
        Buffer s = contiguous(src, false, "src"), d = contiguous(dst, true, "dst");
        check_sizes(src, dst, static_cast<size_t>(dst.size()), static_cast<size_t>(src.size()));
        py::gil_scoped_release nogil;
        kernels::fp16_to_fp32(static_cast<const uint16_t*>(s.data), static_cast<float*>(d.data), s.size / 2);
    });
    m.def("_fp32_to_fp16", [](const py::array& src, const py::array& dst) {
        if (!has_dtype<float>(src) || !(has_dtype(dst, 'f', 2) || has_dtype<uint16_t>(dst)))
            throw py::type_error("expected float32 source and float16 destination");
        Buffer s = contiguous(src, false, "src"), d = contiguous(dst, true, "dst");
        check_sizes(src, dst, static_cast<size_t>(dst.size()), static_cast<size_t>(src.size()));
        py::gil_scoped_release nogil;
        kernels::fp32_to_fp16(static_cast<const float*>(s.data), static_cast<uint16_t*>(d.data), s.size / 4);
    });
    m.def("_dequantize", [](const py::array& src, const py::array& dst, float scale, int32_t zp) {
        if (!(has_dtype<int8_t>(src) || has_dtype<uint8_t>(src)) || !has_dtype<float>(dst))
            throw py::type_error("expected int8/uint8 source and float32 destination");
        Buffer s = contiguous(src, false, "src"), d = contiguous(dst, true, "dst");
        check_sizes(src, dst, static_cast<size_t>(dst.size()), static_cast<size_t>(src.size()));
        const bool is_signed = kind_of(src) == 'i';
        py::gil_scoped_release nogil;
        if (is_signed)
            kernels::dequantize(static_cast<const int8_t*>(s.data), static_cast<float*>(d.data), s.size, scale, zp);
        else
            kernels::dequantize(static_cast<const uint8_t*>(s.data), static_cast<float*>(d.data), s.size, scale, zp);
    });
    // mode: 0 = layout only (same dtype), 1 = dequantise int8/uint8 -> float32, 2 = fp16 -> float32.
    m.def("_nc1hwc2_to", [](const py::array& src, const py::array& dst, size_t n, size_t c, size_t h, size_t w,
                            size_t c1, size_t c2, size_t w_stride, bool nhwc, int mode, float scale, int32_t zp) {
        const auto d = dims_of(n, c, h, w, c1, c2, w_stride);
        check_sizes(src, dst, d.native_elems(), d.logical_elems());
        Buffer s = contiguous(src, false, "src"), o = contiguous(dst, true, "dst");
        const auto layout = nhwc ? kernels::Layout::NHWC : kernels::Layout::NCHW;
        if (mode == 0) {
            if (src.itemsize() != dst.itemsize() || src.dtype().kind() != dst.dtype().kind())
                throw py::type_error("layout conversion needs the same dtype on both sides");
            const size_t es = static_cast<size_t>(src.itemsize());
            if (es != 1 && es != 2 && es != 4) throw py::type_error("element size must be 1, 2 or 4 bytes");
            py::gil_scoped_release nogil;
            kernels::nc1hwc2_to(s.data, o.data, es, d, layout);
            return;
        }
        if (!has_dtype<float>(dst)) throw py::type_error("expected a float32 destination");
        if (mode == 1) {
            if (src.itemsize() != 1) throw py::type_error("expected an int8/uint8 source");
            const bool is_signed = kind_of(src) == 'i';
            py::gil_scoped_release nogil;
            if (is_signed)
                kernels::nc1hwc2_to_float(static_cast<const int8_t*>(s.data), static_cast<float*>(o.data), d, layout,
                                          scale, zp);
            else
                kernels::nc1hwc2_to_float(static_cast<const uint8_t*>(s.data), static_cast<float*>(o.data), d, layout,
                                          scale, zp);
            return;
        }
        if (mode == 2) {
            if (!(has_dtype(src, 'f', 2) || has_dtype<uint16_t>(src))) throw py::type_error("expected a float16 source");
            py::gil_scoped_release nogil;
            kernels::nc1hwc2_to_float(static_cast<const uint16_t*>(s.data), static_cast<float*>(o.data), d, layout);
            return;
        }
        throw py::value_error("mode must be 0, 1 or 2");
    });
}

}  // namespace

py::object exception_object(std::exception_ptr error) {
    try {
        try {
            translate(error);  // sets the Python error for runtime failures, rethrows the rest
        } catch (py::error_already_set& e) {
            e.restore();
        } catch (const std::invalid_argument& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const std::out_of_range& e) {
            PyErr_SetString(PyExc_IndexError, e.what());
        } catch (const std::exception& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
        }
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
    }
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "unknown error");
    py::error_already_set fetched;
    return fetched.value();
}

void bind_runtime(py::module_& m) {
    py::register_exception_translator(&translate);
    bind_kernels_convert(m);

    py::class_<runtime::TensorMem, std::shared_ptr<runtime::TensorMem>>(m, "_TensorMem")
        .def_property_readonly("size", &runtime::TensorMem::size)
        .def_property_readonly("fd", [](const runtime::TensorMem& t) { return t.mem()->fd; })
        .def_property_readonly("offset", [](const runtime::TensorMem& t) { return t.mem()->offset; })
        .def_property_readonly("phys_addr", [](const runtime::TensorMem& t) { return t.mem()->phys_addr; })
        .def_property_readonly("needs_sync", &runtime::TensorMem::needs_sync)
        .def("array", &mem_array, py::arg("dtype"), py::arg("shape"), py::arg("strides"));

    py::class_<Session, std::shared_ptr<Session>>(m, "Session")
        .def(py::init([](const py::bytes& model, uint32_t flags, const std::string& runtime_path,
                         const std::string& emulator_path, const std::string& model_path) {
                 char* data = nullptr;
                 py::ssize_t size = 0;
                 if (PYBIND11_BYTES_AS_STRING_AND_SIZE(model.ptr(), &data, &size) != 0) throw py::error_already_set();
                 // `model` stays referenced by the caller while the GIL is released.
                 py::gil_scoped_release nogil;
                 auto lib = runtime::Library::open(runtime_path, emulator_path);
                 return std::make_shared<Session>(std::move(lib), data, static_cast<size_t>(size), model_path, flags);
             }),
             py::arg("model"), py::arg("flags"), py::arg("runtime_path"), py::arg("emulator_path"),
             py::arg("model_path") = "")
        .def_property_readonly("runtime_path", [](const Session& s) { return s.lib().path(); })
        .def_property_readonly("is_emulator", [](const Session& s) { return s.lib().is_emulator(); })
        .def_property_readonly("embedded_version", [](const Session& s) { return s.lib().embedded_version(); })
        .def_property_readonly("functions", [](const Session& s) {
            const auto& l = s.lib();
            py::dict d;
            d["rknn_set_core_mask"] = l.set_core_mask != nullptr;
            d["rknn_set_batch_core_num"] = l.set_batch_core_num != nullptr;
            d["rknn_set_input_shape"] = l.set_input_shape != nullptr;
            d["rknn_set_input_shapes"] = l.set_input_shapes != nullptr;
            d["rknn_mem_sync"] = l.mem_sync != nullptr;
            d["rknn_create_mem2"] = l.create_mem2 != nullptr;
            return d;
        })
        .def_property_readonly("n_inputs", &Session::n_inputs)
        .def_property_readonly("n_outputs", &Session::n_outputs)
        .def_property_readonly("flags", &Session::flags)
        .def("attrs", [](const Session& s, bool input, int kind) {
                 if (kind < 0 || kind > 2) throw py::value_error("attr kind must be 0, 1 or 2");
                 py::list out;
                 const size_t n = input ? s.n_inputs() : s.n_outputs();
                 for (size_t i = 0; i < n; ++i) {
                     py::dict d = attr_dict(s.attr(input, static_cast<AttrKind>(kind), i));
                     d["available"] = s.has_attr(input, static_cast<AttrKind>(kind), i);
                     out.append(d);
                 }
                 return out;
             }, py::arg("input"), py::arg("kind"))
        .def_property_readonly("api_version", &Session::api_version)
        .def_property_readonly("driver_version", &Session::driver_version)
        .def_property_readonly("custom_string", &Session::custom_string)
        .def_property_readonly("mem_size", [](const Session& s) -> py::object {
            if (!s.has_mem_size()) return py::none();
            const auto& ms = s.mem_size();
            py::dict d;
            d["total_weight_size"] = ms.total_weight_size;
            d["total_internal_size"] = ms.total_internal_size;
            d["total_dma_allocated_size"] = ms.total_dma_allocated_size;
            d["total_sram_size"] = ms.total_sram_size;
            d["free_sram_size"] = ms.free_sram_size;
            return d;
        })
        .def("set_core_mask", [](Session& s, uint32_t mask) {
            py::gil_scoped_release nogil;
            s.set_core_mask(mask);
        })
        .def("set_batch_core_num", [](Session& s, int n) {
            py::gil_scoped_release nogil;
            s.set_batch_core_num(n);
        })
        .def("run_copy", [](Session& s, const std::vector<py::array>& inputs, const std::vector<int>& types,
                            const std::vector<int>& fmts, const std::vector<py::array>& outputs,
                            const std::vector<bool>& want_float, const std::vector<bool>& pass_through) {
                 auto in = input_data(inputs, types, fmts, pass_through);
                 auto out = output_data(outputs, want_float);
                 py::gil_scoped_release nogil;
                 return s.run_copy(in, out);
             }, py::arg("inputs"), py::arg("types"), py::arg("fmts"), py::arg("outputs"), py::arg("want_float"),
             py::arg("pass_through") = std::vector<bool>())
        .def("bind", [](Session& s, bool input, size_t i, int kind, int type, int fmt, bool pass_through,
                        size_t bytes) {
                 const rknn_tensor_attr a = bind_attr(s, input, kind, i, type, fmt, pass_through);
                 py::gil_scoped_release nogil;
                 return s.bind(input, i, a, bytes);
             }, py::arg("input"), py::arg("index"), py::arg("kind"), py::arg("type"), py::arg("fmt"),
             py::arg("pass_through"), py::arg("bytes"))
        .def("bind_fd", [](Session& s, size_t i, int kind, int type, int fmt, bool pass_through, int fd,
                           size_t size, size_t offset) {
                 const rknn_tensor_attr a = bind_attr(s, true, kind, i, type, fmt, pass_through);
                 py::gil_scoped_release nogil;
                 return s.bind_fd(i, a, fd, size, offset);
             }, py::arg("index"), py::arg("kind"), py::arg("type"), py::arg("fmt"), py::arg("pass_through"),
             py::arg("fd"), py::arg("size"), py::arg("offset"))
        .def("run_bound", [](Session& s, const py::object& before, const py::object& after) {
                 // The callbacks run under the session mutex with the GIL taken back; the
                 // mutex is only ever waited for without the GIL, so this cannot deadlock.
                 std::function<void()> b, a;
                 if (!before.is_none()) b = [&before] { py::gil_scoped_acquire gil; before(); };
                 if (!after.is_none()) a = [&after] { py::gil_scoped_acquire gil; after(); };
                 py::gil_scoped_release nogil;
                 return s.run_bound(b, a);
             }, py::arg("before") = py::none(), py::arg("after") = py::none())
        .def("bound_runner", &make_bound_runner, py::arg("outputs"), py::arg("fallback") = py::none(),
             py::arg("model_ref") = py::none())
        .def("duplicate", [](Session& s, const py::bytes& model, const std::string& model_path) {
                 char* data = nullptr;
                 py::ssize_t size = 0;
                 if (PYBIND11_BYTES_AS_STRING_AND_SIZE(model.ptr(), &data, &size) != 0) throw py::error_already_set();
                 py::gil_scoped_release nogil;
                 return s.duplicate(data, static_cast<size_t>(size), model_path);
             }, py::arg("model") = py::bytes(), py::arg("model_path") = "",
             "A new context sharing this one's weights (rknn_dup_context); without it in the runtime, "
             "rknn_init on `model` (or on the file `model_path`) again.")
        .def("close", [](Session& s) {
            // Waits for a run in another thread (which may need the GIL for its callbacks).
            py::gil_scoped_release nogil;
            s.close();
        })
        .def_property_readonly("closed", &Session::closed)
        .def_property_readonly("last_frame_id", &Session::last_frame_id)
        .def_property_readonly("last_runtime_ns", &Session::last_runtime_ns)
        .def_property_readonly("last_runtime_start_ns", &Session::last_runtime_start_ns)
        .def_property_readonly("last_runtime_end_ns", &Session::last_runtime_end_ns)
        .def("perf_run_us", [](Session& s) {
            py::gil_scoped_release nogil;
            return s.perf_run_us();
        })
        .def("perf_detail", [](Session& s) {
            std::string d;
            {
                py::gil_scoped_release nogil;
                d = s.perf_detail();
            }
            return d;
        })
        .def("benchmark", [](Session& s, size_t n, size_t warmup, bool bound, const std::vector<py::array>& inputs,
                             const std::vector<int>& types, const std::vector<int>& fmts,
                             const std::vector<py::array>& outputs, const std::vector<bool>& want_float,
                             bool npu_time) {
                 std::vector<runtime::InputData> in;
                 std::vector<runtime::OutputData> out;
                 if (!bound) {
                     in = input_data(inputs, types, fmts, {});
                     out = output_data(outputs, want_float);
                 }
                 runtime::BenchResult r;
                 {
                     py::gil_scoped_release nogil;
                     r = s.benchmark(n, warmup, bound, in, out, npu_time);
                 }
                 py::dict d;
                 d["latency_us"] = py::array_t<double>(static_cast<py::ssize_t>(r.latency_us.size()), r.latency_us.data());
                 d["npu_us"] = py::array_t<int64_t>(static_cast<py::ssize_t>(r.npu_us.size()), r.npu_us.data());
                 d["perf_detail"] = r.perf_detail;
                 return d;
             });
}

}  // namespace rknn_fast::bindings
