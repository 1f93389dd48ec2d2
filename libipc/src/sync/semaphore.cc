#include "ipc/semaphore.h"

#include <atomic>
#include <climits>
#include <new>

#include "sync/named_object.h"
#include "posix/shared_wait.h"

namespace ipc {
namespace internal {

// The semaphore's shared state, at the start of its segment.
struct SemaphoreState {
  ObjectStamp stamp;
  std::atomic<uint32_t> value;
  // Processes sleeping in Acquire; Release skips the wake-up call when 0.
  // A waiter killed while asleep leaves it too high, which only costs a
  // needless wake-up later (see posix/shared_wait.h).
  std::atomic<uint32_t> waiters;
  uint32_t bound;  // 0: unbounded. Set at creation, never changed.
};

}  // namespace internal

struct Semaphore::Mapping {
  internal::ShmSegment segment;
  internal::SemaphoreState* state;
};

namespace {

constexpr size_t kSegmentSize = 4096;
static_assert(sizeof(internal::SemaphoreState) <= kSegmentSize);

std::string What(std::string_view name) {
  return "semaphore '" + std::string(name) + "'";
}

}  // namespace

Semaphore::Semaphore() = default;
Semaphore::~Semaphore() = default;
Semaphore::Semaphore(Semaphore&&) noexcept = default;
Semaphore& Semaphore::operator=(Semaphore&&) noexcept = default;
Semaphore::Semaphore(std::string name, std::unique_ptr<Mapping> mapping)
    : name_(std::move(name)), mapping_(std::move(mapping)) {}

Result<Semaphore> Semaphore::Create(std::string_view name, uint32_t initial,
                                    uint32_t mode) {
  return Make(name, initial, 0, mode);
}

Result<BoundedSemaphore> BoundedSemaphore::Create(std::string_view name,
                                                  uint32_t initial, uint32_t mode) {
  if (initial == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  What(name) + ": a bounded semaphore needs a bound (initial value) above 0");
  }
  IPC_ASSIGN_OR_RETURN(Semaphore s, Make(name, initial, initial, mode));
  return BoundedSemaphore(std::move(s));
}

Result<Semaphore> Semaphore::Make(std::string_view name, uint32_t initial,
                                  uint32_t bound, uint32_t mode) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("semaphore", name));
  IPC_ASSIGN_OR_RETURN(
      internal::ShmSegment segment,
      internal::ShmSegment::CreateInitialized(
          internal::ShmObjectName("sem", name), kSegmentSize, mode & 0666,
          What(name), [initial, bound](void* base) {
            auto* state = new (base) internal::SemaphoreState{};
            state->value.store(initial, std::memory_order_relaxed);
            state->bound = bound;
            internal::StampObject(&state->stamp, internal::ObjectKind::kSemaphore);
          }));
  auto* state = static_cast<internal::SemaphoreState*>(segment.data());
  return Semaphore(std::string(name),
                   std::unique_ptr<Mapping>(new Mapping{std::move(segment), state}));
}

Result<Semaphore> Semaphore::Open(std::string_view name) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("semaphore", name));
  IPC_ASSIGN_OR_RETURN(
      internal::ShmSegment segment,
      internal::OpenStampedObject(internal::ShmObjectName("sem", name),
                                  internal::ObjectKind::kSemaphore,
                                  sizeof(internal::SemaphoreState), What(name)));
  auto* state = static_cast<internal::SemaphoreState*>(segment.data());
  return Semaphore(std::string(name),
                   std::unique_ptr<Mapping>(new Mapping{std::move(segment), state}));
}

Status Semaphore::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("semaphore", name));
  const std::string shm_name = internal::ShmObjectName("sem", name);
  auto existing = internal::ShmSegment::Open(shm_name, What(name));
  if (!existing.ok()) return existing.status();
  return internal::ShmSegment::Unlink(shm_name, What(name));
}

Status Semaphore::Acquire(Deadline deadline) {
  if (!mapping_) return Status(ErrorCode::kClosed, "semaphore is not open");
  internal::SemaphoreState& s = *mapping_->state;
  for (;;) {
    uint32_t value = s.value.load(std::memory_order_relaxed);
    while (value > 0) {
      if (s.value.compare_exchange_weak(value, value - 1,
                                        std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        return Status::Ok();
      }
    }
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return deadline.ExpiredStatus(What(name_) + ": acquire");
    }
    // A bounded sleep: a releaser killed before its wake-up call, or a
    // woken waiter killed before taking its unit, costs at most a slice.
    internal::WaitOnWord(s.waiters, s.value, 0, deadline);
  }
}

Status Semaphore::Release(uint32_t n) {
  if (!mapping_) return Status(ErrorCode::kClosed, "semaphore is not open");
  internal::SemaphoreState& s = *mapping_->state;
  uint32_t value = s.value.load(std::memory_order_relaxed);
  do {
    if (value > UINT32_MAX - n) {
      return Status(ErrorCode::kResourceExhausted,
                    What(name_) + ": release would overflow the count");
    }
    if (s.bound != 0 && value + n > s.bound) {
      return Status(ErrorCode::kInvalidArgument,
                    What(name_) + ": released more often than acquired (the count "
                                  "would pass its bound of " + std::to_string(s.bound) + ")");
    }
  } while (!s.value.compare_exchange_weak(value, value + n,
                                          std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
  internal::WakeWord(s.waiters, s.value, n > INT_MAX ? INT_MAX : static_cast<int>(n));
  return Status::Ok();
}

uint32_t Semaphore::bound() const { return mapping_ ? mapping_->state->bound : 0; }

uint32_t Semaphore::Value() const {
  return mapping_ ? mapping_->state->value.load(std::memory_order_relaxed) : 0;
}

}  // namespace ipc
