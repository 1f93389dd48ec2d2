// ipc::Watcher: the changes of one ipcd object, or one key of a dict or
// namespace, as they happen (see Watch and WatchEvent in proto/ipcd.proto).
//
//   auto watcher = manager.Watch("cfg").value();
//   for (;;) {
//     ipc::Result<ipc::WatchEvent> change = watcher.Next();
//     if (!change.ok()) break;             // kClosed: the daemon went away
//     if (change->resync) { /* replace what you had with change->items */ }
//     else { /* apply change->items and change->removed */ }
//   }
//
// The first event holds the current state (resync set), so a watcher needs
// no separate read. Every change after it comes in order, each with the
// daemon's change number (version, increasing). A watcher that reads too
// slowly does not slow the daemon: changes it could not take are counted,
// and it later gets one resync event with missed set to their number.
//
// In an event loop: poll fd() for readability, then call Poll() until it
// returns no event (several may arrive in one read). fd() changes after a
// reconnect.
//
// Each Watcher has its own connection to the daemon, apart from its
// Manager's, so a blocking Next() never delays the Manager's calls. When
// that connection is lost (the daemon restarted), Next() and Poll() give
// kClosed once; the call after that reconnects and starts over with a
// resync event.
//
// Thread safety: one thread at a time per Watcher; different Watchers are
// independent.
#ifndef IPC_WATCHER_H_
#define IPC_WATCHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/result.h"
#include "ipc/value.h"

namespace ipc {

namespace internal {
class WatchStream;
}  // namespace internal

// One change, or the whole state (resync).
struct WatchEvent {
  // The daemon's change number of this change (of the last change before
  // it, for a resync); grows within one run of the daemon.
  uint64_t version = 0;
  // The event holds the whole state: the first one, one after missed
  // changes, a dict cleared or made.
  bool resync = false;
  // Changes not sent before this event because the watcher was behind.
  int64_t missed = 0;
  // The object (for a key watch: the key) exists.
  bool exists = false;
  std::string kind;  // "dict", "counter", ... ("" when it does not exist).
  std::string op;    // "SET", "ADD", "DESTROY", ... ("" on a resync).
  // A key watch: the key's value. An object watch: the object's state
  // (a counter's value, an event's flag, a list's items, a size for
  // queues, locks and the like); null for dicts and namespaces.
  ipc::Value value;
  // Dicts and namespaces: every entry on a resync, else the ones this
  // change set; and the keys it removed.
  std::vector<std::pair<std::string, ipc::Value>> items;
  std::vector<std::string> removed;
};

class Watcher {
 public:
  Watcher(Watcher&&) noexcept;
  Watcher& operator=(Watcher&&) noexcept;
  ~Watcher();

  // The next event, waiting until deadline: kDeadlineExceeded when none
  // came (the watch goes on), kClosed when the connection was lost,
  // kMessageTooLarge when the daemon ended the watch because an event
  // would not fit in a frame (watch single keys of so large a dict). After
  // kClosed or kMessageTooLarge the next call starts the watch again.
  // A moved-from Watcher gives kClosed.
  Result<WatchEvent> Next(Deadline deadline = Deadline::Infinite());
  // The next event if one has arrived; std::nullopt when none has.
  Result<std::optional<WatchEvent>> Poll();
  // The connection's descriptor (-1 while it is down).
  int fd() const;
  // Ends the watch and its connection; later calls give kClosed.
  void Close();

 private:
  friend class Manager;
  explicit Watcher(std::unique_ptr<internal::WatchStream> stream);
  std::unique_ptr<internal::WatchStream> stream_;
};

}  // namespace ipc

#endif  // IPC_WATCHER_H_
