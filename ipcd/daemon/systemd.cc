#include "daemon/systemd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>

#if IPCD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace ipcd {
namespace {

using ipc::ErrorCode;
using ipc::Status;

// The libipc URL of the listening socket fd, or an error naming fd.
ipc::Result<InheritedListener> DescribeListener(int fd) {
  const std::string what = "inherited fd " + std::to_string(fd);
  int type = 0;
  int listening = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
      type != SOCK_STREAM) {
    return Status(ErrorCode::kInvalidArgument,
                  what + " is not a stream socket");
  }
  len = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
      !listening) {
    return Status(ErrorCode::kInvalidArgument, what + " is not listening");
  }
  sockaddr_storage addr{};
  len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return ipc::ErrnoStatus(what + ": getsockname", errno);
  }
  const std::string fd_option = "?fd=" + std::to_string(fd);
  InheritedListener out;
  char host[INET6_ADDRSTRLEN] = {};
  switch (addr.ss_family) {
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&addr);
      const size_t path_len = len - offsetof(sockaddr_un, sun_path);
      if (path_len == 0) {
        return Status(ErrorCode::kInvalidArgument,
                      what + " is an unnamed unix socket");
      }
      std::string path;
      if (un->sun_path[0] == '\0') {
        path = "@" + std::string(un->sun_path + 1, path_len - 1);
      } else {
        path = std::string(un->sun_path, strnlen(un->sun_path, path_len));
      }
      out.url = "unix://" + path + fd_option;
      return out;
    }
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
      out.url = "tcp://" + std::string(host) + ":" +
                std::to_string(ntohs(in->sin_port)) + fd_option;
      out.is_tcp = true;
      return out;
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
      out.url = "tcp://[" + std::string(host) +
                "]:" + std::to_string(ntohs(in6->sin6_port)) + fd_option;
      out.is_tcp = true;
      return out;
    }
    default:
      return Status(ErrorCode::kInvalidArgument,
                    what + " is neither a unix nor a TCP socket");
  }
}

}  // namespace

#if IPCD_HAVE_SYSTEMD

void SdNotify(std::string_view state) {
  (void)sd_notify(0, std::string(state).c_str());
}

std::chrono::microseconds WatchdogPingInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(usec / 2);
}

ipc::Result<std::vector<InheritedListener>> InheritedListeners() {
  const int n = sd_listen_fds(1);
  if (n < 0) return ipc::ErrnoStatus("sd_listen_fds", -n);
  std::vector<InheritedListener> out;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
    IPC_ASSIGN_OR_RETURN(InheritedListener listener, DescribeListener(fd));
    out.push_back(std::move(listener));
  }
  return out;
}

#else  // Built without libsystemd: no service manager to talk to.

void SdNotify(std::string_view) {}
std::chrono::microseconds WatchdogPingInterval() { return {}; }
ipc::Result<std::vector<InheritedListener>> InheritedListeners() {
  (void)DescribeListener;
  return std::vector<InheritedListener>();
}

#endif

}  // namespace ipcd
