// Bindings of the detection kernels (NMS, YOLO decoders). Only argument conversion:
// arrays are taken as they are (exact dtype, C-contiguous, bounds-checked views), the GIL
// is released around the kernel loops, results are copied into fresh numpy arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "bindings/array_args.h"
#include "kernels/nms.h"
#include "kernels/tensor_view.h"
#include "kernels/yolo.h"

namespace py = pybind11;
namespace k = rknn_fast::kernels;

namespace rknn_fast::bindings {
namespace {

k::DType dtype_of(const py::array& a) {
    require_native_byte_order(a, "a model output");
    if (has_dtype<int8_t>(a)) return k::DType::Int8;
    if (has_dtype<uint8_t>(a)) return k::DType::UInt8;
    if (has_dtype<float>(a)) return k::DType::Float32;
    if (has_dtype(a, 'f', 2)) return k::DType::Float16;
    throw py::type_error("expected an int8, uint8, float16 or float32 array, got dtype " +
                         dtype_name(a.dtype()));
}

// A view spec from Python: (array, (channels, height, width, c2, stride_c1, stride_h,
// stride_w), scale, zero_point). The extent is checked against the array so that no
// kernel can read out of bounds whatever the Python layer computed.
k::TensorView make_view(const py::tuple& spec) {
    if (spec.size() != 4) throw py::value_error("expected a view spec of 4 items");
    const py::array a = spec[0].cast<py::array>();
    require_c_contiguous(a, "a model output");
    const auto dims = spec[1].cast<std::vector<int64_t>>();
    if (dims.size() != 7) throw py::value_error("expected 7 view dims");
    k::TensorView v;
    v.data = a.data();
    v.dtype = dtype_of(a);
    v.channels = dims[0];
    v.height = dims[1];
    v.width = dims[2];
    v.c2 = dims[3];
    v.stride_c1 = dims[4];
    v.stride_h = dims[5];
    v.stride_w = dims[6];
    v.scale = spec[2].cast<float>();
    v.zero_point = spec[3].cast<int32_t>();
    for (int64_t d : dims)
        if (d < 0) throw py::value_error("expected non-negative view dims");
    if (v.c2 < 1 || v.channels < 1 || v.height < 1 || v.width < 1)
        throw py::value_error("expected positive channels, height, width and c2");
    require_view_in_bounds(v, a, "a model output");
    if ((v.dtype == k::DType::Int8 || v.dtype == k::DType::UInt8) && !(v.scale > 0.0f))
        throw py::value_error("expected a positive quantization scale");
    return v;
}

struct NmsArgs {
    float iou;
    int64_t max_det;
    bool agnostic;
    int64_t top_k;
    bool plus_one;
    bool run;
};

// NMS over decoded candidates (unless disabled) and packing of the kept ones.
py::tuple finish(k::Candidates& cand, const NmsArgs& a) {
    std::vector<int64_t> keep;
    {
        py::gil_scoped_release release;
        if (a.run) {
            k::NmsParams p;
            p.iou_threshold = a.iou;
            p.score_threshold = -std::numeric_limits<float>::infinity();
            p.max_detections = a.max_det;
            p.top_k = a.top_k;
            p.plus_one = a.plus_one;
            k::nms(cand.boxes.data(), cand.scores.data(),
                   a.agnostic ? nullptr : cand.class_ids.data(), cand.size(), p, keep);
        } else {
            keep.resize(static_cast<size_t>(cand.size()));
            for (size_t i = 0; i < keep.size(); ++i) keep[i] = static_cast<int64_t>(i);
        }
        k::Candidates packed;
        for (const int64_t i : keep) {
            const float* b = cand.boxes.data() + 4 * i;
            packed.push(b[0], b[1], b[2], b[3], cand.scores[static_cast<size_t>(i)],
                        cand.class_ids[static_cast<size_t>(i)],
                        cand.anchor_index[static_cast<size_t>(i)]);
        }
        cand = std::move(packed);
    }
    const auto n = static_cast<py::ssize_t>(cand.size());
    return py::make_tuple(vector_array(cand.boxes, {n, 4}), vector_array(cand.scores, {n}),
                          vector_array(cand.class_ids, {n}), vector_array(cand.anchor_index, {n}));
}

NmsArgs nms_args(float iou, int64_t max_det, bool agnostic, int64_t top_k, bool plus_one,
                 bool run) {
    return NmsArgs{iou, max_det, agnostic, top_k, plus_one, run};
}

}  // namespace

void bind_postprocess(py::module_& m) {
    m.def(
        "nms",
        [](const py::array& boxes, const py::array& scores, const py::object& class_ids,
           float iou_threshold, float score_threshold, int64_t max_detections, int64_t top_k,
           bool plus_one) {
            require_c_array<float>(boxes, "boxes");
            require_c_array<float>(scores, "scores");
            const int64_t n = scores.ndim() == 1 ? scores.shape(0) : -1;
            if (n < 0 || boxes.ndim() != 2 || boxes.shape(0) != n || boxes.shape(1) != 4)
                throw py::value_error("expected boxes (N, 4) and scores (N,)");
            const int32_t* cls = nullptr;
            py::array cls_arr;
            if (!class_ids.is_none()) {
                cls_arr = class_ids.cast<py::array>();
                require_c_array<int32_t>(cls_arr, "class_ids");
                if (cls_arr.ndim() != 1 || cls_arr.shape(0) != n)
                    throw py::value_error("expected int32 class_ids of shape (N,)");
                cls = static_cast<const int32_t*>(cls_arr.data());
            }
            const auto* b = static_cast<const float*>(boxes.data());
            const auto* s = static_cast<const float*>(scores.data());
            k::NmsParams p;
            p.iou_threshold = iou_threshold;
            p.score_threshold = score_threshold;
            p.max_detections = max_detections;
            p.top_k = top_k;
            p.plus_one = plus_one;
            std::vector<int64_t> keep;
            {
                // Safe: the arrays are kept alive by the caller's references for the call.
                py::gil_scoped_release release;
                k::nms(b, s, cls, n, p, keep);
            }
            return vector_array(keep, {static_cast<py::ssize_t>(keep.size())});
        },
        py::arg("boxes"), py::arg("scores"), py::arg("class_ids"), py::arg("iou_threshold"),
        py::arg("score_threshold"), py::arg("max_detections"), py::arg("top_k"),
        py::arg("plus_one"));

    m.def(
        "weighted_nms",
        [](const py::array& boxes, const py::array& scores, const py::object& extra,
           float iou_threshold, float score_threshold, int64_t max_detections) {
            require_c_array<float>(boxes, "boxes");
            require_c_array<float>(scores, "scores");
            const int64_t n = scores.ndim() == 1 ? scores.shape(0) : -1;
            if (n < 0 || boxes.ndim() != 2 || boxes.shape(0) != n || boxes.shape(1) != 4)
                throw py::value_error("expected boxes (N, 4) and scores (N,)");
            const float* e = nullptr;
            int64_t n_extra = 0;
            py::array extra_arr;
            if (!extra.is_none()) {
                extra_arr = extra.cast<py::array>();
                require_c_array<float>(extra_arr, "extra");
                if (extra_arr.ndim() != 2 || extra_arr.shape(0) != n)
                    throw py::value_error("expected float32 extra of shape (N, M)");
                n_extra = extra_arr.shape(1);
                e = static_cast<const float*>(extra_arr.data());
            }
            const auto* b = static_cast<const float*>(boxes.data());
            const auto* s = static_cast<const float*>(scores.data());
            k::NmsParams p;
            p.iou_threshold = iou_threshold;
            p.score_threshold = score_threshold;
            p.max_detections = max_detections;
            k::WeightedNmsResult r;
            {
                py::gil_scoped_release release;
                k::weighted_nms(b, s, e, n_extra, n, p, r);
            }
            const auto kept = static_cast<py::ssize_t>(r.top.size());
            return py::make_tuple(vector_array(r.top, {kept}), vector_array(r.boxes, {kept, 4}),
                                  vector_array(r.extra, {kept, static_cast<py::ssize_t>(n_extra)}),
                                  vector_array(r.size, {kept}));
        },
        py::arg("boxes"), py::arg("scores"), py::arg("extra"), py::arg("iou_threshold"),
        py::arg("score_threshold"), py::arg("max_detections"));

    m.def(
        "decode_yolov8",
        [](const py::list& branches, float conf, bool logits, int64_t reg_max, float input_w,
           float input_h, bool use_score_sum, float iou, int64_t max_det, bool agnostic,
           int64_t top_k, bool plus_one, bool run_nms) {
            std::vector<k::YoloV8Branch> br;
            for (const auto& item : branches) {
                const py::tuple t = item.cast<py::tuple>();
                if (t.size() != 3) throw py::value_error("expected (box, cls, score_sum|None)");
                k::YoloV8Branch b;
                b.box = make_view(t[0].cast<py::tuple>());
                b.cls = make_view(t[1].cast<py::tuple>());
                if (!t[2].is_none()) {
                    b.score_sum = make_view(t[2].cast<py::tuple>());
                    b.has_score_sum = true;
                }
                if (b.box.channels < 4 * reg_max || reg_max < 1 || reg_max > 64)
                    throw py::value_error("box tensor has fewer than 4 * reg_max channels");
                // The kernel reads box (and score_sum) at the class tensor's cells.
                const auto same_grid = [&b](const k::TensorView& v) {
                    return v.height == b.cls.height && v.width == b.cls.width;
                };
                if (!same_grid(b.box) || (b.has_score_sum && !same_grid(b.score_sum)))
                    throw py::value_error("expected box, cls and score_sum views on the same grid, got box " +
                                          std::to_string(b.box.height) + "x" + std::to_string(b.box.width) +
                                          " and cls " + std::to_string(b.cls.height) + "x" +
                                          std::to_string(b.cls.width));
                br.push_back(b);
            }
            k::YoloV8Params p;
            p.conf = conf;
            p.scores = logits ? k::ScoreKind::Logit : k::ScoreKind::Probability;
            p.reg_max = reg_max;
            p.input_w = input_w;
            p.input_h = input_h;
            p.use_score_sum = use_score_sum;
            k::Candidates cand;
            {
                // Safe: `branches` holds the arrays for the duration of the call.
                py::gil_scoped_release release;
                k::decode_yolov8(br.data(), static_cast<int64_t>(br.size()), p, cand);
            }
            return finish(cand, nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms));
        });

    m.def("decode_flat", [](const py::tuple& view, float conf, bool logits, float iou,
                            int64_t max_det, bool agnostic, int64_t top_k, bool plus_one,
                            bool run_nms) {
        const k::TensorView v = make_view(view);
        if (v.channels < 5) throw py::value_error("expected at least 5 rows (4 box + classes)");
        k::FlatParams p;
        p.conf = conf;
        p.scores = logits ? k::ScoreKind::Logit : k::ScoreKind::Probability;
        k::Candidates cand;
        {
            py::gil_scoped_release release;
            k::decode_flat(v, p, cand);
        }
        return finish(cand, nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms));
    });

    m.def("decode_yolov5", [](const py::list& branches, const py::array& anchors,
                              int64_t num_anchors, float conf, bool logits, float input_w,
                              float input_h, float iou, int64_t max_det, bool agnostic,
                              int64_t top_k, bool plus_one, bool run_nms) {
        std::vector<k::TensorView> views;
        for (const auto& item : branches) views.push_back(make_view(item.cast<py::tuple>()));
        require_c_array<float>(anchors, "anchors");
        if (anchors.size() != static_cast<py::ssize_t>(views.size()) * num_anchors * 2)
            throw py::value_error("expected float32 anchors of n_branches * num_anchors * 2");
        for (const auto& v : views)
            if (num_anchors < 1 || v.channels % num_anchors != 0 || v.channels / num_anchors < 6)
                throw py::value_error("channels must be num_anchors * (5 + nc)");
        k::YoloV5Params p;
        p.conf = conf;
        p.scores = logits ? k::ScoreKind::Logit : k::ScoreKind::Probability;
        p.num_anchors = num_anchors;
        p.input_w = input_w;
        p.input_h = input_h;
        p.anchors = static_cast<const float*>(anchors.data());
        k::Candidates cand;
        {
            py::gil_scoped_release release;
            k::decode_yolov5(views.data(), static_cast<int64_t>(views.size()), p, cand);
        }
        return finish(cand, nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms));
    });

    m.def("decode_yolox", [](const py::tuple& view, float conf, bool grid_decode, float input_w,
                             float input_h, const std::vector<int32_t>& strides, float iou,
                             int64_t max_det, bool agnostic, int64_t top_k, bool plus_one,
                             bool run_nms) {
        const k::TensorView v = make_view(view);
        if (v.channels < 6) throw py::value_error("expected at least 6 fields (5 + classes)");
        for (int32_t s : strides)
            if (s <= 0) throw py::value_error("expected positive strides");
        k::YoloXParams p;
        p.conf = conf;
        p.grid_decode = grid_decode;
        p.input_w = input_w;
        p.input_h = input_h;
        p.strides = strides.data();
        p.n_strides = static_cast<int64_t>(strides.size());
        k::Candidates cand;
        {
            py::gil_scoped_release release;
            k::decode_yolox(v, p, cand);
        }
        return finish(cand, nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms));
    });

    m.def("quantized_threshold", [](float thr, float scale, int32_t zero_point, bool is_uint8) {
        return k::quantized_threshold(thr, scale, zero_point,
                                      is_uint8 ? k::DType::UInt8 : k::DType::Int8);
    });
}

}  // namespace rknn_fast::bindings
