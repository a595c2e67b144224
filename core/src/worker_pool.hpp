#pragma once
// The shared pool that runs pod handlers. Pods, not messages, are scheduled:
// a pod with mail is queued once and drains a batch per turn, so delivery to
// one pod stays in order and never concurrent while different pods run in
// parallel on a handful of threads (ten thousand pods, two threads).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace grav::detail {

class Task {
public:
    virtual ~Task() = default;
    virtual void run() = 0;
};

class WorkerPool {
public:
    explicit WorkerPool(std::size_t threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void schedule(std::shared_ptr<Task> task);
    // Stops taking tasks, lets running ones finish, joins the threads (a
    // worker that calls stop() itself is detached instead: it only touches
    // shared state it co-owns). Queued tasks are dropped. Idempotent.
    void stop();

    [[nodiscard]] std::size_t size() const noexcept { return threads_.size(); }
    // True when a task waits for a worker (read without the lock: a hint).
    [[nodiscard]] bool has_queued() const noexcept {
        return shared_->queued.load(std::memory_order_acquire) > 0;
    }
    // True on a thread of this pool.
    [[nodiscard]] bool is_own_thread() const noexcept;
    // True on a thread of any grav pool (a handler is running).
    [[nodiscard]] static bool on_worker_thread() noexcept;

private:
    struct Shared {
        std::mutex mutex;
        std::condition_variable wake;
        std::deque<std::shared_ptr<Task>> queue;
        std::size_t sleepers = 0;
        std::size_t spinners = 0;            // workers spinning for a task: they take the next one unwoken
        std::atomic<std::size_t> queued{0};  // queue.size(), for spinning without the lock
        bool stopping = false;
    };
    static void loop(const std::shared_ptr<Shared>& shared);

    std::shared_ptr<Shared> shared_;
    std::vector<std::thread> threads_;
    std::mutex stop_mutex_;
};

}  // namespace grav::detail
