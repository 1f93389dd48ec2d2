// Writes that never raise SIGPIPE: a write to a pipe or FIFO whose reader is
// gone returns EPIPE to the caller instead of killing the process.
#ifndef IPC_SRC_POSIX_NO_SIGPIPE_H_
#define IPC_SRC_POSIX_NO_SIGPIPE_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/uio.h>

namespace ipc::internal {

// writev(2) for sockets (MSG_NOSIGNAL, plus MSG_DONTWAIT when dont_wait)
// and for pipes/FIFOs (SIGPIPE blocked in this thread for the call, and a
// SIGPIPE it caused is consumed; dont_wait is ignored: their descriptors are
// non-blocking already). Returns what writev returns; errno as writev sets it.
ssize_t WritevNoSigpipe(int fd, bool is_socket, bool dont_wait,
                        const iovec* iov, int count);

// For writes made by code that cannot pass MSG_NOSIGNAL (a library's own
// write(2)): while it lives, SIGPIPE is blocked in this thread, and one
// that the writes raised is consumed when it ends (one already pending
// before is left alone), so a peer that hung up gives EPIPE, not death.
class ScopedNoSigpipe {
 public:
  ScopedNoSigpipe();
  ~ScopedNoSigpipe();
  ScopedNoSigpipe(const ScopedNoSigpipe&) = delete;
  ScopedNoSigpipe& operator=(const ScopedNoSigpipe&) = delete;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_NO_SIGPIPE_H_
