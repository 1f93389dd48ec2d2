// Manager against a real ipcd: queues, events and locks, including the
// blocking calls' deadlines and a lock held by a process that dies.
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using ManagerQueueTest = ManagerTest;
using ManagerEventTest = ManagerTest;
using ManagerLockTest = ManagerTest;

TEST_F(ManagerQueueTest, FifoOrderAndSize) {
  auto queue = manager().Queue(Name("q"));
  ASSERT_OK(queue.Put(1));
  ASSERT_OK(queue.Put("two"));
  ASSERT_OK(queue.Put(Value::List{3}));
  EXPECT_EQ(queue.Size().value_or(-1), 3);
  EXPECT_EQ(queue.Get().value_or(Value()), Value(1));
  EXPECT_EQ(queue.Get().value_or(Value()), Value("two"));
  EXPECT_EQ(queue.Get().value_or(Value()), Value(Value::List{3}));
  EXPECT_EQ(queue.Size().value_or(-1), 0);
}

TEST_F(ManagerQueueTest, GetOnEmptyIsEmptyAfterTheDeadline) {
  auto queue = manager().Queue(Name("q"));
  EXPECT_CODE(queue.Get(Deadline::Now()), ErrorCode::kEmpty);
  EXPECT_CODE(queue.Get(milliseconds(50)), ErrorCode::kEmpty);
  // The connection is still in step after the timed-out call.
  ASSERT_OK(queue.Put(7));
  EXPECT_EQ(queue.Get(Deadline::Now()).value_or(Value()), Value(7));
}

TEST_F(ManagerQueueTest, PutOnFullBoundedQueueIsFull) {
  auto queue = manager().Queue(Name("bounded"));
  ASSERT_OK(queue.Create(2));
  ASSERT_OK(queue.Put(1));
  ASSERT_OK(queue.Put(2));
  EXPECT_CODE(queue.Put(3, Deadline::Now()), ErrorCode::kFull);
  EXPECT_CODE(queue.Put(3, milliseconds(50)), ErrorCode::kFull);
  EXPECT_EQ(queue.Size().value_or(-1), 2);
}

TEST_F(ManagerQueueTest, CreateWithAnotherCapacityIsInvalidArgument) {
  auto queue = manager().Queue(Name("bounded"));
  ASSERT_OK(queue.Create(2));
  ASSERT_OK(queue.Create(2));
  EXPECT_CODE(queue.Create(3), ErrorCode::kInvalidArgument);
}

TEST_F(ManagerQueueTest, BlockedGetIsWokenByAnotherClientsPut) {
  const std::string name = Name("q");
  auto consumer = Connect();
  ASSERT_TRUE(consumer);
  Result<Value> got = Status(ErrorCode::kInternal, "not run");
  std::thread waiter([&] { got = consumer->Queue(name).Get(seconds(30)); });
  AwaitParked(manager(), name);
  ASSERT_OK(manager().Queue(name).Put("hello"));
  waiter.join();
  ASSERT_OK(got);
  EXPECT_EQ(*got, Value("hello"));
}

TEST_F(ManagerQueueTest, CloseRefusesPutsAndDrains) {
  auto queue = manager().Queue(Name("q"));
  ASSERT_OK(queue.Put(1));
  ASSERT_OK(queue.Close());
  EXPECT_CODE(queue.Put(2), ErrorCode::kClosed);
  EXPECT_EQ(queue.Get(Deadline::Now()).value_or(Value()), Value(1));
  EXPECT_CODE(queue.Get(Deadline::Now()), ErrorCode::kClosed);
}

TEST_F(ManagerEventTest, SetIsSetClear) {
  auto event = manager().Event(Name("ev"));
  EXPECT_EQ(event.IsSet().value_or(true), false);
  ASSERT_OK(event.Set());
  EXPECT_EQ(event.IsSet().value_or(false), true);
  ASSERT_OK(event.Wait(Deadline::Now()));
  ASSERT_OK(event.Clear());
  EXPECT_EQ(event.IsSet().value_or(true), false);
}

TEST_F(ManagerEventTest, WaitTimesOut) {
  auto event = manager().Event(Name("ev"));
  EXPECT_CODE(event.Wait(milliseconds(50)), ErrorCode::kDeadlineExceeded);
}

TEST_F(ManagerEventTest, WaitIsWokenByAnotherClientsSet) {
  const std::string name = Name("ev");
  auto waiter_manager = Connect();
  ASSERT_TRUE(waiter_manager);
  Status waited(ErrorCode::kInternal, "not run");
  std::thread waiter([&] { waited = waiter_manager->Event(name).Wait(); });
  AwaitParked(manager(), name);
  ASSERT_OK(manager().Event(name).Set());
  waiter.join();
  EXPECT_TRUE(waited.ok()) << waited;
}

TEST_F(ManagerLockTest, AcquireTimesOutWhileAnotherClientHoldsIt) {
  const std::string name = Name("lock");
  auto other = Connect();
  ASSERT_TRUE(other);
  auto held = manager().Lock(name).Acquire(seconds(10));
  ASSERT_OK(held);
  EXPECT_CODE(other->Lock(name).Acquire(Deadline::Now()),
              ErrorCode::kDeadlineExceeded);
  EXPECT_CODE(other->Lock(name).Acquire(milliseconds(50)),
              ErrorCode::kDeadlineExceeded);
  ASSERT_OK(held->Release());
  ASSERT_OK(held->Release());  // A second release does nothing.
  auto taken = other->Lock(name).Acquire(seconds(10));
  ASSERT_OK(taken);
}

TEST_F(ManagerLockTest, GuardReleasesAtScopeEnd) {
  const std::string name = Name("lock");
  auto other = Connect();
  ASSERT_TRUE(other);
  {
    auto guard = manager().Lock(name).Acquire();
    ASSERT_OK(guard);
    LockProxy::Guard moved = std::move(*guard);  // Moving keeps one hold.
    EXPECT_CODE(other->Lock(name).Acquire(Deadline::Now()),
                ErrorCode::kDeadlineExceeded);
  }
  ASSERT_OK(other->Lock(name).Acquire(Deadline::Now()));
}

TEST_F(ManagerLockTest, RawAcquireAndRelease) {
  auto lock = manager().Lock(Name("lock"));
  ASSERT_OK(lock.AcquireRaw());
  // A plain lock's holder taking it again would deadlock itself.
  EXPECT_CODE(lock.AcquireRaw(Deadline::Now()), ErrorCode::kInvalidArgument);
  ASSERT_OK(lock.Release());
  EXPECT_CODE(lock.Release(), ErrorCode::kInvalidArgument);  // Not held.
}

TEST_F(ManagerLockTest, RLockReentersForItsHolderOnly) {
  const std::string name = Name("rlock");
  auto other = Connect();
  ASSERT_TRUE(other);
  auto rlock = manager().RLock(name);
  EXPECT_TRUE(rlock.recursive());
  auto outer = rlock.Acquire(Deadline::Now());
  ASSERT_OK(outer);
  auto inner = rlock.Acquire(Deadline::Now());
  ASSERT_OK(inner);
  EXPECT_CODE(other->RLock(name).Acquire(Deadline::Now()),
              ErrorCode::kDeadlineExceeded);
  ASSERT_OK(inner->Release());
  EXPECT_CODE(other->RLock(name).Acquire(Deadline::Now()),
              ErrorCode::kDeadlineExceeded);  // Still held once.
  ASSERT_OK(outer->Release());
  ASSERT_OK(other->RLock(name).Acquire(Deadline::Now()));
}

TEST_F(ManagerLockTest, LockOfAKilledProcessPassesToTheNextWaiter) {
  const std::string name = Name("lock");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ForkChild([&] {
    ::close(ready[0]);
    // The inherited Manager: the child's first call opens its own session.
    auto guard = manager().Lock(name).Acquire(seconds(10));
    if (!guard.ok()) return 1;
    if (::write(ready[1], "L", 1) != 1) return 2;
    for (;;) ::pause();  // Holds the lock until killed.
  });
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child did not take the lock";
  ::close(ready[0]);
  EXPECT_CODE(manager().Lock(name).Acquire(Deadline::Now()),
              ErrorCode::kDeadlineExceeded);
  // A waiter parked before the holder dies gets the lock when it does.
  auto waiter_manager = Connect();
  ASSERT_TRUE(waiter_manager);
  Result<LockProxy::Guard> taken = Status(ErrorCode::kInternal, "not run");
  std::thread waiter(
      [&] { taken = waiter_manager->Lock(name).Acquire(seconds(30)); });
  AwaitParked(manager(), name);
  ::kill(child, SIGKILL);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  waiter.join();
  ASSERT_OK(taken);
}

TEST_F(ManagerTest, ListObjectsStatsAndDestroy) {
  const std::string dict = Name("a-dict"), counter = Name("b-counter");
  ASSERT_OK(manager().Dict(dict).Update(Value::Map{{"x", 1}, {"y", 2}}));
  ASSERT_OK(manager().Counter(counter).Set(42));
  auto objects = manager().ListObjects();
  ASSERT_OK(objects);
  bool saw_dict = false, saw_counter = false;
  for (const ManagedObject& o : *objects) {
    if (o.name == dict) {
      saw_dict = true;
      EXPECT_EQ(o.kind, "dict");
      EXPECT_EQ(o.size, 2);
    }
    if (o.name == counter) {
      saw_counter = true;
      EXPECT_EQ(o.kind, "counter");
      EXPECT_EQ(o.size, 42);
    }
  }
  EXPECT_TRUE(saw_dict && saw_counter);
  auto stats = manager().Stats();
  ASSERT_OK(stats);
  EXPECT_FALSE(stats->server_version.empty());
  EXPECT_GE(stats->objects, 2);
  EXPECT_GE(stats->clients, 1);
  EXPECT_GT(stats->max_frame_bytes, 0);

  ASSERT_OK(manager().Destroy(dict));
  EXPECT_CODE(manager().Destroy(dict), ErrorCode::kNotFound);
  EXPECT_EQ(manager().Dict(dict).Len().value_or(-1), 0);
}

TEST_F(ManagerTest, DestroyWakesWaitersWithClosed) {
  const std::string name = Name("q");
  auto consumer = Connect();
  ASSERT_TRUE(consumer);
  Result<Value> got = Value();
  std::thread waiter([&] { got = consumer->Queue(name).Get(seconds(30)); });
  AwaitParked(manager(), name);
  ASSERT_OK(manager().Destroy(name));
  waiter.join();
  EXPECT_CODE(got, ErrorCode::kClosed);
}

}  // namespace
}  // namespace ipc::testing
