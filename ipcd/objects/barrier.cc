#include "objects/barrier.h"

#include "objects/kind.h"

namespace ipcd {

void Barrier::EndAll(Outcome outcome) {
  for (const auto& [session, index] : waiting_) ended_[session] = Ended{outcome, index};
  waiting_.clear();
}

OpStatus Barrier::Answer(const Ended& ended, v1::Result* result) const {
  switch (ended.outcome) {
    case Outcome::kReleased:
      result->set_count(ended.index);
      return OpStatus::Ok();
    case Outcome::kReset:
      return OpStatus::Error(v1::CLOSED, Describe() + " was reset while this party waited");
    case Outcome::kBroken:
      break;
  }
  return OpStatus::Error(v1::CLOSED, Describe() + " is broken");
}

bool Barrier::ReleaseHoldsOf(uint64_t session_id) {
  ended_.erase(session_id);
  if (waiting_.erase(session_id) == 0) return false;
  // A party that left breaks the round for the others, as in Python.
  broken_ = true;
  EndAll(Outcome::kBroken);
  return true;
}

OpStatus Barrier::Wait(const v1::Call& call, OpContext& ctx, v1::Result* result) {
  const uint64_t me = ctx.session_id;
  if (auto it = ended_.find(me); it != ended_.end()) {
    const Ended ended = it->second;
    ended_.erase(it);
    ctx.held_locks->erase(name());
    return Answer(ended, result);
  }
  if (broken_) return Answer({Outcome::kBroken, 0}, result);
  const bool arrived = waiting_.contains(me);
  if (!arrived && static_cast<int64_t>(waiting_.size()) + 1 == parties_) {
    // The last party: everyone waiting is released, this one at once.
    const auto index = static_cast<int64_t>(waiting_.size());
    EndAll(Outcome::kReleased);
    result->set_count(index);
    return OpStatus::Ok();
  }
  if (MayWait(call, ctx)) {
    if (!arrived) {
      waiting_[me] = static_cast<int64_t>(waiting_.size());
      ctx.held_locks->emplace(name());  // So that its closing is noticed.
    }
    return OpStatus::Wait();
  }
  // The timeout passed (or a batch, which cannot wait): the round breaks.
  const int64_t came = static_cast<int64_t>(waiting_.size()) + (arrived ? 0 : 1);
  waiting_.erase(me);
  ctx.held_locks->erase(name());
  broken_ = true;
  EndAll(Outcome::kBroken);
  return OpStatus::Error(v1::DEADLINE_EXCEEDED,
                         Describe() + ": " + std::to_string(came) + " of " +
                             std::to_string(parties_) + " parties came in time; broken");
}

OpStatus Barrier::Execute(const v1::Call& call, OpContext& ctx, v1::Result* result) {
  switch (call.op()) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::WAIT:
      return Wait(call, ctx, result);
    case v1::ABORT:
      broken_ = true;
      EndAll(Outcome::kBroken);
      return OpStatus::Ok();
    case v1::RESET:
      broken_ = false;
      EndAll(Outcome::kReset);
      return OpStatus::Ok();
    case v1::GET:
      result->set_count(parties_);
      result->set_flag(broken_);
      result->mutable_value()->set_int_value(static_cast<int64_t>(waiting_.size()));
      return OpStatus::Ok();
    default:
      return Unsupported(call.op());
  }
}

namespace {

constexpr OpSpec kBarrierOps[] = {
    {.op = v1::WAIT, .changes = true},
    {.op = v1::ABORT, .changes = true},
    {.op = v1::RESET, .changes = true},
    {.op = v1::GET},
};

OpStatus MakeBarrier(const v1::Call& call, std::unique_ptr<Object>* out) {
  if (call.capacity() == 0) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "barrier '" + call.object() +
                               "' does not exist: CREATE it (or WAIT) with capacity = "
                               "the number of parties");
  }
  if (call.capacity() < 1) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           "barrier '" + call.object() +
                               "': capacity (the number of parties) must be at least 1, not " +
                               std::to_string(call.capacity()));
  }
  *out = std::make_unique<Barrier>(call.object(), call.capacity());
  return OpStatus::Ok();
}

// A CREATE or WAIT naming an existing barrier: capacity 0 means "as it is".
OpStatus CheckCreateBarrier(const Object& existing, const v1::Call& call) {
  const int64_t parties = static_cast<const Barrier&>(existing).parties();
  if (call.capacity() == 0 || call.capacity() == parties) return OpStatus::Ok();
  return OpStatus::Error(v1::INVALID_ARGUMENT,
                         "barrier '" + call.object() + "' exists with " +
                             std::to_string(parties) + " parties, not " +
                             std::to_string(call.capacity()));
}

}  // namespace

extern const KindSpec kBarrierKind{.kind = v1::BARRIER,
                                   .name = "barrier",
                                   .ops = kBarrierOps,
                                   .persisted = false,
                                   .make = MakeBarrier,
                                   .check_create = CheckCreateBarrier};

}  // namespace ipcd
