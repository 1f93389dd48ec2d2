#include "ipc/mutex.h"

#include <pthread.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "sync/named_object.h"
#include "sync/robust_mutex.h"

namespace ipc {
namespace {

constexpr size_t kSegmentSize = 4096;

// The mutex's shared state, at the start of its segment.
struct MutexState {
  internal::ObjectStamp stamp;
  pthread_mutex_t mutex;
};
static_assert(sizeof(MutexState) <= kSegmentSize);

std::string What(std::string_view name) { return "mutex '" + std::string(name) + "'"; }

const char* Type(bool recursive) { return recursive ? "rmutex" : "mutex"; }

internal::ObjectKind Kind(bool recursive) {
  return recursive ? internal::ObjectKind::kRecursiveMutex : internal::ObjectKind::kMutex;
}

}  // namespace

struct Mutex::Shared {
  internal::ShmSegment segment;
  MutexState* state;
};

Mutex::Mutex() = default;
Mutex::~Mutex() = default;
Mutex::Mutex(Mutex&&) noexcept = default;
Mutex& Mutex::operator=(Mutex&&) noexcept = default;
Mutex::Mutex(std::string name, std::unique_ptr<Shared> shared)
    : name_(std::move(name)), shared_(std::move(shared)) {}

Result<Mutex> Mutex::Make(std::string_view name, uint32_t mode, bool create,
                          bool recursive) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("mutex", name));
  const std::string shm_name = internal::ShmObjectName(Type(recursive), name);
  Result<internal::ShmSegment> segment =
      create ? internal::ShmSegment::CreateInitialized(
                   shm_name, kSegmentSize, mode & 0666, What(name),
                   [recursive](void* base) {
                     auto* state = new (base) MutexState{};
                     internal::InitRobustMutex(&state->mutex, recursive);
                     internal::StampObject(&state->stamp, Kind(recursive));
                   })
             : internal::OpenStampedObject(shm_name, Kind(recursive),
                                           sizeof(MutexState), What(name));
  if (!segment.ok()) return segment.status();
  auto* state = static_cast<MutexState*>(segment->data());
  return Mutex(std::string(name),
               std::unique_ptr<Shared>(new Shared{std::move(*segment), state}));
}

Result<Mutex> Mutex::OpenOrCreateImpl(std::string_view name, uint32_t mode,
                                      bool recursive) {
  return internal::OpenOrCreate([&] { return Make(name, mode, false, recursive); },
                                [&] { return Make(name, mode, true, recursive); });
}

Result<Mutex> Mutex::Create(std::string_view name, uint32_t mode) {
  return Make(name, mode, true, false);
}
Result<Mutex> Mutex::Open(std::string_view name) { return Make(name, 0, false, false); }
Result<Mutex> Mutex::OpenOrCreate(std::string_view name, uint32_t mode) {
  return OpenOrCreateImpl(name, mode, false);
}
Status Mutex::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("mutex", name));
  IPC_RETURN_IF_ERROR(Open(name).status());
  return internal::ShmSegment::Unlink(internal::ShmObjectName(Type(false), name), What(name));
}

Result<RecursiveMutex> RecursiveMutex::Create(std::string_view name, uint32_t mode) {
  IPC_ASSIGN_OR_RETURN(Mutex m, Make(name, mode, true, true));
  return RecursiveMutex(std::move(m));
}
Result<RecursiveMutex> RecursiveMutex::Open(std::string_view name) {
  IPC_ASSIGN_OR_RETURN(Mutex m, Make(name, 0, false, true));
  return RecursiveMutex(std::move(m));
}
Result<RecursiveMutex> RecursiveMutex::OpenOrCreate(std::string_view name, uint32_t mode) {
  IPC_ASSIGN_OR_RETURN(Mutex m, OpenOrCreateImpl(name, mode, true));
  return RecursiveMutex(std::move(m));
}
Status RecursiveMutex::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("mutex", name));
  IPC_RETURN_IF_ERROR(Open(name).status());
  return internal::ShmSegment::Unlink(internal::ShmObjectName(Type(true), name), What(name));
}

Status Mutex::AcquireRaw(Deadline deadline) {
  if (!shared_) return Status(ErrorCode::kClosed, "mutex is not open");
  pthread_mutex_t* m = &shared_->state->mutex;
  const int rc = internal::LockRobustMutex(m, deadline);
  switch (rc) {
    case 0:
      return Status::Ok();
    case EOWNERDEAD:
      return Status(ErrorCode::kOwnerDead,
                    What(name_) + ": its previous holder died holding it; the "
                                  "state it protects may be inconsistent",
                    rc);
    case ENOTRECOVERABLE:
      return Status(ErrorCode::kNotRecoverable,
                    What(name_) + ": a holder died and the lock was released "
                                  "without MarkConsistent(); it cannot be used "
                                  "again (unlink and recreate it)",
                    rc);
    case ETIMEDOUT:
    case EBUSY:
      return deadline.ExpiredStatus(What(name_) + ": lock");
    case EDEADLK:
      return Status(ErrorCode::kInvalidArgument,
                    What(name_) + ": this thread already holds it", rc);
    default:
      return ErrnoStatus(What(name_) + ": lock", rc);
  }
}

Status Mutex::Release() {
  if (!shared_) return Status(ErrorCode::kClosed, "mutex is not open");
  const int rc = pthread_mutex_unlock(&shared_->state->mutex);
  if (rc == EPERM) {
    return Status(ErrorCode::kInvalidArgument, What(name_) + ": not held by this thread", rc);
  }
  return rc == 0 ? Status::Ok() : ErrnoStatus(What(name_) + ": unlock", rc);
}

Status Mutex::MarkConsistent() {
  if (!shared_) return Status(ErrorCode::kClosed, "mutex is not open");
  const int rc = pthread_mutex_consistent(&shared_->state->mutex);
  if (rc == EINVAL) {
    return Status(ErrorCode::kInvalidArgument,
                  What(name_) + ": not held after an owner's death", rc);
  }
  return rc == 0 ? Status::Ok() : ErrnoStatus(What(name_) + ": consistent", rc);
}

Result<Acquired> Mutex::Acquire(Deadline deadline) {
  Status s = AcquireRaw(deadline);
  if (s.ok()) return Acquired{};
  if (s.code() == ErrorCode::kOwnerDead) return Acquired{.previous_owner_died = true};
  return s;
}

Result<MutexLock> Mutex::Lock(Deadline deadline) {
  Status s = AcquireRaw(deadline);
  if (s.ok()) return MutexLock(this, false);
  if (s.code() == ErrorCode::kOwnerDead) return MutexLock(this, true);
  return s;
}

Result<MutexLock> Mutex::TryLock() { return Lock(Deadline::Now()); }

void Mutex::lock() {
  Status s = AcquireRaw(Deadline::Infinite());
  if (s.code() == ErrorCode::kOwnerDead) s = MarkConsistent();
  if (!s.ok()) throw Error(s);
}

void Mutex::unlock() { (void)Release(); }

bool Mutex::try_lock() {
  Status s = AcquireRaw(Deadline::Now());
  if (s.code() == ErrorCode::kOwnerDead) s = MarkConsistent();
  return s.ok();
}

MutexLock::MutexLock(Mutex* mutex, bool previous_owner_died)
    : mutex_(mutex),
      previous_owner_died_(previous_owner_died),
      locker_(std::this_thread::get_id()) {}

MutexLock::~MutexLock() { ReleaseOrAbort(); }

Status MutexLock::Unlock() {
  if (mutex_ == nullptr) return Status::Ok();
  if (std::this_thread::get_id() != locker_) {
    return Status(ErrorCode::kInvalidArgument,
                  What(mutex_->name()) +
                      ": unlocked from a thread that did not lock it; the lock "
                      "stays held (a lock guard cannot move to another thread)");
  }
  return std::exchange(mutex_, nullptr)->Release();
}

void MutexLock::ReleaseOrAbort() {
  if (mutex_ != nullptr && std::this_thread::get_id() != locker_) {
    // Unlocking is impossible here and dropping the guard would leave the
    // lock held until the locking thread exits, with every other locker
    // stuck or told that the owner died: stop loudly instead.
    std::fprintf(stderr,
                 "libipc: a lock guard of %s was destroyed on a thread that did "
                 "not lock it; a MutexLock cannot move to another thread. "
                 "Aborting.\n",
                 What(mutex_->name()).c_str());
    std::abort();
  }
  (void)Unlock();
}

}  // namespace ipc
