#include "transport/unix_socket.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "posix/unique_fd.h"
#include "transport/socket_util.h"
#include "transport/stream_channel.h"

namespace ipc::internal {
namespace {

struct UnixAddress {
  sockaddr_un addr{};
  socklen_t len = 0;
  bool abstract = false;
};

Result<UnixAddress> ToAddress(const Url& url) {
  const std::string& path = url.path;
  if (path.empty() || (path[0] != '/' && path[0] != '@')) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": expected unix:///absolute/path or unix://@name");
  }
  UnixAddress out;
  out.addr.sun_family = AF_UNIX;
  if (path.size() + 1 > sizeof(out.addr.sun_path) || path == "@") {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": socket path must be 1 to " +
                      std::to_string(sizeof(out.addr.sun_path) - 1) +
                      " bytes long");
  }
  std::memcpy(out.addr.sun_path, path.data(), path.size());
  out.abstract = path[0] == '@';
  if (out.abstract) out.addr.sun_path[0] = '\0';  // Linux abstract namespace.
  out.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                    path.size() + (out.abstract ? 0 : 1));
  return out;
}

Result<std::unique_ptr<ListenerImpl>> UnixListen(const Url& url,
                                                 const CommonOptions& common) {
  IPC_ASSIGN_OR_RETURN(UnixAddress address, ToAddress(url));
  const size_t max_message = common.max_message;
  const std::string text = UrlWithoutFdOption(url.text);
  auto make_channel = [text, max_message](
                          UniqueFd conn) -> std::unique_ptr<ChannelImpl> {
    return std::make_unique<StreamChannel>(text, max_message,
                                           kUnixTransport.caps, std::move(conn));
  };
  if (url.Option("fd")) {
    // An inherited, already listening socket (systemd socket activation):
    // whoever bound it owns the name, so it is neither chmod'ed nor removed.
    if (url.Option("mode")) {
      return Status(ErrorCode::kInvalidArgument,
                    url.text + ": 'mode' does not apply to an adopted socket");
    }
    IPC_ASSIGN_OR_RETURN(UniqueFd adopted, AdoptListeningSocket(url, AF_UNIX));
    return std::unique_ptr<ListenerImpl>(
        new SocketListener(UrlWithoutFdOption(url.text), std::move(adopted),
                           make_channel, /*remove_on_close=*/""));
  }
  if (address.abstract && url.Option("mode")) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": 'mode' does not apply to abstract sockets");
  }
  IPC_ASSIGN_OR_RETURN(uint32_t mode, ModeOption(url, 0600));
  IPC_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(AF_UNIX, SOCK_STREAM, url.text));
  const auto* sa = reinterpret_cast<const sockaddr*>(&address.addr);
  if (::bind(fd.get(), sa, address.len) < 0) {
    if (errno != EADDRINUSE || address.abstract) {
      if (errno == EADDRINUSE) {
        return Status(ErrorCode::kAddressInUse,
                      url.text + ": abstract name is in use", EADDRINUSE);
      }
      return ErrnoStatus(url.text + ": bind", errno);
    }
    IPC_RETURN_IF_ERROR(ReclaimUnixSocketPath(url.path, url.text));
    if (::bind(fd.get(), sa, address.len) < 0) {
      return ErrnoStatus(url.text + ": bind", errno);
    }
  }
  // Nobody can connect before listen(), so setting the mode here leaves no
  // window with looser permissions.
  if (!address.abstract && ::chmod(url.path.c_str(), mode) < 0) {
    const int err = errno;
    ::unlink(url.path.c_str());
    return ErrnoStatus(url.text + ": chmod", err);
  }
  if (::listen(fd.get(), SOMAXCONN) < 0) {
    const int err = errno;
    if (!address.abstract) ::unlink(url.path.c_str());
    return ErrnoStatus(url.text + ": listen", err);
  }
  return std::unique_ptr<ListenerImpl>(new SocketListener(
      url.text, std::move(fd), make_channel,
      address.abstract ? std::string() : url.path));
}

Result<std::unique_ptr<ChannelImpl>> UnixConnect(const Url& url,
                                                 const CommonOptions& common,
                                                 Deadline deadline) {
  if (url.Option("fd")) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": 'fd' applies only to listening");
  }
  IPC_ASSIGN_OR_RETURN(UnixAddress address, ToAddress(url));
  UniqueFd connected;
  IPC_RETURN_IF_ERROR(RetryUntilPeerAppears(
      [&]() -> Status {
        IPC_ASSIGN_OR_RETURN(UniqueFd fd,
                             NewSocket(AF_UNIX, SOCK_STREAM, url.text));
        IPC_RETURN_IF_ERROR(ConnectSocket(
            fd.get(), reinterpret_cast<const sockaddr*>(&address.addr),
            address.len, deadline, url.text));
        connected = std::move(fd);
        return Status::Ok();
      },
      deadline, url.text));
  return std::unique_ptr<ChannelImpl>(new StreamChannel(
      url.text, common.max_message, kUnixTransport.caps, std::move(connected)));
}

}  // namespace

const Transport kUnixTransport = {
    .caps = {.scheme = "unix",
             .reliable = true,
             .duplex = true,
             .detects_peer_close = true,
             .multiple_peers = true,
             .max_message_limit = UINT32_MAX,
             .default_max_message = size_t{64} << 20},
    .options = {"mode", "fd"},
    .listen = UnixListen,
    .connect = UnixConnect,
};

}  // namespace ipc::internal
