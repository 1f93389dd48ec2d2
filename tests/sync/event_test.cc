#include "ipc/event.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <thread>
#include <optional>

#include "ipc/channel.h"
#include "support/test_util.h"
#include "wake_sweep.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::Event;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

class EventTest : public ::testing::Test {
 protected:
  void TearDown() override { (void)Event::Unlink(name_); }
  const std::string name_ = UniqueName("evt");
};

TEST_F(EventTest, SetClearWaitWithDeadlines) {
  auto e = Event::Create(name_);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_FALSE(e->IsSet());
  EXPECT_EQ(e->Wait(20ms).code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(e->Wait(ipc::Deadline::Now()).code(), ErrorCode::kWouldBlock);
  ASSERT_TRUE(e->Set().ok());
  EXPECT_TRUE(e->IsSet());
  EXPECT_TRUE(e->Wait(ipc::Deadline::Now()).ok());
  ASSERT_TRUE(e->Clear().ok());
  EXPECT_FALSE(e->IsSet());
  EXPECT_EQ(Event::Create(name_).status().code(), ErrorCode::kAddressInUse);
  EXPECT_EQ(Event::Open(name_ + "-none").status().code(), ErrorCode::kNotFound);
}

TEST_F(EventTest, SetInOneProcessWakesWaitersInOthers) {
  ASSERT_TRUE(Event::Create(name_).ok());
  auto [to_parent, from_child] = ipc::Pipe().value();
  constexpr int kWaiters = 3;
  pid_t waiters[kWaiters];
  for (pid_t& pid : waiters) {
    pid = ForkChild([&] {
      auto e = Event::Open(name_);
      if (!e.ok() || !from_child.Send("waiting").ok()) return 1;
      return e->Wait(10s).ok() ? 0 : 2;
    });
  }
  for (int i = 0; i < kWaiters; ++i) ASSERT_EQ(to_parent.Receive(10s).value_or(""), "waiting");
  auto setter = Event::Open(name_);
  ASSERT_TRUE(setter.ok());
  ASSERT_TRUE(setter->Set().ok());
  for (pid_t pid : waiters) EXPECT_EQ(WaitChild(pid), 0);
}

TEST_F(EventTest, AWaiterKilledLeavesTheEventWorking) {
  auto e = Event::Create(name_);
  ASSERT_TRUE(e.ok());
  const pid_t victim = ForkChild([&] {
    auto mine = Event::Open(name_);
    return mine.ok() && mine->Wait(30s).ok() ? 0 : 1;
  });
  ::kill(victim, SIGKILL);
  EXPECT_EQ(WaitChild(victim), 128 + SIGKILL);
  const pid_t waiter = ForkChild([&] {
    auto mine = Event::Open(name_);
    return mine.ok() && mine->Wait(10s).ok() ? 0 : 1;
  });
  ASSERT_TRUE(e->Set().ok());
  EXPECT_EQ(WaitChild(waiter), 0);
}


// Defect 10: Set(); Clear() wakes every waiter that was asleep, as
// Python's Event.wait() returns True then.
TEST_F(EventTest, ASetClearPulseReleasesEveryWaiterThatWasAsleep) {
  auto e = Event::Create(name_);
  ASSERT_TRUE(e.ok());
  constexpr int kWaiters = 3;
  pid_t waiters[kWaiters];
  for (pid_t& pid : waiters) {
    pid = ForkChild([&] {
      auto mine = Event::Open(name_);
      return mine.ok() && mine->Wait(3s).ok() ? 0 : 1;
    });
  }
  // Stopped while they wait, the waiters run again only after the pulse is
  // over, whatever the scheduler does: the worst case, made certain.
  for (pid_t pid : waiters) {
    ipc::testing::AwaitAsleep(pid);
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  }
  for (pid_t pid : waiters) {
    while (ipc::testing::ProcessState(pid) != 'T') std::this_thread::yield();
  }
  ASSERT_TRUE(e->Set().ok());
  ASSERT_TRUE(e->Clear().ok());
  for (pid_t pid : waiters) ASSERT_EQ(::kill(pid, SIGCONT), 0);
  for (pid_t pid : waiters) EXPECT_EQ(WaitChild(pid), 0);
  EXPECT_FALSE(e->IsSet());
  EXPECT_EQ(e->Wait(10ms).code(), ErrorCode::kDeadlineExceeded) << "a later Wait waits";
}

// Defect 8: a setter killed after the flag is set but before its wake-up
// call must not leave a waiter asleep on a set event.
TEST_F(EventTest, ASetterKilledAfterItsCommitStillWakesTheWaiter) {
  IPC_SKIP_WAKE_SWEEP_UNDER_TSAN();
  std::optional<Event> e;
  const int points = ipc::testing::KillAfterCommitSweep({
      .setup = [&] { e = Event::Create(name_).value(); },
      .waiter = [&] {
        auto mine = Event::Open(name_);
        return ipc::testing::TimedWaiter(
            [&] { return mine.ok() && mine->Wait(ipc::testing::kWaiterDeadline).ok(); });
      },
      .waker = [&] { (void)e->Set(); },
      .commit = [&] { return e->IsSet(); },
      .check = nullptr,
      .teardown = [&] { e.reset(); (void)Event::Unlink(name_); },
  });
  EXPECT_GT(points, 1);
}

// Set/Wait/Clear hand-offs between two processes through two events. When
// the flag and the count of Sets were two words, a Wait could see a Set's
// flag, and the next Wait that Set's late count, and return for a Set that
// never came: 2 runs in 150 hung (4 in 60 under ThreadSanitizer).
TEST_F(EventTest, PingPongAcrossProcessesLosesNoWakeUp) {
  constexpr int kRounds = 20000;
  auto ping = Event::Create(name_);
  auto pong = Event::Create(name_ + "b");
  ASSERT_TRUE(ping.ok() && pong.ok());
  const pid_t child = ForkChild([&] {
    auto in = Event::Open(name_);
    auto out = Event::Open(name_ + "b");
    if (!in.ok() || !out.ok()) return 1;
    for (int i = 0; i < kRounds; ++i) {
      if (!in->Wait(10s).ok() || !in->Clear().ok() || !out->Set().ok()) return 2;
    }
    return 0;
  });
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(ping->Set().ok());
    ASSERT_TRUE(pong->Wait(10s).ok()) << "round " << i;
    ASSERT_TRUE(pong->Clear().ok());
  }
  EXPECT_EQ(WaitChild(child), 0);
  (void)Event::Unlink(name_ + "b");
}

}  // namespace
