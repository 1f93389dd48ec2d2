#include "ipc/status.h"

#include <cerrno>
#include <cstring>

namespace ipc {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kAddressInUse: return "AddressInUse";
    case ErrorCode::kDeadlineExceeded: return "DeadlineExceeded";
    case ErrorCode::kWouldBlock: return "WouldBlock";
    case ErrorCode::kClosed: return "Closed";
    case ErrorCode::kMessageTooLarge: return "MessageTooLarge";
    case ErrorCode::kProtocolError: return "ProtocolError";
    case ErrorCode::kUnsupported: return "Unsupported";
    case ErrorCode::kResourceExhausted: return "ResourceExhausted";
    case ErrorCode::kFull: return "Full";
    case ErrorCode::kEmpty: return "Empty";
    case ErrorCode::kOwnerDead: return "OwnerDead";
    case ErrorCode::kNotRecoverable: return "NotRecoverable";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Unknown";
}

Status::Status(ErrorCode code, std::string message, int sys_errno) {
  if (code != ErrorCode::kOk) {
    rep_.reset(new Rep{code, sys_errno, std::move(message)});
  }
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? new Rep(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_.reset(other.rep_ ? new Rep(*other.rep_) : nullptr);
  return *this;
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(ErrorCodeName(rep_->code));
  out += ": ";
  out += rep_->message;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += rep_->message;
  return Status(rep_->code, std::move(message), rep_->sys_errno);
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.ToString();
}

ErrorCode ErrorCodeFromErrno(int sys_errno) {
  switch (sys_errno) {
    case 0: return ErrorCode::kOk;
    case EINVAL: case ENAMETOOLONG: case EBADF: case ENOTDIR: case ELOOP:
    case EAFNOSUPPORT:
      return ErrorCode::kInvalidArgument;
    case ENOENT: case ENXIO: case ECONNREFUSED: case EHOSTUNREACH:
    case ENETUNREACH: case EADDRNOTAVAIL:
      return ErrorCode::kNotFound;
    case EACCES: case EPERM: case EROFS:
      return ErrorCode::kPermissionDenied;
    case EADDRINUSE: case EEXIST:
      return ErrorCode::kAddressInUse;
    case ETIMEDOUT:
      return ErrorCode::kDeadlineExceeded;
    case EAGAIN:
      return ErrorCode::kWouldBlock;
    case EPIPE: case ECONNRESET: case ECONNABORTED: case ENOTCONN:
    case ESHUTDOWN:
      return ErrorCode::kClosed;
    case EMSGSIZE:
      return ErrorCode::kMessageTooLarge;
    case ENOSPC: case ENOMEM: case EMFILE: case ENFILE: case ENOBUFS:
    case EDQUOT: case EFBIG:
      return ErrorCode::kResourceExhausted;
    case ENOSYS: case EOPNOTSUPP: case EPROTONOSUPPORT:
      return ErrorCode::kUnsupported;
    case EOWNERDEAD:
      return ErrorCode::kOwnerDead;
    case ENOTRECOVERABLE:
      return ErrorCode::kNotRecoverable;
    default:
      return ErrorCode::kInternal;
  }
}

Status ErrnoStatus(std::string_view context, int sys_errno) {
  std::string message(context);
  message += ": ";
  message += std::strerror(sys_errno);
  return Status(ErrorCodeFromErrno(sys_errno), std::move(message), sys_errno);
}

}  // namespace ipc
