#include "objects/lock.h"

#include "objects/kind.h"

namespace ipcd {

bool Lock::ReleaseHoldsOf(uint64_t session_id) {
  if (holder_ != session_id || holder_ == 0) return false;
  holder_ = 0;
  holds_ = 0;
  return true;
}

int64_t Lock::ReleaseAll(OpContext& ctx) {
  const int64_t holds = holds_;
  holder_ = 0;
  holds_ = 0;
  ctx.held_locks->erase(name());
  return holds;
}

void Lock::Take(int64_t holds, OpContext& ctx) {
  holder_ = ctx.session_id;
  holds_ = holds;
  ctx.held_locks->emplace(name());
}

OpStatus Lock::Execute(const v1::Call& call, OpContext& ctx,
                       v1::Result* result) {
  switch (call.op()) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::ACQUIRE:
      if (holder_ == ctx.session_id) {
        if (kind() == v1::LOCK) {
          return OpStatus::Error(v1::INVALID_ARGUMENT,
                                 Describe() +
                                     " is already held by this connection "
                                     "(use an rlock to acquire it again)");
        }
        ++holds_;
      } else if (holder_ == 0) {
        holder_ = ctx.session_id;
        holds_ = 1;
        ctx.held_locks->emplace(name());
      } else if (MayWait(call, ctx)) {
        return OpStatus::Wait();
      } else {
        return OpStatus::Error(v1::DEADLINE_EXCEEDED,
                               Describe() + " is held by another connection");
      }
      result->set_count(holds_);
      return OpStatus::Ok();
    case v1::RELEASE:
      if (holder_ != ctx.session_id) {
        return OpStatus::Error(v1::INVALID_ARGUMENT,
                               Describe() + " is not held by this connection");
      }
      if (--holds_ == 0) {
        holder_ = 0;
        ctx.held_locks->erase(name());
      }
      result->set_count(holds_);
      return OpStatus::Ok();
    default:
      return Unsupported(call.op());
  }
}

namespace {

// Nothing about a lock is logged: its holder is a connection, gone after a
// restart.
constexpr OpSpec kLockOps[] = {
    {.op = v1::ACQUIRE, .changes = true},
    {.op = v1::RELEASE, .changes = true},
};

OpStatus MakeLock(const v1::Call& call, std::unique_ptr<Object>* out) {
  *out = std::make_unique<Lock>(call.object(), call.kind() == v1::RLOCK);
  return OpStatus::Ok();
}

}  // namespace

extern const KindSpec kLockKind{
    .kind = v1::LOCK, .name = "lock", .ops = kLockOps, .persisted = false, .make = MakeLock};
extern const KindSpec kRLockKind{
    .kind = v1::RLOCK, .name = "rlock", .ops = kLockOps, .persisted = false, .make = MakeLock};

}  // namespace ipcd
