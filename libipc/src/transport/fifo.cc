#include "transport/fifo.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "posix/fd_io.h"
#include "posix/fork_generation.h"
#include "posix/no_sigpipe.h"
#include "posix/peer_credentials.h"
#include "posix/unique_fd.h"
#include "transport/socket_util.h"
#include "transport/stream_channel.h"

namespace ipc::internal {
namespace {

constexpr char kGreeting[4] = {'I', 'P', 'C', 'F'};

Status CheckPath(const Url& url) {
  if (url.path.empty() || url.path[0] != '/') {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": expected fifo:///absolute/path");
  }
  return Status::Ok();
}

Result<UniqueFd> OpenReadEnd(const Url& url) {
  const int fd = ::open(url.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(url.text + ": open for reading", errno);
  return UniqueFd(fd);
}

class FifoListener final : public ListenerImpl {
 public:
  FifoListener(const Url& url, size_t max_message, UniqueFd read_end, ino_t ino)
      : ListenerImpl(url.text),
        parsed_url_(url),
        max_message_(max_message),
        read_end_(std::move(read_end)),
        ino_(ino),
        fork_generation_(ForkGeneration()) {}

  ~FifoListener() override {
    // Remove the FIFO only if it is still the one this listener made, and
    // only in the process that made it (not in a forked child's copy).
    struct stat st;
    if (ForkGeneration() == fork_generation_ &&
        ::lstat(parsed_url_.path.c_str(), &st) == 0 && st.st_ino == ino_) {
      ::unlink(parsed_url_.path.c_str());
    }
  }

  Result<std::unique_ptr<ChannelImpl>> Accept(Deadline deadline) override {
    if (!read_end_.valid()) {
      return Status(ErrorCode::kUnsupported,
                    url() + ": a FIFO carries one sender; it was already accepted");
    }
    char greeting[sizeof(kGreeting)];
    size_t have = 0;
    while (have < sizeof(greeting)) {
      const ssize_t n =
          ::read(read_end_.get(), greeting + have, sizeof(greeting) - have);
      if (n > 0) {
        have += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) return ErrnoStatus(url() + ": read", errno);
      if (n == 0 && have > 0) {
        return Status(ErrorCode::kProtocolError,
                      url() + ": sender left in the middle of its greeting");
      }
      if (n == 0) {
        // A writer came and went without a word; reopen so poll stops
        // reporting the hang-up, then keep waiting for a real sender.
        IPC_ASSIGN_OR_RETURN(UniqueFd fresh, OpenReadEnd(parsed_url_));
        read_end_ = std::move(fresh);
      }
      IPC_RETURN_IF_ERROR(WaitFd(read_end_.get(), POLLIN, deadline, url() + ": accept"));
    }
    if (std::memcmp(greeting, kGreeting, sizeof(kGreeting)) != 0) {
      return Status(ErrorCode::kProtocolError,
                    url() + ": a writer that does not speak libipc's framing "
                            "wrote to the FIFO");
    }
    return std::unique_ptr<ChannelImpl>(
        new StreamChannel(url(), max_message_, kFifoTransport.caps,
                          std::move(read_end_), UniqueFd()));
  }

  int fd() const override { return read_end_.get(); }

 private:
  Url parsed_url_;
  size_t max_message_;
  UniqueFd read_end_;
  ino_t ino_;
  uint64_t fork_generation_;
};

// mkfifo, replacing a FIFO left by a dead listener (nobody reading it).
Status CreateFifo(const Url& url, uint32_t mode) {
  if (::mkfifo(url.path.c_str(), mode) == 0) return Status::Ok();
  if (errno != EEXIST) return ErrnoStatus(url.text + ": mkfifo", errno);
  struct stat st;
  if (::lstat(url.path.c_str(), &st) < 0 || !S_ISFIFO(st.st_mode)) {
    return Status(ErrorCode::kAddressInUse,
                  url.text + ": path exists and is not a FIFO; refusing to "
                             "replace it");
  }
  const int probe = ::open(url.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (probe >= 0) {
    ::close(probe);
    return Status(ErrorCode::kAddressInUse,
                  url.text + ": a live listener is reading this FIFO", EADDRINUSE);
  }
  if (errno != ENXIO) return ErrnoStatus(url.text + ": open", errno);
  if (::unlink(url.path.c_str()) < 0 && errno != ENOENT) {
    return ErrnoStatus(url.text + ": removing stale FIFO", errno);
  }
  if (::mkfifo(url.path.c_str(), mode) < 0) {
    return ErrnoStatus(url.text + ": mkfifo", errno);
  }
  return Status::Ok();
}

Result<std::unique_ptr<ListenerImpl>> FifoListen(const Url& url,
                                                 const CommonOptions& common) {
  IPC_RETURN_IF_ERROR(CheckPath(url));
  IPC_ASSIGN_OR_RETURN(uint32_t mode, ModeOption(url, 0600));
  IPC_RETURN_IF_ERROR(CreateFifo(url, mode));
  // mkfifo applies the umask; set the exact mode asked for.
  if (::chmod(url.path.c_str(), mode) < 0) {
    const int err = errno;
    ::unlink(url.path.c_str());
    return ErrnoStatus(url.text + ": chmod", err);
  }
  auto read_end = OpenReadEnd(url);
  struct stat st;
  if (!read_end.ok() || ::fstat(read_end->get(), &st) < 0) {
    ::unlink(url.path.c_str());
    return read_end.ok() ? ErrnoStatus(url.text + ": fstat", errno)
                         : read_end.status();
  }
  // We just made it; a FIFO of another owner means the path was swapped
  // under us (a writable directory), and it is not ours to read or remove.
  if (!S_ISFIFO(st.st_mode) || st.st_uid != ::geteuid()) {
    return Status(ErrorCode::kAddressInUse,
                  url.text + ": the FIFO was replaced by another user's while listening");
  }
  return std::unique_ptr<ListenerImpl>(new FifoListener(
      url, common.max_message, std::move(*read_end), st.st_ino));
}

Result<std::unique_ptr<ChannelImpl>> FifoConnect(const Url& url,
                                                 const CommonOptions& common,
                                                 Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckPath(url));
  // Whom we trust as the FIFO's owner, by the rule listeners apply to peers.
  IPC_ASSIGN_OR_RETURN(uint32_t mode, ModeOption(url, 0600));
  UniqueFd write_end;
  IPC_RETURN_IF_ERROR(RetryUntilPeerAppears(
      [&]() -> Status {
        struct stat st;
        if (::stat(url.path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
          return Status(ErrorCode::kInvalidArgument,
                        url.text + ": path exists and is not a FIFO");
        }
        // ENOENT (no FIFO yet) and ENXIO (no reader yet) map to kNotFound,
        // which is retried until the deadline.
        const int fd =
            ::open(url.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) return ErrnoStatus(url.text + ": open for writing", errno);
        write_end.Reset(fd);
        // Anyone who can write the directory can make the FIFO first and
        // read what we send: judge the one we opened (not the path, which
        // may have changed since the stat above) before the greeting.
        if (::fstat(fd, &st) < 0) return ErrnoStatus(url.text + ": fstat", errno);
        if (!S_ISFIFO(st.st_mode)) {
          return Status(ErrorCode::kInvalidArgument,
                        url.text + ": path exists and is not a FIFO");
        }
        return CheckOwnerAdmitted(st, mode, url.text);
      },
      deadline, url.text));
  if (::flock(write_end.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      return Status(ErrorCode::kAddressInUse,
                    url.text + ": another sender is already connected (a FIFO "
                               "carries one sender at a time)",
                    EWOULDBLOCK);
    }
    return ErrnoStatus(url.text + ": flock", errno);
  }
  // The greeting fits in PIPE_BUF, so it is written whole or not at all.
  iovec iov{const_cast<char*>(kGreeting), sizeof(kGreeting)};
  ssize_t n;
  do {
    n = WritevNoSigpipe(write_end.get(), false, true, &iov, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EPIPE) {
      return Status(ErrorCode::kClosed, url.text + ": listener went away");
    }
    return ErrnoStatus(url.text + ": write greeting", errno);
  }
  return std::unique_ptr<ChannelImpl>(
      new StreamChannel(url.text, common.max_message, kFifoTransport.caps,
                        UniqueFd(), std::move(write_end)));
}

}  // namespace

const Transport kFifoTransport = {
    .caps = {.scheme = "fifo",
             .reliable = true,
             .duplex = false,
             .detects_peer_close = true,
             .multiple_peers = false,
             .max_message_limit = UINT32_MAX,
             .default_max_message = size_t{64} << 20},
    .options = {"mode"},
    .listen = FifoListen,
    .connect = FifoConnect,
};

}  // namespace ipc::internal
