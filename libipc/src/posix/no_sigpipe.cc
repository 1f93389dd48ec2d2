#include "posix/no_sigpipe.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>

namespace ipc::internal {

ssize_t WritevNoSigpipe(int fd, bool is_socket, bool dont_wait,
                        const iovec* iov, int count) {
  if (is_socket) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = count;
    return ::sendmsg(fd, &msg, MSG_NOSIGNAL | (dont_wait ? MSG_DONTWAIT : 0));
  }
  ScopedNoSigpipe no_sigpipe;
  return ::writev(fd, iov, count);
}

// SIGPIPE is thread-directed for the writing thread, so blocking it here
// and draining it afterwards keeps it away from the rest of the process.
ScopedNoSigpipe::ScopedNoSigpipe() {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
  sigset_t pending;
  sigemptyset(&pending);
  was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

ScopedNoSigpipe::~ScopedNoSigpipe() {
  const int saved_errno = errno;
  if (!was_pending_) {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  errno = saved_errno;
}

}  // namespace ipc::internal
