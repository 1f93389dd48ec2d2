#include "ipc/queue.h"

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <new>

#include "sync/named_object.h"
#include "posix/shared_wait.h"

namespace ipc {
namespace {

constexpr size_t kAlign = 64;

struct SlotHeader {
  std::atomic<uint32_t> occupied;  // The commit word: 1 holds an item.
  uint32_t size;
  int64_t priority;
  uint64_t seq;  // Arrival order.
  uint64_t reserved;
};

// Fields are only ever appended, within the 128 bytes before the slots (the
// segment is zero-filled, so a new field starts at 0).
struct QueueState {
  internal::ObjectStamp stamp;
  pthread_mutex_t lock;  // Robust; serializes changes (not the futex words).
  uint32_t maxsize;
  uint32_t max_item;
  uint32_t order;
  uint32_t closed;
  uint64_t next_seq;   // Sequence number of the next Put = Puts committed.
  uint64_t taken_seq;  // FIFO: sequence number of the next Get.
  int64_t unused;      // Was a count of unfinished tasks; kept for the layout.
  std::atomic<uint32_t> put_seq;   // Bumped after a Put: getters sleep on it.
  std::atomic<uint32_t> get_seq;   // Bumped after a Get: putters sleep on it.
  std::atomic<uint32_t> done_seq;  // Bumped when the last task is done.
  std::atomic<uint32_t> waiters;   // Wake-up calls are skipped when 0.
  // TaskDone calls so far. The unfinished tasks are next_seq - tasks_done:
  // derived from the count of committed Puts, never kept beside it, so a
  // Put killed after its commit (whose next_seq the next locker repairs)
  // cannot leave its task uncounted. TaskDone changes only this word.
  uint64_t tasks_done;
};

constexpr size_t Align(size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }
constexpr size_t kSlotsOffset = Align(sizeof(QueueState));
static_assert(kSlotsOffset == 128, "the slots' offset is part of the shared layout");
size_t SlotStride(uint32_t max_item) { return Align(sizeof(SlotHeader) + max_item); }

std::string What(std::string_view name) { return "queue '" + std::string(name) + "'"; }

void Unlock(QueueState& s) { pthread_mutex_unlock(&s.lock); }

void Bump(QueueState& s, std::atomic<uint32_t>& word) {
  word.fetch_add(1, std::memory_order_seq_cst);
  internal::WakeWord(s.waiters, word, INT_MAX);
}

// Sleeps until word moves past observed, the deadline, or a slice: the
// bumper may die before bumping (posix/shared_wait.h), so every caller
// loops back and re-reads the slots under the lock, whose repair runs if
// the bumper died holding it.
void Sleep(QueueState& s, std::atomic<uint32_t>& word, uint32_t observed, Deadline deadline) {
  internal::WaitOnWord(s.waiters, word, observed, deadline);
}

}  // namespace

struct Queue::Mapping {
  internal::ShmSegment segment;
  QueueState* state;
  char* slots;
  size_t stride;

  SlotHeader* Slot(uint32_t i) const {
    return reinterpret_cast<SlotHeader*>(slots + i * stride);
  }
  char* Data(uint32_t i) const { return slots + i * stride + sizeof(SlotHeader); }
  uint32_t SlotOf(uint64_t seq) const { return static_cast<uint32_t>(seq % state->maxsize); }
  bool Fifo() const { return state->order == static_cast<uint32_t>(QueueOrder::kFifo); }

  // Takes the state lock. A change becomes visible with one store (the
  // slot's occupied word); a Put then moves next_seq (and a FIFO Get
  // taken_seq). A holder that died between the two is repaired here from
  // the slots themselves. TaskDone's one store needs no repair.
  void Lock() const {
    if (pthread_mutex_lock(&state->lock) != EOWNERDEAD) return;
    if (PutCommitted()) ++state->next_seq;
    if (Fifo()) {
      if (state->taken_seq < state->next_seq &&
          !Slot(SlotOf(state->taken_seq))->occupied.load()) {
        ++state->taken_seq;  // The Get had committed.
      }
    }
    pthread_mutex_consistent(&state->lock);
  }

  // REQUIRES: lock held. Whether a Put committed an item without moving
  // next_seq past it: an occupied slot holds sequence number next_seq
  // (every committed Put moves it, so no older item can).
  bool PutCommitted() const {
    auto is_it = [this](uint32_t i) {
      return Slot(i)->occupied.load() && Slot(i)->seq == state->next_seq;
    };
    if (Fifo()) {
      return state->next_seq - state->taken_seq < state->maxsize &&
             is_it(SlotOf(state->next_seq));
    }
    for (uint32_t i = 0; i < state->maxsize; ++i) {
      if (is_it(i)) return true;
    }
    return false;
  }
};

Queue::Queue() = default;
Queue::~Queue() = default;
Queue::Queue(Queue&&) noexcept = default;
Queue& Queue::operator=(Queue&&) noexcept = default;
Queue::Queue(std::string name, std::unique_ptr<Mapping> mapping)
    : name_(std::move(name)), mapping_(std::move(mapping)) {}

Result<Queue> Queue::Make(std::string_view name, const QueueOptions& o, bool create) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("queue", name));
  if (create && (o.maxsize == 0 || o.maxsize > (1u << 20) || o.max_item > (64u << 20) ||
                 static_cast<uint32_t>(o.order) > 2)) {
    return Status(ErrorCode::kInvalidArgument,
                  What(name) + ": maxsize must be 1 to 1048576, max_item at most 64 MiB");
  }
  const std::string shm_name = internal::ShmObjectName("queue", name);
  Result<internal::ShmSegment> segment =
      create ? internal::ShmSegment::CreateInitialized(
                   shm_name, kSlotsOffset + o.maxsize * SlotStride(o.max_item), o.mode & 0666,
                   What(name),
                   [&o](void* base) {
                     auto* s = new (base) QueueState{};
                     pthread_mutexattr_t attr;
                     pthread_mutexattr_init(&attr);
                     pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
                     pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
                     pthread_mutex_init(&s->lock, &attr);
                     pthread_mutexattr_destroy(&attr);
                     s->maxsize = o.maxsize;
                     s->max_item = o.max_item;
                     s->order = static_cast<uint32_t>(o.order);
                     internal::StampObject(&s->stamp, internal::ObjectKind::kQueue);
                   })
             : internal::OpenStampedObject(shm_name, internal::ObjectKind::kQueue,
                                           kSlotsOffset, What(name));
  if (!segment.ok()) return segment.status();
  auto* state = static_cast<QueueState*>(segment->data());
  const size_t stride = SlotStride(state->max_item);
  if (segment->size() < kSlotsOffset + state->maxsize * stride) {
    return Status(ErrorCode::kProtocolError, What(name) + ": segment smaller than its header says");
  }
  char* slots = static_cast<char*>(segment->data()) + kSlotsOffset;
  return Queue(std::string(name), std::unique_ptr<Mapping>(new Mapping{
                                      std::move(*segment), state, slots, stride}));
}

Result<Queue> Queue::Create(std::string_view name, const QueueOptions& options) {
  return Make(name, options, true);
}
Result<Queue> Queue::Open(std::string_view name) { return Make(name, {}, false); }
Result<Queue> Queue::OpenOrCreate(std::string_view name, const QueueOptions& options) {
  return internal::OpenOrCreate([&] { return Make(name, options, false); },
                                [&] { return Make(name, options, true); });
}
Status Queue::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(Open(name).status());
  return internal::ShmSegment::Unlink(internal::ShmObjectName("queue", name), What(name));
}

Status Queue::Put(std::string_view item, Deadline deadline, int64_t priority) {
  if (!mapping_) return Status(ErrorCode::kClosed, "queue is not open");
  const Mapping& m = *mapping_;
  QueueState& s = *m.state;
  if (item.size() > s.max_item) {
    return Status(ErrorCode::kMessageTooLarge,
                  What(name_) + ": item of " + std::to_string(item.size()) +
                      " bytes exceeds max_item of " + std::to_string(s.max_item));
  }
  for (;;) {
    m.Lock();
    if (s.closed) {
      Unlock(s);
      return Status(ErrorCode::kClosed, What(name_) + " is closed");
    }
    // A free slot: in a FIFO queue the one after the newest item (slots
    // fill and empty in turn); otherwise any.
    int64_t free_slot = -1;
    if (m.Fifo()) {
      if (s.next_seq - s.taken_seq < s.maxsize) free_slot = m.SlotOf(s.next_seq);
    } else {
      for (uint32_t i = 0; i < s.maxsize && free_slot < 0; ++i) {
        if (!m.Slot(i)->occupied.load(std::memory_order_relaxed)) free_slot = i;
      }
    }
    if (free_slot >= 0) {
      const uint32_t i = static_cast<uint32_t>(free_slot);
      SlotHeader* slot = m.Slot(i);
      if (!item.empty()) std::memcpy(m.Data(i), item.data(), item.size());
      slot->size = static_cast<uint32_t>(item.size());
      slot->priority = priority;
      slot->seq = s.next_seq;
      slot->occupied.store(1, std::memory_order_release);  // The commit.
      ++s.next_seq;  // Also adds the unfinished task (see tasks_done).
      Unlock(s);
      Bump(s, s.put_seq);
      return Status::Ok();
    }
    const uint32_t observed = s.get_seq.load(std::memory_order_seq_cst);
    Unlock(s);
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return Status(ErrorCode::kFull, What(name_) + " is full (" +
                                          std::to_string(s.maxsize) + " items)");
    }
    Sleep(s, s.get_seq, observed, deadline);
  }
}

Result<std::string> Queue::Get(Deadline deadline) {
  if (!mapping_) return Status(ErrorCode::kClosed, "queue is not open");
  const Mapping& m = *mapping_;
  QueueState& s = *m.state;
  for (;;) {
    m.Lock();
    // The next item: in a FIFO queue the oldest, whose slot is known;
    // otherwise found by scanning for the newest (LIFO) or the lowest
    // priority (ties: the oldest).
    int64_t best = -1;
    if (m.Fifo()) {
      if (s.taken_seq < s.next_seq) best = m.SlotOf(s.taken_seq);
    } else {
      const bool lifo = s.order == static_cast<uint32_t>(QueueOrder::kLifo);
      for (uint32_t i = 0; i < s.maxsize; ++i) {
        const SlotHeader* slot = m.Slot(i);
        if (!slot->occupied.load(std::memory_order_acquire)) continue;
        const SlotHeader* b = best < 0 ? nullptr : m.Slot(static_cast<uint32_t>(best));
        const bool better =
            b == nullptr || (lifo ? slot->seq > b->seq
                                  : slot->priority < b->priority ||
                                        (slot->priority == b->priority && slot->seq < b->seq));
        if (better) best = i;
      }
    }
    if (best >= 0) {
      const uint32_t i = static_cast<uint32_t>(best);
      SlotHeader* slot = m.Slot(i);
      std::string item(m.Data(i), std::min(slot->size, s.max_item));
      last_priority_ = slot->priority;
      slot->occupied.store(0, std::memory_order_release);  // The commit.
      if (m.Fifo()) ++s.taken_seq;
      Unlock(s);
      Bump(s, s.get_seq);
      return item;
    }
    if (s.closed) {
      Unlock(s);
      return Status(ErrorCode::kClosed, What(name_) + " is closed and empty");
    }
    const uint32_t observed = s.put_seq.load(std::memory_order_seq_cst);
    Unlock(s);
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return Status(ErrorCode::kEmpty, What(name_) + " is empty");
    }
    Sleep(s, s.put_seq, observed, deadline);
  }
}

Status Queue::PutMessage(const google::protobuf::MessageLite& message, Deadline deadline,
                         int64_t priority) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return Status(ErrorCode::kInvalidArgument,
                  What(name_) + ": cannot serialize " + message.GetTypeName());
  }
  return Put(bytes, deadline, priority);
}

Status Queue::GetMessage(google::protobuf::MessageLite* message, Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(std::string bytes, Get(deadline));
  message->Clear();
  if (!message->ParseFromString(bytes)) {
    return Status(ErrorCode::kProtocolError,
                  What(name_) + ": an item is not a valid " + message->GetTypeName());
  }
  return Status::Ok();
}

Status Queue::TaskDone() {
  if (!mapping_) return Status(ErrorCode::kClosed, "queue is not open");
  QueueState& s = *mapping_->state;
  mapping_->Lock();
  if (s.tasks_done >= s.next_seq) {
    Unlock(s);
    return Status(ErrorCode::kInvalidArgument,
                  What(name_) + ": TaskDone called more times than items were put");
  }
  const bool last = ++s.tasks_done == s.next_seq;
  Unlock(s);
  if (last) Bump(s, s.done_seq);
  return Status::Ok();
}

Status Queue::Join(Deadline deadline) {
  if (!mapping_) return Status(ErrorCode::kClosed, "queue is not open");
  QueueState& s = *mapping_->state;
  for (;;) {
    mapping_->Lock();
    const bool done = s.tasks_done >= s.next_seq;
    const uint32_t observed = s.done_seq.load(std::memory_order_seq_cst);
    Unlock(s);
    if (done) return Status::Ok();
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return deadline.ExpiredStatus(What(name_) + ": join");
    }
    Sleep(s, s.done_seq, observed, deadline);
  }
}

Status Queue::Close() {
  if (!mapping_) return Status(ErrorCode::kClosed, "queue is not open");
  QueueState& s = *mapping_->state;
  mapping_->Lock();
  s.closed = 1;
  Unlock(s);
  Bump(s, s.put_seq);
  Bump(s, s.get_seq);
  return Status::Ok();
}

Status Queue::Reopen() {
  if (!mapping_) return Status(ErrorCode::kClosed, "queue is not open");
  QueueState& s = *mapping_->state;
  mapping_->Lock();
  s.closed = 0;
  Unlock(s);
  return Status::Ok();
}

bool Queue::closed() const {
  if (!mapping_) return true;
  mapping_->Lock();
  const bool closed = mapping_->state->closed != 0;
  Unlock(*mapping_->state);
  return closed;
}

uint32_t Queue::Size() const {
  if (!mapping_) return 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i < mapping_->state->maxsize; ++i) {
    n += mapping_->Slot(i)->occupied.load(std::memory_order_relaxed) != 0;
  }
  return n;
}
bool Queue::Full() const { return mapping_ && Size() >= mapping_->state->maxsize; }
uint32_t Queue::maxsize() const { return mapping_ ? mapping_->state->maxsize : 0; }
uint32_t Queue::max_item() const { return mapping_ ? mapping_->state->max_item : 0; }
QueueOrder Queue::order() const {
  return mapping_ ? static_cast<QueueOrder>(mapping_->state->order) : QueueOrder::kFifo;
}

}  // namespace ipc
