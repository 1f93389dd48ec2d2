// Manager against a real ipcd: LIFO and priority queues, and tasks
// (TaskDone, and a Join parked in the daemon: Python's JoinableQueue).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::seconds;

class ManagerQueueOrderTest : public ManagerTest {
 protected:
  // The requests parked on object, as the daemon lists them.
  int64_t WaitersOn(const std::string& object) {
    auto objects = manager().ListObjects();
    if (!objects.ok()) return -1;
    for (const ManagedObject& o : *objects) {
      if (o.name == object) return o.waiters;
    }
    return 0;
  }
};

// Takes every item there is, as ints (-1 for anything else).
std::vector<int64_t> Drain(QueueProxy& q) {
  std::vector<int64_t> items;
  for (Result<Value> item = q.Get(Deadline::Now()); item.ok(); item = q.Get(Deadline::Now())) {
    items.push_back(item->AsInt().value_or(-1));
  }
  return items;
}

TEST_F(ManagerQueueOrderTest, EachOrderTakesItsItemsInThatOrder) {
  auto fifo = manager().Queue(Name("fifo"));
  auto lifo = manager().Queue(Name("lifo"));
  auto prio = manager().Queue(Name("prio"));
  ASSERT_OK(fifo.Create(0, QueueOrder::kFifo));
  ASSERT_OK(lifo.Create(0, QueueOrder::kLifo));
  ASSERT_OK(prio.Create(0, QueueOrder::kPriority));
  // Priorities 3, 1, 2, 1, 0; the two 1s must come out in the order put.
  for (const int64_t item : {30, 11, 20, 12, 0}) {
    ASSERT_OK(fifo.Put(item));
    ASSERT_OK(lifo.Put(item));
    ASSERT_OK(prio.PutWithPriority(item / 10, item));
  }
  EXPECT_EQ(Drain(fifo), (std::vector<int64_t>{30, 11, 20, 12, 0}));
  EXPECT_EQ(Drain(lifo), (std::vector<int64_t>{0, 12, 20, 11, 30}));
  EXPECT_EQ(Drain(prio), (std::vector<int64_t>{0, 11, 12, 20, 30}));
  // A plain Put on a priority queue is priority 0; negative ones go first.
  ASSERT_OK(prio.Put(1));
  ASSERT_OK(prio.PutWithPriority(-5, 2));
  ASSERT_OK(prio.PutWithPriority(7, 3));
  EXPECT_EQ(Drain(prio), (std::vector<int64_t>{2, 1, 3}));
}

TEST_F(ManagerQueueOrderTest, ABlockedGetOfALifoQueueTakesTheNewestItem) {
  const std::string name = Name("lifo");
  ASSERT_OK(manager().Queue(name).Create(2, QueueOrder::kLifo));
  auto consumer = Connect();
  ASSERT_TRUE(consumer);
  Result<Value> got = Status(ErrorCode::kInternal, "not run");
  std::thread waiter([&] { got = consumer->Queue(name).Get(seconds(30)); });
  AwaitParked(manager(), name);
  // One batch: the waiter is woken after both puts, so it takes the newer.
  ManagerBatch batch = manager().Batch();
  batch.QueuePut(name, "older").QueuePut(name, "newer");
  ASSERT_OK(batch.Run());
  waiter.join();
  ASSERT_OK(got);
  EXPECT_EQ(*got, Value("newer"));
}

TEST_F(ManagerQueueOrderTest, AnotherOrderOrAPriorityWhereNoneBelongsIsRefused) {
  auto lifo = manager().Queue(Name("lifo"));
  ASSERT_OK(lifo.Create(0, QueueOrder::kLifo));
  ASSERT_OK(lifo.Create(0, QueueOrder::kLifo));  // The same CREATE is fine.
  const Status fifo = lifo.Create(0, QueueOrder::kFifo);
  EXPECT_CODE(fifo, ErrorCode::kInvalidArgument);
  EXPECT_NE(fifo.message().find("exists as a lifo queue of capacity 0, not a fifo queue"),
            std::string::npos)
      << fifo;
  EXPECT_CODE(lifo.Create(3, QueueOrder::kLifo), ErrorCode::kInvalidArgument);
  const Status priority = lifo.PutWithPriority(1, "x");
  EXPECT_CODE(priority, ErrorCode::kInvalidArgument);
  EXPECT_NE(priority.message().find("is not a priority queue"), std::string::npos) << priority;
  EXPECT_EQ(lifo.Size().value_or(-1), 0);
  // A first use that carries a priority makes nothing.
  auto fresh = manager().Queue(Name("fresh"));
  EXPECT_CODE(fresh.PutWithPriority(1, "x"), ErrorCode::kInvalidArgument);
  auto objects = manager().ListObjects();
  ASSERT_OK(objects);
  EXPECT_EQ(objects->size(), 1u);
}

TEST_F(ManagerQueueOrderTest, JoinWaitsForATaskDoneOfEveryPut) {
  const std::string name = Name("jobs");
  auto jobs = manager().Queue(name);
  ASSERT_OK(jobs.Join(Deadline::Now()));  // Nothing put: nothing to wait for.
  ASSERT_OK(jobs.Put("a"));
  ASSERT_OK(jobs.Put("b"));
  const Status early = jobs.Join(Deadline::Now());
  EXPECT_CODE(early, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(early.message().find("still has 2 unfinished tasks"), std::string::npos) << early;

  auto joiner = Connect();
  ASSERT_TRUE(joiner);
  Status joined = Status(ErrorCode::kInternal, "not run");
  std::thread waiter([&] { joined = joiner->Queue(name).Join(seconds(30)); });
  AwaitParked(manager(), name);
  ASSERT_OK(jobs.Get(Deadline::Now()));
  ASSERT_OK(jobs.Get(Deadline::Now()));
  EXPECT_EQ(jobs.TaskDone().value_or(-1), 1);
  // Empty, but a task is unfinished: the join still waits in the daemon.
  EXPECT_EQ(jobs.Size().value_or(-1), 0);
  EXPECT_EQ(WaitersOn(name), 1);
  EXPECT_EQ(jobs.TaskDone().value_or(-1), 0);
  waiter.join();
  EXPECT_TRUE(joined.ok()) << joined;

  const Status extra = jobs.TaskDone().status();
  EXPECT_CODE(extra, ErrorCode::kInvalidArgument);
  EXPECT_NE(extra.message().find("more times than items were put"), std::string::npos) << extra;
}

TEST_F(ManagerQueueOrderTest, ATimedOutJoinIsAnsweredAndTheTasksStay) {
  auto jobs = manager().Queue(Name("jobs"));
  ASSERT_OK(jobs.Put(1));
  EXPECT_CODE(jobs.Join(std::chrono::milliseconds(30)), ErrorCode::kDeadlineExceeded);
  ASSERT_OK(jobs.Get(Deadline::Now()));
  EXPECT_EQ(jobs.TaskDone().value_or(-1), 0);
  EXPECT_TRUE(jobs.Join(Deadline::Now()).ok());
}

}  // namespace
}  // namespace ipc::testing
