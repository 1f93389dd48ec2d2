// The kill sweep (kill_sweep.h) over ipc::Queue: a producer killed at every
// instruction of Put, a consumer killed at every instruction of Get, with
// the other side already asleep in the opposite call.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "ipc/queue.h"
#include "kill_sweep.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kItem[] = "the-item-under-test";

bool Empty(const Status& s) {
  return s.code() == ErrorCode::kEmpty || s.code() == ErrorCode::kWouldBlock;
}

// After the items that were put are all delivered: TaskDone once per
// unfinished task must succeed, and only then may Join return; one more
// TaskDone is an error. "older" tasks are done last, so a count that lost
// a task shows as Join returning while one is still unfinished.
void CheckJoinAccounting(Trial& t, Queue& q, int delivered, int older) {
  for (int i = 0; i < delivered; ++i) {
    Status s = q.TaskDone();
    if (!s.ok()) {
      t.Fail("TaskDone fails for a delivered item (the unfinished count missed its Put)",
             s.ToString());
    }
  }
  for (int i = 0; i < older; ++i) {
    Status join = q.Join(Deadline::Now());
    if (join.ok()) {
      t.Fail("Join returns while a task is still unfinished (the count lost a task)",
             std::to_string(older - i) + " task(s) left, delivered " +
                 std::to_string(delivered));
      break;
    }
    Status s = q.TaskDone();
    if (!s.ok()) t.Fail("TaskDone fails for an unfinished older task", s.ToString());
  }
  Status join = q.Join(Deadline::Now());
  if (!join.ok()) {
    t.Fail("Join still waits after every delivered task is done (a task that was "
           "never delivered is counted)",
           join.ToString());
  }
  Status extra = q.TaskDone();
  if (extra.code() != ErrorCode::kInvalidArgument) {
    t.Fail("an extra TaskDone is accepted (the unfinished count is too high)",
           extra.ToString());
  }
}

// The queue works after the kill: an item goes in and out, its task ends.
void CheckUsable(Trial& t, Queue& q) {
  Status put = q.TryPut("after");
  Result<std::string> got = q.TryGet();
  if (!put.ok() || !got.ok() || *got != "after" || !q.TaskDone().ok() ||
      !q.Join(Deadline::Now()).ok() || q.Size() != 0) {
    t.Fail("the queue is not usable after the kill",
           put.ToString() + " / " + got.status().ToString());
  }
}

// Put killed at every instruction, while a consumer already sleeps in Get.
// After the kill the item is in the queue whole or not at all; if it is in
// (committed), the sleeping consumer must get it within the wake bound
// (defect 8: it slept on); it is delivered once; and the joinable count
// includes it exactly when it was delivered (defect 7).
class QueuePutCase : public SweepCase {
 public:
  explicit QueuePutCase(QueueOrder order) : order_(order) {}

  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-qput");
    auto q = Queue::Create(name_, {.maxsize = 4, .max_item = 64, .order = order_});
    if (!q.ok()) return t.Fail("setup: create", q.status().ToString());
    queue_ = std::move(*q);
    // An older task, taken but not done: Join must wait for it whatever
    // becomes of the new item. It also moves the FIFO counters off zero.
    Status put = queue_.Put("older");
    if (!put.ok() || queue_.TryGet().value_or("") != "older") t.Fail("setup: older task");
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Status s = queue_.Put(kItem, 5s, /*priority=*/7);
    page.op.Report(s.code());
    return 0;
  }

  void Stopped(Trial& t) override {
    t.StartHelper(0, [this, &t] {
      Result<std::string> item = queue_.Get(30s);
      t.page().helpers[0].Report(item.status().code(), 0, item.ok() ? *item : "");
      return 0;
    });
    t.WaitHelperAsleep(0, "the consumer in Get");
  }

  void Check(Trial& t) override {
    const Outcome& op = t.page().op;
    if (!t.killed() && op.error() != ErrorCode::kOk) {
      t.Fail("Put failed when not killed", CodeName(op.error()));
    }
    int delivered = 0;
    const HelperState consumer = t.WaitHelper(0, [this] { return queue_.Size() == 0; });
    if (consumer == HelperState::kStuck) {
      t.Fail("a consumer asleep in Get was not woken although the item is in the queue",
             "Size() " + std::to_string(queue_.Size()));
    } else if (consumer == HelperState::kExited) {
      const Outcome& h = t.page().helpers[0];
      if (!h.finished() || h.error() != ErrorCode::kOk) {
        t.Fail("the consumer's Get failed",
               h.finished() ? CodeName(h.error()) : std::string("no report"));
      } else if (h.message() != kItem) {
        t.Fail("the consumer got a torn item", std::string(h.message()));
      } else {
        ++delivered;
      }
    }
    t.KillHelpers();  // A consumer that sleeps holds nothing.
    const uint32_t size = queue_.Size();
    Result<std::string> rest = queue_.TryGet();
    if (rest.ok()) {
      if (*rest != kItem) t.Fail("Get after the kill returned a torn item", *rest);
      ++delivered;
    } else if (!Empty(rest.status())) {
      t.Fail("Get after the kill failed", rest.status().ToString());
    }
    if (size != static_cast<uint32_t>(rest.ok())) {
      t.Fail("Size() disagrees with what Get finds", "Size() " + std::to_string(size));
    }
    if (delivered > 1) t.Fail("the item was delivered twice");
    if (!t.killed() && delivered != 1) t.Fail("Put returned OK but the item was lost");
    if (!Empty(queue_.TryGet().status())) t.Fail("a second item appeared");
    CheckJoinAccounting(t, queue_, delivered, /*older=*/1);
    CheckUsable(t, queue_);
  }

  void Teardown(Trial&) override {
    queue_ = Queue();
    (void)Queue::Unlink(name_);
  }

 private:
  QueueOrder order_;
  std::string name_;
  Queue queue_;
};

// Get killed at every instruction on a full queue (maxsize 1), while a
// producer already sleeps in Put. The item is taken at most once, and
// stays for the next Get unless the dead consumer took it; if the slot was
// freed, the sleeping producer must be woken within the wake bound and its
// item must follow; counts (Size, unfinished tasks) stay consistent.
class QueueGetCase : public SweepCase {
 public:
  explicit QueueGetCase(QueueOrder order) : order_(order) {}

  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-qget");
    auto q = Queue::Create(name_, {.maxsize = 1, .max_item = 64, .order = order_});
    if (!q.ok()) return t.Fail("setup: create", q.status().ToString());
    queue_ = std::move(*q);
    // Moves the FIFO counters off zero, then fills the queue.
    Status a = queue_.Put("warm-up");
    Result<std::string> b = queue_.TryGet();
    Status c = queue_.TaskDone();
    Status d = queue_.Put(kItem);
    if (!a.ok() || !b.ok() || !c.ok() || !d.ok()) t.Fail("setup: fill");
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Result<std::string> item = queue_.Get(5s);
    page.op.Report(item.status().code(), 0, item.ok() ? *item : "");
    return 0;
  }

  void Stopped(Trial& t) override {
    t.StartHelper(0, [this, &t] {
      Status s = queue_.Put("second", 30s);
      t.page().helpers[0].Report(s.code());
      return 0;
    });
    t.WaitHelperAsleep(0, "the producer in Put");
  }

  void Check(Trial& t) override {
    const Outcome& op = t.page().op;
    const bool child_took = !t.killed();
    if (child_took && (op.error() != ErrorCode::kOk || op.message() != kItem)) {
      t.Fail("Get failed when not killed",
             CodeName(op.error()) + " '" + std::string(op.message()) + "'");
    }
    const HelperState producer = t.WaitHelper(0, [this] { return queue_.Size() == 1; });
    bool second_put = false;
    if (producer == HelperState::kStuck) {
      t.Fail("a producer asleep in Put was not woken although the slot is free",
             "Size() " + std::to_string(queue_.Size()));
    } else if (producer == HelperState::kExited) {
      const Outcome& h = t.page().helpers[0];
      if (!h.finished() || h.error() != ErrorCode::kOk) {
        t.Fail("the producer's Put failed",
               h.finished() ? CodeName(h.error()) : std::string("no report"));
      } else {
        second_put = true;
      }
    }
    t.KillHelpers();  // A producer that sleeps holds nothing.
    const uint32_t size = queue_.Size();
    std::vector<std::string> drained;
    for (int i = 0; i < 3; ++i) {
      Result<std::string> item = queue_.TryGet();
      if (!item.ok()) {
        if (!Empty(item.status())) t.Fail("Get after the kill failed", item.status().ToString());
        break;
      }
      drained.push_back(*item);
    }
    if (size != drained.size()) {
      t.Fail("Size() disagrees with what Get finds",
             "Size() " + std::to_string(size) + ", got " + std::to_string(drained.size()));
    }
    int items = 0, seconds = 0;
    for (const std::string& s : drained) {
      if (s == kItem) {
        ++items;
      } else if (s == "second") {
        ++seconds;
      } else {
        t.Fail("Get after the kill returned a torn item", s);
      }
    }
    if (items + (child_took ? 1 : 0) > 1) t.Fail("the item was delivered twice");
    if (seconds != (second_put ? 1 : 0)) {
      t.Fail("the producer's item is missing or doubled",
             "put " + std::to_string(second_put) + ", found " + std::to_string(seconds));
    }
    if (items == 1 && seconds == 1) {
      const bool fifo_first = drained[0] == kItem;
      if (fifo_first != (order_ == QueueOrder::kFifo)) {
        t.Fail("items came out in the wrong order", drained[0] + " first");
      }
    }
    CheckJoinAccounting(t, queue_, /*delivered=*/0, /*older=*/1 + (second_put ? 1 : 0));
    CheckUsable(t, queue_);
  }

  void Teardown(Trial&) override {
    queue_ = Queue();
    (void)Queue::Unlink(name_);
  }

 private:
  QueueOrder order_;
  std::string name_;
  Queue queue_;
};

TEST(KillSweepQueue, PutFifo) {
  QueuePutCase c(QueueOrder::kFifo);
  ExpectCleanSweep(c);
}

TEST(KillSweepQueue, PutPriority) {
  QueuePutCase c(QueueOrder::kPriority);
  ExpectCleanSweep(c);
}

TEST(KillSweepQueue, GetFifo) {
  QueueGetCase c(QueueOrder::kFifo);
  ExpectCleanSweep(c);
}

TEST(KillSweepQueue, GetLifo) {
  QueueGetCase c(QueueOrder::kLifo);
  ExpectCleanSweep(c);
}

}  // namespace
}  // namespace ipc::testing
