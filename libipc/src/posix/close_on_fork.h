// Descriptors that a forked child must not keep: in the child, each one
// registered here is replaced by a descriptor of /dev/null (same number, so
// an owner's later close() stays harmless) before fork() returns.
//
// Why: a channel end's liveness is a socket whose hang-up tells the peer
// that this end's process is gone. A child that inherited the socket would
// keep it open and hide its parent's death until the child exits. Linux has
// no O_CLOFORK, so pthread_atfork does the job for fork(); exec is covered
// by close-on-exec. A descriptor created by another thread and not yet
// registered when fork() runs is still inherited: register right after
// creating it.
//
// Thread safety: all functions may be called from any thread.
#ifndef IPC_SRC_POSIX_CLOSE_ON_FORK_H_
#define IPC_SRC_POSIX_CLOSE_ON_FORK_H_

namespace ipc::internal {

// Marks fd to be replaced in forked children. Idempotent per fd.
void RegisterCloseOnFork(int fd);
// Forgets fd (call before closing it).
void UnregisterCloseOnFork(int fd);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_CLOSE_ON_FORK_H_
