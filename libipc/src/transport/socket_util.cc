#include "transport/socket_util.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "posix/fd_io.h"
#include "posix/fork_generation.h"

namespace ipc::internal {

Result<UniqueFd> NewSocket(int domain, int type, std::string_view what) {
  const int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(std::string(what) + ": socket", errno);
  return UniqueFd(fd);
}

Status ConnectSocket(int fd, const sockaddr* addr, socklen_t len,
                     Deadline deadline, std::string_view what) {
  const std::string context = std::string(what) + ": connect";
  int rc;
  do {
    rc = ::connect(fd, addr, len);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return Status::Ok();
  if (errno != EINPROGRESS && errno != EAGAIN) return ErrnoStatus(context, errno);
  // EAGAIN on a unix socket means the listener's backlog is full: wait for
  // it like an in-progress TCP handshake.
  Deadline wait = deadline.is_non_blocking() ? Deadline::After(std::chrono::seconds(1))
                                             : deadline;
  IPC_RETURN_IF_ERROR(WaitFd(fd, POLLOUT, wait, context));
  int error = 0;
  socklen_t error_len = sizeof(error);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) < 0) {
    return ErrnoStatus(context, errno);
  }
  if (error != 0) return ErrnoStatus(context, error);
  return Status::Ok();
}

SocketListener::SocketListener(std::string url, UniqueFd socket,
                               MakeChannel make_channel,
                               std::string remove_on_close)
    : ListenerImpl(std::move(url)),
      socket_(std::move(socket)),
      make_channel_(std::move(make_channel)),
      remove_on_close_(std::move(remove_on_close)),
      fork_generation_(ForkGeneration()) {}

SocketListener::~SocketListener() {
  if (!remove_on_close_.empty() && ForkGeneration() == fork_generation_) {
    ::unlink(remove_on_close_.c_str());
  }
}

Result<std::unique_ptr<ChannelImpl>> SocketListener::Accept(Deadline deadline) {
  for (;;) {
    const int fd = ::accept4(socket_.get(), nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return make_channel_(UniqueFd(fd));
    switch (errno) {
      case EINTR:
      case ECONNABORTED:  // The peer gave up before we accepted: next one.
        continue;
      case EAGAIN:
        IPC_RETURN_IF_ERROR(WaitFd(socket_.get(), POLLIN, deadline, url() + ": accept"));
        continue;
      default:
        return ErrnoStatus(url() + ": accept", errno);
    }
  }
}

Result<UniqueFd> AdoptListeningSocket(const Url& url, int family) {
  IPC_ASSIGN_OR_RETURN(int fd, IntOption(url, "fd", -1));
  const std::string what = url.text + ": adopting fd " + std::to_string(fd);
  int value = 0;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) < 0) {
    return ErrnoStatus(what, errno);
  }
  if (value != family) {
    return Status(ErrorCode::kInvalidArgument,
                  what + ": the socket has the wrong address family");
  }
  len = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) < 0 ||
      value != SOCK_STREAM) {
    return Status(ErrorCode::kInvalidArgument,
                  what + ": not a SOCK_STREAM socket");
  }
  len = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) < 0 ||
      value == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  what + ": the socket is not listening");
  }
  IPC_RETURN_IF_ERROR(SetNonBlocking(fd, what));
  IPC_RETURN_IF_ERROR(SetCloseOnExec(fd, true, what));
  return UniqueFd(fd);
}

std::string UrlWithoutFdOption(const std::string& url_text) {
  const size_t query = url_text.find('?');
  if (query == std::string::npos) return url_text;
  std::string out = url_text.substr(0, query);
  std::string kept;
  size_t start = query + 1;
  while (start <= url_text.size()) {
    size_t end = url_text.find('&', start);
    if (end == std::string::npos) end = url_text.size();
    const std::string item = url_text.substr(start, end - start);
    if (!item.empty() && item.rfind("fd=", 0) != 0) {
      kept += (kept.empty() ? "?" : "&") + item;
    }
    start = end + 1;
  }
  return out + kept;
}

Status ReclaimUnixSocketPath(const std::string& path, const std::string& what) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) return Status::Ok();  // Free.
  if (!S_ISSOCK(st.st_mode)) {
    return Status(ErrorCode::kAddressInUse,
                  what + ": path exists and is not a socket; refusing to replace it");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status(ErrorCode::kInvalidArgument, what + ": socket path too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  IPC_ASSIGN_OR_RETURN(UniqueFd probe, NewSocket(AF_UNIX, SOCK_STREAM, what));
  const Status live = ConnectSocket(probe.get(), reinterpret_cast<const sockaddr*>(&addr),
                                    sizeof(addr), Deadline::After(std::chrono::seconds(1)),
                                    what);
  if (live.ok() || live.code() == ErrorCode::kWouldBlock ||
      live.code() == ErrorCode::kDeadlineExceeded) {
    return Status(ErrorCode::kAddressInUse,
                  what + ": a live listener already owns this path", EADDRINUSE);
  }
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    return ErrnoStatus(what + ": removing stale socket file", errno);
  }
  return Status::Ok();
}

Status RetryUntilPeerAppears(const std::function<Status()>& attempt,
                             Deadline deadline, std::string_view url) {
  int step_ms = 1;
  for (;;) {
    Status status = attempt();
    if (status.ok() || status.code() != ErrorCode::kNotFound) return status;
    if (deadline.is_non_blocking() || deadline.Expired()) {
      const ErrorCode code = deadline.is_non_blocking()
                                 ? ErrorCode::kNotFound
                                 : ErrorCode::kDeadlineExceeded;
      return Status(code,
                    std::string(url) + ": no listener " +
                        (deadline.is_non_blocking() ? "" : "appeared in time ") +
                        "(last attempt: " + status.message() + ")",
                    status.sys_errno());
    }
    SleepForRetry(deadline, step_ms);
    step_ms = std::min(step_ms * 2, 50);
  }
}

}  // namespace ipc::internal
