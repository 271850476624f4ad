// Bindings of the detection kernels (NMS, YOLO decoders). Only argument conversion:
// arrays are taken as they are (exact dtype, C-contiguous, bounds-checked views), the GIL
// is released around the kernel loops, results are copied into fresh numpy arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <ctime>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <limits>
#include <string>
#include <vector>

#include "bindings/array_args.h"
#include "kernels/detect_plan.h"
#include "kernels/nms.h"
#include "kernels/simd_scan.h"
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

NmsArgs nms_args(float iou, int64_t max_det, bool agnostic, int64_t top_k, bool plus_one, bool run) {
    return NmsArgs{iou, max_det, agnostic, top_k, plus_one, run};
}

void set_nms(k::DetectPlanSpec& s, const NmsArgs& a) {
    s.nms.iou_threshold = a.iou;
    s.nms.max_detections = a.max_det;
    s.nms.top_k = a.top_k;
    s.nms.plus_one = a.plus_one;
    s.class_agnostic = a.agnostic;
    s.run_nms = a.run;
}

// A view spec plus the array it was built from (kept alive by the spec's owner).
struct SpecArrays {
    k::DetectPlanSpec spec;
    std::vector<py::array> arrays;
};

void add_array(SpecArrays& sa, const py::tuple& view_spec) {
    k::PlannedArray pa;
    pa.view = make_view(view_spec);
    const py::array a = view_spec[0].cast<py::array>();
    pa.dtype = pa.view.dtype;
    for (py::ssize_t d = 0; d < a.ndim(); ++d) pa.shape.push_back(a.shape(d));
    sa.spec.arrays.push_back(std::move(pa));
    sa.arrays.push_back(a);
}

SpecArrays yolov8_spec(const py::list& branches, float conf, bool logits, int64_t reg_max, float input_w,
                       float input_h, bool use_score_sum, const NmsArgs& nms) {
    SpecArrays sa;
    sa.spec.head = k::PlanHead::YoloV8;
    int64_t per = -1;
    for (const auto& item : branches) {
        const py::tuple t = item.cast<py::tuple>();
        if (t.size() != 3) throw py::value_error("expected (box, cls, score_sum|None)");
        const int64_t this_per = t[2].is_none() ? 2 : 3;
        if (per >= 0 && per != this_per) throw py::value_error("expected score_sum in every branch or in none");
        per = this_per;
        add_array(sa, t[0].cast<py::tuple>());
        add_array(sa, t[1].cast<py::tuple>());
        if (this_per == 3) add_array(sa, t[2].cast<py::tuple>());
        const k::TensorView& box = sa.spec.arrays[sa.spec.arrays.size() - static_cast<size_t>(this_per)].view;
        const k::TensorView& cls = sa.spec.arrays[sa.spec.arrays.size() - static_cast<size_t>(this_per) + 1].view;
        if (box.channels < 4 * reg_max || reg_max < 1 || reg_max > 64)
            throw py::value_error("box tensor has fewer than 4 * reg_max channels");
        bool same = box.height == cls.height && box.width == cls.width;
        if (this_per == 3) {
            const k::TensorView& ss = sa.spec.arrays.back().view;
            same = same && ss.height == cls.height && ss.width == cls.width;
        }
        if (!same)
            throw py::value_error("expected box, cls and score_sum views on the same grid, got box " +
                                  std::to_string(box.height) + "x" + std::to_string(box.width) + " and cls " +
                                  std::to_string(cls.height) + "x" + std::to_string(cls.width));
    }
    if (per < 0) throw py::value_error("expected at least one branch");
    sa.spec.per_branch = per;
    sa.spec.v8.conf = conf;
    sa.spec.v8.scores = logits ? k::ScoreKind::Logit : k::ScoreKind::Probability;
    sa.spec.v8.reg_max = reg_max;
    sa.spec.v8.input_w = input_w;
    sa.spec.v8.input_h = input_h;
    sa.spec.v8.use_score_sum = use_score_sum;
    set_nms(sa.spec, nms);
    return sa;
}

SpecArrays flat_spec(const py::tuple& view, float conf, bool logits, const NmsArgs& nms) {
    SpecArrays sa;
    sa.spec.head = k::PlanHead::Flat;
    add_array(sa, view);
    if (sa.spec.arrays[0].view.channels < 5) throw py::value_error("expected at least 5 rows (4 box + classes)");
    sa.spec.flat.conf = conf;
    sa.spec.flat.scores = logits ? k::ScoreKind::Logit : k::ScoreKind::Probability;
    set_nms(sa.spec, nms);
    return sa;
}

SpecArrays yolov5_spec(const py::list& branches, const py::array& anchors, int64_t num_anchors, float conf,
                       bool logits, float input_w, float input_h, const NmsArgs& nms) {
    SpecArrays sa;
    sa.spec.head = k::PlanHead::YoloV5;
    for (const auto& item : branches) add_array(sa, item.cast<py::tuple>());
    require_c_array<float>(anchors, "anchors");
    if (anchors.size() != static_cast<py::ssize_t>(sa.spec.arrays.size()) * num_anchors * 2)
        throw py::value_error("expected float32 anchors of n_branches * num_anchors * 2");
    for (const auto& a : sa.spec.arrays)
        if (num_anchors < 1 || a.view.channels % num_anchors != 0 || a.view.channels / num_anchors < 6)
            throw py::value_error("channels must be num_anchors * (5 + nc)");
    const auto* an = static_cast<const float*>(anchors.data());
    sa.spec.anchors.assign(an, an + anchors.size());
    sa.spec.v5.conf = conf;
    sa.spec.v5.scores = logits ? k::ScoreKind::Logit : k::ScoreKind::Probability;
    sa.spec.v5.num_anchors = num_anchors;
    sa.spec.v5.input_w = input_w;
    sa.spec.v5.input_h = input_h;
    set_nms(sa.spec, nms);
    return sa;
}

SpecArrays yolox_spec(const py::tuple& view, float conf, bool grid_decode, float input_w, float input_h,
                      const std::vector<int32_t>& strides, const NmsArgs& nms) {
    SpecArrays sa;
    sa.spec.head = k::PlanHead::YoloX;
    add_array(sa, view);
    if (sa.spec.arrays[0].view.channels < 6) throw py::value_error("expected at least 6 fields (5 + classes)");
    for (int32_t st : strides)
        if (st <= 0) throw py::value_error("expected positive strides");
    sa.spec.yolox.conf = conf;
    sa.spec.yolox.grid_decode = grid_decode;
    sa.spec.yolox.input_w = input_w;
    sa.spec.yolox.input_h = input_h;
    sa.spec.strides = strides;
    if (strides.empty()) sa.spec.strides = {8, 16, 32};
    set_nms(sa.spec, nms);
    return sa;
}

std::unique_ptr<k::DetectPlan> build_plan(k::DetectPlanSpec spec) {
    try {
        return std::make_unique<k::DetectPlan>(std::move(spec));
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
}

py::tuple pack(const k::Candidates& c) {
    const auto n = static_cast<py::ssize_t>(c.size());
    return py::make_tuple(vector_array(c.boxes, {n, 4}), vector_array(c.scores, {n}),
                          vector_array(c.class_ids, {n}), vector_array(c.anchor_index, {n}));
}

py::tuple run_once(const SpecArrays& sa) {
    const auto plan = build_plan(sa.spec);
    std::vector<const void*> data;
    for (const auto& a : sa.arrays) data.push_back(a.data());
    k::Candidates out;
    {
        // Safe: `sa.arrays` holds the arrays for the duration of the call.
        py::gil_scoped_release release;
        plan->run(data.data(), out);
    }
    return pack(out);
}

// numpy type numbers (stable ABI values) of the kernels' dtypes.
int npy_type_num(k::DType t) {
    switch (t) {
        case k::DType::Int8: return 1;      // NPY_BYTE
        case k::DType::UInt8: return 2;     // NPY_UBYTE
        case k::DType::Float16: return 23;  // NPY_HALF
        case k::DType::Float32:
        default: return 11;                 // NPY_FLOAT
    }
}
const char* dtype_str(k::DType t) {
    switch (t) {
        case k::DType::Int8: return "int8";
        case k::DType::UInt8: return "uint8";
        case k::DType::Float16: return "float16";
        case k::DType::Float32:
        default: return "float32";
    }
}

struct PyDetectPlan {
    std::shared_ptr<const k::DetectPlan> plan;
    std::vector<int> type_nums;
};

PyDetectPlan make_plan(const SpecArrays& sa) {
    PyDetectPlan p;
    p.plan = build_plan(sa.spec);
    for (const auto& a : sa.spec.arrays) p.type_nums.push_back(npy_type_num(a.dtype));
    return p;
}

std::string shape_str(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

std::string planned_str(const k::PlannedArray& a) {
    return std::string(dtype_str(a.dtype)) + " " + shape_str(a.shape) + " C-contiguous";
}

py::list describe_plan(const PyDetectPlan& p) {
    py::list out;
    for (const auto& a : p.plan->spec().arrays) out.append(py::make_tuple(dtype_str(a.dtype), py::tuple(py::cast(a.shape))));
    return out;
}

constexpr int kNpyCContiguous = 0x0001;  // NPY_ARRAY_C_CONTIGUOUS

// The per-call check: exactly the planned arrays (numpy, dtype in native order, shape,
// C-contiguous). Fills `data` and `keep` (references held across the GIL release).
void check_outputs(const PyDetectPlan& p, py::handle outputs, std::vector<const void*>& data,
                   std::vector<py::object>& keep) {
    PyObject* seq = outputs.ptr();
    const bool is_list = PyList_Check(seq), is_tuple = PyTuple_Check(seq);
    if (!is_list && !is_tuple)
        throw py::type_error(std::string("expected the outputs as a list or tuple of numpy arrays, got ") +
                             Py_TYPE(seq)->tp_name);
    const Py_ssize_t n = is_list ? PyList_GET_SIZE(seq) : PyTuple_GET_SIZE(seq);
    const auto& arrays = p.plan->spec().arrays;
    if (n != static_cast<Py_ssize_t>(arrays.size()))
        throw py::value_error("expected " + std::to_string(arrays.size()) + " outputs as planned, got " +
                              std::to_string(n));
    const auto& api = py::detail::npy_api::get();
    data.resize(static_cast<size_t>(n));
    keep.clear();
    keep.reserve(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* o = is_list ? PyList_GET_ITEM(seq, i) : PyTuple_GET_ITEM(seq, i);
        const auto& want = arrays[static_cast<size_t>(i)];
        const auto what = [i] { return "output " + std::to_string(i); };  // built on errors only
        if (!api.PyArray_Check_(o))
            throw py::type_error(what() + ": expected a numpy array (" + planned_str(want) + "), got " +
                                 Py_TYPE(o)->tp_name);
        const auto* a = py::detail::array_proxy(o);
        const auto* d = py::detail::array_descriptor_proxy(a->descr);
        // Native byte order: '=' or '|' (numpy normalises the host's explicit '<'/'>' to '=').
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        bool ok = d->type_num == p.type_nums[static_cast<size_t>(i)] && d->byteorder != '<';
#else
        bool ok = d->type_num == p.type_nums[static_cast<size_t>(i)] && d->byteorder != '>';
#endif
        ok = ok && a->nd == static_cast<int>(want.shape.size());
        for (int k2 = 0; ok && k2 < a->nd; ++k2) ok = a->dimensions[k2] == want.shape[static_cast<size_t>(k2)];
        ok = ok && (a->flags & kNpyCContiguous);
        if (!ok) {
            const py::array arr = py::reinterpret_borrow<py::array>(o);
            std::vector<int64_t> got;
            for (py::ssize_t k2 = 0; k2 < arr.ndim(); ++k2) got.push_back(arr.shape(k2));
            throw py::value_error(what() + ": expected " + planned_str(want) + " as planned, got " +
                                  dtype_name(arr.dtype()) + " " + shape_str(got) +
                                  ((a->flags & kNpyCContiguous) ? "" : " non-contiguous") +
                                  " (a Decoder is planned for one model's outputs; build another for other arrays)");
        }
        data[static_cast<size_t>(i)] = a->data;
        keep.push_back(py::reinterpret_borrow<py::object>(o));
    }
}

k::Unletterbox unletterbox_arg(const py::handle& lb) {
    k::Unletterbox ub;
    if (lb.is_none()) return ub;
    const auto t = lb.cast<std::tuple<float, float, float, float, float>>();
    ub.enabled = true;
    std::tie(ub.pad_x, ub.pad_y, ub.scale, ub.width, ub.height) = t;
    if (!(ub.scale > 0.0f)) throw py::value_error("letterbox scale must be > 0");
    return ub;
}

py::tuple call_plan(const PyDetectPlan& p, py::handle outputs, py::handle letterbox) {
    std::vector<const void*> data;
    std::vector<py::object> keep;
    check_outputs(p, outputs, data, keep);
    const k::Unletterbox ub = unletterbox_arg(letterbox);
    k::Candidates out;
    {
        py::gil_scoped_release release;
        p.plan->run(data.data(), out, ub);
    }
    return pack(out);
}

// CPU seconds of the calling thread (not wall time: on a loaded machine preemption would count).
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Thread CPU seconds per plan run (kernel only, no Python), averaged over n runs: for the benchmarks.
double time_plan(const PyDetectPlan& p, py::handle outputs, py::handle letterbox, int64_t n) {
    std::vector<const void*> data;
    std::vector<py::object> keep;
    check_outputs(p, outputs, data, keep);
    const k::Unletterbox ub = unletterbox_arg(letterbox);
    if (n < 1) throw py::value_error("expected n >= 1");
    k::Candidates out;
    py::gil_scoped_release release;
    const double t0 = thread_cpu_seconds();
    for (int64_t i = 0; i < n; ++i) p.plan->run(data.data(), out, ub);
    return (thread_cpu_seconds() - t0) / static_cast<double>(n);
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

    // One-shot decoders: the same spec as a plan, built and run once.
    m.def("decode_yolov8", [](const py::list& branches, float conf, bool logits, int64_t reg_max, float input_w,
                              float input_h, bool use_score_sum, float iou, int64_t max_det, bool agnostic,
                              int64_t top_k, bool plus_one, bool run_nms) {
        return run_once(yolov8_spec(branches, conf, logits, reg_max, input_w, input_h, use_score_sum,
                                    nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
    });
    m.def("decode_flat", [](const py::tuple& view, float conf, bool logits, float iou, int64_t max_det,
                            bool agnostic, int64_t top_k, bool plus_one, bool run_nms) {
        return run_once(flat_spec(view, conf, logits, nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
    });
    m.def("decode_yolov5", [](const py::list& branches, const py::array& anchors, int64_t num_anchors, float conf,
                              bool logits, float input_w, float input_h, float iou, int64_t max_det, bool agnostic,
                              int64_t top_k, bool plus_one, bool run_nms) {
        return run_once(yolov5_spec(branches, anchors, num_anchors, conf, logits, input_w, input_h,
                                    nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
    });
    m.def("decode_yolox", [](const py::tuple& view, float conf, bool grid_decode, float input_w, float input_h,
                             const std::vector<int32_t>& strides, float iou, int64_t max_det, bool agnostic,
                             int64_t top_k, bool plus_one, bool run_nms) {
        return run_once(yolox_spec(view, conf, grid_decode, input_w, input_h, strides,
                                   nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
    });

    // Prepared decoders: the factories take the same arguments as the one-shot functions and
    // plan for the dtypes and shapes of the arrays given; calls then pass new arrays.
    py::class_<PyDetectPlan>(m, "DetectionPlan")
        .def_static("yolov8", [](const py::list& branches, float conf, bool logits, int64_t reg_max, float input_w,
                                 float input_h, bool use_score_sum, float iou, int64_t max_det, bool agnostic,
                                 int64_t top_k, bool plus_one, bool run_nms) {
            return make_plan(yolov8_spec(branches, conf, logits, reg_max, input_w, input_h, use_score_sum,
                                         nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
        })
        .def_static("flat", [](const py::tuple& view, float conf, bool logits, float iou, int64_t max_det,
                               bool agnostic, int64_t top_k, bool plus_one, bool run_nms) {
            return make_plan(flat_spec(view, conf, logits, nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
        })
        .def_static("yolov5", [](const py::list& branches, const py::array& anchors, int64_t num_anchors, float conf,
                                 bool logits, float input_w, float input_h, float iou, int64_t max_det, bool agnostic,
                                 int64_t top_k, bool plus_one, bool run_nms) {
            return make_plan(yolov5_spec(branches, anchors, num_anchors, conf, logits, input_w, input_h,
                                         nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
        })
        .def_static("yolox", [](const py::tuple& view, float conf, bool grid_decode, float input_w, float input_h,
                                const std::vector<int32_t>& strides, float iou, int64_t max_det, bool agnostic,
                                int64_t top_k, bool plus_one, bool run_nms) {
            return make_plan(yolox_spec(view, conf, grid_decode, input_w, input_h, strides,
                                        nms_args(iou, max_det, agnostic, top_k, plus_one, run_nms)));
        })
        .def_property_readonly("num_outputs", [](const PyDetectPlan& p) { return p.plan->num_arrays(); })
        .def("describe", &describe_plan)
        .def("__call__", &call_plan, py::arg("outputs"), py::arg("letterbox") = py::none())
        .def("time_run", &time_plan, py::arg("outputs"), py::arg("letterbox"), py::arg("n"));

    m.def("simd_level", [] { return std::string(k::simd_name(k::simd_level())); });
    m.def("set_simd_level", [](const std::string& name) {
        for (const auto l : {k::SimdLevel::Scalar, k::SimdLevel::Sse2, k::SimdLevel::Avx2, k::SimdLevel::Neon})
            if (name == k::simd_name(l)) return k::set_simd_level(l);
        throw py::value_error("expected 'scalar', 'sse2', 'avx2' or 'neon', got " + name);
    });
    m.def("simd_supported", [] {
        std::vector<std::string> out;
        for (const auto l : {k::SimdLevel::Scalar, k::SimdLevel::Sse2, k::SimdLevel::Avx2, k::SimdLevel::Neon})
            if (k::simd_supported(l)) out.emplace_back(k::simd_name(l));
        return out;
    });

    m.def("quantized_threshold", [](float thr, float scale, int32_t zero_point, bool is_uint8) {
        return k::quantized_threshold(thr, scale, zero_point,
                                      is_uint8 ? k::DType::UInt8 : k::DType::Int8);
    });
}

}  // namespace rknn_fast::bindings
