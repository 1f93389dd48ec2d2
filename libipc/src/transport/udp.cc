#include "transport/udp.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "posix/fd_io.h"
#include "posix/unique_fd.h"
#include "transport/inet_address.h"
#include "transport/socket_util.h"

namespace ipc::internal {
namespace {

constexpr size_t kMaxDatagram = 65507;

class UdpChannel final : public ChannelImpl {
 public:
  // connected: the socket was connect()ed to its one peer; otherwise replies
  // go to the sender of the last datagram received.
  UdpChannel(std::string url, size_t max_message, UniqueFd fd, bool connected)
      : ChannelImpl(std::move(url), max_message, kUdpTransport.caps),
        fd_(std::move(fd)),
        connected_(connected),
        buffer_(kMaxDatagram + 1) {}

  Status Send(std::string_view message, Deadline deadline) override {
    IPC_RETURN_IF_ERROR(CheckSendSize(message));
    if (!connected_ && peer_len_ == 0) {
      return Status(ErrorCode::kNotFound,
                    url() + ": no peer yet: a UDP listener answers the peer "
                            "it last received from");
    }
    for (;;) {
      const ssize_t n =
          connected_
              ? ::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL)
              : ::sendto(fd_.get(), message.data(), message.size(),
                         MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&peer_),
                         peer_len_);
      if (n >= 0) return Status::Ok();
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        IPC_RETURN_IF_ERROR(WaitFd(fd_.get(), POLLOUT, deadline, url() + ": send"));
        continue;
      }
      return SocketError("send", errno);
    }
  }

  Status Receive(std::string* message, Deadline deadline) override {
    for (;;) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof(from);
      // MSG_TRUNC makes recvfrom return the datagram's real length.
      const ssize_t n = ::recvfrom(
          fd_.get(), buffer_.data(), buffer_.size(), MSG_TRUNC,
          connected_ ? nullptr : reinterpret_cast<sockaddr*>(&from),
          connected_ ? nullptr : &from_len);
      if (n >= 0) {
        if (!connected_) {
          peer_ = from;
          peer_len_ = from_len;
        }
        if (static_cast<size_t>(n) > max_message()) {
          return Status(ErrorCode::kMessageTooLarge,
                        url() + ": received a datagram of " + std::to_string(n) +
                            " bytes, over this end's max_message of " +
                            std::to_string(max_message()) + "; it was discarded");
        }
        message->assign(buffer_.data(), static_cast<size_t>(n));
        return Status::Ok();
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        IPC_RETURN_IF_ERROR(WaitFd(fd_.get(), POLLIN, deadline, url() + ": receive"));
        continue;
      }
      return SocketError("receive", errno);
    }
  }

  int fd() const override { return fd_.get(); }

 private:
  Status SocketError(std::string_view op, int err) const {
    if (err == ECONNREFUSED) {
      // An ICMP "port unreachable" for an earlier datagram.
      return Status(ErrorCode::kClosed,
                    url() + ": " + std::string(op) +
                        ": the peer is not listening (port unreachable)",
                    err);
    }
    return ErrnoStatus(url() + ": " + std::string(op), err);
  }

  UniqueFd fd_;
  bool connected_;
  std::vector<char> buffer_;
  sockaddr_storage peer_{};
  socklen_t peer_len_ = 0;
};

class UdpListener final : public ListenerImpl {
 public:
  UdpListener(std::string url, size_t max_message, UniqueFd fd)
      : ListenerImpl(std::move(url)), max_message_(max_message), fd_(std::move(fd)) {}

  Result<std::unique_ptr<ChannelImpl>> Accept(Deadline) override {
    if (!fd_.valid()) {
      return Status(ErrorCode::kUnsupported,
                    url() + ": a UDP listener has one channel for all peers, "
                            "and it was already accepted");
    }
    return std::unique_ptr<ChannelImpl>(
        new UdpChannel(url(), max_message_, std::move(fd_), false));
  }
  int fd() const override { return fd_.get(); }

 private:
  size_t max_message_;
  UniqueFd fd_;
};

Result<std::unique_ptr<ListenerImpl>> UdpListen(const Url& url,
                                                const CommonOptions& common) {
  IPC_ASSIGN_OR_RETURN(auto addresses, ResolveHostPort(url, SOCK_DGRAM, true));
  const InetAddress& address = addresses.front();
  IPC_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(address.family, SOCK_DGRAM, url.text));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.addr),
             address.len) < 0) {
    return ErrnoStatus(url.text + ": bind", errno);
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) < 0) {
    return ErrnoStatus(url.text + ": getsockname", errno);
  }
  return std::unique_ptr<ListenerImpl>(new UdpListener(
      UrlWithAddress(url, reinterpret_cast<const sockaddr*>(&bound)),
      common.max_message, std::move(fd)));
}

Result<std::unique_ptr<ChannelImpl>> UdpConnect(const Url& url,
                                                const CommonOptions& common,
                                                Deadline) {
  IPC_ASSIGN_OR_RETURN(auto addresses, ResolveHostPort(url, SOCK_DGRAM, false));
  const InetAddress& address = addresses.front();
  IPC_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(address.family, SOCK_DGRAM, url.text));
  // connect() on UDP only fixes the peer; no packet is sent, so there is no
  // listener to wait for.
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.addr),
                address.len) < 0) {
    return ErrnoStatus(url.text + ": connect", errno);
  }
  return std::unique_ptr<ChannelImpl>(
      new UdpChannel(url.text, common.max_message, std::move(fd), true));
}

}  // namespace

const Transport kUdpTransport = {
    .caps = {.scheme = "udp",
             .reliable = false,
             .duplex = true,
             .detects_peer_close = false,
             .multiple_peers = false,
             .max_message_limit = kMaxDatagram,
             .default_max_message = kMaxDatagram},
    .options = {},
    .listen = UdpListen,
    .connect = UdpConnect,
};

}  // namespace ipc::internal
