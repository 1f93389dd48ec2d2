// ipc::Status: the outcome of an operation, as a value.
//
// No exception leaves libipc. Every fallible call returns a Status (or a
// Result<T>, see result.h) carrying an ErrorCode, the errno that caused it (0
// if none) and a message that names what failed and on which URL or name:
//
//   unix:///run/app.sock: connect: No such file or directory
//
// Expected outcomes (a deadline that expired, a non-blocking call that would
// block, a peer that went away) are codes like any other, so callers can
// branch on code() instead of parsing text.
//
// Thread safety: a Status is a plain value; distinct objects may be used from
// distinct threads freely.
#ifndef IPC_STATUS_H_
#define IPC_STATUS_H_

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace ipc {

// Which code to use:
//   kInvalidArgument   the caller's input is wrong (bad URL, bad option value).
//   kNotFound          the named object or peer does not exist (yet).
//   kPermissionDenied  the object exists but its permissions refuse us.
//   kAddressInUse      the name/address is taken by a live owner.
//   kDeadlineExceeded  a blocking call's deadline passed before it completed.
//   kWouldBlock        a non-blocking call could not complete right now.
//   kClosed            the peer closed or died, or the object was closed.
//   kMessageTooLarge   a message exceeds max_message (sender or receiver side).
//   kProtocolError     bytes arrived that do not follow the wire format.
//   kUnsupported       the transport cannot do this (e.g. Send on a one-way
//                      receive end).
//   kResourceExhausted a system or configured limit is reached.
//   kFull, kEmpty      a queue had no room / nothing to give before the
//                      deadline (Python's queue.Full / queue.Empty).
//   kOwnerDead         a lock's holder died while Condition::Wait waited:
//                      the lock is held, repair the state and mark it
//                      consistent. (Mutex::Acquire and Lock report a dead
//                      previous holder beside an OK result instead.)
//   kNotRecoverable    a lock whose owner died was released without being
//                      marked consistent; it can no longer be used.
//   kInternal          anything else: an unexpected system error.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kPermissionDenied,
  kAddressInUse,
  kDeadlineExceeded,
  kWouldBlock,
  kClosed,
  kMessageTooLarge,
  kProtocolError,
  kUnsupported,
  kResourceExhausted,
  kFull,
  kEmpty,
  kOwnerDead,
  kNotRecoverable,
  kInternal,
};

// The code's name without the leading 'k', e.g. "DeadlineExceeded".
std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  // An OK status. Cheap: no allocation.
  Status() = default;
  Status(ErrorCode code, std::string message, int sys_errno = 0);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  ErrorCode code() const { return rep_ ? rep_->code : ErrorCode::kOk; }
  // The errno behind the failure, or 0.
  int sys_errno() const { return rep_ ? rep_->sys_errno : 0; }
  // What failed, without the code name; empty when ok().
  const std::string& message() const;
  // "DeadlineExceeded: tcp://127.0.0.1:80: connect timed out", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with "context: ".
  Status WithContext(std::string_view context) const;

 private:
  struct Rep {
    ErrorCode code;
    int sys_errno;
    std::string message;
  };
  // Null when OK, so success costs one pointer and no allocation.
  std::unique_ptr<Rep> rep_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

// For applications' own system calls, so their failures read like
// libipc's (the examples use it after fork, exec and the like): public.

// Maps an errno value to the ErrorCode callers should see, e.g. ENOENT to
// kNotFound, EPIPE to kClosed, EAGAIN to kWouldBlock.
ErrorCode ErrorCodeFromErrno(int sys_errno);

// "<context>: <strerror(sys_errno)>", with the code chosen by
// ErrorCodeFromErrno.
Status ErrnoStatus(std::string_view context, int sys_errno);

}  // namespace ipc

#endif  // IPC_STATUS_H_
