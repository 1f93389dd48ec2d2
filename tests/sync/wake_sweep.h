// KillAfterCommitSweep: a deterministic test that a waiter never depends on
// a wake-up its waker may die before sending.
//
// The waker's call runs in a child that is single-stepped under ptrace. The
// sweep runs the call once per kill point: it steps until the call's commit
// is visible (commit(), checked by the parent after every instruction),
// then j more instructions (j = 0, 1, 2, ... until the call returns first),
// and SIGKILLs it there. Meanwhile a waiter child, asleep before the call
// began, must finish with exit code 0 (it should check that it returned in
// well under its own deadline). Header-only, for tests/sync only.
#ifndef IPC_TESTS_SYNC_WAKE_SWEEP_H_
#define IPC_TESTS_SYNC_WAKE_SWEEP_H_

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <string>
#include <thread>

#include "support/test_util.h"

// The first statement of every test that runs KillAfterCommitSweep: under
// ThreadSanitizer the sweep is skipped. Every memory access of the stepped
// waker is a call into TSan's runtime, so it runs some 14,000 instructions
// before its commit (each one a ptrace round trip, 0.3 to 0.7 s in all),
// which the TSan stage cannot afford for every kill point. What the sweep
// looks for, a wake-up lost across processes, is nothing TSan can see; the
// normal and ASan stages run it.
#define IPC_SKIP_WAKE_SWEEP_UNDER_TSAN()                                  \
  if (::ipc::testing::kThreadSanitizer)                                   \
  GTEST_SKIP() << "kill-after-commit sweeps are not run under TSan "      \
                  "(tests/sync/wake_sweep.h)"

namespace ipc::testing {

// A child that runs body() between two raise(SIGSTOP)s, traced by us and
// advanced one instruction at a time.
class SteppedChild {
 public:
  explicit SteppedChild(const std::function<void()>& body) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      ::raise(SIGSTOP);
      body();
      ::raise(SIGSTOP);  // The end marker.
      _exit(0);
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);  // The first SIGSTOP.
    running_ = WIFSTOPPED(status);
  }
  ~SteppedChild() { Kill(); }
  SteppedChild(const SteppedChild&) = delete;
  SteppedChild& operator=(const SteppedChild&) = delete;

  // Executes one instruction of body; false once body has returned.
  bool Step() {
    if (!running_) return false;
    int status = 0;
    if (::ptrace(PTRACE_SINGLESTEP, pid_, nullptr, nullptr) != 0 ||
        ::waitpid(pid_, &status, 0) != pid_ || !WIFSTOPPED(status) ||
        WSTOPSIG(status) != SIGTRAP) {
      running_ = false;
    }
    return running_;
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    running_ = false;
  }

 private:
  pid_t pid_ = -1;
  bool running_ = false;
};

// 'S' while pid sleeps (in the kernel: for our waiters, a futex), 'Z' once
// it has exited; '?' if it is gone.
inline char ProcessState(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() ? '?' : line[paren + 2];
}

// Waits (up to 10 s) until pid has gone to sleep or exited.
inline void AwaitAsleep(pid_t pid) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < give_up) {
    const char state = ProcessState(pid);
    if (state == 'S' || state == 'Z' || state == '?') return;
    std::this_thread::yield();
  }
}

// When the waiter's wait() returned (steady clock, ns since its epoch; 0
// while it has not), in a page shared with the forked waiter. The sweep
// judges it against the moment it killed the waker, not against the
// waiter's start: single-stepping the waker up to its kill point takes
// thousands of ptrace round trips (seconds under ASan on a loaded machine),
// none of which is the waiter's to account for.
inline std::atomic<int64_t>& WaiterReturnedAt() {
  static std::atomic<int64_t>* const slot = [] {
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) std::abort();
    return new (page) std::atomic<int64_t>(0);
  }();
  return *slot;
}

inline int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A waiter's exit code: 0 if wait() succeeded (its return time is left in
// WaiterReturnedAt() for the sweep to judge), 1 if it failed. The waiters
// wait up to kWaiterDeadline: far longer than stepping a waker takes, so
// that a lost wake-up (a return near the deadline) stands out from a waker
// that was merely slow to reach its kill point.
inline constexpr std::chrono::seconds kWaiterDeadline{10};
inline int TimedWaiter(const std::function<bool()>& wait) {
  if (!wait()) return 1;
  WaiterReturnedAt().store(SteadyNowNs());
  return 0;
}

// How long after the waker's death a waiter may take to return: a missed
// wake-up is made up for within a wait slice (posix/shared_wait.h, 20 ms);
// the rest is room for a loaded machine.
inline constexpr std::chrono::seconds kWakeLateness{1};

// Checks one run's waiter: it exited 0 and returned at most kWakeLateness
// after the waker ended at ended_at_ns (how, for the messages: "was killed
// N instructions after its commit", "ran to the end"). False on a failure.
inline bool WaiterWasWokenInTime(pid_t waiter, int64_t ended_at_ns, const std::string& how) {
  const int code = WaitChild(waiter, 20000);
  EXPECT_EQ(code, 0) << "the waiter failed; the waker " << how;
  if (code != 0) return false;
  const int64_t late_ns = WaiterReturnedAt().load() - ended_at_ns;
  const int64_t limit_ns = std::chrono::nanoseconds(kWakeLateness).count();
  EXPECT_LT(late_ns, limit_ns) << "the waiter returned " << late_ns / 1000000
                               << " ms after the waker " << how << ": its wake-up was lost";
  return late_ns < limit_ns;
}

struct WakeSweep {
  std::function<void()> setup;     // Makes a fresh object (parent).
  std::function<int()> waiter;     // Child: 0 when it saw the change in time.
  std::function<void()> waker;     // The call that is killed (stepped child).
  std::function<bool()> commit;    // Parent: has the waker's change landed?
  std::function<void()> check;     // Parent, after each kill point (optional).
  std::function<void()> teardown;  // Removes the object (parent).
};

// Returns the number of kill points tried; stops at the first failure. A
// run in which the waiter took the change before the parent saw it (so the
// commit went unseen) still checks the waiter, and the sweep goes on.
inline int KillAfterCommitSweep(const WakeSweep& w) {
  // One whole run first, in this process, so that the forked wakers inherit
  // resolved lazy bindings and step through our code, not the dynamic
  // linker's.
  w.setup();
  WaiterReturnedAt().store(0);
  const pid_t warm = ForkChild(w.waiter);
  AwaitAsleep(warm);
  w.waker();
  WaiterWasWokenInTime(warm, SteadyNowNs(), "ran to the end");
  if (w.check) w.check();
  w.teardown();
  // Under ASan every step costs ten times as much and the calls have many
  // more instructions: sweep every 32nd kill point there, for at most 30 s
  // (all of them in the normal build), to stay within the test watchdog.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr int kStride = 32;
  constexpr auto kBudget = std::chrono::seconds(30);  // Then stop, passing.
#else
  constexpr int kStride = 1;
  constexpr auto kBudget = std::chrono::hours(1);
#endif
  const auto give_up = std::chrono::steady_clock::now() + kBudget;
  for (int j = 0; j < 100000; j += kStride) {
    if (j > 0 && std::chrono::steady_clock::now() > give_up) {
      std::cerr << "swept " << j << " kill points after the commit (time budget)\n";
      return j + 1;
    }
    w.setup();
    WaiterReturnedAt().store(0);
    const pid_t waiter = ForkChild(w.waiter);
    AwaitAsleep(waiter);
    bool returned = false;
    bool committed = false;
    {
      SteppedChild waker(w.waker);
      while (!(committed = w.commit())) {
        if (!waker.Step()) {
          returned = true;
          break;
        }
      }
      for (int i = 0; i < j && !returned; ++i) returned = !waker.Step();
    }  // SIGKILLed here.
    const bool woken = WaiterWasWokenInTime(
        waiter, SteadyNowNs(), "was killed " + std::to_string(j) + " instructions after its commit");
    if (w.check) w.check();
    w.teardown();
    if (!woken || ::testing::Test::HasFailure()) return j + 1;
    if (returned && committed) {
      std::cerr << "swept " << j + 1 << " kill points after the commit\n";
      return j + 1;
    }
  }
  ADD_FAILURE() << "the sweep never saw the waker's commit";
  return 0;
}

}  // namespace ipc::testing

#endif  // IPC_TESTS_SYNC_WAKE_SWEEP_H_
