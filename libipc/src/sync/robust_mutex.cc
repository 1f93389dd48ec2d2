#include "sync/robust_mutex.h"

#include <cerrno>
#include <ctime>

// A ThreadSanitizer build (GCC defines the first, clang has the second).
#if defined(__SANITIZE_THREAD__)
#define IPC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IPC_TSAN 1
#endif
#endif
#ifndef IPC_TSAN
#define IPC_TSAN 0
#endif
#if IPC_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace ipc::internal {
namespace {

int TimedLock(pthread_mutex_t* m, Deadline deadline) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      deadline.when().time_since_epoch()).count();
  const timespec abs{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
#if IPC_TSAN
  // ThreadSanitizer's runtime (GCC 12's, clang 14's) does not intercept
  // pthread_mutex_clocklock: unannotated, it would not see this lock taken,
  // would miss the happens-before edge the lock makes, and would report the
  // unlock as one of an unlocked mutex. So the call is annotated as a
  // try-lock (no deadlock check before it); like TSan's own interceptors,
  // the annotation counts EOWNERDEAD as acquired.
  __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
  const int rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &abs);
  __tsan_mutex_post_lock(m,
                         rc == 0 || rc == EOWNERDEAD
                             ? __tsan_mutex_try_lock
                             : __tsan_mutex_try_lock | __tsan_mutex_try_lock_failed,
                         0);
  return rc;
#else
  return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &abs);
#endif
}

}  // namespace

void InitRobustMutex(pthread_mutex_t* m, bool recursive) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&attr, recursive ? PTHREAD_MUTEX_RECURSIVE
                                             : PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
}

int LockRobustMutex(pthread_mutex_t* m, Deadline deadline) {
  if (deadline.is_infinite()) return pthread_mutex_lock(m);
  if (deadline.is_non_blocking()) return pthread_mutex_trylock(m);
  return TimedLock(m, deadline);
}

}  // namespace ipc::internal
