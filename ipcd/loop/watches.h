// Watches: which connections watch which object (or one key of a dict or
// namespace), and the events they are sent (see Watch and WatchEvent in
// proto/ipcd.proto).
//
// The server tells the hub of every change the daemon makes; the hub
// numbers it, builds the event each watcher of that name is owed and hands
// it to the server to write. A watcher whose connection is backed up is
// not written to: its missed changes are counted, and once its backlog has
// gone out the server asks for one resync event carrying the whole state.
// So a slow watcher costs the daemon a counter per change, never memory.
//
// Thread safety: single-threaded, like the whole daemon.
#ifndef IPCD_LOOP_WATCHES_H_
#define IPCD_LOOP_WATCHES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objects/object.h"
#include "objects/object_store.h"

namespace ipcd {

// One watch of one connection: the Watch request's id and what it names.
struct WatchEntry {
  uint64_t id = 0;
  std::string object;
  v1::Kind kind = v1::KIND_UNSPECIFIED;  // Unspecified: any.
  std::optional<std::string> key;
  // Changes not sent because the connection was backed up.
  int64_t missed = 0;
};

// A connection's watches, by Watch request id (a std::map: the hub keeps
// pointers to its entries).
using SessionWatches = std::map<uint64_t, WatchEntry>;

class WatchHub {
 public:
  // The most watches one connection may hold.
  static constexpr size_t kMaxPerSession = 1024;
  // A connection with this many responses (or bytes of them) waiting that
  // its socket would not take, or sent this many events (or bytes of
  // them) in one loop iteration, is sent no more events; its watches
  // count them as missed.
  static constexpr size_t kMaxBacklog = 1024;
  static constexpr size_t kMaxBacklogBytes = 1 << 20;

  // What the hub needs of the server.
  class Writer {
   public:
    virtual ~Writer() = default;
    // The session cannot take more events now (its backlog is full).
    virtual bool Backlogged(Session* s) const = 0;
    // Writes response (an event, or a watch's end) to s; false, writing
    // nothing, when it is over the frame limit.
    virtual bool SendEvent(Session* s, v1::Response& response) = 0;
    // The frame limit, for messages.
    virtual int64_t max_frame_bytes() const = 0;
  };

  WatchHub(const ObjectStore* store, Writer* writer)
      : store_(store), writer_(writer) {}

  // Starts watch `id` of s, as request asks, and writes its first event
  // (the current state). An error (bad name, key on a kind without keys,
  // kind mismatch, too many watches, an id in use, a state over the frame
  // limit) starts nothing.
  OpStatus Add(Session* s, SessionWatches& watches, uint64_t id,
               const v1::Watch& request);
  // Ends watch `id` of s; false when s has none.
  bool Remove(SessionWatches& watches, uint64_t id);
  // Ends every watch of a session that is closing; its entries stay in
  // watches (they go with the session), but nothing is sent to them.
  void Detach(const SessionWatches& watches);

  // The object `name` was changed by op; call is the request's call when
  // one made the change (nullptr for changes the daemon made itself: a
  // closing connection's locks). The object may be gone (DESTROY).
  void Changed(std::string_view name, v1::Op op, const v1::Call* call);
  // Writes a resync to every watch of s that missed changes: s's backlog
  // has gone out.
  void Resync(Session* s, SessionWatches& watches);

  // Watches open now.
  int64_t size() const { return count_; }

 private:
  struct Watcher {
    Session* session;
    WatchEntry* entry;
  };
  // Fills event with the current state that entry sees.
  // object: the one entry names (nullptr when there is none).
  void FillState(const WatchEntry& entry, const Object* object,
                 v1::WatchEvent* event) const;
  // Whether a change by op (and call) may show in what entry sees: not a
  // change of another key of its dict, nor of another kind's object under
  // its name. Cheap: decided before an event is built.
  bool Sees(const WatchEntry& entry, const Object* object, v1::Op op,
            const v1::Call* call) const;
  // Fills event with what call changed, for entry (which Sees it).
  // Takes entry out of by_name_ (and the count).
  void Unlist(const WatchEntry* entry);
  void FillChange(const WatchEntry& entry, const Object* object, v1::Op op,
                  const v1::Call* call, v1::WatchEvent* event) const;
  // Writes event_ (its id and event set) to s; when it is over the frame
  // limit, ends the watch instead (s is told why) and returns false.
  bool SendOrEnd(Session* s, SessionWatches& watches, WatchEntry& entry);

  const ObjectStore* store_;
  Writer* writer_;
  // The change number of the last change (WatchEvent.version).
  uint64_t version_ = 0;
  int64_t count_ = 0;
  std::map<std::string, std::vector<Watcher>, std::less<>> by_name_;
  v1::Response event_;  // Reused.
};

}  // namespace ipcd

#endif  // IPCD_LOOP_WATCHES_H_
