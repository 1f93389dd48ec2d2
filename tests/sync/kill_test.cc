// Waiters of every synchronization object killed with SIGKILL at random
// moments, many times over: the survivors always finish, nothing hangs.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ipc/barrier.h"
#include "ipc/condition.h"
#include "ipc/event.h"
#include "ipc/mutex.h"
#include "ipc/semaphore.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

constexpr int kRounds = 10;
constexpr int kWaiters = 4;

std::mt19937& Rng() {
  static std::mt19937 rng(std::random_device{}());
  return rng;
}

// Starts kWaiters children running body, kills one of them after a random
// delay (wherever it is: starting, waiting, or done), runs release(), and
// checks that every other child finished with 0.
void KillOneWhileWaiting(const std::function<int()>& body, const std::function<void()>& release) {
  std::vector<pid_t> pids;
  for (int i = 0; i < kWaiters; ++i) pids.push_back(ForkChild(body));
  std::this_thread::sleep_for(std::chrono::microseconds(Rng()() % 3000));  // Random kill point.
  const size_t victim = Rng()() % pids.size();
  ::kill(pids[victim], SIGKILL);
  release();
  for (size_t i = 0; i < pids.size(); ++i) {
    const int code = WaitChild(pids[i], 30000);
    if (i == victim) {
      EXPECT_TRUE(code == 128 + SIGKILL || code == 0) << code;
    } else {
      EXPECT_EQ(code, 0) << "survivor " << i;
    }
  }
}

TEST(KillTest, SemaphoreWaiters) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = UniqueName("ksem");
    auto sem = ipc::Semaphore::Create(name, 0);
    ASSERT_TRUE(sem.ok());
    KillOneWhileWaiting(
        [&] {
          auto s = ipc::Semaphore::Open(name);
          return s.ok() && s->Acquire(20s).ok() ? 0 : 1;
        },
        [&] { ASSERT_TRUE(sem->Release(kWaiters).ok()); });
    (void)ipc::Semaphore::Unlink(name);
  }
}

TEST(KillTest, EventWaiters) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = UniqueName("kevt");
    auto event = ipc::Event::Create(name);
    ASSERT_TRUE(event.ok());
    KillOneWhileWaiting(
        [&] {
          auto e = ipc::Event::Open(name);
          return e.ok() && e->Wait(20s).ok() ? 0 : 1;
        },
        [&] { ASSERT_TRUE(event->Set().ok()); });
    (void)ipc::Event::Unlink(name);
  }
}

TEST(KillTest, ConditionWaitersAndLockHolders) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = UniqueName("kcnd");
    auto mutex = ipc::Mutex::Create(name);
    auto cond = ipc::Condition::Create(name);
    auto flag = ipc::Event::Create(name);  // The predicate's state.
    ASSERT_TRUE(mutex.ok() && cond.ok() && flag.ok());
    KillOneWhileWaiting(
        [&] {
          auto m = ipc::Mutex::Open(name);
          auto c = ipc::Condition::Open(name);
          auto f = ipc::Event::Open(name);
          if (!m.ok() || !c.ok() || !f.ok()) return 1;
          auto lock = m->Lock(20s);
          if (!lock.ok()) return 2;
          // The killed child may have died holding the lock: repair and go on.
          if (lock->previous_owner_died() && !lock->MarkConsistent().ok()) return 3;
          return c->Wait(*lock, 20s, [&] { return f->IsSet(); }).ok() ? 0 : 4;
        },
        [&] {
          auto lock = mutex->Lock(20s);
          ASSERT_TRUE(lock.ok()) << lock.status();
          if (lock->previous_owner_died()) {
            ASSERT_TRUE(lock->MarkConsistent().ok());
          }
          ASSERT_TRUE(flag->Set().ok());
          ASSERT_TRUE(cond->NotifyAll().ok());
        });
    (void)ipc::Mutex::Unlink(name);
    (void)ipc::Condition::Unlink(name);
    (void)ipc::Event::Unlink(name);
  }
}

TEST(KillTest, BarrierPartyKilledBreaksTheRoundAndResetRecovers) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = UniqueName("kbar");
    auto barrier = ipc::Barrier::Create(name, kWaiters + 1);
    ASSERT_TRUE(barrier.ok());
    std::vector<pid_t> pids;
    for (int i = 0; i < kWaiters; ++i) {
      pids.push_back(ForkChild([&] {
        auto b = ipc::Barrier::Open(name);
        if (!b.ok()) return 1;
        auto r = b->Wait(20s);
        // Released (if the victim arrived before dying) or told it broke.
        return r.ok() || r.status().code() == ErrorCode::kClosed ? 0 : 2;
      }));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(Rng()() % 3000));
    ::kill(pids[Rng()() % pids.size()], SIGKILL);
    // Our own arrival either completes the round or times out and breaks
    // it; either way no one hangs.
    auto mine = barrier->Wait(300ms);
    EXPECT_TRUE(mine.ok() || mine.status().code() == ErrorCode::kDeadlineExceeded ||
                mine.status().code() == ErrorCode::kClosed)
        << mine.status();
    for (pid_t pid : pids) {
      const int code = WaitChild(pid, 30000);
      EXPECT_TRUE(code == 0 || code == 128 + SIGKILL) << code;
    }
    ASSERT_TRUE(barrier->Reset().ok());
    EXPECT_FALSE(barrier->broken());
    (void)ipc::Barrier::Unlink(name);
  }
}

}  // namespace
