#include "failure_replay.hpp"

#include "type_filter.hpp"

#include <exception>
#include <string>

namespace grav::detail {

Status invoke_handler(const Handler& fn, const Message& m) noexcept {
    try {
        return fn(m);
    } catch (const std::exception& e) {
        return Error(Errc::handler_failed, std::string("handler threw: ") + e.what());
    } catch (...) {
        return Error(Errc::handler_failed, "handler threw a non-standard exception");
    }
}

FailureReplay::Outcome FailureReplay::replay(const TypeFilter& filter, const Handler& handler) {
    Outcome out;
    std::size_t done = 0;  // kept messages settled from the front
    for (; done < failed_.size(); ++done) {
        const Message& retry = *failed_[done];
        if (!filter.matches(retry.type())) {
            ++out.dropped;
            continue;
        }
        if (!invoke_handler(handler, retry).ok()) {
            ++out.failed;
            break;
        }
        ++out.redelivered;
    }
    failed_.erase(failed_.begin(), failed_.begin() + static_cast<std::ptrdiff_t>(done));
    return out;
}

std::size_t FailureReplay::clear() noexcept {
    const std::size_t n = failed_.size();
    failed_.clear();
    return n;
}

}  // namespace grav::detail
