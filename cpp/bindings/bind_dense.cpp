// Bindings of the dense-output kernels (segmentation, instance masks, pose, faces).
// Only argument conversion and validation of what could make a kernel read out of bounds;
// the public API (defaults, layouts, result types) lives in rknn_fast.postprocess.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/array_args.h"
#include "kernels/keypoints.h"
#include "kernels/masks.h"
#include "kernels/segmentation.h"

namespace py = pybind11;
namespace k = rknn_fast::kernels;

namespace rknn_fast::bindings {
namespace {

// The element types of dense score tensors (no uint8 among the models' outputs).
k::DType score_type(const py::array& a, const char* what) {
    require_native_byte_order(a, what);
    if (has_dtype(a, 'i', 1)) return k::DType::Int8;
    if (has_dtype(a, 'f', 2)) return k::DType::Float16;
    if (has_dtype(a, 'f', 4)) return k::DType::Float32;
    throw py::type_error(std::string(what) + ": expected int8, float16 or float32, got " +
                         dtype_name(a.dtype()));
}

// A view of `a` as (classes, height, width) planes; checks every addressed element is
// inside the array so the kernels can read without bounds checks.
k::TensorView planes_of(const py::array& a, int64_t classes, int64_t height, int64_t width,
                         int64_t c2, int64_t stride_c1, int64_t stride_h, int64_t stride_w,
                         const char* what) {
    require_c_contiguous(a, what);
    k::TensorView s;
    s.dtype = score_type(a, what);
    s.data = a.data();
    s.channels = classes;
    s.height = height;
    s.width = width;
    s.c2 = c2;
    s.stride_c1 = stride_c1;
    s.stride_h = stride_h;
    s.stride_w = stride_w;
    if (classes < 1 || height < 0 || width < 0 || c2 < 1 || stride_c1 < 0 || stride_h < 0 ||
        stride_w < 0)
        throw py::value_error(std::string(what) + ": invalid layout (classes >= 1, c2 >= 1, "
                                                  "non-negative sizes and strides expected)");
    if (height == 0 || width == 0) return s;
    require_view_in_bounds(s, a, what);
    return s;
}

py::array class_map_array(int64_t h, int64_t w, bool u16) {
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)};
    if (u16) return py::array_t<uint16_t>(shape);
    return py::array_t<uint8_t>(shape);
}

k::PixelAffine affine_of(double ax, double bx, double ay, double by) {
    k::PixelAffine a;
    a.ax = ax;
    a.bx = bx;
    a.ay = ay;
    a.by = by;
    return a;
}

py::array argmax(const py::array& scores, int64_t classes, int64_t height, int64_t width,
                 int64_t c2, int64_t stride_c1, int64_t stride_h, int64_t stride_w) {
    const k::TensorView s =
        planes_of(scores, classes, height, width, c2, stride_c1, stride_h, stride_w, "scores");
    if (classes > 65536) throw py::value_error("scores: expected at most 65536 classes, got " + std::to_string(classes));
    const bool u16 = classes > 256;
    py::array out = class_map_array(height, width, u16);
    void* dst = out.mutable_data();
    {
        // Safe: the kernel only touches `scores` and `out`, both kept alive by this frame.
        py::gil_scoped_release release;
        k::argmax_classes(s, dst, u16);
    }
    return out;
}

py::array resample_nearest(const py::array& map, double ax, double bx, double ay, double by,
                           int64_t out_h, int64_t out_w) {
    require_c_contiguous(map, "class_map");
    if (map.ndim() != 2) throw py::value_error("class_map: expected a 2-D (H, W) array, got " + std::to_string(map.ndim()) + " dimensions");
    require_native_byte_order(map, "class_map");
    const bool u16 = has_dtype<uint16_t>(map);
    if (!u16 && !has_dtype<uint8_t>(map))
        throw py::type_error("class_map: expected uint8 or uint16, got " + dtype_name(map.dtype()));
    if (out_h < 0 || out_w < 0) throw py::value_error("output size must be non-negative");
    const int64_t h = map.shape(0), w = map.shape(1);
    if ((h == 0 || w == 0) && out_h > 0 && out_w > 0)
        throw py::value_error("class_map: expected a non-empty map to resample");
    py::array out = class_map_array(out_h, out_w, u16);
    const void* src = map.data();
    void* dst = out.mutable_data();
    const k::PixelAffine a = affine_of(ax, bx, ay, by);
    {
        py::gil_scoped_release release;
        k::resample_class_map_nearest(src, h, w, u16, a, dst, out_h, out_w);
    }
    return out;
}

py::array resample_argmax(const py::array& scores, int64_t classes, int64_t height, int64_t width,
                          int64_t c2, int64_t stride_c1, int64_t stride_h, int64_t stride_w,
                          double ax, double bx, double ay, double by, int64_t out_h,
                          int64_t out_w) {
    const k::TensorView s =
        planes_of(scores, classes, height, width, c2, stride_c1, stride_h, stride_w, "scores");
    if (classes > 65536) throw py::value_error("scores: expected at most 65536 classes, got " + std::to_string(classes));
    if (out_h < 0 || out_w < 0) throw py::value_error("output size must be non-negative");
    if ((height == 0 || width == 0) && out_h > 0 && out_w > 0)
        throw py::value_error("scores: expected non-empty score maps to resample");
    const bool u16 = classes > 256;
    py::array out = class_map_array(out_h, out_w, u16);
    void* dst = out.mutable_data();
    const k::PixelAffine a = affine_of(ax, bx, ay, by);
    {
        py::gil_scoped_release release;
        k::resample_argmax_bilinear(s, a, dst, u16, out_h, out_w);
    }
    return out;
}

py::tuple instance_masks(const py::array& proto, int32_t proto_zero_point, const py::array& coeffs,
                         const std::optional<py::array>& coeff_zero_points,
                         const py::array& boxes, int64_t model_h, int64_t model_w,
                         double scale, double pad_x, double pad_y, int64_t out_h, int64_t out_w,
                         const std::optional<py::array>& class_ids, bool want_class_map) {
    require_c_contiguous(proto, "proto");
    require_c_contiguous(coeffs, "coefficients");
    require_c_array<float>(boxes, "boxes");
    if (proto.ndim() != 3) throw py::value_error("proto: expected (K, H, W), got " + std::to_string(proto.ndim()) + " dimensions");
    k::ProtoTensor p;
    p.data = proto.data();
    p.channels = proto.shape(0);
    p.height = proto.shape(1);
    p.width = proto.shape(2);
    p.zero_point = proto_zero_point;
    const k::DType pt = score_type(proto, "proto");
    if (pt == k::DType::Float16) throw py::type_error("proto: expected int8 or float32, got float16");
    p.is_int8 = pt == k::DType::Int8;
    const int64_t n = boxes.ndim() == 2 ? boxes.shape(0) : -1;
    if (boxes.ndim() != 2 || boxes.shape(1) != 4) throw py::value_error("boxes: expected (N, 4) float32");
    if (coeffs.ndim() != 2 || coeffs.shape(0) != n || coeffs.shape(1) != p.channels)
        throw py::value_error("coefficients: expected (" + std::to_string(n) + ", " + std::to_string(p.channels) + ")");
    k::MaskCoefficients mc;
    mc.data = coeffs.data();
    const k::DType ct = score_type(coeffs, "coefficients");
    if (ct == k::DType::Float16) throw py::type_error("coefficients: expected int8 or float32, got float16");
    mc.is_int8 = ct == k::DType::Int8;
    if (mc.is_int8) {
        if (!coeff_zero_points) throw py::value_error("coefficient_zero_points: expected (N,) int32 for int8 coefficients");
        require_c_array<int32_t>(*coeff_zero_points, "coefficient_zero_points");
        if (coeff_zero_points->ndim() != 1 || coeff_zero_points->shape(0) != n)
            throw py::value_error("coefficient_zero_points: expected (N,) int32 for int8 coefficients");
        mc.zero_points = static_cast<const int32_t*>(coeff_zero_points->data());
    }
    const int32_t* cls = nullptr;
    if (class_ids) {
        require_c_array<int32_t>(*class_ids, "class_ids");
        if (class_ids->ndim() != 1 || class_ids->shape(0) != n) throw py::value_error("class_ids: expected (N,) int32");
        cls = static_cast<const int32_t*>(class_ids->data());
    }
    if (model_h <= 0 || model_w <= 0 || out_h < 0 || out_w < 0 || !(scale > 0))
        throw py::value_error("expected positive model size and scale, non-negative output size");
    k::MaskGeometry g;
    g.model_h = model_h;
    g.model_w = model_w;
    g.scale = scale;
    g.pad_x = pad_x;
    g.pad_y = pad_y;
    g.out_h = out_h;
    g.out_w = out_w;
    py::array_t<bool> masks({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(out_h), static_cast<py::ssize_t>(out_w)});
    py::object class_map = py::none();
    uint8_t* cmap = nullptr;
    if (want_class_map) {
        py::array_t<uint8_t> m({static_cast<py::ssize_t>(out_h), static_cast<py::ssize_t>(out_w)});
        cmap = m.mutable_data();
        class_map = m;
    }
    // numpy bool is one byte holding 0 or 1, which is what the kernel writes.
    uint8_t* mdst = reinterpret_cast<uint8_t*>(masks.mutable_data());
    const auto* b = static_cast<const float*>(boxes.data());
    {
        py::gil_scoped_release release;
        k::instance_masks(p, mc, b, n, g, mdst, cls, cmap);
    }
    return py::make_tuple(masks, class_map);
}

py::tuple candidates_tuple(const k::KeypointCandidates& c, int64_t n_keypoints) {
    const auto n = static_cast<py::ssize_t>(c.scores.size());
    return py::make_tuple(vector_array(c.boxes, {n, 4}), vector_array(c.scores, {n}),
                          vector_array(c.anchor_index, {n}),
                          vector_array(c.keypoints, {n, static_cast<py::ssize_t>(n_keypoints), 2}));
}

py::tuple decode_pose(const py::list& heads, int64_t reg_max, int64_t model_h, int64_t model_w,
                      float logit_threshold) {
    // Each head: (array, height, width, c2, stride_c1, stride_h, stride_w, scale, zero_point).
    std::vector<k::PoseHead> hs;
    std::vector<py::array> keep;
    for (const py::handle& item : heads) {
        const py::tuple t = item.cast<py::tuple>();
        if (t.size() != 9) throw py::value_error("pose head: expected a 9-tuple");
        py::array a = t[0].cast<py::array>();
        k::PoseHead h;
        h.planes = planes_of(a, 4 * reg_max + 1, t[1].cast<int64_t>(), t[2].cast<int64_t>(),
                             t[3].cast<int64_t>(), t[4].cast<int64_t>(), t[5].cast<int64_t>(),
                             t[6].cast<int64_t>(), "pose head");
        h.planes.scale = t[7].cast<float>();
        h.planes.zero_point = t[8].cast<int32_t>();
        hs.push_back(h);
        keep.push_back(a);
    }
    if (reg_max < 1 || reg_max > 64)
        throw py::value_error("reg_max: expected 1..64, got " + std::to_string(reg_max));
    if (model_h <= 0 || model_w <= 0) throw py::value_error("model size: expected positive");
    k::KeypointCandidates c;
    {
        py::gil_scoped_release release;
        k::decode_yolov8_pose(hs.data(), static_cast<int64_t>(hs.size()), reg_max, model_h,
                              model_w, logit_threshold, c);
    }
    return candidates_tuple(c, 0);
}

py::array_t<float> priors(int64_t model_h, int64_t model_w) {
    if (model_h <= 0 || model_w <= 0) throw py::value_error("model size: expected positive");
    const std::vector<float> p = k::retinaface_priors(model_h, model_w);
    return vector_array(p, {static_cast<py::ssize_t>(p.size() / 4), 4});
}

py::tuple decode_retinaface(const py::array& loc, const py::array& conf, const py::array& landmarks,
                            const py::array& prior_boxes, int64_t model_h, int64_t model_w,
                            float threshold) {
    require_c_array<float>(loc, "loc");
    require_c_array<float>(conf, "conf");
    require_c_array<float>(landmarks, "landmarks");
    require_c_array<float>(prior_boxes, "priors");
    const int64_t n = prior_boxes.ndim() == 2 ? prior_boxes.shape(0) : -1;
    if (prior_boxes.ndim() != 2 || prior_boxes.shape(1) != 4) throw py::value_error("priors: expected (P, 4)");
    if (loc.size() != 4 * n || conf.size() != 2 * n || landmarks.size() != 10 * n)
        throw py::value_error("retinaface: expected loc (P,4), conf (P,2), landmarks (P,10) with P = " + std::to_string(n));
    k::KeypointCandidates c;
    const auto* l = static_cast<const float*>(loc.data());
    const auto* s = static_cast<const float*>(conf.data());
    const auto* m = static_cast<const float*>(landmarks.data());
    const auto* p = static_cast<const float*>(prior_boxes.data());
    {
        py::gil_scoped_release release;
        k::decode_retinaface(l, s, m, p, n, model_h, model_w, threshold, c);
    }
    return candidates_tuple(c, 5);
}

}  // namespace

void bind_dense(py::module_& m) {
    m.def("seg_argmax", &argmax, py::arg("scores"), py::arg("classes"), py::arg("height"),
          py::arg("width"), py::arg("c2"), py::arg("stride_c1"), py::arg("stride_h"),
          py::arg("stride_w"));
    m.def("seg_resample_nearest", &resample_nearest, py::arg("class_map"), py::arg("ax"),
          py::arg("bx"), py::arg("ay"), py::arg("by"), py::arg("out_h"), py::arg("out_w"));
    m.def("seg_resample_argmax", &resample_argmax, py::arg("scores"), py::arg("classes"),
          py::arg("height"), py::arg("width"), py::arg("c2"), py::arg("stride_c1"),
          py::arg("stride_h"), py::arg("stride_w"), py::arg("ax"), py::arg("bx"), py::arg("ay"),
          py::arg("by"), py::arg("out_h"), py::arg("out_w"));
    m.def("instance_masks", &instance_masks, py::arg("proto").noconvert(),
          py::arg("proto_zero_point"), py::arg("coefficients").noconvert(),
          py::arg("coefficient_zero_points").noconvert(), py::arg("boxes").noconvert(),
          py::arg("model_h"), py::arg("model_w"), py::arg("scale"), py::arg("pad_x"),
          py::arg("pad_y"), py::arg("out_h"), py::arg("out_w"), py::arg("class_ids").noconvert(),
          py::arg("want_class_map"));
    m.def("decode_yolov8_pose", &decode_pose, py::arg("heads"), py::arg("reg_max"),
          py::arg("model_h"), py::arg("model_w"), py::arg("logit_threshold"));
    m.def("retinaface_priors", &priors, py::arg("model_h"), py::arg("model_w"));
    m.def("decode_retinaface", &decode_retinaface, py::arg("loc").noconvert(),
          py::arg("conf").noconvert(), py::arg("landmarks").noconvert(),
          py::arg("priors").noconvert(), py::arg("model_h"), py::arg("model_w"),
          py::arg("threshold"));
}

}  // namespace rknn_fast::bindings
