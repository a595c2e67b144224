#include "room_wait.hpp"

#include "worker_pool.hpp"

namespace grav::detail {
namespace {
thread_local bool t_running_the_loop = false;
}  // namespace

RunningTheLoop::RunningTheLoop() noexcept : previous_(t_running_the_loop) { t_running_the_loop = true; }

RunningTheLoop::~RunningTheLoop() { t_running_the_loop = previous_; }

// The two counters are sequentially consistent, and a room waiter counts
// itself before it asks may_wait_for_room: so either the claim sees the
// waiter (and wakes it through the mailbox's lock, which the waiter holds
// until it sleeps) or the waiter sees the claim and does not sleep.
WantingTheLoop::WantingTheLoop(LoopClaims& claims) noexcept : claims_(claims) {
    claims_.wanted.fetch_add(1);
    release_ = claims_.waiting_for_room.load() > 0;
}

WantingTheLoop::~WantingTheLoop() { claims_.wanted.fetch_sub(1); }

bool may_wait_for_room(const LoopClaims& claims) noexcept {
    if (WorkerPool::on_worker_thread()) return false;
    return !t_running_the_loop || claims.wanted.load() == 0;
}

WaitingForRoom::WaitingForRoom(LoopClaims& claims) noexcept
    : counted_(t_running_the_loop ? &claims : nullptr) {
    if (counted_) counted_->waiting_for_room.fetch_add(1);
}

WaitingForRoom::~WaitingForRoom() {
    if (counted_) counted_->waiting_for_room.fetch_sub(1);
}

}  // namespace grav::detail
