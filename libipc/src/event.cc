#include "ipc/event.h"

#include <atomic>
#include <climits>
#include <new>

#include "named_object.h"
#include "posix/shared_wait.h"

namespace ipc {
namespace {

constexpr size_t kSegmentSize = 4096;

// Fields are only ever appended (the segment is zero-filled, so a new field
// starts at 0 in an event made before it existed).
struct EventState {
  internal::ObjectStamp stamp;
  std::atomic<uint32_t> flag;     // 0 unset, 1 set.
  std::atomic<uint32_t> waiters;  // Set() skips the wake-up call when 0.
  // Bumped by every Set(): the futex word. A waiter that sees it move was
  // asleep during a Set(), and returns OK even if a Clear() followed (a
  // pulse), as Python's Event.wait() returns True then.
  std::atomic<uint32_t> generation;
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
  s.flag.store(1, std::memory_order_seq_cst);
  s.generation.fetch_add(1, std::memory_order_seq_cst);
  internal::WakeWord(s.waiters, s.generation, INT_MAX);
  return Status::Ok();
}

Status Event::Clear() {
  if (!mapping_) return Status(ErrorCode::kClosed, "event is not open");
  mapping_->state->flag.store(0, std::memory_order_seq_cst);
  return Status::Ok();
}

bool Event::IsSet() const {
  return mapping_ && mapping_->state->flag.load(std::memory_order_acquire) != 0;
}

Status Event::Wait(Deadline deadline) {
  if (!mapping_) return Status(ErrorCode::kClosed, "event is not open");
  EventState& s = *mapping_->state;
  // The generation is read before the flag: a Set() after this read either
  // shows in the flag or moves the generation, so none is missed.
  const uint32_t start = s.generation.load(std::memory_order_seq_cst);
  for (;;) {
    if (s.flag.load(std::memory_order_seq_cst) != 0 ||
        s.generation.load(std::memory_order_acquire) != start) {
      return Status::Ok();
    }
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return deadline.ExpiredStatus(What(name_) + ": wait");
    }
    internal::WaitOnWord(s.waiters, s.generation, start, deadline);
  }
}

}  // namespace ipc
