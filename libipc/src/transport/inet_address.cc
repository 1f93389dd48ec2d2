#include "transport/inet_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace ipc::internal {

Result<std::vector<InetAddress>> ResolveHostPort(const Url& url, int socktype,
                                                 bool allow_port_zero) {
  if (url.host.empty() || url.port.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": expected " + url.scheme + "://host:port");
  }
  unsigned long port = 0;
  const auto parsed =
      std::from_chars(url.port.data(), url.port.data() + url.port.size(), port);
  if (parsed.ec != std::errc() || port > 65535 || (port == 0 && !allow_port_zero)) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": port must be 1-65535" +
                      (allow_port_zero ? " (or 0 to let the system choose)" : ""));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const int rc =
      ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found);
  if (rc != 0) {
    return Status(ErrorCode::kNotFound, url.text + ": cannot resolve host '" +
                                            url.host + "': " + gai_strerror(rc));
  }
  std::vector<InetAddress> out;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    InetAddress a;
    std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    a.family = ai->ai_family;
    out.push_back(a);
  }
  ::freeaddrinfo(found);
  if (out.empty()) {
    return Status(ErrorCode::kNotFound,
                  url.text + ": host '" + url.host + "' has no address");
  }
  return out;
}

std::string FormatHostPort(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
  port = ntohs(in6->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

std::string UrlWithAddress(const Url& url, const sockaddr* addr) {
  std::string out = url.scheme + "://" + FormatHostPort(addr);
  const size_t query = url.text.find('?');
  if (query != std::string::npos) out += url.text.substr(query);
  return out;
}

}  // namespace ipc::internal
