// ipc::Mutex and ipc::RecursiveMutex: named locks shared between processes
// that survive the death of their holder.
//
//   auto m = ipc::Mutex::OpenOrCreate("accounts").value();
//   {
//     auto lock = m.Lock(std::chrono::seconds(1));      // Result<MutexLock>
//     if (!lock.ok()) return lock.status();
//     if (lock->previous_owner_died()) {
//       // The last holder died inside: repair the state it protects, then
//       (void)lock->MarkConsistent();
//     }
//     ...
//   }                                                   // unlocked here
//
// A robust, process-shared pthread mutex in /dev/shm/libipc.mutex.NAME
// (owner-only unless a mode is given, stamped for `ipcctl clean`). When its
// holder dies, the kernel hands the lock to the next locker, told that the
// owner died; that process holds it and either calls MarkConsistent() before
// unlocking, or unlocks without it, after which every Lock() gives
// kNotRecoverable — a clear error, never a hang. (Boost.Interprocess 1.74's
// mutexes are not robust; this is why libipc has its own.)
//
// RecursiveMutex: the holder may lock again (each Lock needs an Unlock);
// other threads and processes are excluded.
//
// Thread safety: any thread of any process that opened the mutex may lock
// it; the lock belongs to the locking thread (unlocking from another thread
// is an error, as for pthread mutexes, and a MutexLock guard must stay on
// the thread that took it: see MutexLock).
#ifndef IPC_MUTEX_H_
#define IPC_MUTEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "ipc/deadline.h"
#include "ipc/result.h"

namespace ipc {

class MutexLock;

// What a successful Mutex::Acquire() found.
struct Acquired {
  // The holder before us died holding the lock: the state it protects may
  // be torn. Repair it and call MarkConsistent() before Release(), or every
  // later Acquire() gets kNotRecoverable.
  bool previous_owner_died = false;
};

class Mutex {
 public:
  // Creates the mutex; kAddressInUse if NAME exists. NAME: letters, digits,
  // '.', '_', '-'; at most 200.
  static Result<Mutex> Create(std::string_view name, uint32_t mode = 0600);
  // Opens an existing mutex; kNotFound if there is none.
  static Result<Mutex> Open(std::string_view name);
  // Opens NAME, creating it if it does not exist (safe against a concurrent
  // creator).
  static Result<Mutex> OpenOrCreate(std::string_view name, uint32_t mode = 0600);
  // Removes the name; processes that have it open keep using it.
  static Status Unlink(std::string_view name);

  Mutex();
  ~Mutex();
  Mutex(Mutex&&) noexcept;
  Mutex& operator=(Mutex&&) noexcept;

  // Locks and returns a guard that unlocks when destroyed. If the previous
  // holder died holding it, the guard says so (previous_owner_died()); repair
  // the protected state and call guard.MarkConsistent() before it unlocks.
  // kDeadlineExceeded / kWouldBlock when not acquired in time;
  // kNotRecoverable once a dead holder's lock was released unrepaired.
  Result<MutexLock> Lock(Deadline deadline = Deadline::Infinite());
  Result<MutexLock> TryLock();

  // The same without a guard. OK means acquired — also when the previous
  // holder died, which the result says (previous_owner_died) instead of an
  // error, so `if (!r.ok()) return r.status();` never leaves with the lock.
  Result<Acquired> Acquire(Deadline deadline = Deadline::Infinite());
  Status Release();
  // While holding after a previous owner died: declares the protected state
  // repaired.
  Status MarkConsistent();

  // BasicLockable, for std::lock_guard and std::unique_lock: lock() blocks,
  // and if the previous holder died it marks the state consistent and
  // carries on; it throws ipc::Error if the mutex cannot be locked at all
  // (as std::mutex::lock throws std::system_error). Prefer Lock() when the
  // protected state can be torn.
  void lock();
  void unlock();
  bool try_lock();

  const std::string& name() const { return name_; }

 protected:
  struct Shared;
  static Result<Mutex> Make(std::string_view name, uint32_t mode, bool create,
                            bool recursive);
  static Result<Mutex> OpenOrCreateImpl(std::string_view name, uint32_t mode,
                                        bool recursive);
  Mutex(std::string name, std::unique_ptr<Shared> shared);

 private:
  // Acquire with the owner's death as kOwnerDead (lock held then).
  Status AcquireRaw(Deadline deadline);

  std::string name_;
  std::unique_ptr<Shared> shared_;
};

// A Mutex whose holder (thread) may lock it again; each lock needs its
// unlock. Other threads and processes are excluded.
class RecursiveMutex : public Mutex {
 public:
  static Result<RecursiveMutex> Create(std::string_view name, uint32_t mode = 0600);
  static Result<RecursiveMutex> Open(std::string_view name);
  static Result<RecursiveMutex> OpenOrCreate(std::string_view name, uint32_t mode = 0600);
  static Status Unlink(std::string_view name);

  RecursiveMutex() = default;

 private:
  explicit RecursiveMutex(Mutex m) : Mutex(std::move(m)) {}
};

// Holds a Mutex until destroyed or Unlock()ed. Move-only.
//
// The lock belongs to the thread that took it (a pthread mutex cannot be
// unlocked by another thread). A guard may be moved around within that
// thread, but not handed to another: Unlock() from another thread fails
// with kInvalidArgument and the lock stays held (unlock it from the locking
// thread), and a guard destroyed on another thread while still holding the
// lock aborts the process with a message naming the mutex — the alternative
// would be a lock silently stuck until the locking thread exits.
class MutexLock {
 public:
  MutexLock() = default;
  // Adopts a lock the calling thread holds.
  MutexLock(Mutex* mutex, bool previous_owner_died);
  ~MutexLock();
  MutexLock(MutexLock&& o) noexcept
      : mutex_(std::exchange(o.mutex_, nullptr)),
        previous_owner_died_(o.previous_owner_died_),
        locker_(o.locker_) {}
  MutexLock& operator=(MutexLock&& o) noexcept {
    if (this != &o) {
      ReleaseOrAbort();
      mutex_ = std::exchange(o.mutex_, nullptr);
      previous_owner_died_ = o.previous_owner_died_;
      locker_ = o.locker_;
    }
    return *this;
  }

  bool owns_lock() const { return mutex_ != nullptr; }
  // The holder before us died holding the lock: the state may be torn.
  bool previous_owner_died() const { return previous_owner_died_; }
  Status MarkConsistent() {
    if (!mutex_) return Status(ErrorCode::kInvalidArgument, "lock not held");
    previous_owner_died_ = false;
    return mutex_->MarkConsistent();
  }
  // Unlocks. kInvalidArgument (and the lock stays held) from a thread other
  // than the one that locked.
  Status Unlock();
  // The mutex held, or nullptr.
  Mutex* mutex() const { return mutex_; }

 private:
  friend class Condition;  // Releases and retakes the lock while waiting.
  void ReleaseOrAbort();

  Mutex* mutex_ = nullptr;
  bool previous_owner_died_ = false;
  std::thread::id locker_;
};

}  // namespace ipc

#endif  // IPC_MUTEX_H_
