#include "ipc/barrier.h"

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <new>

#include "sync/named_object.h"
#include "posix/shared_wait.h"

namespace ipc {
namespace {

constexpr size_t kSegmentSize = 4096;
// How many past rounds' outcomes are remembered (a power of two, so that it
// divides 2^32 and the bits stay right when the round number wraps).
constexpr uint32_t kHistory = 1024;

// Fields are only ever appended (the segment is zero-filled, so a new field
// starts at 0 in a barrier made before it existed).
struct BarrierState {
  internal::ObjectStamp stamp;
  pthread_mutex_t lock;  // Robust; guards every field below but generation's
                         // role as a futex word.
  uint32_t parties;
  uint32_t count;        // Arrivals in the current round.
  uint32_t broken;       // Non-zero while broken.
  uint32_t unused;       // Was the last broken round; kept for the layout.
  std::atomic<uint32_t> generation;  // Round number; bumped on release/break.
  std::atomic<uint32_t> waiters;
  // Bit (r % kHistory): round r ended broken, not released. One bit per
  // round, so a waiter of round r learns its own round's fate even when
  // more rounds ended (Abort, Reset, Abort) before it woke up.
  uint64_t broken_rounds[kHistory / 64];
};
static_assert(sizeof(BarrierState) <= kSegmentSize);

std::string What(std::string_view name) { return "barrier '" + std::string(name) + "'"; }

void SetRoundBroken(BarrierState& s, uint32_t round, bool broken) {
  const uint64_t bit = uint64_t{1} << (round % 64);
  uint64_t& word = s.broken_rounds[(round % kHistory) / 64];
  word = broken ? (word | bit) : (word & ~bit);
}

// REQUIRES: lock held. Whether round (now over) ended broken. A waiter that
// slept through kHistory rounds cannot know; it is told the barrier broke,
// the safe answer (it never passes a round that did not release it).
bool RoundBroke(const BarrierState& s, uint32_t round) {
  if (s.generation.load(std::memory_order_relaxed) - round >= kHistory) return true;
  return (s.broken_rounds[(round % kHistory) / 64] >> (round % 64)) & 1;
}

// REQUIRES: lock held. Ends the current round, released or broken.
void EndRound(BarrierState& s, bool broken) {
  const uint32_t round = s.generation.load(std::memory_order_relaxed);
  SetRoundBroken(s, round, broken);
  SetRoundBroken(s, round + 1, false);  // Forget the outcome kHistory ago.
  if (broken) s.broken = 1;
  s.count = 0;
  s.generation.fetch_add(1, std::memory_order_seq_cst);  // The commit.
}

// REQUIRES: the lock was just taken with EOWNERDEAD. The holder died
// mid-update (its fields may be torn): break the round, which is safe and
// visible.
void Repair(BarrierState& s) {
  EndRound(s, /*broken=*/true);
  pthread_mutex_consistent(&s.lock);
}

void LockState(BarrierState& s) {
  if (pthread_mutex_lock(&s.lock) == EOWNERDEAD) Repair(s);
}

// A waiter's periodic check that the lock's holder is alive: a holder that
// died never unlocks, so its repair (which breaks the round and moves the
// generation) must be run by someone, and the waiters are who is left.
void ProbeLock(BarrierState& s) {
  const int rc = pthread_mutex_trylock(&s.lock);
  if (rc == EBUSY) return;  // Held by a live process (or one the kernel has
                            // not yet marked dead): it will finish.
  if (rc == EOWNERDEAD) Repair(s);
  pthread_mutex_unlock(&s.lock);
}

void WakeAll(BarrierState& s) { internal::WakeWord(s.waiters, s.generation, INT_MAX); }

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
    EndRound(s, /*broken=*/false);
    pthread_mutex_unlock(&s.lock);
    WakeAll(s);
    return index;
  }
  pthread_mutex_unlock(&s.lock);
  for (;;) {
    if (s.generation.load(std::memory_order_acquire) != round) {
      LockState(s);
      const bool broke = RoundBroke(s, round);
      pthread_mutex_unlock(&s.lock);
      if (broke) return BrokenStatus();
      return index;
    }
    if (deadline.is_non_blocking() || deadline.Expired()) {
      LockState(s);
      if (s.generation.load(std::memory_order_relaxed) == round) {
        EndRound(s, /*broken=*/true);  // We give up, and so does everyone in this round.
        pthread_mutex_unlock(&s.lock);
        WakeAll(s);
        return deadline.ExpiredStatus(What(name_) + ": wait");
      }
      pthread_mutex_unlock(&s.lock);
      continue;  // Released (or broken) just now: report that instead.
    }
    // Bounded (posix/shared_wait.h): the last party may die between its
    // commit and its wake-up call, or holding the lock mid-update.
    internal::WaitOnWord(s.waiters, s.generation, round, deadline);
    if (s.generation.load(std::memory_order_acquire) == round) ProbeLock(s);
  }
}

Status Barrier::Abort() {
  if (!mapping_) return Status(ErrorCode::kClosed, "barrier is not open");
  BarrierState& s = *mapping_->state;
  LockState(s);
  EndRound(s, /*broken=*/true);
  pthread_mutex_unlock(&s.lock);
  WakeAll(s);
  return Status::Ok();
}

Status Barrier::Reset() {
  if (!mapping_) return Status(ErrorCode::kClosed, "barrier is not open");
  BarrierState& s = *mapping_->state;
  LockState(s);
  if (s.count > 0) EndRound(s, /*broken=*/true);  // Those waiting now are told it broke.
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
