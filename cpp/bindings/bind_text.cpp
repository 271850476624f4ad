// Bindings of the DBNet text kernels (cpp/kernels/text.*). Argument conversion and the checks
// that keep the kernels in bounds only; defaults and the public API live in
// rknn_fast.postprocess.text.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "bindings/array_args.h"
#include "kernels/text.h"

namespace py = pybind11;
namespace k = rknn_fast::kernels;

namespace rknn_fast::bindings {
namespace {

// A 2-D (H, W) int8/float16/float32 map read in place through its own strides (a numpy view,
// e.g. one channel of an NC1HWC2 output); negative or unaligned strides are refused.
k::ProbMap prob_map(const py::array& a, double scale, int32_t zero_point) {
    require_native_byte_order(a, "prob");
    if (a.ndim() != 2) throw py::value_error("prob: expected a 2-D (H, W) map, got " + std::to_string(a.ndim()) + " dimensions");
    k::ProbMap m;
    if (has_dtype(a, 'i', 1)) m.dtype = k::DType::Int8;
    else if (has_dtype(a, 'f', 2)) m.dtype = k::DType::Float16;
    else if (has_dtype(a, 'f', 4)) m.dtype = k::DType::Float32;
    else throw py::type_error("prob: expected int8, float16 or float32, got " + dtype_name(a.dtype()));
    const py::ssize_t item = a.itemsize();
    if (a.shape(0) < 1 || a.shape(1) < 1) throw py::value_error("prob: expected H, W >= 1");
    for (int d = 0; d < 2; ++d)
        if (a.strides(d) < 0 || a.strides(d) % item != 0)
            throw py::value_error("prob: expected non-negative strides that are multiples of the item size");
    m.data = a.data();
    m.height = a.shape(0);
    m.width = a.shape(1);
    m.stride_h = a.strides(0) / item;
    m.stride_w = a.strides(1) / item;
    m.scale = static_cast<float>(scale);
    m.zero_point = zero_point;
    return m;
}

// (n, 2) points of a C-contiguous int32 array shaped (n, 2) or (n, 1, 2) (cv2 contours).
k::Contour contour_of(const py::handle& h, size_t index) {
    const std::string what = "contours[" + std::to_string(index) + "]";
    if (!py::isinstance<py::array>(h)) throw py::type_error(what + ": expected a numpy int32 array");
    const py::array a = py::reinterpret_borrow<py::array>(h);
    require_c_array<int32_t>(a, what);
    const bool shaped = (a.ndim() == 2 && a.shape(1) == 2) || (a.ndim() == 3 && a.shape(1) == 1 && a.shape(2) == 2);
    if (!shaped) throw py::value_error(what + ": expected an (n, 2) or (n, 1, 2) array of x, y points");
    return k::Contour{static_cast<const int32_t*>(a.data()), static_cast<int64_t>(a.shape(0))};
}

py::array dbnet_bitmap(const py::array& prob, double scale, int32_t zero_point, float thresh, bool dilate) {
    const k::ProbMap m = prob_map(prob, scale, zero_point);
    py::array_t<uint8_t> out({static_cast<py::ssize_t>(m.height), static_cast<py::ssize_t>(m.width)});
    uint8_t* dst = out.mutable_data();
    {
        py::gil_scoped_release release;
        k::dbnet_bitmap(m, thresh, dilate, dst);
    }
    return std::move(out);
}

py::tuple dbnet_boxes(const py::array& prob, double scale, int32_t zero_point, const py::sequence& contours,
                      int64_t max_candidates, double box_thresh, double unclip_ratio, double min_size,
                      bool slow_score, double gain_x, double offset_x, double gain_y, double offset_y,
                      double clip_w, double clip_h) {
    const k::ProbMap m = prob_map(prob, scale, zero_point);
    if (max_candidates < 0) throw py::value_error("max_candidates: expected >= 0");
    const size_t n = std::min(static_cast<size_t>(py::len(contours)), static_cast<size_t>(max_candidates));
    std::vector<k::Contour> cs;
    cs.reserve(n);
    for (size_t i = 0; i < n; ++i) cs.push_back(contour_of(contours[i], i));
    k::DbnetParams p;
    p.box_thresh = box_thresh;
    p.unclip_ratio = unclip_ratio;
    p.min_size = min_size;
    p.slow_score = slow_score;
    p.gain_x = gain_x;
    p.offset_x = offset_x;
    p.gain_y = gain_y;
    p.offset_y = offset_y;
    p.clip_w = clip_w;
    p.clip_h = clip_h;
    std::vector<float> quads, scores;
    {
        // Safe: the kernel reads `prob` and the contour arrays, all kept alive by `contours`/this frame.
        py::gil_scoped_release release;
        k::dbnet_boxes(m, cs.data(), static_cast<int64_t>(cs.size()), p, quads, scores);
    }
    const py::ssize_t count = static_cast<py::ssize_t>(scores.size());
    std::vector<float> xyxy(static_cast<size_t>(count) * 4);
    for (py::ssize_t i = 0; i < count; ++i) {
        const float* q = &quads[static_cast<size_t>(i) * 8];
        float x0 = q[0], y0 = q[1], x1 = q[0], y1 = q[1];
        for (int c = 1; c < 4; ++c) {
            x0 = std::min(x0, q[2 * c]);
            x1 = std::max(x1, q[2 * c]);
            y0 = std::min(y0, q[2 * c + 1]);
            y1 = std::max(y1, q[2 * c + 1]);
        }
        float* b = &xyxy[static_cast<size_t>(i) * 4];
        b[0] = x0, b[1] = y0, b[2] = x1, b[3] = y1;
    }
    return py::make_tuple(vector_array(quads, {count, 4, 2}), vector_array(xyxy, {count, 4}),
                          vector_array(scores, {count}));
}

py::array polygon_mask(const py::array& points, int64_t height, int64_t width) {
    const k::Contour c = contour_of(points, 0);
    if (height < 0 || width < 0) throw py::value_error("height, width: expected >= 0");
    py::array_t<uint8_t> out({static_cast<py::ssize_t>(height), static_cast<py::ssize_t>(width)});
    uint8_t* dst = out.mutable_data();
    {
        py::gil_scoped_release release;
        k::polygon_mask(c.xy, c.n, height, width, dst);
    }
    return std::move(out);
}

py::tuple min_area_quad(const py::array& points) {
    require_c_array<double>(points, "points");
    if (points.ndim() != 2 || points.shape(1) != 2) throw py::value_error("points: expected an (n, 2) float64 array");
    const auto* xy = static_cast<const double*>(points.data());
    const int64_t n = points.shape(0);
    std::vector<double> corners(8);
    double side = 0.0;
    {
        py::gil_scoped_release release;
        side = k::min_area_quad(xy, n, corners.data());
    }
    return py::make_tuple(vector_array(corners, {4, 2}), side);
}

py::array unclip_convex(const py::array& points, double ratio) {
    require_c_array<double>(points, "poly");
    if (points.ndim() != 2 || points.shape(1) != 2) throw py::value_error("poly: expected an (n, 2) float64 array");
    const int64_t n = points.shape(0);
    std::vector<double> out(static_cast<size_t>(2 * n));
    k::unclip_convex(static_cast<const double*>(points.data()), n, ratio, out.data());
    return vector_array(out, {static_cast<py::ssize_t>(n), 2});
}

}  // namespace

void bind_text(py::module_& m) {
    m.def("dbnet_bitmap", &dbnet_bitmap, py::arg("prob"), py::arg("scale"), py::arg("zero_point"),
          py::arg("thresh"), py::arg("dilate"));
    m.def("dbnet_boxes", &dbnet_boxes, py::arg("prob"), py::arg("scale"), py::arg("zero_point"),
          py::arg("contours"), py::arg("max_candidates"), py::arg("box_thresh"), py::arg("unclip_ratio"),
          py::arg("min_size"), py::arg("slow_score"), py::arg("gain_x"), py::arg("offset_x"),
          py::arg("gain_y"), py::arg("offset_y"), py::arg("clip_w"), py::arg("clip_h"));
    m.def("polygon_mask", &polygon_mask, py::arg("points"), py::arg("height"), py::arg("width"));
    m.def("min_area_quad", &min_area_quad, py::arg("points"));
    m.def("unclip_convex", &unclip_convex, py::arg("poly"), py::arg("ratio"));
}

}  // namespace rknn_fast::bindings
