#include "posix/fd_io.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

namespace ipc::internal {

Status WaitFd(int fd, short events, Deadline deadline, std::string_view what) {
  pollfd pfd{fd, events, 0};
  for (;;) {
    const int timeout_ms = deadline.PollTimeoutMs();
    const int n = ::poll(&pfd, 1, timeout_ms);
    if (n > 0) return Status::Ok();
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(std::string(what) + ": poll", errno);
    }
    // poll rounds up to whole milliseconds, so a zero return means the
    // deadline has passed (or was Now()) unless it is infinite.
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return deadline.ExpiredStatus(what);
    }
  }
}

Status SetNonBlocking(int fd, std::string_view what) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return ErrnoStatus(std::string(what) + ": fcntl(O_NONBLOCK)", errno);
  }
  return Status::Ok();
}

Status SetCloseOnExec(int fd, bool on, std::string_view what) {
  const int flags = ::fcntl(fd, F_GETFD);
  const int wanted = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  if (flags < 0 || ::fcntl(fd, F_SETFD, wanted) < 0) {
    return ErrnoStatus(std::string(what) + ": fcntl(FD_CLOEXEC)", errno);
  }
  return Status::Ok();
}

void SleepForRetry(Deadline deadline, int step_ms) {
  int ms = step_ms;
  if (!deadline.is_infinite()) ms = std::min(ms, deadline.PollTimeoutMs());
  if (ms > 0) ::poll(nullptr, 0, ms);
}

}  // namespace ipc::internal
