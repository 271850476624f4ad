// _core.Pool: cpp/runtime/pool.h for Python. Thin: Python callables become pool hooks that
// take the GIL inside them; the GIL is never held while a worker waits for the NPU, copies
// a raw frame's inputs into its context's bound buffers or its outputs out of them. A frame
// completes by setting its concurrent.futures.Future (result or the typed RknnError). Policy
// and validation live in python/rknn_fast/pool.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings/errors.h"
#include "runtime/context.h"
#include "runtime/pool.h"
#include "runtime/session.h"

namespace py = pybind11;

namespace rknn_fast::bindings {
namespace {

using runtime::Pool;
using runtime::PoolJob;
using runtime::Session;
using runtime::TensorMem;

// The Python objects of one frame. Cleared under the GIL when the frame finishes; a state
// dropped elsewhere (a cancelled or refused job) takes the GIL to release what it holds.
struct FrameState {
    py::object future, pre, post, result;
    std::vector<py::array> inputs, outputs;
    bool empty() const { return !future && !pre && !post && !result && inputs.empty() && outputs.empty(); }
    void clear() {
        future = py::object();
        pre = py::object();
        post = py::object();
        result = py::object();
        inputs.clear();
        outputs.clear();
    }
};

std::shared_ptr<FrameState> new_state() {
    return std::shared_ptr<FrameState>(new FrameState, [](FrameState* p) {
        if (p->empty()) {
            delete p;
            return;
        }
        py::gil_scoped_acquire gil;
        delete p;
    });
}

// Where a raw frame's bytes go in a context: rows of `row_bytes` every `stride` bytes.
struct InputDest {
    std::shared_ptr<TensorMem> mem;
    size_t rows = 0, row_bytes = 0, stride = 0;
};
struct OutputSrc {
    std::shared_ptr<TensorMem> mem;
    size_t bytes = 0;
};

class PyPool {
  public:
    PyPool(std::vector<std::shared_ptr<Session>> sessions, std::vector<int> cores, size_t capacity,
           py::object recreate)
        : recreate_(std::move(recreate)), inputs_(sessions.size()), outputs_(sessions.size()) {
        Pool::Factory factory;
        if (!recreate_.is_none()) {
            factory = [this](size_t index) -> std::shared_ptr<Session> {
                py::gil_scoped_acquire gil;
                return recreate_(index).cast<std::shared_ptr<Session>>();
            };
        }
        pool_ = std::make_unique<Pool>(std::move(sessions), std::move(cores), capacity, std::move(factory));
    }

    ~PyPool() {
        if (pool_ && !pool_->closed()) {
            py::gil_scoped_release nogil;
            pool_->close();
        }
    }

    Pool& pool() {
        if (!pool_) throw runtime::ClosedError();
        return *pool_;
    }

    void set_buffers(size_t ctx, const std::vector<py::tuple>& inputs, const std::vector<py::tuple>& outputs) {
        if (ctx >= inputs_.size()) throw py::index_error("context index out of range");
        std::vector<InputDest> in;
        for (const auto& t : inputs) {
            InputDest d{t[0].cast<std::shared_ptr<TensorMem>>(), t[1].cast<size_t>(), t[2].cast<size_t>(),
                        t[3].cast<size_t>()};
            if (d.rows > 0 && ((d.rows - 1) * d.stride + d.row_bytes > d.mem->size() || d.stride < d.row_bytes))
                throw py::value_error("input rows do not fit the bound buffer");
            in.push_back(std::move(d));
        }
        std::vector<OutputSrc> out;
        for (const auto& t : outputs) {
            OutputSrc s{t[0].cast<std::shared_ptr<TensorMem>>(), t[1].cast<size_t>()};
            if (s.bytes > s.mem->size()) throw py::value_error("output size exceeds the bound buffer");
            out.push_back(std::move(s));
        }
        std::lock_guard<std::mutex> lock(buffers_mutex_);
        inputs_[ctx] = std::move(in);
        outputs_[ctx] = std::move(out);
    }

    // A frame of raw arrays on the bound buffers: inputs copied in and outputs copied out in
    // C++ without the GIL; `post(ctx)` (optional, under the GIL) replaces the output copy
    // and gives the result.
    uint64_t submit_arrays(py::object future, std::vector<py::array> inputs, std::vector<py::array> outputs,
                           py::object post) {
        auto st = new_state();
        std::vector<std::pair<const uint8_t*, size_t>> src;
        for (const auto& a : inputs) {
            if (!(a.flags() & py::array::c_style)) throw py::value_error("pool inputs must be C-contiguous");
            src.emplace_back(static_cast<const uint8_t*>(a.data()), static_cast<size_t>(a.nbytes()));
        }
        std::vector<std::pair<uint8_t*, size_t>> dst;
        for (auto& a : outputs) {
            if (!(a.flags() & py::array::c_style) || !a.writeable())
                throw py::value_error("pool outputs must be writable C-contiguous arrays");
            dst.emplace_back(static_cast<uint8_t*>(a.mutable_data()), static_cast<size_t>(a.nbytes()));
        }
        st->future = std::move(future);
        st->inputs = std::move(inputs);
        st->outputs = std::move(outputs);
        const bool python_post = !post.is_none();
        st->post = std::move(post);
        PoolJob job;
        job.pre = [this, src](size_t ctx) {
            std::vector<InputDest> dests;
            {
                std::lock_guard<std::mutex> lock(buffers_mutex_);
                dests = inputs_[ctx];
            }
            if (dests.size() != src.size()) throw std::invalid_argument("wrong number of inputs for this pool");
            for (size_t i = 0; i < src.size(); ++i) {
                const InputDest& d = dests[i];
                if (src[i].second != d.rows * d.row_bytes)
                    throw std::invalid_argument("input " + std::to_string(i) + " has " + std::to_string(src[i].second) +
                                                " bytes, expected " + std::to_string(d.rows * d.row_bytes));
                uint8_t* out = d.mem->data();
                for (size_t r = 0; r < d.rows; ++r)
                    std::memcpy(out + r * d.stride, src[i].first + r * d.row_bytes, d.row_bytes);
            }
        };
        if (!python_post) {
            job.post = [this, dst](size_t ctx) {
                std::vector<OutputSrc> srcs;
                {
                    std::lock_guard<std::mutex> lock(buffers_mutex_);
                    srcs = outputs_[ctx];
                }
                if (srcs.size() != dst.size()) throw std::invalid_argument("wrong number of outputs for this pool");
                for (size_t i = 0; i < dst.size(); ++i) {
                    if (srcs[i].bytes != dst[i].second) throw std::invalid_argument("output size mismatch");
                    std::memcpy(dst[i].first, srcs[i].mem->data(), dst[i].second);
                }
            };
        }
        job.finish = finisher(st, /*outputs_are_result=*/true);
        return submit(std::move(job));
    }

    // A frame on the copy path (rknn_inputs_set / rknn_outputs_get into `outputs`).
    uint64_t submit_copy(py::object future, std::vector<py::array> inputs, const std::vector<int>& types,
                         const std::vector<int>& fmts, std::vector<py::array> outputs,
                         const std::vector<bool>& want_float) {
        if (types.size() != inputs.size() || fmts.size() != inputs.size() || want_float.size() != outputs.size())
            throw py::value_error("inputs/types/fmts and outputs/want_float must have matching lengths");
        auto st = new_state();
        std::vector<runtime::InputData> in(inputs.size());
        for (size_t i = 0; i < inputs.size(); ++i) {
            if (!(inputs[i].flags() & py::array::c_style)) throw py::value_error("pool inputs must be C-contiguous");
            in[i].data = inputs[i].data();
            in[i].size = static_cast<size_t>(inputs[i].nbytes());
            in[i].type = static_cast<rknn_tensor_type>(types[i]);
            in[i].fmt = static_cast<rknn_tensor_format>(fmts[i]);
        }
        std::vector<runtime::OutputData> out(outputs.size());
        for (size_t i = 0; i < outputs.size(); ++i) {
            if (!(outputs[i].flags() & py::array::c_style) || !outputs[i].writeable())
                throw py::value_error("pool outputs must be writable C-contiguous arrays");
            out[i].data = outputs[i].mutable_data();
            out[i].size = static_cast<size_t>(outputs[i].nbytes());
            out[i].want_float = want_float[i];
        }
        st->future = std::move(future);
        st->inputs = std::move(inputs);
        st->outputs = std::move(outputs);
        PoolJob job;
        job.run = [in, out](size_t, Session& s) mutable { s.run_copy(in, out); };
        job.finish = finisher(st, true);
        return submit(std::move(job));
    }

    // A frame of Python hooks on the bound buffers: pre(ctx) writes the inputs, post(ctx)
    // returns the result; both run on the worker of context ctx, under the GIL.
    uint64_t submit_hooks(py::object future, py::object pre, py::object post) {
        auto st = new_state();
        st->future = std::move(future);
        st->pre = std::move(pre);
        st->post = std::move(post);
        PoolJob job;
        if (st->pre && !st->pre.is_none()) {
            job.pre = [st](size_t ctx) {
                py::gil_scoped_acquire gil;
                st->pre(ctx);
            };
        }
        job.finish = finisher(st, false);
        return submit(std::move(job));
    }

    bool cancel(uint64_t id) {
        PoolJob job = pool().cancel(id);
        return static_cast<bool>(job.finish);  // its frame state is released here, under the GIL
    }

    void close() {
        if (!pool_) return;
        {
            py::gil_scoped_release nogil;  // the workers need the GIL to finish their frames
            pool_->close();
        }
        std::lock_guard<std::mutex> lock(buffers_mutex_);
        for (auto& v : inputs_) v.clear();  // the last references to the contexts' buffers
        for (auto& v : outputs_) v.clear();
    }

    py::list stats() {
        py::list out;
        for (const auto& s : pool().stats()) {
            py::dict d;
            d["index"] = s.index;
            d["core"] = s.core;
            d["frames"] = s.frames;
            d["failures"] = s.failures;
            d["recreated"] = s.recreated;
            d["busy_ns"] = s.busy_ns;
            d["latency_ns"] = py::array_t<int64_t>(static_cast<py::ssize_t>(s.latency_ns.size()), s.latency_ns.data());
            out.append(d);
        }
        return out;
    }

  private:
    uint64_t submit(PoolJob job) {
        Pool& p = pool();
        py::gil_scoped_release nogil;  // may wait for room in the queue
        return p.submit(std::move(job));
    }

    static std::function<void(size_t, std::exception_ptr)> finisher(std::shared_ptr<FrameState> st,
                                                                    bool outputs_are_result) {
        return [st, outputs_are_result](size_t ctx, std::exception_ptr error) {
            py::gil_scoped_acquire gil;
            try {
                py::object result;
                if (!error) {
                    try {
                        if (st->post && !st->post.is_none()) {
                            result = st->post(ctx);
                        } else if (outputs_are_result) {
                            py::list l;
                            for (const auto& a : st->outputs) l.append(a);
                            result = std::move(l);
                        } else {
                            result = py::none();
                        }
                    } catch (...) {
                        error = std::current_exception();
                    }
                }
                py::object future = st->future;
                if (future.attr("set_running_or_notify_cancel")().cast<bool>()) {
                    if (error) {
                        future.attr("set_exception")(exception_object(error));
                    } else {
                        future.attr("set_result")(result);
                    }
                }
            } catch (py::error_already_set& e) {
                e.discard_as_unraisable("rknn_fast pool: completing a frame");
            } catch (...) {
            }
            st->clear();
        };
    }

    py::object recreate_;
    std::unique_ptr<Pool> pool_;
    std::mutex buffers_mutex_;
    std::vector<std::vector<InputDest>> inputs_;
    std::vector<std::vector<OutputSrc>> outputs_;
};

}  // namespace

void bind_pool(py::module_& m) {
    py::class_<PyPool>(m, "Pool")
        .def(py::init<std::vector<std::shared_ptr<Session>>, std::vector<int>, size_t, py::object>(),
             py::arg("sessions"), py::arg("cores"), py::arg("capacity"), py::arg("recreate") = py::none())
        .def("set_buffers", &PyPool::set_buffers, py::arg("ctx"), py::arg("inputs"), py::arg("outputs"))
        .def("submit_arrays", &PyPool::submit_arrays, py::arg("future"), py::arg("inputs"), py::arg("outputs"),
             py::arg("post") = py::none())
        .def("submit_copy", &PyPool::submit_copy, py::arg("future"), py::arg("inputs"), py::arg("types"),
             py::arg("fmts"), py::arg("outputs"), py::arg("want_float"))
        .def("submit_hooks", &PyPool::submit_hooks, py::arg("future"), py::arg("pre"), py::arg("post"))
        .def("cancel", &PyPool::cancel, py::arg("id"))
        .def("close", &PyPool::close)
        .def_property_readonly("closed", [](PyPool& p) { return p.pool().closed(); })
        .def_property_readonly("size", [](PyPool& p) { return p.pool().size(); })
        .def_property_readonly("cores", [](PyPool& p) { return p.pool().cores(); })
        .def_property_readonly("queued", [](PyPool& p) { return p.pool().queued(); })
        .def_property_readonly("running", [](PyPool& p) { return p.pool().running(); })
        .def("session", [](PyPool& p, size_t i) { return p.pool().session(i); }, py::arg("index"))
        .def("stats", &PyPool::stats)
        .def("core_busy_ns", [](PyPool& p) { return p.pool().core_busy_ns(); });
}

}  // namespace rknn_fast::bindings
