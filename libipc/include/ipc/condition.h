// ipc::Condition: a named condition variable shared by processes, used with
// an ipc::Mutex, like Python's multiprocessing.Condition.
//
//   auto lock = accounts_mutex.Lock().value();
//   Status s = funds.Wait(lock, std::chrono::seconds(5),
//                         [&] { return balance->Load() >= amount; });
//   // ... on OK the predicate holds and the lock is held.
//   funds.NotifyAll();   // after changing the balance
//
// A futex sequence word in /dev/shm/libipc.cond.NAME: Wait releases the
// lock, sleeps until a notification (or its deadline), and takes the lock
// back before returning in every case. Nothing is held while waiting, so a
// waiter or notifier killed at any point leaves the condition usable (a
// notification whose notifier died before its wake-up call, or whose woken
// waiter died, still reaches the other waiters within milliseconds). If the
// lock's holder dies while we wait, Wait returns kOwnerDead with the lock
// held and lock.previous_owner_died() true: repair the protected state and
// call lock.MarkConsistent() (a predicate cannot be trusted before that,
// and waiting again on the unrepaired lock is refused with kOwnerDead).
//
// Thread safety: any thread of any process that opened it.
#ifndef IPC_CONDITION_H_
#define IPC_CONDITION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ipc/deadline.h"
#include "ipc/mutex.h"
#include "ipc/result.h"

namespace ipc {

class Condition {
 public:
  static Result<Condition> Create(std::string_view name, uint32_t mode = 0600);
  static Result<Condition> Open(std::string_view name);
  static Result<Condition> OpenOrCreate(std::string_view name, uint32_t mode = 0600);
  static Status Unlink(std::string_view name);

  Condition();
  ~Condition();
  Condition(Condition&&) noexcept;
  Condition& operator=(Condition&&) noexcept;

  // REQUIRES: lock holds its mutex. Waits for a notification (wake-ups may
  // be spurious: re-check your condition, or use the predicate form).
  // kDeadlineExceeded if the deadline passed first; kOwnerDead as above. The
  // lock is held again on return, whatever the status.
  Status Wait(MutexLock& lock, Deadline deadline = Deadline::Infinite());

  // Waits until pred() holds (checked under the lock), or the deadline.
  // pred() is also re-checked every few milliseconds without a
  // notification, so a notifier killed after changing the state but before
  // notifying does not strand the waiter.
  template <typename Predicate>
  Status Wait(MutexLock& lock, Deadline deadline, Predicate pred) {
    while (!pred()) {
      Status s = Sleep(lock, deadline, /*one_slice=*/true);
      if (s.code() == ErrorCode::kDeadlineExceeded || s.code() == ErrorCode::kWouldBlock) {
        return pred() ? Status::Ok() : s;
      }
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Status NotifyOne();
  Status NotifyAll();

  const std::string& name() const { return name_; }

 private:
  struct Mapping;
  static Result<Condition> Make(std::string_view name, uint32_t mode, bool create);
  // Wait(); with one_slice, returns OK after one bounded sleep even
  // without a notification (for the predicate form, which re-checks).
  Status Sleep(MutexLock& lock, Deadline deadline, bool one_slice);
  Condition(std::string name, std::unique_ptr<Mapping> mapping);

  std::string name_;
  std::unique_ptr<Mapping> mapping_;
};

}  // namespace ipc

#endif  // IPC_CONDITION_H_
