#include "ipc/event.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "ipc/channel.h"
#include "support/test_util.h"

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

}  // namespace
