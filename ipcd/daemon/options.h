// ipcd's configuration: command-line flags and the `key = value` config
// file, turned into one Options value. Flags override the file.
//
// Thread safety: plain functions and values.
#ifndef IPCD_DAEMON_OPTIONS_H_
#define IPCD_DAEMON_OPTIONS_H_

#include <string>
#include <vector>

#include "daemon/limits.h"
#include "ipc/result.h"

namespace ipcd {

struct Options {
  // The unix socket path; empty = ipc::internal::DaemonSocketPath().
  std::string socket;
  // Extra listener URLs (tcp://host:port, unix:///path).
  std::vector<std::string> listen;
  // A file holding the shared key that tcp:// listeners require.
  std::string authkey_file;
  std::string config_file;
  Limits limits;
  // How long a new connection may take to finish Hello (and Authenticate)
  // before it is closed, so that silent connections cannot hold client
  // slots.
  int64_t handshake_timeout_ms = 10000;
  // A connection that has sent no request for this long, and has none
  // parked, is closed (0 = never, the default, like Redis's `timeout 0`).
  int64_t idle_timeout_ms = 0;
  // A frame whose first bytes arrived must be complete within this long,
  // or the connection is closed (0 = no limit).
  int64_t frame_timeout_ms = 30000;
  // After serving a request, how long the loop keeps polling without
  // sleeping (0 = never). A synchronous client's next request usually comes
  // within microseconds, and catching it awake saves the 20-40 us a wake-up
  // across cores costs; when requests stop, the loop sleeps again. Spins
  // that catch nothing (clients that think between requests, a core
  // shared with them) make the loop skip spinning for a while.
  int64_t spin_us = 50;
  // Where the state log and snapshots live (empty: $STATE_DIRECTORY when
  // systemd sets it, else state is kept in memory only), when records are
  // synced ("always", "everysec", "no"), and how much log may be written
  // past the last snapshot (at least its size) before the next one.
  std::string state_dir;
  std::string fsync = "everysec";
  int64_t snapshot_after_bytes = int64_t{64} << 20;
  // Offer clients of the unix socket a move to shared memory
  // (loop/shm_upgrades.h).
  bool shm_upgrade = true;
  bool verbose = false;
  bool help = false;
};

// Parses argv (argv[0] is skipped), reading --config FILE first when given.
// kInvalidArgument names the bad flag, or the file and line of a bad entry.
ipc::Result<Options> ParseOptions(int argc, char** argv);

// Applies the `key = value` lines of a config file to *options: '#' starts
// a comment, blank lines are skipped, `listen` may repeat. An unknown key
// or a bad value is an error naming file:line.
ipc::Status LoadConfigFile(const std::string& path, Options* options);

// The text --help prints.
std::string UsageText();

}  // namespace ipcd

#endif  // IPCD_DAEMON_OPTIONS_H_
