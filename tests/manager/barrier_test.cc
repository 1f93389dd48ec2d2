// Manager against a real ipcd: barriers — a round, its indices, timeouts,
// abort, reset, and a party that dies.
#include <signal.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ManagerBarrierTest = ManagerTest;

// Waits until the daemon reports n parties waiting at the barrier.
void AwaitWaiting(Manager& observer, const std::string& name, int64_t n) {
  for (;;) {
    auto waiting = observer.Barrier(name).Waiting();
    ASSERT_OK(waiting);
    if (*waiting == n) return;
    std::this_thread::yield();
  }
}

TEST_F(ManagerBarrierTest, PartiesMeetEachWithItsOwnIndexRoundAfterRound) {
  const std::string name = Name("barrier");
  ASSERT_OK(manager().Barrier(name).Create(3));
  for (int round = 0; round < 3; ++round) {
    std::vector<Result<int64_t>> got(2, Status(ErrorCode::kInternal, "not run"));
    std::vector<std::thread> parties;
    std::vector<std::optional<Manager>> managers;
    for (int i = 0; i < 2; ++i) managers.push_back(Connect());
    for (int i = 0; i < 2; ++i) {
      parties.emplace_back([&, i] { got[i] = managers[i]->Barrier(name).Wait(seconds(30)); });
    }
    AwaitWaiting(manager(), name, 2);
    auto mine = manager().Barrier(name).Wait(seconds(30));
    for (std::thread& t : parties) t.join();
    ASSERT_OK(mine);
    std::set<int64_t> indices = {*mine};
    for (const auto& g : got) {
      ASSERT_OK(g);
      indices.insert(*g);
    }
    EXPECT_EQ(indices, (std::set<int64_t>{0, 1, 2})) << "round " << round;
    EXPECT_EQ(*manager().Barrier(name).Waiting(), 0);
  }
}

TEST_F(ManagerBarrierTest, ATimeoutBreaksItForEveryoneUntilReset) {
  const std::string name = Name("barrier");
  auto barrier = manager().Barrier(name);
  ASSERT_OK(barrier.Create(3));
  auto other = Connect();
  Result<int64_t> theirs = Status(ErrorCode::kInternal, "not run");
  std::thread t([&] { theirs = other->Barrier(name).Wait(seconds(30)); });
  AwaitWaiting(manager(), name, 1);
  auto mine = barrier.Wait(milliseconds(50));
  t.join();
  EXPECT_CODE(mine, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(mine.status().message().find("2 of 3 parties came in time; broken"), std::string::npos)
      << mine.status();
  EXPECT_CODE(theirs, ErrorCode::kClosed);
  EXPECT_TRUE(*barrier.Broken());
  EXPECT_CODE(barrier.Wait(seconds(5)), ErrorCode::kClosed);  // Broken until reset.
  ASSERT_OK(barrier.Reset());
  EXPECT_FALSE(*barrier.Broken());
  EXPECT_CODE(barrier.Wait(milliseconds(10)), ErrorCode::kDeadlineExceeded);
}

TEST_F(ManagerBarrierTest, AbortAndResetAnswerWaitingPartiesClosed) {
  const std::string name = Name("barrier");
  ASSERT_OK(manager().Barrier(name).Create(2));
  for (bool abort : {true, false}) {
    auto other = Connect();
    Result<int64_t> theirs = Status(ErrorCode::kInternal, "not run");
    std::thread t([&] { theirs = other->Barrier(name).Wait(seconds(30)); });
    AwaitWaiting(manager(), name, 1);
    ASSERT_OK(abort ? manager().Barrier(name).Abort() : manager().Barrier(name).Reset());
    t.join();
    EXPECT_CODE(theirs, ErrorCode::kClosed);
    EXPECT_EQ(*manager().Barrier(name).Broken(), abort);
    ASSERT_OK(manager().Barrier(name).Reset());
  }
}

TEST_F(ManagerBarrierTest, APartyThatDiesBreaksIt) {
  const std::string name = Name("barrier");
  ASSERT_OK(manager().Barrier(name).Create(3));
  const pid_t child = ForkChild([&] {
    (void)manager().Barrier(name).Wait(seconds(30));  // Its own session.
    return 1;
  });
  AwaitWaiting(manager(), name, 1);
  auto other = Connect();
  Result<int64_t> theirs = Status(ErrorCode::kInternal, "not run");
  std::thread t([&] { theirs = other->Barrier(name).Wait(seconds(30)); });
  AwaitWaiting(manager(), name, 2);
  ::kill(child, SIGKILL);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  t.join();
  EXPECT_CODE(theirs, ErrorCode::kClosed);
  EXPECT_TRUE(*manager().Barrier(name).Broken());
}

TEST_F(ManagerBarrierTest, BadPartiesAndAMissingBarrierAreRefused) {
  auto barrier = manager().Barrier(Name("barrier"));
  auto missing = barrier.Wait(milliseconds(10));
  EXPECT_CODE(missing, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos)
      << missing.status();
  EXPECT_CODE(barrier.Create(0), ErrorCode::kInvalidArgument);
  EXPECT_CODE(barrier.Create(-2), ErrorCode::kInvalidArgument);
  ASSERT_OK(barrier.Create(2));
  EXPECT_CODE(barrier.Create(3), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*barrier.Parties(), 2);
  // One party: Wait returns at once, index 0.
  auto single = manager().Barrier(Name("single"));
  ASSERT_OK(single.Create(1));
  EXPECT_EQ(*single.Wait(Deadline::Now()), 0);
}

}  // namespace
}  // namespace ipc::testing
