#include "objects/semaphore.h"

#include "objects/kind.h"

namespace ipcd {

OpStatus InitialUnits(const v1::Call& call, int64_t* units) {
  if (!call.has_value() || call.op() != v1::CREATE) {
    *units = 1;
    return OpStatus::Ok();
  }
  if (call.value().kind_case() != v1::Value::kIntValue || call.value().int_value() < 0) {
    return OpStatus::Error(v1::INVALID_ARGUMENT,
                           KindName(call.kind()) + " '" + call.object() +
                               "': CREATE needs value.int_value >= 0 (the initial units), not " +
                               call.value().ShortDebugString());
  }
  *units = call.value().int_value();
  return OpStatus::Ok();
}

bool Semaphore::ReleaseHoldsOf(uint64_t session_id) {
  auto it = taken_.find(session_id);
  if (it == taken_.end()) return false;
  free_ += it->second;
  taken_.erase(it);
  return true;
}

OpStatus Semaphore::Execute(const v1::Call& call, OpContext& ctx, v1::Result* result) {
  switch (call.op()) {
    case v1::CREATE:
      return OpStatus::Ok();
    case v1::GET:
      result->mutable_value()->set_int_value(free_);
      return OpStatus::Ok();
    case v1::ACQUIRE:
      if (free_ == 0) {
        if (MayWait(call, ctx)) return OpStatus::Wait();
        return OpStatus::Error(v1::DEADLINE_EXCEEDED, Describe() + " had no unit free");
      }
      --free_;
      if (taken_[ctx.session_id]++ == 0) ctx.held_locks->emplace(name());
      result->set_count(free_);
      return OpStatus::Ok();
    case v1::RELEASE: {
      auto it = taken_.find(ctx.session_id);
      if (it != taken_.end()) {
        if (--it->second == 0) {
          taken_.erase(it);
          ctx.held_locks->erase(name());
        }
      } else if (kind() == v1::BOUNDED_SEMAPHORE && free_ >= initial_) {
        return OpStatus::Error(v1::INVALID_ARGUMENT,
                               Describe() + " released too many times: it has " +
                                   std::to_string(initial_) + " units, all free");
      } else if (free_ == INT64_MAX) {
        return OpStatus::Error(v1::INVALID_ARGUMENT, Describe() + " cannot count more units");
      }
      ++free_;
      result->set_count(free_);
      return OpStatus::Ok();
    }
    default:
      return Unsupported(call.op());
  }
}

namespace {

// Nothing is logged (see semaphore.h).
constexpr OpSpec kSemaphoreOps[] = {
    {.op = v1::ACQUIRE, .changes = true},
    {.op = v1::RELEASE, .changes = true},
    {.op = v1::GET, .reads_missing = true},
};

OpStatus MakeSemaphore(const v1::Call& call, std::unique_ptr<Object>* out) {
  int64_t units = 0;
  if (OpStatus ok = InitialUnits(call, &units); !ok.ok()) return ok;
  *out = std::make_unique<Semaphore>(call.object(), call.kind(), units);
  return OpStatus::Ok();
}

OpStatus CheckCreateSemaphore(const Object& existing, const v1::Call& call) {
  int64_t units = 0;
  if (OpStatus ok = InitialUnits(call, &units); !ok.ok()) return ok;
  const int64_t initial = static_cast<const Semaphore&>(existing).initial();
  if (units == initial) return OpStatus::Ok();
  return OpStatus::Error(v1::INVALID_ARGUMENT,
                         KindName(call.kind()) + " '" + call.object() + "' exists with " +
                             std::to_string(initial) + " initial units, not " +
                             std::to_string(units));
}

// A semaphore nobody made has the 1 unit its first use would give it.
OpStatus ReadMissingSemaphore(const v1::Call& /*call*/, v1::Result* result) {
  result->mutable_value()->set_int_value(1);
  return OpStatus::Ok();
}

}  // namespace

extern const KindSpec kSemaphoreKind{.kind = v1::SEMAPHORE,
                                     .name = "semaphore",
                                     .ops = kSemaphoreOps,
                                     .persisted = false,
                                     .make = MakeSemaphore,
                                     .check_create = CheckCreateSemaphore,
                                     .read_missing = ReadMissingSemaphore};
extern const KindSpec kBoundedSemaphoreKind{.kind = v1::BOUNDED_SEMAPHORE,
                                            .name = "bounded_semaphore",
                                            .ops = kSemaphoreOps,
                                            .persisted = false,
                                            .make = MakeSemaphore,
                                            .check_create = CheckCreateSemaphore,
                                            .read_missing = ReadMissingSemaphore};

}  // namespace ipcd
