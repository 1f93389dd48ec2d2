#include "ipc/condition.h"

#include <atomic>
#include <climits>
#include <new>

#include "sync/named_object.h"
#include "posix/shared_wait.h"

namespace ipc {
namespace {

constexpr size_t kSegmentSize = 4096;

struct ConditionState {
  internal::ObjectStamp stamp;
  std::atomic<uint32_t> sequence;  // Bumped by every notify: the futex word.
  std::atomic<uint32_t> waiters;   // Notify skips the wake-up call when 0.
};
static_assert(sizeof(ConditionState) <= kSegmentSize);

std::string What(std::string_view name) { return "condition '" + std::string(name) + "'"; }

}  // namespace

struct Condition::Mapping {
  internal::ShmSegment segment;
  ConditionState* state;
};

Condition::Condition() = default;
Condition::~Condition() = default;
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;
Condition::Condition(std::string name, std::unique_ptr<Mapping> mapping)
    : name_(std::move(name)), mapping_(std::move(mapping)) {}

Result<Condition> Condition::Make(std::string_view name, uint32_t mode, bool create) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("condition", name));
  const std::string shm_name = internal::ShmObjectName("cond", name);
  Result<internal::ShmSegment> segment =
      create ? internal::ShmSegment::CreateInitialized(
                   shm_name, kSegmentSize, mode & 0666, What(name),
                   [](void* base) {
                     auto* state = new (base) ConditionState{};
                     internal::StampObject(&state->stamp, internal::ObjectKind::kCondition);
                   })
             : internal::OpenStampedObject(shm_name, internal::ObjectKind::kCondition,
                                           sizeof(ConditionState), What(name));
  if (!segment.ok()) return segment.status();
  auto* state = static_cast<ConditionState*>(segment->data());
  return Condition(std::string(name),
                   std::unique_ptr<Mapping>(new Mapping{std::move(*segment), state}));
}

Result<Condition> Condition::Create(std::string_view name, uint32_t mode) {
  return Make(name, mode, true);
}
Result<Condition> Condition::Open(std::string_view name) { return Make(name, 0, false); }
Result<Condition> Condition::OpenOrCreate(std::string_view name, uint32_t mode) {
  return internal::OpenOrCreate([&] { return Make(name, mode, false); },
                                [&] { return Make(name, mode, true); });
}
Status Condition::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(Open(name).status());
  return internal::ShmSegment::Unlink(internal::ShmObjectName("cond", name), What(name));
}

Status Condition::Wait(MutexLock& lock, Deadline deadline) {
  return Sleep(lock, deadline, /*one_slice=*/false);
}

Status Condition::Sleep(MutexLock& lock, Deadline deadline, bool one_slice) {
  if (!mapping_) return Status(ErrorCode::kClosed, "condition is not open");
  Mutex* mutex = lock.mutex_;
  if (mutex == nullptr) {
    return Status(ErrorCode::kInvalidArgument, What(name_) + ": Wait needs a held lock");
  }
  if (lock.previous_owner_died_) {
    // Releasing an unrepaired robust lock would make it unusable for every
    // process: the caller must repair first.
    return Status(ErrorCode::kOwnerDead,
                  What(name_) + ": the lock's previous holder died; repair the "
                                "state and MarkConsistent() before waiting");
  }
  ConditionState& s = *mapping_->state;
  // Read the sequence before letting go of the lock: a notify issued after
  // our release changes it, so the futex will not sleep through it.
  const uint32_t seen = s.sequence.load(std::memory_order_seq_cst);
  IPC_RETURN_IF_ERROR(mutex->Release());
  // Bounded sleeps (posix/shared_wait.h): a notifier killed after its bump
  // but before its wake-up call costs a slice, not the whole deadline.
  do {
    internal::WaitOnWord(s.waiters, s.sequence, seen, deadline);
  } while (!one_slice && s.sequence.load(std::memory_order_acquire) == seen &&
           !deadline.Expired());
  // Take the lock back in every case, as the caller expects to hold it.
  Result<Acquired> relock = mutex->Acquire(Deadline::Infinite());
  if (!relock.ok()) {
    lock.mutex_ = nullptr;  // Not held: the guard must not unlock it.
    return relock.status();
  }
  if (relock->previous_owner_died) {
    // The state the lock protects may be torn: no predicate can be trusted
    // until the caller repairs it (and a further wait would release the
    // unrepaired lock, making it unusable for everyone).
    lock.previous_owner_died_ = true;
    return Status(ErrorCode::kOwnerDead,
                  What(name_) + ": the lock's holder died while this process "
                                "waited; the lock is held: repair the state, "
                                "then MarkConsistent()");
  }
  if (s.sequence.load(std::memory_order_acquire) == seen &&
      (deadline.is_non_blocking() || deadline.Expired())) {
    return deadline.ExpiredStatus(What(name_) + ": wait");
  }
  return Status::Ok();
}

Status Condition::NotifyOne() {
  if (!mapping_) return Status(ErrorCode::kClosed, "condition is not open");
  ConditionState& s = *mapping_->state;
  s.sequence.fetch_add(1, std::memory_order_seq_cst);
  internal::WakeWord(s.waiters, s.sequence, 1);
  return Status::Ok();
}

Status Condition::NotifyAll() {
  if (!mapping_) return Status(ErrorCode::kClosed, "condition is not open");
  ConditionState& s = *mapping_->state;
  s.sequence.fetch_add(1, std::memory_order_seq_cst);
  internal::WakeWord(s.waiters, s.sequence, INT_MAX);
  return Status::Ok();
}

}  // namespace ipc
