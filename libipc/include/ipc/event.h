// ipc::Event: a named flag that processes wait on, like Python's
// multiprocessing.Event: Set() wakes every waiter, Clear() resets it.
//
//   auto ready = ipc::Event::OpenOrCreate("ready").value();
//   ready.Wait(std::chrono::milliseconds(500));   // kDeadlineExceeded if unset
//
// A futex word in /dev/shm/libipc.event.NAME (owner-only unless a mode is
// given, stamped for `ipcctl clean`). Nothing is held while waiting, so a
// process killed in Wait or Set leaves the event usable by everyone else; a
// setter killed before its wake-up call delays the waiters by milliseconds.
//
// Thread safety: any thread of any process that opened the event may call
// any method.
#ifndef IPC_EVENT_H_
#define IPC_EVENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ipc/deadline.h"
#include "ipc/result.h"

namespace ipc {

class Event {
 public:
  // Creates the event, unset; kAddressInUse if NAME exists.
  static Result<Event> Create(std::string_view name, uint32_t mode = 0600);
  // Opens an existing event; kNotFound if there is none.
  static Result<Event> Open(std::string_view name);
  // Opens NAME, creating it (unset) if it does not exist.
  static Result<Event> OpenOrCreate(std::string_view name, uint32_t mode = 0600);
  static Status Unlink(std::string_view name);

  Event();
  ~Event();
  Event(Event&&) noexcept;
  Event& operator=(Event&&) noexcept;

  // Sets the flag and wakes every waiter: even a Clear() right after it
  // does not keep a waiter that was in Wait() from returning OK.
  Status Set();
  Status Clear();
  bool IsSet() const;
  // Returns once the flag is set: at once if it already is. kDeadlineExceeded
  // (kWouldBlock for Deadline::Now()) if it is still unset at the deadline.
  Status Wait(Deadline deadline = Deadline::Infinite());

  const std::string& name() const { return name_; }

 private:
  struct Mapping;
  static Result<Event> Make(std::string_view name, uint32_t mode, bool create);
  Event(std::string name, std::unique_ptr<Mapping> mapping);

  std::string name_;
  std::unique_ptr<Mapping> mapping_;
};

}  // namespace ipc

#endif  // IPC_EVENT_H_
