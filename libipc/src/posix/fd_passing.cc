#include "posix/fd_passing.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "posix/fd_io.h"

namespace ipc::internal {

Status SendWithFds(int socket, std::string_view payload,
                   const std::vector<int>& fds, Deadline deadline,
                   std::string_view what) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL) >= 0) return Status::Ok();
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      IPC_RETURN_IF_ERROR(WaitFd(socket, POLLOUT, deadline, what));
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      return Status(ErrorCode::kClosed, std::string(what) + ": peer went away");
    }
    return ErrnoStatus(std::string(what) + ": sendmsg", errno);
  }
}

Result<ReceivedWithFds> ReceiveWithFds(int socket, size_t max_payload,
                                       size_t max_fds, Deadline deadline,
                                       std::string_view what) {
  ReceivedWithFds out;
  out.payload.resize(max_payload);
  std::vector<char> control(CMSG_SPACE(sizeof(int) * max_fds));
  for (;;) {
    iovec iov{out.payload.data(), out.payload.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      IPC_RETURN_IF_ERROR(WaitFd(socket, POLLIN, deadline, what));
      continue;
    }
    if (n < 0) {
      if (errno == ECONNRESET) {
        return Status(ErrorCode::kClosed, std::string(what) + ": peer went away");
      }
      return ErrnoStatus(std::string(what) + ": recvmsg", errno);
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        out.fds.emplace_back(fd);
      }
    }
    if (n == 0 && out.fds.empty()) {
      return Status(ErrorCode::kClosed, std::string(what) + ": peer went away");
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
      return Status(ErrorCode::kProtocolError,
                    std::string(what) + ": handshake message too large");
    }
    out.payload.resize(static_cast<size_t>(n));
    return out;
  }
}

}  // namespace ipc::internal
