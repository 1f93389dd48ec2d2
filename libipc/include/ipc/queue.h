// ipc::Queue: a named, bounded, multi-producer multi-consumer queue between
// processes, like Python's multiprocessing.Queue / JoinableQueue, with FIFO,
// LIFO and priority orders (queue.LifoQueue, queue.PriorityQueue).
//
//   auto jobs = ipc::Queue::OpenOrCreate("jobs", {.maxsize = 100}).value();
//   (void)jobs.Put("work item");                              // blocks while full
//   ipc::Result<std::string> item = jobs.Get(std::chrono::seconds(1));
//   // item.status().code() == ipc::ErrorCode::kEmpty on timeout
//
// Items are byte strings of at most max_item bytes (or protobuf messages,
// via PutMessage / GetMessage). A full queue gives kFull and an empty one
// kEmpty, whether the call was non-blocking or its deadline passed (Python's
// Full and Empty). Close() wakes every blocked caller with kClosed; later
// Puts fail with kClosed and Gets drain what is left, then kClosed.
//
// Storage: maxsize fixed-size slots in /dev/shm/libipc.queue.NAME, each
// with its order key; a robust lock guards them. Every change becomes
// visible through one final store (a slot's "occupied" word; a Put then
// moves a counter, which also counts its JoinableQueue task, and the next
// locker repairs it from the slots if the process died in between), so a
// process killed at any point leaves the queue consistent: a consumer
// killed inside Get either took its item (the store was made) or left it in
// the queue for the next consumer — an item whose Put returned OK is never
// lost unless a consumer had already taken it. Blocked callers re-check
// every few milliseconds, so one whose waker died before waking it still
// sees the item (or the room) at once. FIFO operations are O(1); LIFO and priority ones scan the slots,
// O(maxsize): meant for hundreds to thousands of items.
//
// Size(), Empty() and Full() are snapshots that may be stale at once.
//
// Thread safety: any thread of any process that opened it.
#ifndef IPC_QUEUE_H_
#define IPC_QUEUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

#include "ipc/deadline.h"
#include "ipc/queue_order.h"
#include "ipc/result.h"

namespace ipc {

struct QueueOptions {
  uint32_t maxsize = 1024;   // Items it holds at most (at least 1).
  uint32_t max_item = 4096;  // Bytes per item at most.
  QueueOrder order = QueueOrder::kFifo;
  uint32_t mode = 0600;
};

class Queue {
 public:
  static Result<Queue> Create(std::string_view name, const QueueOptions& options = {});
  static Result<Queue> Open(std::string_view name);
  // Opens NAME or creates it with options (an existing queue keeps its own).
  static Result<Queue> OpenOrCreate(std::string_view name, const QueueOptions& options = {});
  static Status Unlink(std::string_view name);

  Queue();
  ~Queue();
  Queue(Queue&&) noexcept;
  Queue& operator=(Queue&&) noexcept;

  // Adds an item, waiting while the queue is full. priority orders a
  // kPriority queue (ignored otherwise). kFull, kClosed, kMessageTooLarge.
  Status Put(std::string_view item, Deadline deadline = Deadline::Infinite(),
             int64_t priority = 0);
  Status TryPut(std::string_view item, int64_t priority = 0) {
    return Put(item, Deadline::Now(), priority);
  }
  // Takes the next item, waiting while the queue is empty. kEmpty, kClosed.
  Result<std::string> Get(Deadline deadline = Deadline::Infinite());
  Result<std::string> TryGet() { return Get(Deadline::Now()); }
  // The priority of the item Get returned last in this object (kPriority).
  int64_t last_priority() const { return last_priority_; }

  Status PutMessage(const google::protobuf::MessageLite& message,
                    Deadline deadline = Deadline::Infinite(), int64_t priority = 0);
  Status GetMessage(google::protobuf::MessageLite* message,
                    Deadline deadline = Deadline::Infinite());

  // JoinableQueue: every Put adds an unfinished task, TaskDone() ends one,
  // Join waits until none is left. TaskDone more often than Put is
  // kInvalidArgument.
  Status TaskDone();
  Status Join(Deadline deadline = Deadline::Infinite());

  // Closes the queue for every process that uses it — unlike Python's
  // Queue.close(), which only says that this process will put no more:
  // here Close() is how a producer announces the end of a stream to all
  // consumers. Every blocked caller wakes with kClosed; later Puts fail with
  // kClosed and Gets drain what is left, then kClosed. The mark stays with
  // the name: OpenOrCreate of a closed queue returns it closed (closed()
  // says so) until Reopen() or Unlink().
  Status Close();
  // Clears the closed mark, so Puts succeed again; items left in the queue
  // are kept.
  Status Reopen();
  bool closed() const;

  uint32_t Size() const;
  bool Empty() const { return Size() == 0; }
  bool Full() const;
  uint32_t maxsize() const;
  uint32_t max_item() const;
  QueueOrder order() const;
  const std::string& name() const { return name_; }

 private:
  struct Mapping;
  static Result<Queue> Make(std::string_view name, const QueueOptions& options, bool create);
  Queue(std::string name, std::unique_ptr<Mapping> mapping);

  std::string name_;
  std::unique_ptr<Mapping> mapping_;
  int64_t last_priority_ = 0;
};

}  // namespace ipc

#endif  // IPC_QUEUE_H_
