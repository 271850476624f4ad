// Array argument checks shared by the bind_*.cpp files. Arrays are taken as they are: C-contiguous,
// of the expected element type, in native byte order, so that nothing is copied or converted behind
// the caller's back; anything else raises with an "expected X, got Y" message. Also the one way
// kernel results (std::vector) become fresh numpy arrays.
//
// Dtypes are compared by value (kind, item size, byte order), never by object identity: numpy hands
// out equal but distinct dtype objects (e.g. `np.dtype('<f4').newbyteorder('=')`, which is what
// rknn_fast.golden produces), and those must be accepted like the canonical float32.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/tensor_view.h"

namespace rknn_fast::bindings {

// Native byte order: numpy reports '=' (or '|' for single bytes); an explicit '<' or '>' is native
// only when it names the host's order.
inline bool has_native_byte_order(const pybind11::dtype& dt) {
    const char order = dt.byteorder();
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return order != '<';
#else
    return order != '>';
#endif
}

// "float32", or the explicit form (">f4") when the byte order is not native.
inline std::string dtype_name(const pybind11::dtype& dt) {
    if (!has_native_byte_order(dt)) return pybind11::str(dt.attr("str")).cast<std::string>();
    return pybind11::str(dt).cast<std::string>();
}

// Refuses byte-swapped arrays: every kernel reads elements in the host's byte order.
inline void require_native_byte_order(const pybind11::array& a, const std::string& what) {
    if (!has_native_byte_order(a.dtype()))
        throw pybind11::type_error(what + ": expected an array in native byte order, got dtype " +
                                   dtype_name(a.dtype()) +
                                   " (convert with a.astype(a.dtype.newbyteorder('=')))");
}

// True when `a` holds native-order elements of this kind ('i', 'u', 'f', 'b') and item size.
inline bool has_dtype(const pybind11::array& a, char kind, pybind11::ssize_t itemsize) {
    const pybind11::dtype dt = a.dtype();
    return dt.kind() == kind && dt.itemsize() == itemsize && has_native_byte_order(dt);
}

template <typename T>
bool has_dtype(const pybind11::array& a) {
    const pybind11::dtype want = pybind11::dtype::of<T>();
    return has_dtype(a, want.kind(), want.itemsize());
}

// TypeError "<what>: expected <T's dtype>, got <dtype>" unless `a` has exactly T's dtype.
template <typename T>
void require_dtype(const pybind11::array& a, const std::string& what) {
    require_native_byte_order(a, what);
    if (!has_dtype<T>(a))
        throw pybind11::type_error(what + ": expected " + dtype_name(pybind11::dtype::of<T>()) +
                                   ", got " + dtype_name(a.dtype()));
}

inline void require_c_contiguous(const pybind11::array& a, const std::string& what) {
    if (!(a.flags() & pybind11::array::c_style))
        throw pybind11::value_error(what + ": expected a C-contiguous array, got a non-contiguous one");
}

// A C-contiguous array of exactly T's dtype (what kernels taking `const T*` need).
template <typename T>
void require_c_array(const pybind11::array& a, const std::string& what) {
    require_dtype<T>(a, what);
    require_c_contiguous(a, what);
}

inline void require_writable(const pybind11::array& a, const std::string& what) {
    if (!a.writeable()) throw pybind11::value_error(what + ": expected a writable array");
}

// ValueError unless every element `view` addresses lies inside `a` (a non-empty view with
// non-negative strides), so that kernels can read through the view without bounds checks.
// Sizes and strides are capped at 2^30 first so that computing the extent cannot overflow.
inline void require_view_in_bounds(const kernels::TensorView& view, const pybind11::array& a,
                                   const std::string& what) {
    constexpr int64_t kMax = int64_t{1} << 30;
    for (const int64_t d : {view.channels, view.height, view.width, view.c2, view.stride_c1, view.stride_h,
                            view.stride_w})
        if (d > kMax)
            throw pybind11::value_error(what + ": expected sizes and strides up to 2^30, got " + std::to_string(d));
    const int64_t last = view.max_offset();
    if (last >= static_cast<int64_t>(a.size()))
        throw pybind11::value_error(what + ": layout addresses element " + std::to_string(last) +
                                    " but the array has " + std::to_string(a.size()) + " elements");
}

// A fresh C-ordered array of `shape` holding a copy of `v` (whose size must be the product).
template <typename T>
pybind11::array_t<T> vector_array(const std::vector<T>& v, std::vector<pybind11::ssize_t> shape) {
    pybind11::array_t<T> a(std::move(shape));
    if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
    return a;
}

}  // namespace rknn_fast::bindings
