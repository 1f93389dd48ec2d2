#include "posix/shared_wait.h"

#include "posix/futex.h"

namespace ipc::internal {

void WaitOnWord(std::atomic<uint32_t>& waiters, std::atomic<uint32_t>& word,
                uint32_t observed, Deadline deadline) {
  const Deadline slice = Deadline::After(kWaitSlice);
  const Deadline until =
      deadline.is_infinite() || deadline.when() > slice.when() ? slice : deadline;
  // Announced before sleeping, and the kernel re-checks word == observed, so
  // a waker that changes word and then reads waiters never misses us.
  waiters.fetch_add(1, std::memory_order_seq_cst);
  FutexWait(&word, observed, until);
  waiters.fetch_sub(1, std::memory_order_seq_cst);
}

void WakeWord(std::atomic<uint32_t>& waiters, std::atomic<uint32_t>& word, int count) {
  if (waiters.load(std::memory_order_seq_cst) > 0) FutexWake(&word, count);
}

}  // namespace ipc::internal
