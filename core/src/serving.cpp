#include "serving.hpp"

namespace grav::detail {
namespace {
thread_local bool t_serving = false;
}  // namespace

bool serving_a_wait() noexcept { return t_serving; }

ServingAWait::ServingAWait() noexcept : previous_(t_serving) { t_serving = true; }

ServingAWait::~ServingAWait() { t_serving = previous_; }

}  // namespace grav::detail
