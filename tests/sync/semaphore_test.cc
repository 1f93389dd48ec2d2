#include "ipc/semaphore.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <string>
#include <optional>

#include "ipc/channel.h"
#include "support/test_util.h"
#include "wake_sweep.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::Semaphore;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

class SemaphoreTest : public ::testing::Test {
 protected:
  void TearDown() override { (void)Semaphore::Unlink(name_); }
  const std::string name_ = UniqueName("sem");
};

TEST_F(SemaphoreTest, CountsDownAndUp) {
  auto sem = Semaphore::Create(name_, 2);
  ASSERT_TRUE(sem.ok()) << sem.status();
  EXPECT_EQ(sem->Value(), 2u);
  EXPECT_TRUE(sem->TryAcquire().ok());
  EXPECT_TRUE(sem->Acquire(1s).ok());
  EXPECT_EQ(sem->TryAcquire().code(), ErrorCode::kWouldBlock);
  EXPECT_EQ(sem->Acquire(20ms).code(), ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(sem->Release(2).ok());
  EXPECT_EQ(sem->Value(), 2u);
}

TEST_F(SemaphoreTest, CreateIsExclusiveAndOpenNeedsAnExistingOne) {
  EXPECT_EQ(Semaphore::Open(name_).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(Semaphore::Create(name_, 0).ok());
  auto again = Semaphore::Create(name_, 0);
  EXPECT_EQ(again.status().code(), ErrorCode::kAddressInUse);
  EXPECT_NE(again.status().message().find(name_), std::string::npos);
  EXPECT_TRUE(Semaphore::Open(name_).ok());
}

TEST_F(SemaphoreTest, BadNamesAreRefused) {
  for (const char* bad : {"", "a/b", "sp ace", "../x"}) {
    EXPECT_EQ(Semaphore::Create(bad, 1).status().code(),
              ErrorCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(SemaphoreTest, OwnerOnlyByDefault) {
  ASSERT_TRUE(Semaphore::Create(name_, 1).ok());
  struct stat st;
  ASSERT_EQ(::stat(("/dev/shm/libipc.sem." + name_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SemaphoreTest, ReleaseInAnotherProcessWakesTheWaiter) {
  auto sem = Semaphore::Create(name_, 0);
  ASSERT_TRUE(sem.ok());
  auto [to_child, from_parent] = ipc::Pipe().value();
  const pid_t child = ForkChild([&] {
    auto mine = Semaphore::Open(name_);
    if (!mine.ok()) return 1;
    (void)from_parent.Receive(5s);  // Wait until the parent sleeps.
    return mine->Release().ok() ? 0 : 2;
  });
  ASSERT_TRUE(to_child.Send("go").ok());
  EXPECT_TRUE(sem->Acquire(10s).ok());
  EXPECT_EQ(WaitChild(child), 0);
}

TEST_F(SemaphoreTest, NeverMoreHoldersThanUnitsAcrossProcesses) {
  auto sem = Semaphore::Create(name_, 3);
  ASSERT_TRUE(sem.ok());
  // A shared counter of current holders, in another semaphore-sized object:
  // use a second semaphore as an atomic "inside" gauge via its value.
  const std::string gauge_name = name_ + ".gauge";
  auto gauge = Semaphore::Create(gauge_name, 0);
  ASSERT_TRUE(gauge.ok());
  constexpr int kWorkers = 6;
  pid_t workers[kWorkers];
  for (pid_t& pid : workers) {
    pid = ForkChild([&] {
      auto s = Semaphore::Open(name_);
      auto g = Semaphore::Open(gauge_name);
      if (!s.ok() || !g.ok()) return 1;
      for (int i = 0; i < 200; ++i) {
        if (!s->Acquire(10s).ok()) return 2;
        if (!g->Release().ok()) return 3;
        if (g->Value() > 3) return 4;  // More than 3 inside at once.
        if (!g->Acquire(10s).ok()) return 5;
        if (!s->Release().ok()) return 6;
      }
      return 0;
    });
  }
  for (pid_t pid : workers) EXPECT_EQ(WaitChild(pid), 0);
  EXPECT_EQ(sem->Value(), 3u);
  (void)Semaphore::Unlink(gauge_name);
}

TEST_F(SemaphoreTest, AWaiterKilledWhileAsleepDoesNotBreakOthers) {
  auto sem = Semaphore::Create(name_, 0);
  ASSERT_TRUE(sem.ok());
  const pid_t sleeper = ForkChild([&] {
    auto s = Semaphore::Open(name_);
    return s.ok() && s->Acquire(30s).ok() ? 0 : 1;
  });
  // Give it time to fall asleep is not needed for correctness: kill it
  // whenever, then the semaphore must still work for everyone else.
  ASSERT_EQ(::kill(sleeper, SIGKILL), 0);
  EXPECT_EQ(WaitChild(sleeper), 128 + SIGKILL);
  ASSERT_TRUE(sem->Release().ok());
  EXPECT_TRUE(sem->Acquire(1s).ok());
  EXPECT_EQ(sem->TryAcquire().code(), ErrorCode::kWouldBlock);
}

TEST_F(SemaphoreTest, BoundedSemaphoreRefusesReleasesPastItsBound) {
  auto sem = ipc::BoundedSemaphore::Create(name_, 2);
  ASSERT_TRUE(sem.ok()) << sem.status();
  EXPECT_EQ(sem->bound(), 2u);
  EXPECT_EQ(sem->Release().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(sem->Acquire(1s).ok());
  EXPECT_TRUE(sem->Release().ok());
  ipc::Status past = sem->Release();
  EXPECT_EQ(past.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(past.message().find("bound of 2"), std::string::npos) << past;
  EXPECT_EQ(sem->Value(), 2u) << "a refused release changes nothing";
  // The bound travels with the name, whoever opens it.
  auto other = Semaphore::Open(name_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->Release().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::BoundedSemaphore::Create(name_ + "x", 0).status().code(),
            ErrorCode::kInvalidArgument);
}


// Defect 8: a releaser killed after its count is in but before its wake-up
// call must not leave an Acquire asleep while a unit is there.
TEST_F(SemaphoreTest, AReleaserKilledAfterItsCommitStillWakesTheWaiter) {
  IPC_SKIP_WAKE_SWEEP_UNDER_TSAN();
  std::optional<Semaphore> sem;
  const int points = ipc::testing::KillAfterCommitSweep({
      .setup = [&] { sem = Semaphore::Create(name_, 0).value(); },
      .waiter = [&] {
        auto s = Semaphore::Open(name_);
        return ipc::testing::TimedWaiter(
            [&] { return s.ok() && s->Acquire(ipc::testing::kWaiterDeadline).ok(); });
      },
      .waker = [&] { (void)sem->Release(); },
      .commit = [&] { return sem->Value() > 0; },
      .check = nullptr,
      .teardown = [&] { sem.reset(); (void)Semaphore::Unlink(name_); },
  });
  EXPECT_GT(points, 1);
}

// Many acquire/release hand-offs between two processes, each with a
// deadline: a lost wake-up fails a deadline (the watchdog catches a hang).
TEST_F(SemaphoreTest, PingPongAcrossProcessesLosesNoWakeUp) {
  constexpr int kRounds = 3000;
  auto ping = Semaphore::Create(name_, 0);
  auto pong = Semaphore::Create(name_ + "b", 0);
  ASSERT_TRUE(ping.ok() && pong.ok());
  const pid_t child = ForkChild([&] {
    auto in = Semaphore::Open(name_);
    auto out = Semaphore::Open(name_ + "b");
    if (!in.ok() || !out.ok()) return 1;
    for (int i = 0; i < kRounds; ++i) {
      if (!in->Acquire(10s).ok() || !out->Release().ok()) return 2;
    }
    return 0;
  });
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(ping->Release().ok());
    ASSERT_TRUE(pong->Acquire(10s).ok()) << "round " << i;
  }
  EXPECT_EQ(WaitChild(child), 0);
  (void)Semaphore::Unlink(name_ + "b");
}

}  // namespace
