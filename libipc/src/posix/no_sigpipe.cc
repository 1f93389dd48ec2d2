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
  // SIGPIPE is thread-directed for the writing thread, so blocking it here
  // and draining it on EPIPE keeps it away from the rest of the process.
  sigset_t pipe_only, old_mask;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  sigset_t pending;
  sigemptyset(&pending);
  const bool was_pending = sigpending(&pending) == 0 &&
                           sigismember(&pending, SIGPIPE) == 1;
  const ssize_t n = ::writev(fd, iov, count);
  const int saved_errno = errno;
  if (n < 0 && saved_errno == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved_errno;
  return n;
}

}  // namespace ipc::internal
