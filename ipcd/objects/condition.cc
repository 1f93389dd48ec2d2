#include "objects/condition.h"

#include <algorithm>

#include "objects/kind.h"

namespace ipcd {

OpStatus Condition::FindLock(const OpContext& ctx, Lock** out) const {
  Object* object = ctx.objects->Find(lock_);
  if (object == nullptr) {
    return OpStatus::Error(v1::NOT_FOUND, Describe() + ": its lock '" + lock_ +
                                              "' does not exist");
  }
  if (object->kind() != v1::LOCK && object->kind() != v1::RLOCK) {
    return OpStatus::Error(v1::INVALID_ARGUMENT, Describe() + ": its lock '" +
                                                     lock_ + "' is a " +
                                                     KindName(object->kind()) +
                                                     ", not a lock or rlock");
  }
  *out = static_cast<Lock*>(object);
  return OpStatus::Ok();
}

OpStatus Condition::CheckHeld(const Lock& lock, const OpContext& ctx,
                              v1::Op op) const {
  if (lock.holder() != 0 && lock.holder() == ctx.session_id) {
    return OpStatus::Ok();
  }
  return OpStatus::Error(
      v1::INVALID_ARGUMENT,
      Describe() + ": " + OpName(op) + " needs its " + KindName(lock.kind()) +
          " '" + lock_ + "' held by this connection, and " +
          (lock.holder() == 0 ? "it is free" : "another connection holds it"));
}

void Condition::Forget(Waits::iterator it) {
  if (it->second.phase == Phase::kWaiting) {
    --waiting_;
    wakeups_ = std::min(wakeups_, waiting_);
  }
  waits_.erase(it);
}

bool Condition::ReleaseHoldsOf(uint64_t session_id) {
  auto it = waits_.find(session_id);
  if (it == waits_.end()) return false;
  Forget(it);
  // A wake-up it would have taken may go to the next waiter.
  return wakeups_ > 0;
}

OpStatus Condition::Wait(const v1::Call& call, OpContext& ctx,
                         v1::Result* result) {
  auto it = waits_.find(ctx.session_id);
  Lock* lock = nullptr;
  OpStatus found = FindLock(ctx, &lock);
  if (!ctx.retried) {
    // A new WAIT. An entry left from an earlier one is stale: that WAIT was
    // answered when its lock was destroyed under it.
    if (it != waits_.end()) {
      Forget(it);
      ctx.held_locks->erase(name());
    }
    if (!found.ok()) return found;
    if (OpStatus held = CheckHeld(*lock, ctx, v1::WAIT); !held.ok()) {
      return held;
    }
    if (!MayWait(call, ctx)) {
      return OpStatus::Error(
          v1::DEADLINE_EXCEEDED,
          Describe() +
              ": WAIT with no time to wait (timeout_ms 0, or in a "
              "batch); lock '" +
              lock_ + "' is still held");
    }
    Waiter& waiter = waits_[ctx.session_id];
    waiter.holds = lock->ReleaseAll(ctx);
    ++waiting_;
    ctx.held_locks->emplace(name());
    ctx.objects->Changed(lock, v1::RELEASE);
    return OpStatus::Wait();
  }
  if (it == waits_.end()) {
    // Parked on the lock when this condition was destroyed (and made anew).
    return OpStatus::Error(v1::CLOSED,
                           Describe() + " was destroyed while WAIT waited");
  }
  if (!found.ok()) {
    Forget(it);
    ctx.held_locks->erase(name());
    return OpStatus::Error(v1::CLOSED, Describe() + ": its lock '" + lock_ +
                                           "' was destroyed while WAIT waited");
  }
  Waiter& waiter = it->second;
  if (waiter.phase == Phase::kWaiting) {
    if (wakeups_ > 0) {
      --wakeups_;
      --waiting_;
      waiter.phase = Phase::kNotified;
    } else if (!ctx.may_wait) {
      --waiting_;
      wakeups_ = std::min(wakeups_, waiting_);
      waiter.phase = Phase::kTimedOut;
    } else {
      return OpStatus::Wait();
    }
  }
  return Reacquire(it, *lock, ctx, result);
}

OpStatus Condition::Reacquire(Waits::iterator it, Lock& lock, OpContext& ctx,
                              v1::Result* result) {
  Waiter& waiter = it->second;
  // In the lock's line, the lock is free only when this waiter's turn has
  // come; outside it, only those already in line go first.
  if (lock.holder() != 0 || (!waiter.queued && !lock.waiters().empty())) {
    waiter.queued = true;
    return OpStatus::WaitOn(&lock);
  }
  const bool notified = waiter.phase == Phase::kNotified;
  const int64_t holds = waiter.holds;
  lock.Take(holds, ctx);
  ctx.objects->Changed(&lock, v1::ACQUIRE);
  waits_.erase(it);
  ctx.held_locks->erase(name());
  if (!notified) {
    return OpStatus::Error(v1::DEADLINE_EXCEEDED,
                           Describe() +
                               ": no NOTIFY within the timeout; lock '" +
                               lock_ + "' is held again");
  }
  result->set_flag(true);
  result->set_count(holds);
  return OpStatus::Ok();
}

OpStatus Condition::Notify(const v1::Call& call, OpContext& ctx,
                           v1::Result* result) {
  int64_t n = waiting_;
  if (call.op() == v1::NOTIFY) {
    n = call.has_count() ? call.count() : 1;
    if (n < 1) {
      return OpStatus::Error(
          v1::INVALID_ARGUMENT,
          Describe() + ": NOTIFY needs count >= 1, not " + std::to_string(n));
    }
  }
  Lock* lock = nullptr;
  if (OpStatus found = FindLock(ctx, &lock); !found.ok()) return found;
  if (OpStatus held = CheckHeld(*lock, ctx, call.op()); !held.ok()) return held;
  const int64_t granted = std::min(n, waiting_ - wakeups_);
  wakeups_ += granted;
  result->set_count(granted);
  return OpStatus::Ok();
}

OpStatus Condition::Execute(const v1::Call& call, OpContext& ctx,
                            v1::Result* result) {
  if (!call.lock().empty() && call.lock() != lock_) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           Describe() + " is bound to lock '" + lock_ +
                               "', not '" + call.lock() + "'");
  }
  switch (call.op()) {
    case v1::CREATE: {
      Lock* lock = nullptr;
      return FindLock(ctx, &lock);
    }
    case v1::GET:
      result->mutable_value()->set_string_value(lock_);
      result->set_count(waiting_);
      return OpStatus::Ok();
    case v1::WAIT:
      return Wait(call, ctx, result);
    case v1::NOTIFY:
    case v1::NOTIFY_ALL:
      return Notify(call, ctx, result);
    default:
      return Unsupported(call.op());
  }
}

namespace {

// Nothing is logged (see condition.h).
constexpr OpSpec kConditionOps[] = {
    {.op = v1::GET, .reads_missing = true},
    {.op = v1::WAIT, .changes = true},
    {.op = v1::NOTIFY, .changes = true},
    {.op = v1::NOTIFY_ALL, .changes = true},
};

OpStatus MakeCondition(const v1::Call& call, std::unique_ptr<Object>* out) {
  if (call.lock().empty()) {
    return OpStatus::Error(
        v1::INVALID_ARGUMENT,
        "condition '" + call.object() +
            "' does not exist, and the call that makes it needs Call.lock: "
            "the name of the lock or rlock it is bound to");
  }
  *out = std::make_unique<Condition>(call.object(), call.lock());
  return OpStatus::Ok();
}

// A GET does not make a condition, which would need its lock.
OpStatus ReadMissingCondition(const v1::Call& call, v1::Result* /*result*/) {
  return OpStatus::Error(v1::NOT_FOUND, "no condition '" + call.object() + "'");
}

}  // namespace

extern const KindSpec kConditionKind{.kind = v1::CONDITION,
                                     .name = "condition",
                                     .ops = kConditionOps,
                                     .persisted = false,
                                     .make = MakeCondition,
                                     .read_missing = ReadMissingCondition};

}  // namespace ipcd
