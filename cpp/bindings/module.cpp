// The _core extension module. Each bind_*.cpp registers one area; this file
// only calls them, so that no binding logic lives here.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace rknn_fast::bindings {
void bind_format(py::module_& m);
void bind_abi(py::module_& m);
void bind_runtime(py::module_& m);
void bind_postprocess(py::module_& m);
void bind_dense(py::module_& m);
void bind_pool(py::module_& m);
void bind_text(py::module_& m);
}  // namespace rknn_fast::bindings

PYBIND11_MODULE(_core, m) {
    m.doc() = "rknn_fast private extension module (use the rknn_fast package instead)";
    rknn_fast::bindings::bind_format(m);
    rknn_fast::bindings::bind_abi(m);
    rknn_fast::bindings::bind_runtime(m);
    rknn_fast::bindings::bind_postprocess(m);
    rknn_fast::bindings::bind_dense(m);
    rknn_fast::bindings::bind_pool(m);
    rknn_fast::bindings::bind_text(m);
}
