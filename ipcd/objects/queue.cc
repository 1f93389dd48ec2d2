#include "objects/queue.h"

#include "objects/kind.h"
#include "objects/value.h"

namespace ipcd {

OpStatus Queue::Get(const v1::Call& call, OpContext& ctx, v1::Result* result) {
  if (!items_.empty()) {
    Charge(ctx, -ValueBytes(items_.front()));
    *result->mutable_value() = std::move(items_.front());
    items_.pop_front();
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
  if (closed_) return OpStatus::Error(v1::CLOSED, Describe() + " is closed");
  if (capacity_ > 0 && Size() >= capacity_) {
    if (MayWait(call, ctx)) return OpStatus::Wait();
    return OpStatus::Error(v1::FULL, Describe() + " is full (capacity " +
                                         std::to_string(capacity_) + ")");
  }
  const int64_t delta = ValueBytes(call.value());
  if (!Fits(ctx, delta)) return OverBudget(ctx, delta);
  items_.push_back(call.value());
  Charge(ctx, delta);
  return OpStatus::Ok();
}

void Queue::Requeue(v1::Value item, OpContext& ctx) {
  Charge(ctx, ValueBytes(item));
  items_.push_front(std::move(item));
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
    default:
      return Unsupported(call.op());
  }
}

void Queue::Save(CallSink& sink) const {
  AddCall(sink, v1::CREATE)->set_capacity(capacity_);
  for (const v1::Value& item : items_) {
    *AddCall(sink, v1::PUT)->mutable_value() = item;
  }
  if (closed_) AddCall(sink, v1::CLOSE);
}

namespace {

constexpr OpSpec kQueueOps[] = {
    {.op = v1::GET, .journaled = true},  // Takes an item: a change.
    {.op = v1::PUT, .journaled = true},
    {.op = v1::LEN, .reads_missing = true},
    {.op = v1::CLOSE, .journaled = true},
};

OpStatus MakeQueue(const v1::Call& call, std::unique_ptr<Object>* out) {
  if (call.capacity() < 0) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "queue '" + call.object() + "': negative capacity");
  }
  *out = std::make_unique<Queue>(call.object(), call.capacity());
  return OpStatus::Ok();
}

OpStatus CheckCreateQueue(const Object& existing, const v1::Call& call) {
  const int64_t capacity = static_cast<const Queue&>(existing).capacity();
  if (capacity == call.capacity()) return OpStatus::Ok();
  return OpStatus::Error(v1::INVALID_ARGUMENT,
                         "queue '" + call.object() + "' exists with capacity " +
                             std::to_string(capacity) + ", not " +
                             std::to_string(call.capacity()));
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
