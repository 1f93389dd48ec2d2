// WaitOnWord / WakeWord: the one futex wait of libipc's synchronization
// objects (Event, Semaphore, Condition, Barrier, Queue).
//
// The rule every caller follows: a wait never depends on a wake-up that
// another process must send. A waker may be killed between its commit (the
// store that changes the shared state) and its wake-up call, and then no
// one sends it. So WaitOnWord sleeps at most kWaitSlice; callers loop and
// re-check their state (and take their lock, which runs the robust-mutex
// repair of a holder that died) after every return. The normal path is
// unchanged: a waker that lives wakes sleepers at once; the slice only
// bounds how long a missed wake-up can cost.
//
// Thread safety: any thread of any process that maps the words.
#ifndef IPC_SRC_POSIX_SHARED_WAIT_H_
#define IPC_SRC_POSIX_SHARED_WAIT_H_

#include <atomic>
#include <chrono>
#include <cstdint>

#include "ipc/deadline.h"

namespace ipc::internal {

// The longest one sleep lasts. Short enough that a lost wake-up costs a
// waiter little; long enough that idle waiters cost nothing measurable (one
// futex call each per slice).
inline constexpr std::chrono::milliseconds kWaitSlice{20};

// Sleeps while word == observed, at most until the deadline or kWaitSlice
// from now, whichever is first. Announces the sleeper in waiters for
// WakeWord. A process killed here leaves waiters one too high, which only
// costs a needless wake-up call later. Returns without telling why:
// callers re-check their state, and their deadline, in a loop.
void WaitOnWord(std::atomic<uint32_t>& waiters, std::atomic<uint32_t>& word,
                uint32_t observed, Deadline deadline);

// Wakes up to count sleepers on word; no system call when waiters is 0.
// REQUIRES: the caller changed word (or the state its sleepers re-check)
// with a seq_cst store before calling, so a sleeper announced after that
// store sees the change in the kernel's re-check of word.
void WakeWord(std::atomic<uint32_t>& waiters, std::atomic<uint32_t>& word, int count);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_SHARED_WAIT_H_
