// A pool of contexts of one model, each pinned to an NPU core and served by its own C++
// worker thread, fed from one bounded job queue.
//
// A job is three generic hooks around one inference on whichever context takes it:
//   pre(ctx)  -- write the inputs (e.g. letterbox into that context's bound input buffer);
//   run       -- rknn_run on the bound buffers (Session::run_bound) by default, or the job's
//                own `run(ctx, session)` (e.g. the copy path);
//   post(ctx) -- read the outputs (they stay valid until this worker takes its next job);
//   finish(ctx, error) -- always called exactly once, with a null error on success.
// Hooks run on the worker; nothing here knows about Python (the bindings wrap Python
// callables as hooks). A run that fails with a fatal code (the context is unusable:
// RKNN_ERR_TIMEOUT, RKNN_ERR_DEVICE_UNAVAILABLE, RKNN_ERR_CTX_INVALID) has its context
// re-created through the pool's factory before the worker takes its next job.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/session.h"

namespace rknn_fast::runtime {

struct PoolJob {
    std::function<void(size_t)> pre;                            // optional
    std::function<void(size_t, Session&)> run;                  // optional: default run_bound()
    std::function<void(size_t)> post;                           // optional
    std::function<void(size_t, std::exception_ptr)> finish;     // required; must not throw
};

struct PoolContextStats {
    size_t index = 0;
    int core = -1;              // NPU core the context is pinned to (-1: the runtime chooses)
    uint64_t frames = 0;        // jobs finished successfully
    uint64_t failures = 0;      // jobs finished with an error
    uint64_t recreated = 0;     // times the context was re-created after a fatal code
    int64_t busy_ns = 0;        // sum of the runtime time of the runs (syncs + rknn_run)
    std::vector<int64_t> latency_ns;  // the latest runtime times (at most kLatencySamples)
};

class Pool {
  public:
    static constexpr size_t kLatencySamples = 8192;
    // Re-creates context `index` (called on its worker after a fatal code); may throw.
    using Factory = std::function<std::shared_ptr<Session>(size_t index)>;

    // One worker per session; cores[i] is informational (the caller pinned session i).
    // `capacity` bounds the jobs waiting in the queue (not counting the running ones).
    Pool(std::vector<std::shared_ptr<Session>> sessions, std::vector<int> cores, size_t capacity,
         Factory recreate = {});
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Queues a job, blocking while the queue is full. Returns its id. Throws ClosedError once
    // close() has started.
    uint64_t submit(PoolJob job);
    // Removes a job that has not started yet and returns it (its finish is not called), or
    // an empty job (no finish) when it already started or finished.
    PoolJob cancel(uint64_t id);

    // Stops taking jobs, lets the workers finish every queued and running job, joins them and
    // closes every session. Idempotent; must not be called from a worker (logic_error).
    void close();
    bool closed() const;

    size_t size() const { return workers_.size(); }
    std::vector<int> cores() const { return cores_; }
    size_t queued() const;
    size_t running() const;
    std::vector<PoolContextStats> stats() const;
    // Per core (as given in `cores`): nanoseconds during which at least one of its contexts was
    // inside a run (syncs + rknn_run). With several contexts per core their runs overlap in
    // time (one waits for the core), so this, not the sum of the contexts' busy_ns, is how
    // long the core had work.
    std::vector<std::pair<int, int64_t>> core_busy_ns() const;
    // The current session of context i (it changes when the context is re-created).
    std::shared_ptr<Session> session(size_t i) const;

    // Fatal codes: the context is re-created after them.
    static bool is_fatal(int code);

  private:
    struct Queued {
        uint64_t id;
        PoolJob job;
    };
    void work(size_t index);
    void run_one(size_t index, PoolJob& job);

    mutable std::mutex mutex_;
    std::condition_variable has_job_, has_room_;
    std::deque<Queued> queue_;
    size_t capacity_;
    size_t running_ = 0;
    uint64_t next_id_ = 1;
    bool closing_ = false;
    bool joined_ = false;
    std::mutex close_mutex_;  // serialises close()
    std::vector<std::shared_ptr<Session>> sessions_;  // guarded by mutex_
    std::vector<int> cores_;
    std::vector<PoolContextStats> stats_;             // guarded by mutex_
    std::vector<size_t> latency_pos_;                 // ring position per context
    struct CoreBusy {
        int core = -1;
        int active = 0;
        int64_t since_ns = 0;
        int64_t busy_ns = 0;
    };
    std::vector<CoreBusy> core_busy_;                 // guarded by mutex_
    std::vector<size_t> core_slot_;                   // context -> index in core_busy_
    void run_started(size_t index);
    void run_ended(size_t index);
    Factory recreate_;
    std::vector<std::thread> workers_;
};

}  // namespace rknn_fast::runtime
