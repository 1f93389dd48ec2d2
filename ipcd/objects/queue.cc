#include "objects/queue.h"

#include <algorithm>
#include <string>

#include "objects/kind.h"
#include "objects/value.h"

namespace ipcd {

v1::Value Queue::TakeNext() {
  v1::Value item;
  if (order_ == v1::ORDER_PRIORITY) {
    auto first = ranked_.begin();
    last_taken_priority_ = first->first;
    item = std::move(first->second);
    ranked_.erase(first);
  } else if (order_ == v1::ORDER_LIFO) {
    item = std::move(items_.back());
    items_.pop_back();
  } else {
    item = std::move(items_.front());
    items_.pop_front();
  }
  return item;
}

OpStatus Queue::Get(const v1::Call& call, OpContext& ctx, v1::Result* result) {
  if (Size() > 0) {
    v1::Value item = TakeNext();
    Charge(ctx, -ValueBytes(item));
    *result->mutable_value() = std::move(item);
    return OpStatus::Ok();
  }
  if (closed_) {
    return OpStatus::Error(v1::CLOSED, Describe() + " is closed and drained");
  }
  if (MayWait(call, ctx)) return OpStatus::Wait();
  return OpStatus::Error(v1::EMPTY, Describe() + " is empty");
}

OpStatus Queue::Put(const v1::Call& call, OpContext& ctx) {
  if (!call.has_value()) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": PUT needs a value");
  }
  if (call.has_priority() && order_ != v1::ORDER_PRIORITY) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + " is not a priority queue: PUT takes no priority");
  }
  if (closed_) return OpStatus::Error(v1::CLOSED, Describe() + " is closed");
  if (capacity_ > 0 && Size() >= capacity_) {
    if (MayWait(call, ctx)) return OpStatus::Wait();
    return OpStatus::Error(v1::FULL, Describe() + " is full (capacity " +
                                         std::to_string(capacity_) + ")");
  }
  const int64_t delta = ValueBytes(call.value());
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  if (order_ == v1::ORDER_PRIORITY) {
    ranked_.emplace(call.priority(), call.value());  // After its equals.
  } else {
    items_.push_back(call.value());
  }
  ++unfinished_;
  Charge(ctx, delta);
  return OpStatus::Ok();
}

OpStatus Queue::TaskDone(v1::Result* result) {
  if (unfinished_ == 0) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + ": TASK_DONE called more times than items were put");
  }
  result->set_count(--unfinished_);
  return OpStatus::Ok();
}

OpStatus Queue::Join(const v1::Call& call, const OpContext& ctx) {
  if (unfinished_ == 0) return OpStatus::Ok();
  if (MayWait(call, ctx)) return OpStatus::Wait();
  return OpStatus::Error(v1::DEADLINE_EXCEEDED,
                         Describe() + " still has " + std::to_string(unfinished_) +
                             " unfinished tasks");
}

void Queue::Requeue(v1::Value item, OpContext& ctx) {
  Charge(ctx, ValueBytes(item));
  if (order_ == v1::ORDER_PRIORITY) {
    // Before the first of its equals: the next to be taken among them.
    ranked_.emplace_hint(ranked_.lower_bound(last_taken_priority_), last_taken_priority_,
                         std::move(item));
  } else if (order_ == v1::ORDER_LIFO) {
    items_.push_back(std::move(item));
  } else {
    items_.push_front(std::move(item));
  }
}

OpStatus Queue::Execute(const v1::Call& call, OpContext& ctx,
                        v1::Result* result) {
  switch (call.op()) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::GET:
      return Get(call, ctx, result);
    case v1::PUT:
      return Put(call, ctx);
    case v1::LEN:
      result->set_count(Size());
      return OpStatus::Ok();
    case v1::CLOSE:
      closed_ = true;
      return OpStatus::Ok();
    case v1::TASK_DONE:
      return TaskDone(result);
    case v1::JOIN:
      return Join(call, ctx);
    default:
      return Unsupported(call.op());
  }
}

void Queue::Save(CallSink& sink) const {
  v1::Call* create = AddCall(sink, v1::CREATE);
  create->set_capacity(capacity_);
  create->set_order(order_);
  // Each PUT below adds a task. Tasks may be done before their items are
  // taken, so there can be fewer unfinished tasks than items: TASK_DONEs
  // after the PUTs take the surplus off.
  const int64_t queued = Size();
  create->set_unfinished_tasks(std::max<int64_t>(unfinished_ - queued, 0));
  // In the order PUTs rebuild them: a LIFO queue from the bottom up.
  for (const v1::Value& item : items_) {
    *AddCall(sink, v1::PUT)->mutable_value() = item;
  }
  for (const auto& [priority, item] : ranked_) {
    v1::Call* put = AddCall(sink, v1::PUT);
    put->set_priority(priority);
    *put->mutable_value() = item;
  }
  for (int64_t done = unfinished_; done < queued; ++done) AddCall(sink, v1::TASK_DONE);
  if (closed_) AddCall(sink, v1::CLOSE);
}

namespace {

constexpr OpSpec kQueueOps[] = {
    {.op = v1::GET, .journaled = true},  // Takes an item: a change.
    {.op = v1::PUT, .journaled = true},
    {.op = v1::LEN, .reads_missing = true},
    {.op = v1::CLOSE, .journaled = true},
    {.op = v1::TASK_DONE, .journaled = true},
    {.op = v1::JOIN, .reads_missing = true},  // Nothing unfinished.
};

std::string OrderName(v1::QueueOrder order) {
  switch (order) {
    case v1::ORDER_FIFO:
      return "fifo";
    case v1::ORDER_LIFO:
      return "lifo";
    case v1::ORDER_PRIORITY:
      return "priority";
    default:
      return "order " + std::to_string(static_cast<int>(order));
  }
}

OpStatus MakeQueue(const v1::Call& call, std::unique_ptr<Object>* out) {
  const std::string what = "queue '" + call.object() + "'";
  if (call.capacity() < 0) {
    return OpStatus::Error(v1::INVALID_ARGUMENT, what + ": negative capacity");
  }
  if (!v1::QueueOrder_IsValid(call.order())) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           what + ": unknown " + OrderName(call.order()));
  }
  if (call.unfinished_tasks() < 0) {
    return OpStatus::Error(v1::INVALID_ARGUMENT, what + ": negative unfinished_tasks");
  }
  *out = std::make_unique<Queue>(call.object(), call.capacity(), call.order(),
                                 call.unfinished_tasks());
  return OpStatus::Ok();
}

OpStatus CheckCreateQueue(const Object& existing, const v1::Call& call) {
  const auto& queue = static_cast<const Queue&>(existing);
  if (queue.capacity() == call.capacity() && queue.order() == call.order()) {
    return OpStatus::Ok();
  }
  return OpStatus::Error(
      v1::INVALID_ARGUMENT,
      "queue '" + call.object() + "' exists as a " + OrderName(queue.order()) +
          " queue of capacity " + std::to_string(queue.capacity()) + ", not a " +
          OrderName(call.order()) + " queue of capacity " + std::to_string(call.capacity()));
}

// A queue nobody made holds nothing.
OpStatus ReadMissingQueue(const v1::Call& /*call*/, v1::Result* result) {
  result->set_count(0);
  return OpStatus::Ok();
}

}  // namespace

extern const KindSpec kQueueKind{.kind = v1::QUEUE,
                                 .name = "queue",
                                 .ops = kQueueOps,
                                 .make = MakeQueue,
                                 .check_create = CheckCreateQueue,
                                 .read_missing = ReadMissingQueue};

}  // namespace ipcd
