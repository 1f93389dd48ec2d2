// Journal: ipcd's append-only state log, as the event loop sees it.
//
// The dispatcher adds each change it makes (Add, AddRequeue); the server
// marks the end of each request (EndRequest) and, before it writes a
// response that acknowledges a change, calls MakeDurable(seq): the
// records are written — and under fsync=always also fdatasync'ed — first.
// A record holds whole requests (a torn append never replays half a
// batch): usually every change of one loop iteration, ended at the first
// MakeDurable, so that a turn of many small changes pays one record
// header and one write, and the requests of one iteration share one sync
// (group commit). Under everysec a thread fdatasyncs once a second, off
// the loop; under no the kernel decides.
//
// A record is written as it ends. Space is reserved ahead with fallocate
// (the file grows by zeros, which readers take for its end), and a change
// that cannot get its space is refused before it is applied (Reserve), so
// a full disk refuses writes cleanly and writes resume once space
// returns. The reserved space is mapped: writing a small record is a
// memcpy into the page cache, not a system call, and is as safe from a
// SIGKILL of ipcd as a write. Records of a page or more, and those that do
// not fit the mapping (a file system without fallocate), are written with
// pwrite. A write that fails anyway (EIO, or a file system that cannot
// reserve) leaves memory ahead of the disk: ipcd then logs why and exits,
// and a restart recovers what the disk holds — every acknowledged change.
//
// Snapshots: SnapshotDue() says when the log has outgrown the last
// snapshot; StartNewLog() closes the current log and starts the next one
// at the current sequence number, and SnapshotFinished() removes the logs
// a snapshot made obsolete.
//
// Thread safety: every method runs on the event loop's thread; the
// everysec thread only syncs the current file, which it opens by the name
// it reads under mutex_.
#ifndef IPCD_STATE_JOURNAL_H_
#define IPCD_STATE_JOURNAL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ipc/result.h"
#include "objects/object.h"
#include "proto/ipcd.pb.h"
#include "proto/ipcd_state.pb.h"

namespace ipcd::state {

enum class FsyncPolicy { kAlways, kEverySec, kNo };
// "always", "everysec", "no".
const char* FsyncPolicyName(FsyncPolicy policy);
bool ParseFsyncPolicy(std::string_view text, FsyncPolicy* policy);

class Journal {
 public:
  struct Config {
    std::string dir;
    FsyncPolicy fsync = FsyncPolicy::kEverySec;
    int64_t snapshot_after_bytes = int64_t{64} << 20;
    // Where recovery left off: the newest log and where its valid
    // records end (empty: start a new log), and the last sequence number.
    std::string log_path;
    uint64_t log_end = 0;
    uint64_t last_seq = 0;
    int64_t snapshot_bytes = 0;
    int64_t records_since_snapshot = 0;
  };

  // Opens the log to append to (cutting a torn tail at log_end) or starts
  // a new one, and starts the everysec thread.
  static ipc::Result<std::unique_ptr<Journal>> Open(const Config& config);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // OK when a change of about `bytes` serialized bytes can be logged;
  // RESOURCE_EXHAUSTED naming the state dir and the cause otherwise.
  OpStatus Reserve(size_t bytes);
  // size: call.ByteSizeLong(), as given to Reserve (computed once).
  void Add(const v1::Call& call, size_t size);
  // The same change from the bytes of a serialized Call (exactly those
  // that parsed to the call that ran: dispatch/call_bytes.h).
  void AddCallBytes(std::string_view call);
  void AddRequeue(const std::string& queue, const v1::Value& value);
  // A request (or a requeue) has added all its changes. The sequence
  // number of the record that holds them, or 0 when it added none. The
  // record stays open for the next requests of the loop iteration unless
  // it has grown past kRecordTarget.
  uint64_t EndRequest();
  // Ends the record being built; its sequence number, or 0 when it holds
  // no change.
  uint64_t EndRecord();
  // The sequence number the record being built will get (0: it holds no
  // change yet).
  uint64_t open_seq() const { return open_size_ == 0 ? 0 : last_seq_ + 1; }
  // Record seq is written (and, under always, synced) when this returns
  // (when seq is the open record, it is ended first — unless a request is
  // adding to it still: then it is written as it ends). Exits the process
  // when the log cannot be written (see above).
  void MakeDurable(uint64_t seq);
  // Whether record seq is as durable as the policy asks before it is
  // acknowledged (written; under always also synced).
  bool Durable(uint64_t seq) const {
    return seq <= (config_.fsync == FsyncPolicy::kAlways ? synced_seq_
                                                         : last_seq_);
  }
  // Ends the open record and, under always, syncs (the end of a loop
  // iteration).
  void WriteAll();
  // Writes and syncs everything and stops the sync thread (shutdown).
  void Close();

  bool SnapshotDue() const;
  // The log StartNewLog ended: still open, for the snapshot writer.
  struct EndedLog {
    int fd;
    uint64_t end;  // Where its records end.
  };
  // Ends the current log (every record written) and starts the next one;
  // the snapshot to write now covers up to last_seq(). The caller owns
  // the ended log's descriptor and hands it to FinishEndedLog off the
  // loop (the snapshot writer does), so the loop never waits for its sync.
  ipc::Result<EndedLog> StartNewLog();
  // Syncs the ended log (StartNewLog has cut its reserved space).
  static ipc::Status FinishEndedLog(const EndedLog& log);
  // A snapshot of every record up to seq finished (ok) or failed.
  void SnapshotFinished(bool ok, uint64_t seq, int64_t bytes);

  uint64_t last_seq() const { return last_seq_; }
  const std::string& dir() const { return config_.dir; }
  FsyncPolicy fsync() const { return config_.fsync; }
  void FillStats(v1::Persistence* stats) const;

 private:
  explicit Journal(const Config& config);
  ipc::Status OpenLog(const std::string& path, uint64_t end);
  ipc::Status CreateLog(uint64_t base_seq);
  // Room for n more bytes at the end of the open record; where they go.
  char* OpenRecordRoom(size_t n);
  // Appends a Change holding message as field to the open record.
  void AppendChange(uint8_t field, const google::protobuf::MessageLite& message,
                    size_t size);
  // Appends the Change's head (its tag and length, and the field's) for a
  // message of size bytes; returns where the message's bytes go.
  uint8_t* AppendChangeHead(uint8_t field, size_t size);
  // Writes a framed record at the end of the file.
  void WriteRecord(const char* record, size_t size);
  // Maps (or grows the mapping to) the file up to reserved_end_; on
  // failure leaves it unmapped, and records are written with pwrite.
  void MapReserved();
  void Unmap();
  // Unmaps the written part of the mapping (kReleaseStep at a time).
  void ReleaseWrittenPages();
  void SyncNow();
  void SyncLoop();
  [[noreturn]] void Fail(const std::string& what, int err);

  Config config_;
  int fd_ = -1;                 // Guarded by mutex_ for the sync thread.
  std::string path_;            // Guarded by mutex_ for the sync thread.
  uint64_t file_end_ = 0;       // Bytes written to the file.
  uint64_t reserved_end_ = 0;   // Bytes the file has space for.
  char* map_ = nullptr;         // The file's bytes [0, map_len_), shared.
  uint64_t map_len_ = 0;
  uint64_t released_end_ = 0;   // map_[0, released_end_) is unmapped.
  bool can_reserve_ = true;     // False when fallocate is not supported.
  // The record being built, in open_record_[0, open_size_): its header
  // (filled in by EndRecord), then a serialized v1.StateRecord, one Change
  // at a time. open_record_'s size is only its capacity: growing it does
  // not zero bytes that are written over at once.
  std::string open_record_;
  size_t open_size_ = 0;
  size_t requests_end_ = 0;     // open_record_[0, requests_end_): whole requests.
  uint64_t last_seq_ = 0;       // Last ended (and so written) record.
  uint64_t synced_seq_ = 0;

  int64_t log_bytes_ = 0;       // Since the last snapshot.
  int64_t records_since_snapshot_ = 0;
  int64_t snapshot_bytes_ = 0;
  int64_t last_snapshot_unix_ms_ = 0;
  std::chrono::steady_clock::time_point snapshot_retry_{};
  std::string last_write_error_;
  std::atomic<int64_t> last_sync_unix_ms_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;           // Guarded by mutex_.
  std::atomic<uint64_t> written_for_sync_{0};
  std::thread sync_thread_;
};

}  // namespace ipcd::state

#endif  // IPCD_STATE_JOURNAL_H_
