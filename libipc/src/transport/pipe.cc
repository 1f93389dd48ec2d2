#include "transport/pipe.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>

#include "posix/fd_io.h"
#include "posix/unique_fd.h"
#include "transport/stream_channel.h"

namespace ipc::internal {
namespace {

Result<std::unique_ptr<ListenerImpl>> PipeListen(const Url& url,
                                                 const CommonOptions&) {
  return Status(ErrorCode::kUnsupported,
                url.text + ": pipe: has no listener; create both ends with "
                           "ipc::Pipe() and hand one to the child process");
}

// Takes ownership of an inherited descriptor named by option key.
Result<UniqueFd> AdoptFd(const Url& url, std::string_view key) {
  IPC_ASSIGN_OR_RETURN(int fd, IntOption(url, key, -1));
  if (fd < 0) return UniqueFd();
  if (::fcntl(fd, F_GETFD) < 0) {
    return ErrnoStatus(url.text + ": descriptor " + std::to_string(fd) +
                           " given by '" + std::string(key) + "'",
                       errno);
  }
  IPC_RETURN_IF_ERROR(SetNonBlocking(fd, url.text));
  IPC_RETURN_IF_ERROR(SetCloseOnExec(fd, true, url.text));
  return UniqueFd(fd);
}

Result<std::unique_ptr<ChannelImpl>> PipeConnect(const Url& url,
                                                 const CommonOptions& common,
                                                 Deadline) {
  if (url.Option("fd") && (url.Option("rfd") || url.Option("wfd"))) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": give either fd= or rfd=/wfd=, not both");
  }
  if (!url.Option("fd") && !url.Option("rfd") && !url.Option("wfd")) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": pipe: needs the inherited descriptors "
                             "(pipe:?rfd=R&wfd=W or pipe:?fd=N, as returned "
                             "by ipc::InheritUrl), or use ipc::Pipe()");
  }
  if (url.Option("fd")) {
    IPC_ASSIGN_OR_RETURN(UniqueFd fd, AdoptFd(url, "fd"));
    return std::unique_ptr<ChannelImpl>(new StreamChannel(
        url.text, common.max_message, kPipeTransport.caps, std::move(fd)));
  }
  IPC_ASSIGN_OR_RETURN(UniqueFd rfd, AdoptFd(url, "rfd"));
  IPC_ASSIGN_OR_RETURN(UniqueFd wfd, AdoptFd(url, "wfd"));
  return std::unique_ptr<ChannelImpl>(
      new StreamChannel(url.text, common.max_message, kPipeTransport.caps,
                        std::move(rfd), std::move(wfd)));
}

}  // namespace

const Transport kPipeTransport = {
    .caps = {.scheme = "pipe",
             .reliable = true,
             .duplex = true,
             .detects_peer_close = true,
             .multiple_peers = false,
             .max_message_limit = UINT32_MAX,
             .default_max_message = size_t{64} << 20},
    .options = {"fd", "rfd", "wfd"},
    .listen = PipeListen,
    .connect = PipeConnect,
};

Result<std::pair<std::unique_ptr<ChannelImpl>, std::unique_ptr<ChannelImpl>>>
MakePipePair(size_t max_message) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) < 0) {
    return ErrnoStatus("pipe: socketpair", errno);
  }
  UniqueFd a(fds[0]), b(fds[1]);
  const Capabilities& caps = kPipeTransport.caps;
  // Name each end by its descriptor, so messages say which end failed.
  std::unique_ptr<ChannelImpl> first(new StreamChannel(
      "pipe:?fd=" + std::to_string(a.get()), max_message, caps, std::move(a)));
  std::unique_ptr<ChannelImpl> second(new StreamChannel(
      "pipe:?fd=" + std::to_string(b.get()), max_message, caps, std::move(b)));
  return std::make_pair(std::move(first), std::move(second));
}

}  // namespace ipc::internal
