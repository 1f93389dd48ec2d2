// Queue: a FIFO of Values, unbounded or bounded by a capacity. GET waits
// for an item and PUT for room in the daemon (parked, FIFO); CLOSE refuses
// further PUTs, lets GETs drain what is left and then answers them CLOSED.
// Each item costs its serialized size against max_bytes.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_QUEUE_H_
#define IPCD_OBJECTS_QUEUE_H_

#include <deque>

#include "objects/object.h"

namespace ipcd {

class Queue final : public Object {
 public:
  Queue(std::string name, int64_t capacity)
      : Object(std::move(name), v1::QUEUE), capacity_(capacity) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return static_cast<int64_t>(items_.size()); }
  void Save(CallSink& sink) const override;
  int64_t capacity() const { return capacity_; }
  // Puts back at the head an item a GET took but could not deliver (its
  // connection failed while the answer was written), charging its bytes
  // again even past max_bytes: it was held a moment ago.
  void Requeue(v1::Value item, OpContext& ctx);

 private:
  OpStatus Get(const v1::Call& call, OpContext& ctx, v1::Result* result);
  OpStatus Put(const v1::Call& call, OpContext& ctx);

  std::deque<v1::Value> items_;
  int64_t capacity_;  // 0 = unbounded.
  bool closed_ = false;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_QUEUE_H_
