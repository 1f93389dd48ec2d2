// A counter that a pthread_atfork handler bumps in every child, so objects
// whose shared state must not be driven from two processes at once (an shm
// channel's ring ends) can tell, with one relaxed load, that they were
// inherited across fork() and refuse to be used there.
#ifndef IPC_SRC_POSIX_FORK_GENERATION_H_
#define IPC_SRC_POSIX_FORK_GENERATION_H_

#include <cstdint>

namespace ipc::internal {

// The number of fork()s between the process's start and now, along its
// ancestry. Thread-safe.
uint64_t ForkGeneration();

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_FORK_GENERATION_H_
