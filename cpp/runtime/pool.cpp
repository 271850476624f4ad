#include "runtime/pool.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "runtime/context.h"

namespace rknn_fast::runtime {

bool Pool::is_fatal(int code) {
    return code == RKNN_ERR_TIMEOUT || code == RKNN_ERR_DEVICE_UNAVAILABLE || code == RKNN_ERR_CTX_INVALID;
}

Pool::Pool(std::vector<std::shared_ptr<Session>> sessions, std::vector<int> cores, size_t capacity, Factory recreate)
    : capacity_(std::max<size_t>(capacity, 1)),
      sessions_(std::move(sessions)),
      cores_(std::move(cores)),
      recreate_(std::move(recreate)) {
    if (sessions_.empty()) throw std::invalid_argument("a pool needs at least one context");
    if (cores_.size() != sessions_.size()) throw std::invalid_argument("one core per context expected");
    for (const auto& s : sessions_) {
        if (!s) throw std::invalid_argument("null session");
    }
    stats_.resize(sessions_.size());
    latency_pos_.assign(sessions_.size(), 0);
    for (size_t i = 0; i < sessions_.size(); ++i) {
        stats_[i].index = i;
        stats_[i].core = cores_[i];
        stats_[i].latency_ns.reserve(kLatencySamples);
    }
    for (size_t i = 0; i < cores_.size(); ++i) {
        auto it = std::find_if(core_busy_.begin(), core_busy_.end(),
                               [&](const CoreBusy& c) { return c.core == cores_[i]; });
        if (it == core_busy_.end()) {
            core_busy_.push_back(CoreBusy{cores_[i], 0, 0, 0});
            it = core_busy_.end() - 1;
        }
        core_slot_.push_back(static_cast<size_t>(it - core_busy_.begin()));
    }
    workers_.reserve(sessions_.size());
    try {
        for (size_t i = 0; i < sessions_.size(); ++i) workers_.emplace_back([this, i] { work(i); });
    } catch (...) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            closing_ = true;
        }
        has_job_.notify_all();
        for (auto& t : workers_) t.join();
        throw;
    }
}

Pool::~Pool() {
    try {
        close();
    } catch (...) {
    }
}

uint64_t Pool::submit(PoolJob job) {
    if (!job.finish) throw std::invalid_argument("a pool job needs a finish hook");
    std::unique_lock<std::mutex> lock(mutex_);
    has_room_.wait(lock, [this] { return closing_ || queue_.size() < capacity_; });
    if (closing_) throw ClosedError();
    const uint64_t id = next_id_++;
    queue_.push_back(Queued{id, std::move(job)});
    lock.unlock();
    has_job_.notify_one();
    return id;
}

PoolJob Pool::cancel(uint64_t id) {
    PoolJob out;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = std::find_if(queue_.begin(), queue_.end(), [id](const Queued& q) { return q.id == id; });
        if (it == queue_.end()) return out;
        out = std::move(it->job);
        queue_.erase(it);
    }
    has_room_.notify_one();
    return out;
}

bool Pool::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closing_;
}

size_t Pool::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

size_t Pool::running() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_;
}

std::shared_ptr<Session> Pool::session(size_t i) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (i >= sessions_.size()) throw std::out_of_range("context index out of range");
    return sessions_[i];
}

std::vector<PoolContextStats> Pool::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

namespace {
int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

void Pool::run_started(size_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    CoreBusy& c = core_busy_[core_slot_[index]];
    if (c.active++ == 0) c.since_ns = steady_ns();
}

void Pool::run_ended(size_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    CoreBusy& c = core_busy_[core_slot_[index]];
    if (--c.active == 0) c.busy_ns += steady_ns() - c.since_ns;
}

std::vector<std::pair<int, int64_t>> Pool::core_busy_ns() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::pair<int, int64_t>> out;
    const int64_t now = steady_ns();
    for (const auto& c : core_busy_) out.emplace_back(c.core, c.busy_ns + (c.active > 0 ? now - c.since_ns : 0));
    return out;
}

void Pool::close() {
    const auto self = std::this_thread::get_id();
    for (const auto& t : workers_) {
        if (t.get_id() == self) throw std::logic_error("a pool cannot be closed from one of its own workers");
    }
    std::lock_guard<std::mutex> guard(close_mutex_);
    if (joined_) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
    }
    has_job_.notify_all();
    has_room_.notify_all();
    for (auto& t : workers_) t.join();  // workers drain the queue before they exit
    std::vector<std::shared_ptr<Session>> sessions;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        sessions.swap(sessions_);
        joined_ = true;
    }
    for (auto& s : sessions) s->close();
}

void Pool::work(size_t index) {
    for (;;) {
        Queued q;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            has_job_.wait(lock, [this] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) return;  // closing and drained
            q = std::move(queue_.front());
            queue_.pop_front();
            ++running_;
        }
        has_room_.notify_one();
        run_one(index, q.job);
        q.job = PoolJob{};  // the hooks' captures go now, on this thread
        {
            std::lock_guard<std::mutex> lock(mutex_);
            --running_;
        }
    }
}

void Pool::run_one(size_t index, PoolJob& job) {
    std::shared_ptr<Session> sess;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        sess = sessions_[index];
    }
    std::exception_ptr error;
    bool fatal = false;
    bool ran = false;
    int64_t runtime_ns = 0;
    try {
        if (job.pre) job.pre(index);
        run_started(index);
        try {
            if (job.run) {
                job.run(index, *sess);
            } else {
                sess->run_bound();
            }
        } catch (...) {
            run_ended(index);
            throw;
        }
        run_ended(index);
        ran = true;
        runtime_ns = sess->last_runtime_ns();
        if (job.post) job.post(index);
    } catch (const CallError& e) {
        error = std::current_exception();
        fatal = is_fatal(e.code()) && (e.api() == "rknn_run" || e.api() == "rknn_mem_sync");
    } catch (...) {
        error = std::current_exception();
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        PoolContextStats& st = stats_[index];
        if (ran) {
            st.busy_ns += runtime_ns;
            if (st.latency_ns.size() < kLatencySamples) {
                st.latency_ns.push_back(runtime_ns);
            } else {
                st.latency_ns[latency_pos_[index]] = runtime_ns;
                latency_pos_[index] = (latency_pos_[index] + 1) % kLatencySamples;
            }
        }
        if (error) {
            ++st.failures;
        } else {
            ++st.frames;
        }
    }
    if (fatal && recreate_) {
        try {
            std::shared_ptr<Session> fresh = recreate_(index);
            if (fresh) {
                std::lock_guard<std::mutex> lock(mutex_);
                sessions_[index] = std::move(fresh);
                ++stats_[index].recreated;
            }
        } catch (...) {
            // The old context stays: its next runs fail and say why.
        }
    }
    job.finish(index, error);
}

}  // namespace rknn_fast::runtime
