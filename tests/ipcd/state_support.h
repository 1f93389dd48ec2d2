// Helpers for the durable-state tests (state_*_test.cc): state files read
// by their framing (ipcd/state/record_file.h, re-implemented here so the
// tests check the files black-box), a client for forked children that
// records no gtest failures, commands run with a bound (ipcctl, setpriv),
// Stats.persistence, and a dump of everything the daemon holds.
//
// Thread safety: plain functions and values; use each object from one
// thread.
#ifndef IPC_TESTS_IPCD_STATE_SUPPORT_H_
#define IPC_TESTS_IPCD_STATE_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ipc/channel.h"
#include "ipc/result.h"
#include "proto/ipcd.pb.h"
#include "raw_client.h"

namespace ipc::testing {

// --- State files -----------------------------------------------------------

inline constexpr size_t kStateFileHeaderBytes = 32;
inline constexpr size_t kStateRecordHeaderBytes = 16;

uint32_t Crc32c(const void* data, size_t size);

// One record as found in a state file.
struct StateRecordSpan {
  uint64_t offset = 0;  // Where its 16-byte header starts.
  uint64_t size = 0;    // Header plus payload.
  uint64_t seq = 0;
  std::string payload;
  bool crc_ok = false;
};

// A state file walked by its framing.
struct StateFile {
  std::string path;
  std::string bytes;
  std::string magic;  // "IPCDLOG1" / "IPCDSNP1" when the header is whole.
  uint32_t version = 0;
  uint64_t base_seq = 0;
  bool header_ok = false;  // Whole, and its CRC matches.
  std::vector<StateRecordSpan> records;  // The whole, valid ones, in order.
  // Where the walk stopped: bytes.size() when every record is whole and
  // valid; otherwise the offset of the first one that is not.
  uint64_t end = 0;
};

StateFile ReadStateFile(const std::string& path);

// Names of the entries of dir (no "." or ".."), sorted.
std::vector<std::string> ListDir(const std::string& dir);
// The log files of dir ("log." plus 20 digits), full paths, oldest first.
std::vector<std::string> LogFiles(const std::string& dir);
// The newest log of dir, "" when there is none.
std::string NewestLog(const std::string& dir);
bool PathExists(const std::string& path);
// Creates dir (mode 0700); false on failure.
bool MakeDir(const std::string& path);
// Copies the regular files of from into to (created).
bool CopyDir(const std::string& from, const std::string& to);
bool WriteWholeFile(const std::string& path, const std::string& bytes);
// True when text contains number as a whole decimal number (no digit right
// before or after it).
bool ContainsNumber(const std::string& text, uint64_t number);

// --- Processes -------------------------------------------------------------

struct CommandResult {
  int exit_code = -1;  // As WaitChild: code, 128+signal, -1 timed out.
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

// Runs argv (argv[0] a path) with stdout and stderr captured, killing it
// after timeout_ms. env entries ("NAME=value") are added.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         int timeout_ms = 20000,
                         const std::vector<std::string>& env = {});
// ipcctl args...
CommandResult RunIpcctl(const std::vector<std::string>& args);
std::string IpcdBinary();

// --- Clients ---------------------------------------------------------------

// A client for forked children (and other places where a failure must not
// become a gtest failure): every error is a Status.
class BareClient {
 public:
  static Result<BareClient> Open(const std::string& url);
  // Sends one request (a fresh id); returns the id.
  Result<uint64_t> SendCall(const v1::Call& call);
  Result<uint64_t> SendBatch(const v1::Batch& batch);
  // Receives the next response (responses come in request order).
  Result<v1::Response> Receive(int timeout_ms = 10000);
  Result<v1::Response> Call(const v1::Call& call, int timeout_ms = 10000);

 private:
  Channel channel_;
  uint64_t last_id_ = 0;
};

// Stats.persistence as plain values.
struct PersistenceView {
  bool present = false;      // It is set.
  std::string state_dir;
  std::string fsync;
  int64_t log_bytes = 0;
  int64_t records_since_snapshot = 0;
  int64_t snapshot_bytes = 0;
  int64_t last_sync_unix_ms = 0;
  int64_t last_snapshot_unix_ms = 0;
  bool snapshot_running = false;
  std::string last_write_error;
  int64_t last_seq = 0;
};
PersistenceView PersistenceOf(const v1::Stats& stats);

// Everything the daemon holds, as text, for before/after comparisons: every
// object but locks with its kind, size and bytes; a dict's items, a
// counter's value, an event's flag (a queue's items are only counted, since
// reading them takes them). Objects whose names start with skip_prefix are
// left out ("" leaves out nothing).
std::string DumpState(RawClient& client, const std::string& skip_prefix = "");

// Takes every item of queue (GET with timeout 0 until EMPTY; at most
// limit items), in order.
std::vector<v1::Value> DrainQueue(RawClient& client, const std::string& queue,
                                  int limit = 100000);

}  // namespace ipc::testing

#endif  // IPC_TESTS_IPCD_STATE_SUPPORT_H_
