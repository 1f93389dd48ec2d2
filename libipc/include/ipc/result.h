// ipc::Result<T>: either a T or the Status that explains why there is none.
//
//   ipc::Result<ipc::Channel> ch = ipc::Connect("unix:///run/app.sock");
//   if (!ch.ok()) { std::cerr << ch.status() << "\n"; return 1; }
//   ch->Send("hello");
//
// For callers who prefer exceptions, value() on an error throws ipc::Error.
//
// Thread safety: a plain value, like the T it holds.
#ifndef IPC_RESULT_H_
#define IPC_RESULT_H_

#include <cassert>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "ipc/status.h"

namespace ipc {

// Thrown only by Result<T>::value() on an error, never by libipc itself.
class Error : public std::runtime_error {
 public:
  explicit Error(Status status)
      : std::runtime_error(status.ToString()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok(). An OK status without a value is a bug; it is
  // turned into kInternal rather than left as an empty success.
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit
    if (status_.ok()) {
      status_ = Status(ErrorCode::kInternal, "Result built from OK status");
    }
  }
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit

  template <typename U>
    requires(std::is_constructible_v<T, U &&> &&
             !std::is_same_v<std::remove_cvref_t<U>, T> &&
             !std::is_same_v<std::remove_cvref_t<U>, Status>)
  Result(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT: implicit

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Throws ipc::Error if !ok().
  T& value() & {
    ThrowIfError();
    return *value_;
  }
  const T& value() const& {
    ThrowIfError();
    return *value_;
  }
  T&& value() && {
    ThrowIfError();
    return std::move(*value_);
  }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

  // REQUIRES: ok().
  T& operator*() & {
    assert(ok());
    return *value_;
  }
  const T& operator*() const& {
    assert(ok());
    return *value_;
  }
  T&& operator*() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() {
    assert(ok());
    return &*value_;
  }
  const T* operator->() const {
    assert(ok());
    return &*value_;
  }

 private:
  void ThrowIfError() const {
    if (!ok()) throw Error(status_);
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace ipc

// Early return on error, for applications as for libipc (public):
//   IPC_RETURN_IF_ERROR(channel.Send("x"));          // returns the Status
//   IPC_ASSIGN_OR_RETURN(auto ch, ipc::Connect(url));  // returns its status
// The caller must return Status or a Result. Names ending in '_' are the
// macros' own machinery, not for use.
#define IPC_CONCAT_INNER_(a, b) a##b
#define IPC_CONCAT_(a, b) IPC_CONCAT_INNER_(a, b)

#define IPC_RETURN_IF_ERROR(expr) \
  IPC_RETURN_IF_ERROR_IMPL_(IPC_CONCAT_(ipc_status_, __LINE__), expr)
#define IPC_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                          \
    ::ipc::Status status = (expr);              \
    if (!status.ok()) return status;            \
  } while (0)

#define IPC_ASSIGN_OR_RETURN(lhs, expr) \
  IPC_ASSIGN_OR_RETURN_IMPL_(IPC_CONCAT_(ipc_result_, __LINE__), lhs, expr)
#define IPC_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                               \
  if (!result.ok()) return result.status();           \
  lhs = std::move(*result)

#endif  // IPC_RESULT_H_
