// Queue: Values taken in FIFO, LIFO or priority order (the lowest priority
// first, FIFO among equals), unbounded or bounded by a capacity. GET waits
// for an item and PUT for room in the daemon (parked, FIFO); CLOSE refuses
// further PUTs, lets GETs drain what is left and then answers them CLOSED.
// Every PUT adds an unfinished task and TASK_DONE ends one; JOIN waits
// until none is left (Python's Queue.task_done and join). Each item costs
// its serialized size against max_bytes.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_QUEUE_H_
#define IPCD_OBJECTS_QUEUE_H_

#include <deque>
#include <map>

#include "objects/object.h"

namespace ipcd {

class Queue final : public Object {
 public:
  // unfinished_tasks: tasks of items taken before a restart and not done
  // yet (a snapshot's CREATE carries them); each PUT adds its own.
  Queue(std::string name, int64_t capacity, v1::QueueOrder order, int64_t unfinished_tasks)
      : Object(std::move(name), v1::QUEUE),
        capacity_(capacity),
        order_(order),
        unfinished_(unfinished_tasks) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override {
    return static_cast<int64_t>(items_.size() + ranked_.size());
  }
  void Save(CallSink& sink) const override;
  int64_t capacity() const { return capacity_; }
  v1::QueueOrder order() const { return order_; }
  // Puts back at the head (the next to be taken) the item the last GET
  // took but could not deliver (its connection failed while the answer
  // was written), charging its bytes again even past max_bytes: it was
  // held a moment ago. In a priority queue it goes first among the items
  // of the priority it was taken at.
  void Requeue(v1::Value item, OpContext& ctx);

 private:
  OpStatus Get(const v1::Call& call, OpContext& ctx, v1::Result* result);
  OpStatus Put(const v1::Call& call, OpContext& ctx);
  OpStatus TaskDone(v1::Result* result);
  OpStatus Join(const v1::Call& call, const OpContext& ctx);
  // Removes and returns the next item in order_. REQUIRES: Size() > 0.
  v1::Value TakeNext();

  std::deque<v1::Value> items_;  // FIFO: taken at the front; LIFO: at the back.
  // PRIORITY: taken from begin(); items of one priority in the order put.
  std::multimap<int64_t, v1::Value> ranked_;
  int64_t capacity_;  // 0 = unbounded.
  v1::QueueOrder order_;
  int64_t unfinished_;  // PUTs not matched by a TASK_DONE yet.
  int64_t last_taken_priority_ = 0;  // For Requeue.
  bool closed_ = false;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_QUEUE_H_
