// Manager against a real ipcd: semaphores and bounded semaphores, parked
// acquires in order, and units given back when their holder dies.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::seconds;
using ManagerSemaphoreTest = ManagerTest;

TEST_F(ManagerSemaphoreTest, UnitsAreTakenAndGivenBack) {
  auto sem = manager().Semaphore(Name("sem"));
  ASSERT_OK(sem.Create(2));
  ASSERT_OK(sem.Create(2));  // The same CREATE again is fine.
  EXPECT_CODE(sem.Create(3), ErrorCode::kInvalidArgument);
  EXPECT_CODE(sem.Create(-1), ErrorCode::kInvalidArgument);
  ASSERT_OK(sem.Acquire(Deadline::Now()));
  ASSERT_OK(sem.Acquire(Deadline::Now()));
  EXPECT_EQ(*sem.Value(), 0);
  EXPECT_CODE(sem.Acquire(Deadline::Now()), ErrorCode::kDeadlineExceeded);
  EXPECT_CODE(sem.Acquire(std::chrono::milliseconds(30)), ErrorCode::kDeadlineExceeded);
  ASSERT_OK(sem.Release());
  EXPECT_EQ(*sem.Value(), 1);
}

TEST_F(ManagerSemaphoreTest, AFirstUseMakesOneUnitAndAReadMakesNothing) {
  auto sem = manager().Semaphore(Name("sem"));
  EXPECT_EQ(*sem.Value(), 1);
  auto objects = manager().ListObjects();
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty());
  ASSERT_OK(sem.Acquire(Deadline::Now()));
  EXPECT_CODE(sem.Acquire(Deadline::Now()), ErrorCode::kDeadlineExceeded);
  objects = manager().ListObjects();
  ASSERT_OK(objects);
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].kind, "semaphore");
}

TEST_F(ManagerSemaphoreTest, AReleaseWithoutAnAcquireAddsAUnitUnlessBounded) {
  auto plain = manager().Semaphore(Name("plain"));
  ASSERT_OK(plain.Create(0));
  ASSERT_OK(plain.Release());
  EXPECT_EQ(*plain.Value(), 1);
  auto bounded = manager().BoundedSemaphore(Name("bounded"));
  ASSERT_OK(bounded.Create(1));
  const Status past = bounded.Release();
  EXPECT_CODE(past, ErrorCode::kInvalidArgument);
  EXPECT_NE(past.message().find("released too many times"), std::string::npos) << past;
  ASSERT_OK(bounded.Acquire(Deadline::Now()));
  ASSERT_OK(bounded.Release());
  EXPECT_CODE(bounded.Release(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*bounded.Value(), 1);
  // A bounded semaphore is not a semaphore.
  EXPECT_CODE(manager().Semaphore(bounded.name()).Value(), ErrorCode::kInvalidArgument);
}

TEST_F(ManagerSemaphoreTest, ParkedAcquiresAreServedInOrder) {
  const std::string name = Name("sem");
  ASSERT_OK(manager().Semaphore(name).Create(0));
  auto first = Connect(), second = Connect();
  ASSERT_TRUE(first && second);
  Status first_got = Status(ErrorCode::kInternal, "not run");
  Status second_got = Status(ErrorCode::kInternal, "not run");
  std::thread a([&] { first_got = first->Semaphore(name).Acquire(seconds(30)); });
  AwaitParked(manager(), name);
  std::thread b([&] { second_got = second->Semaphore(name).Acquire(std::chrono::milliseconds(300)); });
  // Wait until both are parked, then free one unit: the first asker gets it.
  for (;;) {
    auto objects = manager().ListObjects();
    ASSERT_OK(objects);
    if (!objects->empty() && (*objects)[0].waiters == 2) break;
    std::this_thread::yield();
  }
  ASSERT_OK(manager().Semaphore(name).Release());
  a.join();
  b.join();
  EXPECT_TRUE(first_got.ok()) << first_got;
  EXPECT_CODE(second_got, ErrorCode::kDeadlineExceeded);
}

TEST_F(ManagerSemaphoreTest, UnitsOfAKilledProcessAreGivenBack) {
  const std::string name = Name("sem");
  ASSERT_OK(manager().Semaphore(name).Create(2));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ForkChild([&] {
    ::close(ready[0]);
    auto sem = manager().Semaphore(name);  // The child's own session.
    if (!sem.Acquire(seconds(10)).ok() || !sem.Acquire(seconds(10)).ok()) return 1;
    if (::write(ready[1], "S", 1) != 1) return 2;
    for (;;) ::pause();  // Holds both units until killed.
  });
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child did not take the units";
  ::close(ready[0]);
  auto sem = manager().Semaphore(name);
  EXPECT_CODE(sem.Acquire(Deadline::Now()), ErrorCode::kDeadlineExceeded);
  auto waiter_manager = Connect();
  ASSERT_TRUE(waiter_manager);
  Status taken = Status(ErrorCode::kInternal, "not run");
  std::thread waiter([&] { taken = waiter_manager->Semaphore(name).Acquire(seconds(30)); });
  AwaitParked(manager(), name);
  ::kill(child, SIGKILL);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  waiter.join();
  ASSERT_OK(taken);
  EXPECT_EQ(*sem.Value(), 1) << "both units came back; the waiter holds one";
}

}  // namespace
}  // namespace ipc::testing
