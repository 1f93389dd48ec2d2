#include "ipc/event.h"

#include <atomic>
#include <climits>
#include <new>

#include "sync/named_object.h"
#include "posix/shared_wait.h"

namespace ipc {
namespace {

constexpr size_t kSegmentSize = 4096;

// The flag and the count of Set() calls share one word, the futex word, so
// that a Set() is one atomic step. With two words a waiter could see the
// flag of a Set() whose count had not moved yet, return, and have its next
// Wait() (after a Clear()) see that late move and return as if a new Set()
// had happened: a hand-off lost between two processes that Set/Wait/Clear
// in turn (EventTest.PingPongAcrossProcessesLosesNoWakeUp).
constexpr uint32_t kSetBit = 1;       // The flag: 1 while the event is set.
constexpr uint32_t kSetsUnit = 2;     // The count of Set() calls, bits 1..31.

struct EventState {
  internal::ObjectStamp stamp;
  // kSetBit | (sets * kSetsUnit), wrapping. A waiter that sees the count
  // move was asleep during a Set(), and returns OK even if a Clear()
  // followed (a pulse), as Python's Event.wait() returns True then.
  std::atomic<uint32_t> word;
  std::atomic<uint32_t> waiters;  // Set() skips the wake-up call when 0.
};
static_assert(sizeof(EventState) <= kSegmentSize);

std::string What(std::string_view name) { return "event '" + std::string(name) + "'"; }

}  // namespace

struct Event::Mapping {
  internal::ShmSegment segment;
  EventState* state;
};

Event::Event() = default;
Event::~Event() = default;
Event::Event(Event&&) noexcept = default;
Event& Event::operator=(Event&&) noexcept = default;
Event::Event(std::string name, std::unique_ptr<Mapping> mapping)
    : name_(std::move(name)), mapping_(std::move(mapping)) {}

Result<Event> Event::Make(std::string_view name, uint32_t mode, bool create) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("event", name));
  const std::string shm_name = internal::ShmObjectName("event", name);
  Result<internal::ShmSegment> segment =
      create ? internal::ShmSegment::CreateInitialized(
                   shm_name, kSegmentSize, mode & 0666, What(name),
                   [](void* base) {
                     auto* state = new (base) EventState{};
                     internal::StampObject(&state->stamp, internal::ObjectKind::kEvent);
                   })
             : internal::OpenStampedObject(shm_name, internal::ObjectKind::kEvent,
                                           sizeof(EventState), What(name));
  if (!segment.ok()) return segment.status();
  auto* state = static_cast<EventState*>(segment->data());
  return Event(std::string(name),
               std::unique_ptr<Mapping>(new Mapping{std::move(*segment), state}));
}

Result<Event> Event::Create(std::string_view name, uint32_t mode) {
  return Make(name, mode, true);
}
Result<Event> Event::Open(std::string_view name) { return Make(name, 0, false); }
Result<Event> Event::OpenOrCreate(std::string_view name, uint32_t mode) {
  return internal::OpenOrCreate([&] { return Make(name, mode, false); },
                                [&] { return Make(name, mode, true); });
}
Status Event::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(Open(name).status());
  return internal::ShmSegment::Unlink(internal::ShmObjectName("event", name), What(name));
}

Status Event::Set() {
  if (!mapping_) return Status(ErrorCode::kClosed, "event is not open");
  EventState& s = *mapping_->state;
  uint32_t old = s.word.load(std::memory_order_relaxed);
  while (!s.word.compare_exchange_weak(old, (old + kSetsUnit) | kSetBit,
                                       std::memory_order_seq_cst)) {
  }
  internal::WakeWord(s.waiters, s.word, INT_MAX);
  return Status::Ok();
}

Status Event::Clear() {
  if (!mapping_) return Status(ErrorCode::kClosed, "event is not open");
  mapping_->state->word.fetch_and(~kSetBit, std::memory_order_seq_cst);
  return Status::Ok();
}

bool Event::IsSet() const {
  return mapping_ &&
         (mapping_->state->word.load(std::memory_order_acquire) & kSetBit) != 0;
}

Status Event::Wait(Deadline deadline) {
  if (!mapping_) return Status(ErrorCode::kClosed, "event is not open");
  EventState& s = *mapping_->state;
  const uint32_t start_sets = s.word.load(std::memory_order_seq_cst) & ~kSetBit;
  for (;;) {
    // Read once: the flag and the count come from the same moment.
    const uint32_t now = s.word.load(std::memory_order_seq_cst);
    if ((now & kSetBit) != 0 || (now & ~kSetBit) != start_sets) return Status::Ok();
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return deadline.ExpiredStatus(What(name_) + ": wait");
    }
    // A Clear() between our read and the sleep changes nothing we read
    // (the flag was already 0); any Set() changes the word, so the kernel's
    // re-check refuses to sleep.
    internal::WaitOnWord(s.waiters, s.word, now, deadline);
  }
}

}  // namespace ipc
