#include "posix/futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace ipc::internal {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

FutexResult FutexWait(std::atomic<uint32_t>* word, uint32_t expected,
                      Deadline deadline) {
  timespec abs{};
  const timespec* timeout = nullptr;
  if (!deadline.is_infinite()) {
    if (deadline.is_non_blocking() || deadline.Expired()) return FutexResult::kTimedOut;
    const auto since_epoch = deadline.when().time_since_epoch();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
    abs.tv_sec = static_cast<time_t>(ns / 1000000000);
    abs.tv_nsec = static_cast<long>(ns % 1000000000);
    timeout = &abs;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout; not
  // FUTEX_PRIVATE_FLAG, since the word is shared between processes.
  const long rc = ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word),
                            FUTEX_WAIT_BITSET, expected, timeout, nullptr,
                            FUTEX_BITSET_MATCH_ANY);
  if (rc == 0) return FutexResult::kWoken;
  switch (errno) {
    case EAGAIN: return FutexResult::kValueChanged;
    case ETIMEDOUT: return FutexResult::kTimedOut;
    default: return FutexResult::kInterrupted;
  }
}

void FutexWake(std::atomic<uint32_t>* word, int count) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, count,
            nullptr, nullptr, 0);
}

}  // namespace ipc::internal
