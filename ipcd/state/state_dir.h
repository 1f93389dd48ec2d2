// The files of a state directory: its lock, its logs and its snapshot, and
// the walk over them that both recovery (ipcd's start) and
// `ipcctl check-state` use, so that both judge damage by the same rules:
//
// - the snapshot, if any, must be whole (every record valid, ending with
//   an empty record);
// - the logs, in base_seq order, must continue the snapshot's sequence
//   numbers without a gap;
// - a bad record at the end of the newest log, with no valid record after
//   it, is a torn append (the crash of a writer): it is reported as a
//   torn tail, to be dropped;
// - any other bad record is damage: recovery refuses it.
//
// Thread safety: plain functions; run one walk per directory at a time
// (the lock is for that).
#ifndef IPCD_STATE_STATE_DIR_H_
#define IPCD_STATE_STATE_DIR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/result.h"
#include "state/record_file.h"

namespace ipcd::state {

// "<dir>/log.<base_seq, 20 digits>".
std::string LogPath(const std::string& dir, uint64_t base_seq);
std::string SnapshotPath(const std::string& dir);

struct LogFile {
  std::string path;
  uint64_t base_seq = 0;
};
// The log files of dir, in base_seq order.
ipc::Result<std::vector<LogFile>> ListLogs(const std::string& dir);

// Takes dir's LOCK file (flock) and writes our pid into it; the returned
// descriptor holds the lock until closed. kAddressInUse naming the other
// holder's pid when another process holds it; kPermissionDenied or
// another errno status naming dir when it cannot be written.
ipc::Result<int> LockStateDir(const std::string& dir);

// Creates dir (mode 0700) when it does not exist; its parent must.
ipc::Status MakeStateDir(const std::string& dir);
// Removes what a writer that died left half made: snapshot.tmp and
// log.*.tmp (never part of the state: each is renamed only once whole).
void RemoveLeftovers(const std::string& dir);

// fsync of a directory, so that a rename or a new file in it is durable.
ipc::Status SyncDir(const std::string& dir);

struct Place {
  std::string file;  // Empty: none.
  uint64_t offset = 0;
  std::string what;
};

struct WalkResult {
  bool has_snapshot = false;
  uint64_t snapshot_seq = 0;
  int64_t snapshot_bytes = 0;
  int64_t snapshot_records = 0;
  int64_t log_records = 0;  // Log records applied (past the snapshot).
  int64_t bytes = 0;        // Bytes of all files read.
  uint64_t last_seq = 0;
  std::vector<LogFile> logs;
  // The newest log and where its valid records end (a torn tail starts
  // there); empty when there is no log.
  std::string newest_log;
  uint64_t newest_log_end = 0;
  uint64_t newest_log_last_seq = 0;  // Its last valid record (or base).
  Place torn_tail;  // file empty: none.
  Place damage;     // file empty: none.
};

// Visits every record of the snapshot, then every log record past it, in
// order; stops at the first damage (result->damage) or a visitor error
// (returned). visit receives the record and the file it is in.
using RecordVisitor =
    std::function<ipc::Status(const Record& record, const std::string& file)>;
ipc::Status WalkState(const std::string& dir, const RecordVisitor& visit,
                      WalkResult* result);

}  // namespace ipcd::state

#endif  // IPCD_STATE_STATE_DIR_H_
