// Writing a snapshot of every object, and applying state records (from a
// snapshot or the log) to the object store at start-up.
//
// A snapshot holds records 1..n, each a v1.StateRecord of the calls that
// recreate objects (Object::Save), and an empty record that marks its end.
// It is written to snapshot.tmp, synced, renamed to snapshot and the
// directory synced, so "snapshot" is always a whole file.
//
// Thread safety: WriteSnapshot only reads the store, and runs in a forked
// child whose copy of the store no one else touches; a Replayer mutates
// the store and runs before the event loop starts.
#ifndef IPCD_STATE_SNAPSHOT_H_
#define IPCD_STATE_SNAPSHOT_H_

#include <cstdint>
#include <set>
#include <string>

#include <google/protobuf/arena.h>

#include "dispatch/dispatcher.h"
#include "ipc/result.h"
#include "objects/object_store.h"
#include "proto/ipcd_state.pb.h"
#include "state/record_file.h"

namespace ipcd::state {

// Writes a snapshot of store, which holds every change up to record seq;
// *bytes is its size.
ipc::Status WriteSnapshot(const std::string& dir, const ObjectStore& store,
                          uint64_t seq, int64_t* bytes);

// Applies records' changes through a dispatcher that has no journal
// attached. A change that does not apply as it did when it was logged is
// an error naming the record. Reuses its messages from record to record
// (a restart replays millions).
class Replayer {
 public:
  Replayer(Dispatcher& dispatcher, ObjectStore& store);
  ipc::Status Apply(const Record& record, const std::string& file);

 private:
  Dispatcher& dispatcher_;
  ObjectStore& store_;
  std::set<std::string, std::less<>> no_locks_;
  OpContext ctx_;
  // Each record is parsed on arena_, reset before the next: a snapshot's
  // records carry a million entries, and freeing their messages one by one
  // was a third of a restart's time.
  google::protobuf::Arena arena_;
  v1::Result result_;
};

}  // namespace ipcd::state

#endif  // IPCD_STATE_SNAPSHOT_H_
