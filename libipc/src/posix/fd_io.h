// Deadline-aware waits and the few descriptor helpers every transport needs.
// All of them retry on EINTR and never raise SIGPIPE.
#ifndef IPC_SRC_POSIX_FD_IO_H_
#define IPC_SRC_POSIX_FD_IO_H_

#include <poll.h>

#include <string_view>

#include "ipc/deadline.h"
#include "ipc/status.h"

namespace ipc::internal {

// Waits until fd reports one of events (POLLIN/POLLOUT); POLLHUP and POLLERR
// also end the wait, since the next I/O call will report them. Returns
// deadline.ExpiredStatus(what) when the deadline passes first.
Status WaitFd(int fd, short events, Deadline deadline, std::string_view what);

// Sets O_NONBLOCK (and FD_CLOEXEC when cloexec) on fd.
Status SetNonBlocking(int fd, std::string_view what);
Status SetCloseOnExec(int fd, bool on, std::string_view what);

// Sleeps until the deadline or for `step`, whichever is first. Used only
// while waiting for a peer to appear (connect retries), never to hide a race.
void SleepForRetry(Deadline deadline, int step_ms);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_FD_IO_H_
