// Process-shared futex wait/wake on a 32-bit word in shared memory.
#ifndef IPC_SRC_POSIX_FUTEX_H_
#define IPC_SRC_POSIX_FUTEX_H_

#include <atomic>
#include <cstdint>

#include "ipc/deadline.h"

namespace ipc::internal {

enum class FutexResult { kWoken, kValueChanged, kTimedOut, kInterrupted };

// Sleeps while *word == expected, until woken or the deadline (absolute,
// CLOCK_MONOTONIC, which is what std::chrono::steady_clock reads on Linux).
// Spurious wake-ups are possible: callers re-check their condition.
FutexResult FutexWait(std::atomic<uint32_t>* word, uint32_t expected,
                      Deadline deadline);

// Wakes up to count sleepers on word.
void FutexWake(std::atomic<uint32_t>* word, int count);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_FUTEX_H_
