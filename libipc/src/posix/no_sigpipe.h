// Writes that never raise SIGPIPE: a write to a pipe or FIFO whose reader is
// gone returns EPIPE to the caller instead of killing the process.
#ifndef IPC_SRC_POSIX_NO_SIGPIPE_H_
#define IPC_SRC_POSIX_NO_SIGPIPE_H_

#include <sys/types.h>
#include <sys/uio.h>

namespace ipc::internal {

// writev(2) for sockets (MSG_NOSIGNAL, plus MSG_DONTWAIT when dont_wait)
// and for pipes/FIFOs (SIGPIPE blocked in this thread for the call, and a
// SIGPIPE it caused is consumed; dont_wait is ignored: their descriptors are
// non-blocking already). Returns what writev returns; errno as writev sets it.
ssize_t WritevNoSigpipe(int fd, bool is_socket, bool dont_wait,
                        const iovec* iov, int count);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_NO_SIGPIPE_H_
