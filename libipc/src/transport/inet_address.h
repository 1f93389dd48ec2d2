// Host/port resolution shared by tcp:// and udp://.
#ifndef IPC_SRC_TRANSPORT_INET_ADDRESS_H_
#define IPC_SRC_TRANSPORT_INET_ADDRESS_H_

#include <sys/socket.h>

#include <string>
#include <vector>

#include "ipc/result.h"
#include "ipc/url.h"

namespace ipc::internal {

struct InetAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
};

// Resolves url's host and port (port required; 0 allowed only when
// allow_port_zero) for socket type SOCK_STREAM or SOCK_DGRAM.
Result<std::vector<InetAddress>> ResolveHostPort(const Url& url, int socktype,
                                                 bool allow_port_zero);

// "127.0.0.1:80" or "[::1]:80".
std::string FormatHostPort(const sockaddr* addr);

// scheme://host:port?query, with the query of url kept.
std::string UrlWithAddress(const Url& url, const sockaddr* addr);

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_INET_ADDRESS_H_
