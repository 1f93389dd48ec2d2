#include "transport/stream_channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "posix/fd_io.h"
#include "posix/no_sigpipe.h"

namespace ipc::internal {
namespace {

bool IsSocket(int fd) {
  struct stat st;
  return fd >= 0 && ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

// Sockets run in blocking mode (see the header); others stay non-blocking.
void SetBlockingIfSocket(int fd) {
  if (!IsSocket(fd)) return;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

void EncodeLength(uint32_t n, unsigned char out[4]) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<unsigned char>(n >> (8 * i));
}

uint32_t DecodeLength(const unsigned char in[4]) {
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(in[i]) << (8 * i);
  return n;
}

}  // namespace

StreamChannel::StreamChannel(std::string url, size_t max_message,
                             const Capabilities& caps, UniqueFd socket)
    : ChannelImpl(std::move(url), max_message, caps),
      socket_(std::move(socket)),
      read_fd_(socket_.get()),
      write_fd_(socket_.get()),
      write_is_socket_(IsSocket(socket_.get())),
      read_is_socket_(write_is_socket_) {
  SetBlockingIfSocket(socket_.get());
}

StreamChannel::StreamChannel(std::string url, size_t max_message,
                             const Capabilities& caps, UniqueFd read_fd,
                             UniqueFd write_fd)
    : ChannelImpl(std::move(url), max_message, caps),
      read_owned_(std::move(read_fd)),
      write_owned_(std::move(write_fd)),
      read_fd_(read_owned_.get()),
      write_fd_(write_owned_.get()),
      write_is_socket_(IsSocket(write_owned_.get())),
      read_is_socket_(IsSocket(read_owned_.get())) {
  SetBlockingIfSocket(read_fd_);
  SetBlockingIfSocket(write_fd_);
}

StreamChannel::~StreamChannel() {
  if (!pending_.empty()) {
    (void)FlushPending(Deadline::After(kCloseLinger));
  }
}

Status StreamChannel::Flush(Deadline deadline) {
  if (pending_.empty()) return Status::Ok();
  Status status = FlushPending(deadline);
  if (status.code() == ErrorCode::kWouldBlock ||
      status.code() == ErrorCode::kDeadlineExceeded) {
    return deadline.ExpiredStatus(url() + ": flush (a message is still being written)");
  }
  return status;
}

int StreamChannel::fd() const { return read_fd_ >= 0 ? read_fd_ : write_fd_; }

bool StreamChannel::PeerGone() {
  // Sockets only: a pipe's read end reports POLLHUP while data is left.
  // A peer that reset, or closed both ways, shows as POLLHUP or POLLERR;
  // one that shut its sending side (POLLRDHUP) is done once the end of
  // the stream is all that is left to read.
  const int fd = socket_.get();
  if (fd < 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc != 1) return false;
  if ((p.revents & (POLLHUP | POLLERR)) != 0) return true;
  if ((p.revents & POLLRDHUP) == 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

Result<std::string> StreamChannel::InheritUrl() {
  if (caps().scheme != "pipe") return ChannelImpl::InheritUrl();
  std::string url = "pipe:?";
  for (int fd : {read_fd_, write_fd_}) {
    if (fd < 0) continue;
    IPC_RETURN_IF_ERROR(SetCloseOnExec(fd, false, this->url()));
  }
  if (read_fd_ >= 0 && read_fd_ == write_fd_) {
    url += "fd=" + std::to_string(read_fd_);
  } else {
    if (read_fd_ >= 0) url += "rfd=" + std::to_string(read_fd_);
    if (write_fd_ >= 0) {
      if (read_fd_ >= 0) url += "&";
      url += "wfd=" + std::to_string(write_fd_);
    }
  }
  if (max_message() != caps().default_max_message) {
    url += "&max_message=" + std::to_string(max_message());
  }
  return url;
}

Status StreamChannel::PeerClosed() const {
  return Status(ErrorCode::kClosed, url() + ": peer closed the channel");
}

Status StreamChannel::WriteSome(const iovec* iov_in, int iov_count,
                                size_t total, size_t* done,
                                Deadline deadline) {
  iovec iov[2];
  std::copy(iov_in, iov_in + iov_count, iov);
  *done = 0;
  while (*done < total) {
    // Advance the iovec array past what is already written.
    int first = 0;
    size_t skip = *done;
    while (first < iov_count && skip >= iov[first].iov_len) {
      skip -= iov[first].iov_len;
      ++first;
    }
    iovec cur[2];
    int n_cur = 0;
    for (int i = first; i < iov_count; ++i) cur[n_cur++] = iov[i];
    cur[0].iov_base = static_cast<char*>(cur[0].iov_base) + skip;
    cur[0].iov_len -= skip;

    const ssize_t n = WritevNoSigpipe(write_fd_, write_is_socket_,
                                      !deadline.is_infinite(), cur, n_cur);
    if (n >= 0) {
      *done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      IPC_RETURN_IF_ERROR(WaitFd(write_fd_, POLLOUT, deadline, url() + ": send"));
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) return PeerClosed();
    return ErrnoStatus(url() + ": send", errno);
  }
  return Status::Ok();
}

Status StreamChannel::FlushPending(Deadline deadline) {
  iovec iov{pending_.data(), pending_.size()};
  size_t done = 0;
  Status status = WriteSome(&iov, 1, pending_.size(), &done, deadline);
  pending_.erase(0, done);
  return status;
}

Status StreamChannel::Send(std::string_view message, Deadline deadline) {
  if (write_fd_ < 0) {
    return Status(ErrorCode::kUnsupported,
                  url() + ": this end of a one-way channel only receives");
  }
  IPC_RETURN_IF_ERROR(CheckSendSize(message));
  if (!pending_.empty()) {
    Status flushed = FlushPending(deadline);
    if (!flushed.ok()) {
      if (flushed.code() == ErrorCode::kWouldBlock ||
          flushed.code() == ErrorCode::kDeadlineExceeded) {
        return deadline.ExpiredStatus(
            url() + ": send (the previous message is still being written)");
      }
      return flushed;
    }
  }
  unsigned char header[kHeaderSize];
  EncodeLength(static_cast<uint32_t>(message.size()), header);
  iovec iov[2] = {{header, kHeaderSize},
                  {const_cast<char*>(message.data()), message.size()}};
  const size_t total = kHeaderSize + message.size();
  size_t done = 0;
  Status status = WriteSome(iov, 2, total, &done, deadline);
  if (status.ok() || done == 0) return status;
  if (status.code() != ErrorCode::kWouldBlock &&
      status.code() != ErrorCode::kDeadlineExceeded) {
    return status;  // Peer gone: the partial message is lost with it.
  }
  // The message has started: keep its tail so the stream stays framed.
  if (done < kHeaderSize) {
    pending_.assign(reinterpret_cast<char*>(header) + done, kHeaderSize - done);
    pending_.append(message);
  } else {
    pending_.assign(message.substr(done - kHeaderSize));
  }
  return Status::Ok();
}

Status StreamChannel::SendBuffered(std::string_view message) {
  if (write_fd_ < 0) {
    return Status(ErrorCode::kUnsupported,
                  url() + ": this end of a one-way channel only receives");
  }
  IPC_RETURN_IF_ERROR(CheckSendSize(message));
  unsigned char header[kHeaderSize];
  EncodeLength(static_cast<uint32_t>(message.size()), header);
  pending_.append(reinterpret_cast<char*>(header), kHeaderSize);
  pending_.append(message);
  return Status::Ok();
}

Status StreamChannel::ReceiveAvailable(std::vector<std::string>* messages,
                                       size_t max_messages) {
  if (max_messages == 0) return Status::Ok();
  // Sockets only, between messages: peek at what has arrived, then take
  // exactly the whole messages found, so nothing is held back here that
  // fd() would not show. Otherwise (a message half read, a pipe, the first
  // message too large to peek at whole or over max_message) one message the
  // usual way.
  if (read_is_socket_ && read_state_ == ReadState::kHeader && header_have_ == 0) {
    batch_.resize(kReceiveBatchBytes);
    ssize_t n;
    do {
      n = ::recv(read_fd_, batch_.data(), batch_.size(), MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
      return Deadline::Now().ExpiredStatus(url() + ": receive");
    }
    size_t whole = 0;  // Bytes of whole messages at the front.
    size_t count = 0;
    const size_t have = n > 0 ? static_cast<size_t>(n) : 0;
    while (count < max_messages && have - whole >= kHeaderSize) {
      const uint32_t length = DecodeLength(
          reinterpret_cast<const unsigned char*>(batch_.data() + whole));
      if (length > max_message() || have - whole - kHeaderSize < length) break;
      whole += kHeaderSize + length;
      ++count;
    }
    if (count > 0) {
      ssize_t taken;
      do {
        taken = ::recv(read_fd_, batch_.data(), whole, MSG_DONTWAIT);
      } while (taken < 0 && errno == EINTR);
      // The peeked bytes are in the socket and this is its only reader, so
      // they are all there.
      if (taken != static_cast<ssize_t>(whole)) {
        return ErrnoStatus(url() + ": receive", taken < 0 ? errno : EIO);
      }
      for (size_t at = 0; at < whole;) {
        const uint32_t length = DecodeLength(
            reinterpret_cast<const unsigned char*>(batch_.data() + at));
        messages->emplace_back(batch_.data() + at + kHeaderSize, length);
        at += kHeaderSize + length;
      }
      return Status::Ok();
    }
  }
  return ChannelImpl::ReceiveAvailable(messages, max_messages);
}

Status StreamChannel::ReadOnce(char* buf, size_t len, bool may_wait,
                               size_t* got) {
  for (;;) {
    const ssize_t n =
        read_is_socket_
            ? ::recv(read_fd_, buf, len, may_wait ? 0 : MSG_DONTWAIT)
            : ::read(read_fd_, buf, len);
    if (n > 0) {
      *got = static_cast<size_t>(n);
      return Status::Ok();
    }
    if (n == 0) {
      if (read_state_ == ReadState::kHeader && header_have_ == 0) {
        return PeerClosed();
      }
      return Status(ErrorCode::kClosed,
                    url() + ": peer closed the channel in the middle of a "
                            "message; the partial message was dropped");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return Status(ErrorCode::kWouldBlock, "");
    if (errno == ECONNRESET) return PeerClosed();
    return ErrnoStatus(url() + ": receive", errno);
  }
}

Status StreamChannel::Receive(std::string* message, Deadline deadline) {
  if (read_fd_ < 0) {
    return Status(ErrorCode::kUnsupported,
                  url() + ": this end of a one-way channel only sends");
  }
  for (;;) {
    char* buf = nullptr;
    size_t want = 0;
    char scratch[16384];
    switch (read_state_) {
      case ReadState::kHeader:
        buf = reinterpret_cast<char*>(header_) + header_have_;
        want = kHeaderSize - header_have_;
        break;
      case ReadState::kPayload:
        buf = partial_.data() + payload_have_;
        want = partial_.size() - payload_have_;
        break;
      case ReadState::kDiscard:
        buf = scratch;
        want = static_cast<size_t>(
            std::min<uint64_t>(discard_left_, sizeof(scratch)));
        break;
    }
    size_t got = 0;
    if (want > 0) {
      Status status = ReadOnce(buf, want, deadline.is_infinite(), &got);
      if (status.code() == ErrorCode::kWouldBlock) {
        IPC_RETURN_IF_ERROR(WaitFd(read_fd_, POLLIN, deadline, url() + ": receive"));
        continue;
      }
      if (!status.ok()) {
        read_state_ = ReadState::kHeader;
        header_have_ = 0;
        return status;
      }
    }
    switch (read_state_) {
      case ReadState::kHeader: {
        header_have_ += got;
        if (header_have_ < kHeaderSize) continue;
        header_have_ = 0;
        const uint32_t length = DecodeLength(header_);
        if (length > max_message()) {
          read_state_ = ReadState::kDiscard;
          discard_left_ = discard_size_ = length;
          continue;
        }
        // Room for the first bytes only, grown as they arrive: a peer
        // that announces max_message and sends nothing costs no more.
        payload_size_ = length;
        partial_.resize(std::min<size_t>(length, kFirstPayloadBytes));
        payload_have_ = 0;
        read_state_ = ReadState::kPayload;
        continue;
      }
      case ReadState::kPayload:
        payload_have_ += got;
        if (payload_have_ == partial_.size() && payload_have_ < payload_size_) {
          partial_.resize(std::min<size_t>(payload_size_, 2 * partial_.size()));
        }
        if (payload_have_ < payload_size_) continue;
        read_state_ = ReadState::kHeader;
        message->swap(partial_);
        return Status::Ok();
      case ReadState::kDiscard:
        discard_left_ -= got;
        if (discard_left_ > 0) continue;
        read_state_ = ReadState::kHeader;
        return Status(ErrorCode::kMessageTooLarge,
                      url() + ": received a message of " +
                          std::to_string(discard_size_) +
                          " bytes, over this end's max_message of " +
                          std::to_string(max_message()) + "; it was discarded");
    }
  }
}

}  // namespace ipc::internal
