// ipcd's side of the systemd service protocol: readiness and status
// notifications (sd_notify), watchdog pings, and the listening sockets of
// socket activation (sd_listen_fds). Without systemd (no NOTIFY_SOCKET,
// LISTEN_FDS or WATCHDOG_USEC in the environment) every call is a no-op.
//
// Thread safety: call from the daemon's one thread.
#ifndef IPCD_DAEMON_SYSTEMD_H_
#define IPCD_DAEMON_SYSTEMD_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/result.h"

namespace ipcd {

// Sends state ("READY=1\nSTATUS=...") to the service manager, if any.
void SdNotify(std::string_view state);

// How often to send WATCHDOG=1: half of the interval systemd asked for,
// or zero when the watchdog is off.
std::chrono::microseconds WatchdogPingInterval();

// A listening socket handed over by the service manager.
struct InheritedListener {
  std::string url;  // libipc URL that adopts it, e.g.
                    // "unix:///run/ipcd/ipcd.sock?fd=3".
  bool is_tcp = false;
};

// The sockets passed with LISTEN_FDS (empty without socket activation); the
// LISTEN_* variables are removed from the environment. kInvalidArgument
// for a descriptor that is not a listening unix or TCP stream socket.
ipc::Result<std::vector<InheritedListener>> InheritedListeners();

}  // namespace ipcd

#endif  // IPCD_DAEMON_SYSTEMD_H_
