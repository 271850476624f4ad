// Placeholder registration for the .rknn reader; filled by the reader work.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace rknn_fast::bindings {
void bind_format(py::module_& /*m*/) {}
}  // namespace rknn_fast::bindings
