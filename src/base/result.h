// Result<T>: the single error-carrying return type of op-dbus.
// Invariants: every fallible function returns Result<T>; an Error always has a code and a
// human-readable message; context entries are prepended from the innermost to the outermost
// caller so the message reads "outer: inner: cause". Nothing outside this file names the
// underlying expected implementation.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <tl/expected.hpp>

namespace opdbus {

enum class ErrorCode {
  invalid_input,  // the user's input is wrong (state file, arguments)
  not_found,      // a named object does not exist
  io,             // filesystem or socket error
  kernel,         // the kernel (netlink) refused a request
  unavailable,    // a subsystem or protocol is not available on this host
  verify_failed,  // the host did not reach the desired state
  conflict,       // another operation holds the state (lock, pending checkpoint)
  internal,       // a bug in op-dbus
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::vector<std::string> context;

  // Adds an outer layer of context ("while applying net") to the message.
  Error&& with_context(std::string what) && {
    context.insert(context.begin(), std::move(what));
    return std::move(*this);
  }
  std::string describe() const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> make_failure(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return make_failure(Error{code, std::move(message), {}});
}

template <typename... Args>
tl::unexpected<Error> fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return fail(code, fmt::format(format, std::forward<Args>(args)...));
}

inline Status ok() {
  return {};
}

// Wraps an error from a lower layer with context before propagating it.
template <typename T>
Result<T> with_context(Result<T> result, std::string what) {
  if (!result) return make_failure(std::move(result).error().with_context(std::move(what)));
  return result;
}

namespace detail {
// The value of a successful Result, moved out (nothing for Status); used by TRY.
template <typename R>
typename std::decay_t<R>::value_type take_value(R&& result) {
  if constexpr (!std::is_void_v<typename std::decay_t<R>::value_type>) return std::move(*result);
}
}  // namespace detail

}  // namespace opdbus

// TRY(expr): evaluates a Result; on error returns it from the enclosing function, otherwise
// yields the value (or nothing for Status). Each expansion gets its own variable name, so TRYs
// may nest (a TRY inside a lambda inside a TRY).
#define OPDBUS_CONCAT_INNER(a, b) a##b
#define OPDBUS_CONCAT(a, b) OPDBUS_CONCAT_INNER(a, b)
#define OPDBUS_TRY_IMPL(expr, name)                                    \
  __extension__({                                                      \
    auto&& name = (expr);                                              \
    if (!name) return ::opdbus::make_failure(std::move(name).error()); \
    ::opdbus::detail::take_value(std::move(name));                     \
  })
#define TRY(expr) OPDBUS_TRY_IMPL(expr, OPDBUS_CONCAT(try_result_, __COUNTER__))
