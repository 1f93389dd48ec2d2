// Where ipcd listens when no socket is given, for the daemon and its
// clients alike (see ipc::Manager::DefaultUrl):
//   $IPCD_SOCKET, else $RUNTIME_DIRECTORY/ipcd.sock (systemd sets it for the
//   daemon; the first entry if it lists several), else
//   $XDG_RUNTIME_DIR/ipcd/ipcd.sock, else /tmp/ipcd-$UID/ipcd.sock.
// A client whose path does not exist falls back to the system daemon's
// /run/ipcd/ipcd.sock when that one does.
//
// Thread safety: reads the environment; do not race with setenv.
#ifndef IPC_SRC_MANAGER_DEFAULT_SOCKET_H_
#define IPC_SRC_MANAGER_DEFAULT_SOCKET_H_

#include <string>

namespace ipc::internal {

inline constexpr char kSystemDaemonSocket[] = "/run/ipcd/ipcd.sock";

std::string DaemonSocketPath();
std::string ClientSocketPath();

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_DEFAULT_SOCKET_H_
