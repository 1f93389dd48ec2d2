// ipc::Semaphore: a named counting semaphore shared between processes.
//
//   auto sem = ipc::Semaphore::Create("slots", 5).value();   // one process
//   auto sem = ipc::Semaphore::Open("slots").value();        // the others
//   if (sem.Acquire(std::chrono::seconds(1)).ok()) { ...; (void)sem.Release(); }
//
// It lives in /dev/shm/libipc.sem.NAME (owner-only unless a mode is given),
// stamped with its creator's pid so `ipcctl clean` can remove it once the
// creator is gone. Waiting is a futex: Acquire costs one atomic operation
// when the count is positive and no system call; Release makes a system call
// only when someone sleeps. A releaser killed before its wake-up call, or a
// woken waiter killed before taking its unit, delays the other waiters by
// milliseconds, never more (they re-check the count as they sleep).
//
// Like POSIX and Python semaphores, a count has no owner: a process that dies
// after Acquire does not give its unit back. (ipc::BoundedSemaphore and the
// lease-based semaphores of ipcd are for that.)
//
// Thread safety: every method may be called from any thread of any process
// that opened the semaphore.
#ifndef IPC_SEMAPHORE_H_
#define IPC_SEMAPHORE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ipc/deadline.h"
#include "ipc/result.h"

namespace ipc {

namespace internal {
struct SemaphoreState;
}  // namespace internal

class Semaphore {
 public:
  // Creates the semaphore with an initial count. kAddressInUse if NAME
  // exists (open it, or remove it with Unlink()). NAME: letters, digits,
  // '.', '_', '-'; at most 200.
  static Result<Semaphore> Create(std::string_view name, uint32_t initial,
                                  uint32_t mode = 0600);
  // Opens an existing semaphore. kNotFound if there is none.
  static Result<Semaphore> Open(std::string_view name);
  // Removes the name; processes that have it open keep using it.
  static Status Unlink(std::string_view name);

  Semaphore();
  ~Semaphore();
  Semaphore(Semaphore&&) noexcept;
  Semaphore& operator=(Semaphore&&) noexcept;

  // Takes one unit, waiting until the deadline for one to be released.
  // kDeadlineExceeded on expiry, kWouldBlock for Deadline::Now().
  Status Acquire(Deadline deadline = Deadline::Infinite());
  Status TryAcquire() { return Acquire(Deadline::Now()); }
  // Gives back n units and wakes as many waiters. kResourceExhausted if the
  // count would overflow; kInvalidArgument if it would pass the bound of a
  // BoundedSemaphore (nothing is released then).
  Status Release(uint32_t n = 1);
  // The current count (a snapshot: it may change at once).
  uint32_t Value() const;

  const std::string& name() const { return name_; }
  // The largest count Release may reach; 0 for an unbounded semaphore.
  uint32_t bound() const;

 protected:
  static Result<Semaphore> Make(std::string_view name, uint32_t initial,
                                uint32_t bound, uint32_t mode);

 private:
  struct Mapping;
  Semaphore(std::string name, std::unique_ptr<Mapping> mapping);

  std::string name_;
  std::unique_ptr<Mapping> mapping_;
};

// A Semaphore whose count may never exceed its initial value: releasing
// more than was acquired is a bug that it reports (kInvalidArgument) instead
// of letting the count drift, like Python's BoundedSemaphore. Open() on its
// name from any process (as a Semaphore or a BoundedSemaphore) keeps the
// bound.
class BoundedSemaphore : public Semaphore {
 public:
  static Result<BoundedSemaphore> Create(std::string_view name, uint32_t initial,
                                         uint32_t mode = 0600);
  BoundedSemaphore() = default;

 private:
  explicit BoundedSemaphore(Semaphore s) : Semaphore(std::move(s)) {}
};

}  // namespace ipc

#endif  // IPC_SEMAPHORE_H_
