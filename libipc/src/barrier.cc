#include "ipc/barrier.h"

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <new>

#include "named_object.h"
#include "posix/futex.h"

namespace ipc {
namespace {

constexpr size_t kSegmentSize = 4096;

struct BarrierState {
  internal::ObjectStamp stamp;
  pthread_mutex_t lock;  // Robust; guards every field below but generation's
                         // role as a futex word.
  uint32_t parties;
  uint32_t count;        // Arrivals in the current round.
  uint32_t broken;       // Non-zero while broken.
  uint32_t broken_round;  // 1 + the last round that broke (0: none); its
                          // waiters fail even after a Reset.
  std::atomic<uint32_t> generation;  // Round number; bumped on release/break.
  std::atomic<uint32_t> waiters;
};
static_assert(sizeof(BarrierState) <= kSegmentSize);

std::string What(std::string_view name) { return "barrier '" + std::string(name) + "'"; }

// Takes the state lock; a holder that died mid-update breaks the barrier
// (its fields may be torn), which is safe and visible.
void LockState(BarrierState& s) {
  if (pthread_mutex_lock(&s.lock) == EOWNERDEAD) {
    s.broken = 1;
    s.broken_round = s.generation.load(std::memory_order_relaxed) + 1;
    s.count = 0;
    s.generation.fetch_add(1, std::memory_order_seq_cst);
    pthread_mutex_consistent(&s.lock);
  }
}

void WakeAll(BarrierState& s) {
  if (s.waiters.load(std::memory_order_seq_cst) > 0) internal::FutexWake(&s.generation, INT_MAX);
}

// REQUIRES: lock held. Breaks the current round.
void BreakRound(BarrierState& s) {
  s.broken = 1;
  s.broken_round = s.generation.load(std::memory_order_relaxed) + 1;
  s.count = 0;
  s.generation.fetch_add(1, std::memory_order_seq_cst);
}

}  // namespace

struct Barrier::Mapping {
  internal::ShmSegment segment;
  BarrierState* state;
};

Barrier::Barrier() = default;
Barrier::~Barrier() = default;
Barrier::Barrier(Barrier&&) noexcept = default;
Barrier& Barrier::operator=(Barrier&&) noexcept = default;
Barrier::Barrier(std::string name, std::unique_ptr<Mapping> mapping)
    : name_(std::move(name)), mapping_(std::move(mapping)) {}

Result<Barrier> Barrier::Make(std::string_view name, uint32_t parties, uint32_t mode,
                              bool create) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("barrier", name));
  if (create && parties == 0) {
    return Status(ErrorCode::kInvalidArgument, What(name) + ": needs at least 1 party");
  }
  const std::string shm_name = internal::ShmObjectName("barrier", name);
  Result<internal::ShmSegment> segment =
      create ? internal::ShmSegment::CreateInitialized(
                   shm_name, kSegmentSize, mode & 0666, What(name),
                   [parties](void* base) {
                     auto* state = new (base) BarrierState{};
                     pthread_mutexattr_t attr;
                     pthread_mutexattr_init(&attr);
                     pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
                     pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
                     pthread_mutex_init(&state->lock, &attr);
                     pthread_mutexattr_destroy(&attr);
                     state->parties = parties;
                     internal::StampObject(&state->stamp, internal::ObjectKind::kBarrier);
                   })
             : internal::OpenStampedObject(shm_name, internal::ObjectKind::kBarrier,
                                           sizeof(BarrierState), What(name));
  if (!segment.ok()) return segment.status();
  auto* state = static_cast<BarrierState*>(segment->data());
  return Barrier(std::string(name),
                 std::unique_ptr<Mapping>(new Mapping{std::move(*segment), state}));
}

Result<Barrier> Barrier::Create(std::string_view name, uint32_t parties, uint32_t mode) {
  return Make(name, parties, mode, true);
}
Result<Barrier> Barrier::Open(std::string_view name) { return Make(name, 0, 0, false); }
Result<Barrier> Barrier::OpenOrCreate(std::string_view name, uint32_t parties,
                                      uint32_t mode) {
  auto barrier = internal::OpenOrCreate([&] { return Make(name, 0, 0, false); },
                                         [&] { return Make(name, parties, mode, true); });
  if (barrier.ok() && barrier->parties() != parties) {
    return Status(ErrorCode::kInvalidArgument,
                  What(name) + " exists with " + std::to_string(barrier->parties()) +
                      " parties, not " + std::to_string(parties));
  }
  return barrier;
}
Status Barrier::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(Open(name).status());
  return internal::ShmSegment::Unlink(internal::ShmObjectName("barrier", name), What(name));
}

Status Barrier::BrokenStatus() const {
  return Status(ErrorCode::kClosed,
                What(name_) + " is broken (a party timed out, died holding its "
                              "lock, or it was aborted); Reset() it to reuse it");
}

Result<uint32_t> Barrier::Wait(Deadline deadline) {
  if (!mapping_) return Status(ErrorCode::kClosed, "barrier is not open");
  BarrierState& s = *mapping_->state;
  LockState(s);
  if (s.broken) {
    pthread_mutex_unlock(&s.lock);
    return BrokenStatus();
  }
  const uint32_t round = s.generation.load(std::memory_order_relaxed);
  const uint32_t index = s.count++;
  if (s.count == s.parties) {  // Last to arrive: release the round.
    s.count = 0;
    s.generation.fetch_add(1, std::memory_order_seq_cst);
    pthread_mutex_unlock(&s.lock);
    WakeAll(s);
    return index;
  }
  pthread_mutex_unlock(&s.lock);
  for (;;) {
    if (s.generation.load(std::memory_order_acquire) != round) {
      LockState(s);
      const bool broke = s.broken_round == round + 1;
      pthread_mutex_unlock(&s.lock);
      if (broke) return BrokenStatus();
      return index;
    }
    if (deadline.is_non_blocking() || deadline.Expired()) {
      LockState(s);
      if (s.generation.load(std::memory_order_relaxed) == round) {
        BreakRound(s);  // We give up, and so does everyone in this round.
        pthread_mutex_unlock(&s.lock);
        WakeAll(s);
        return deadline.ExpiredStatus(What(name_) + ": wait");
      }
      pthread_mutex_unlock(&s.lock);
      continue;  // Released (or broken) just now: report that instead.
    }
    s.waiters.fetch_add(1, std::memory_order_seq_cst);
    internal::FutexWait(&s.generation, round, deadline);
    s.waiters.fetch_sub(1, std::memory_order_relaxed);
  }
}

Status Barrier::Abort() {
  if (!mapping_) return Status(ErrorCode::kClosed, "barrier is not open");
  BarrierState& s = *mapping_->state;
  LockState(s);
  BreakRound(s);
  pthread_mutex_unlock(&s.lock);
  WakeAll(s);
  return Status::Ok();
}

Status Barrier::Reset() {
  if (!mapping_) return Status(ErrorCode::kClosed, "barrier is not open");
  BarrierState& s = *mapping_->state;
  LockState(s);
  if (s.count > 0) BreakRound(s);  // Those waiting now are told it broke.
  s.broken = 0;
  s.count = 0;
  pthread_mutex_unlock(&s.lock);
  WakeAll(s);
  return Status::Ok();
}

uint32_t Barrier::parties() const { return mapping_ ? mapping_->state->parties : 0; }
uint32_t Barrier::waiting() const { return mapping_ ? mapping_->state->count : 0; }
bool Barrier::broken() const { return mapping_ && mapping_->state->broken != 0; }

}  // namespace ipc
