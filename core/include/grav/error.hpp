#pragma once
// Errors that carry a reason, and Result<T>: what every fallible call returns.
// Nothing in grav throws across the bus; callers get a value or an Error.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace grav {

enum class Errc : std::uint8_t {
    timeout,           // nothing arrived before the deadline
    closed,            // the bus (or pod) is stopped
    disconnected,      // the pod was disconnected (by the user or by the bus)
    no_peer,           // no peer offers the capability / peer unknown
    rejected,          // a peer or the mailbox policy refused the message
    invalid_argument,  // bad input from the caller
    handler_failed,    // a handler returned failure or threw
    not_wanted,        // a wait_on handler declines a message and keeps waiting
    decode_failed,     // bytes that do not decode as what was asked for
    transport_failed,  // the network layer could not do it
};

const char* to_string(Errc code) noexcept;

class Error {
public:
    Error(Errc code, std::string reason) : code_(code), reason_(std::move(reason)) {}
    [[nodiscard]] Errc code() const noexcept { return code_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    // "timeout: no reply to 5f0c... within 1000 ms"
    [[nodiscard]] std::string what() const { return std::string(to_string(code_)) + ": " + reason_; }
    // Equal when code and reason are.
    friend bool operator==(const Error&, const Error&) = default;

private:
    Errc code_;
    std::string reason_;
};

// Thrown only on misuse, alike by every Result (Status too): value() of
// an error (the error's what()), or error() of a success.
class BadResultAccess : public std::logic_error {
public:
    explicit BadResultAccess(const Error& e) : std::logic_error(e.what()) {}
    explicit BadResultAccess(const char* what) : std::logic_error(what) {}
};

namespace detail {
[[noreturn]] inline void throw_error_of_success() {
    throw BadResultAccess("error() of a success: ask ok() first");
}
}  // namespace detail

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & {
        check();
        return std::get<0>(v_);
    }
    const T& value() const& {
        check();
        return std::get<0>(v_);
    }
    T&& value() && {
        check();
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    [[nodiscard]] const Error& error() const {
        if (ok()) detail::throw_error_of_success();
        return std::get<1>(v_);
    }

private:
    void check() const {
        if (!ok()) throw BadResultAccess(std::get<1>(v_));
    }
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    [[nodiscard]] bool ok() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] const Error& error() const {
        if (ok()) detail::throw_error_of_success();
        return *error_;
    }

private:
    std::optional<Error> error_;
};

using Status = Result<void>;

inline Status success() { return {}; }
inline Error failure(std::string reason) { return {Errc::handler_failed, std::move(reason)}; }
// Returned by a wait_on / wait_until handler to skip a message and keep waiting.
inline Error not_wanted() { return {Errc::not_wanted, "message not wanted"}; }

}  // namespace grav
