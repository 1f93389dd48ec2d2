#include "ipc/deadline.h"

#include <climits>
#include <string>

namespace ipc {

Deadline::Clock::time_point Deadline::FromTimeout(Clock::duration timeout) {
  if (timeout <= Clock::duration::zero()) return Clock::time_point::min();
  const Clock::time_point now = Clock::now();
  if (timeout >= Clock::time_point::max() - now) return Clock::time_point::max();
  return now + timeout;
}

int Deadline::PollTimeoutMs() const {
  if (is_infinite()) return -1;
  if (is_non_blocking()) return 0;
  const auto left = when_ - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Round up so that a wake-up never comes just before the deadline.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

Status Deadline::ExpiredStatus(std::string_view what) const {
  std::string message(what);
  if (is_non_blocking()) {
    message += ": would block";
    return Status(ErrorCode::kWouldBlock, std::move(message));
  }
  message += ": deadline exceeded";
  return Status(ErrorCode::kDeadlineExceeded, std::move(message));
}

}  // namespace ipc
