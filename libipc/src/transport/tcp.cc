#include "transport/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>

#include "posix/unique_fd.h"
#include "transport/inet_address.h"
#include "transport/socket_util.h"
#include "transport/stream_channel.h"

namespace ipc::internal {
namespace {

void SetNoDelay(int fd) {
  const int one = 1;
  // Best effort: a failure only costs latency.
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Result<std::unique_ptr<ListenerImpl>> TcpListen(const Url& url,
                                                const CommonOptions& common) {
  UniqueFd fd;
  if (url.Option("fd")) {
    // An inherited, already listening socket (systemd socket activation).
    auto adopted = AdoptListeningSocket(url, AF_INET);
    if (!adopted.ok()) adopted = AdoptListeningSocket(url, AF_INET6);
    if (!adopted.ok()) return adopted.status();
    fd = std::move(*adopted);
  } else {
    IPC_ASSIGN_OR_RETURN(auto addresses,
                         ResolveHostPort(url, SOCK_STREAM, true));
    const InetAddress& address = addresses.front();
    IPC_ASSIGN_OR_RETURN(fd, NewSocket(address.family, SOCK_STREAM, url.text));
    const int one = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.addr),
               address.len) < 0) {
      return ErrnoStatus(url.text + ": bind", errno);
    }
    if (::listen(fd.get(), SOMAXCONN) < 0) {
      return ErrnoStatus(url.text + ": listen", errno);
    }
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound),
                    &bound_len) < 0) {
    return ErrnoStatus(url.text + ": getsockname", errno);
  }
  const std::string listen_url = UrlWithoutFdOption(
      UrlWithAddress(url, reinterpret_cast<const sockaddr*>(&bound)));
  const size_t max_message = common.max_message;
  return std::unique_ptr<ListenerImpl>(new SocketListener(
      listen_url, std::move(fd),
      [listen_url, max_message](UniqueFd conn) -> std::unique_ptr<ChannelImpl> {
        SetNoDelay(conn.get());
        return std::make_unique<StreamChannel>(listen_url, max_message,
                                               kTcpTransport.caps,
                                               std::move(conn));
      },
      /*remove_on_close=*/""));
}

Result<std::unique_ptr<ChannelImpl>> TcpConnect(const Url& url,
                                                const CommonOptions& common,
                                                Deadline deadline) {
  if (url.Option("fd")) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": 'fd' applies only to listening");
  }
  IPC_ASSIGN_OR_RETURN(auto addresses,
                       ResolveHostPort(url, SOCK_STREAM, false));
  UniqueFd connected;
  IPC_RETURN_IF_ERROR(RetryUntilPeerAppears(
      [&]() -> Status {
        Status last;
        for (const InetAddress& address : addresses) {
          auto fd = NewSocket(address.family, SOCK_STREAM, url.text);
          if (!fd.ok()) return fd.status();
          last = ConnectSocket(fd->get(),
                               reinterpret_cast<const sockaddr*>(&address.addr),
                               address.len, deadline, url.text);
          if (last.ok()) {
            connected = std::move(*fd);
            return last;
          }
        }
        return last;
      },
      deadline, url.text));
  SetNoDelay(connected.get());
  return std::unique_ptr<ChannelImpl>(new StreamChannel(
      url.text, common.max_message, kTcpTransport.caps, std::move(connected)));
}

}  // namespace

const Transport kTcpTransport = {
    .caps = {.scheme = "tcp",
             .reliable = true,
             .duplex = true,
             .detects_peer_close = true,
             .multiple_peers = true,
             .max_message_limit = UINT32_MAX,
             .default_max_message = size_t{64} << 20},
    .options = {"fd"},
    .listen = TcpListen,
    .connect = TcpConnect,
};

}  // namespace ipc::internal
