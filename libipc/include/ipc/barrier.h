// ipc::Barrier: a named barrier for a fixed number of parties across
// processes, like Python's multiprocessing.Barrier.
//
//   auto start = ipc::Barrier::OpenOrCreate("start", 3).value();
//   auto index = start.Wait(std::chrono::seconds(5));   // 0..2 when released
//
// When a waiter's deadline passes, or Abort() is called, the barrier
// breaks: every current and later Wait fails with kClosed ("broken") until
// Reset(), as Python's BrokenBarrierError. So a party that dies before
// arriving costs the others their deadline, never a hang. The state lives
// in /dev/shm/libipc.barrier.NAME behind a robust lock; a process killed in
// the middle of an update breaks the barrier rather than corrupting it, and
// the parties waiting learn it within milliseconds, as they do a release
// whose last party died before waking them. A party that was waiting in a
// round that broke gets kClosed, whatever happened to the barrier since.
//
// Thread safety: any thread of any process that opened it.
#ifndef IPC_BARRIER_H_
#define IPC_BARRIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ipc/deadline.h"
#include "ipc/result.h"

namespace ipc {

class Barrier {
 public:
  // parties: how many Wait calls release the barrier (at least 1).
  static Result<Barrier> Create(std::string_view name, uint32_t parties,
                                uint32_t mode = 0600);
  static Result<Barrier> Open(std::string_view name);
  // Opens NAME or creates it; kInvalidArgument if it exists with another
  // number of parties.
  static Result<Barrier> OpenOrCreate(std::string_view name, uint32_t parties,
                                      uint32_t mode = 0600);
  static Status Unlink(std::string_view name);

  Barrier();
  ~Barrier();
  Barrier(Barrier&&) noexcept;
  Barrier& operator=(Barrier&&) noexcept;

  // Arrives and waits for the others. Returns this caller's arrival index,
  // 0 to parties-1 (exactly one caller gets each). kDeadlineExceeded when
  // this caller's deadline passed (the barrier is then broken for all);
  // kClosed when the barrier is broken.
  Result<uint32_t> Wait(Deadline deadline = Deadline::Infinite());
  // Breaks the barrier: current and future waiters get kClosed.
  Status Abort();
  // Makes a broken barrier usable again (current waiters get kClosed).
  Status Reset();

  uint32_t parties() const;
  uint32_t waiting() const;  // A snapshot.
  bool broken() const;
  const std::string& name() const { return name_; }

 private:
  struct Mapping;
  static Result<Barrier> Make(std::string_view name, uint32_t parties, uint32_t mode,
                              bool create);
  Barrier(std::string name, std::unique_ptr<Mapping> mapping);
  Status BrokenStatus() const;

  std::string name_;
  std::unique_ptr<Mapping> mapping_;
};

}  // namespace ipc

#endif  // IPC_BARRIER_H_
