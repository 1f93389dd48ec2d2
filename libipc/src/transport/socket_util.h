// Shared mechanics of the stream-socket transports (unix, tcp): a listener
// that accepts with a deadline, and a connect that waits for its peer.
#ifndef IPC_SRC_TRANSPORT_SOCKET_UTIL_H_
#define IPC_SRC_TRANSPORT_SOCKET_UTIL_H_

#include <sys/socket.h>

#include <functional>
#include <string>

#include "posix/unique_fd.h"
#include "transport/transport.h"

namespace ipc::internal {

// A non-blocking, close-on-exec socket, or the errno as a Status.
Result<UniqueFd> NewSocket(int domain, int type, std::string_view what);

// Connects fd (non-blocking) to addr, waiting up to the deadline for the
// handshake. Returns the connect errno as a Status on failure.
Status ConnectSocket(int fd, const sockaddr* addr, socklen_t len,
                     Deadline deadline, std::string_view what);

// Listens on an already bound socket and wraps each accepted connection with
// make_channel. remove_on_close is a filesystem path to unlink in the
// destructor (a unix socket file this listener created), or empty. Only the
// process that created the listener removes it, never a forked child.
class SocketListener final : public ListenerImpl {
 public:
  using MakeChannel =
      std::function<std::unique_ptr<ChannelImpl>(UniqueFd connection)>;

  SocketListener(std::string url, UniqueFd socket, MakeChannel make_channel,
                 std::string remove_on_close);
  ~SocketListener() override;

  Result<std::unique_ptr<ChannelImpl>> Accept(Deadline deadline) override;
  int fd() const override { return socket_.get(); }

 private:
  UniqueFd socket_;
  MakeChannel make_channel_;
  std::string remove_on_close_;
  // A copy inherited by a forked child must not remove the parent's name.
  uint64_t fork_generation_;
};

// Takes over the listening socket named by url's "fd" option (a descriptor
// this process inherited, e.g. from systemd socket activation): checks that
// it is a listening SOCK_STREAM socket of the given family and makes it
// non-blocking and close-on-exec. The returned owner closes it.
Result<UniqueFd> AdoptListeningSocket(const Url& url, int family);

// url_text without its "fd" query option: the address peers connect to.
std::string UrlWithoutFdOption(const std::string& url_text);

// For a unix socket path about to be bound: OK when it is free, or when it
// is a socket file left by a dead listener (which is then removed);
// kAddressInUse when a live listener answers there, or when the path is not
// a socket (such a file is never touched).
Status ReclaimUnixSocketPath(const std::string& path, const std::string& what);

// Calls attempt() until it succeeds, fails with an error other than "peer
// not there yet" (kNotFound), or the deadline passes. Backs off from 1 ms to
// 50 ms between attempts. On expiry the status names the last failure.
Status RetryUntilPeerAppears(const std::function<Status()>& attempt,
                             Deadline deadline, std::string_view url);

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_SOCKET_UTIL_H_
