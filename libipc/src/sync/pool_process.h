// Starting and ending the worker processes of an ipc::Pool.
#ifndef IPC_SRC_SYNC_POOL_PROCESS_H_
#define IPC_SRC_SYNC_POOL_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "ipc/channel.h"
#include "ipc/result.h"
#include "posix/unique_fd.h"

namespace ipc::internal {

struct ForkedWorker {
  pid_t pid;
  // Readable once the worker has exited. Its socket alone cannot tell: any
  // process forked while the child's end was open (by another thread, or
  // by a task) keeps that end open after the worker dies. Signalling and
  // reaping through it never touch another process that reuses the pid.
  UniqueFd pidfd;
  Channel channel;  // The parent's end; pass it to CloseWorkerChannel.
};

// Forks a process that runs RunPoolWorker (pool_worker.h) at the other end
// of a new socketpair whose messages may reach max_frame bytes.
Result<ForkedWorker> ForkPoolWorker(const std::function<Status()>& initializer,
                                    uint64_t secret, size_t max_frame);

// Closes the parent's end of a worker's channel.
void CloseWorkerChannel(Channel& channel);

// SIGKILLs the worker whose pidfd this is, unless it was reaped already.
void KillWorker(int pidfd);

// SIGKILLs the worker (one already exiting keeps its own status) and reaps
// it, so that a worker which closed its socket but lives cannot make this
// hang. Says how it ended: "pool worker 1234 was killed by signal 9
// (SIGKILL)", "pool worker 1234 exited with status 3".
std::string KillAndReap(pid_t pid, int pidfd);

}  // namespace ipc::internal

#endif  // IPC_SRC_SYNC_POOL_PROCESS_H_
