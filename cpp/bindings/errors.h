// The Python exception object (not raised) for a C++ exception caught on a thread that
// holds the GIL: runtime errors become their rknn_fast.errors class (the mapping of
// bind_runtime.cpp), a Python error from a callback stays itself.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>

namespace rknn_fast::bindings {
pybind11::object exception_object(std::exception_ptr error);
}  // namespace rknn_fast::bindings
