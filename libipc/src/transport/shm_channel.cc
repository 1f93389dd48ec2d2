#include "transport/shm_channel.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "posix/close_on_fork.h"
#include "posix/fork_generation.h"
#include "transport/pending_tail.h"

namespace ipc::internal {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

void Ring(int bell) {
  const uint64_t one = 1;
  // EAGAIN means the counter is saturated, i.e. already readable: fine.
  while (::write(bell, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

// True when the doorbell had been rung.
bool Drain(int bell) {
  uint64_t value;
  ssize_t n;
  while ((n = ::read(bell, &value, sizeof(value))) < 0 && errno == EINTR) {
  }
  return n == sizeof(value);
}

}  // namespace

Result<std::unique_ptr<ChannelImpl>> MakeShmChannel(ShmChannelParts parts,
                                                    const Capabilities& caps) {
  UniqueFd ready(::epoll_create1(EPOLL_CLOEXEC));
  if (ready.get() < 0) return ErrnoStatus(parts.url + ": epoll_create1", errno);
  for (int fd : {parts.receive_bells.data.get(), parts.heartbeat.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(ready.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
      return ErrnoStatus(parts.url + ": epoll_ctl", errno);
    }
  }
  return std::unique_ptr<ChannelImpl>(
      new ShmChannel(std::move(parts), caps, std::move(ready)));
}

ShmChannel::ShmChannel(ShmChannelParts parts, const Capabilities& caps,
                       UniqueFd ready_fd)
    : ChannelImpl(std::move(parts.url), parts.max_message, caps),
      side_(parts.side),
      segment_(std::move(parts.segment)),
      header_(static_cast<ShmChannelHeader*>(segment_.data())),
      send_bells_(std::move(parts.send_bells)),
      receive_bells_(std::move(parts.receive_bells)),
      heartbeat_(std::move(parts.heartbeat)),
      ready_fd_(std::move(ready_fd)),
      spin_(parts.spin),
      fork_generation_(ForkGeneration()) {
  RegisterCloseOnFork(heartbeat_.get());
  // The geometry is the validated local copy, never the segment's field.
  const ShmChannelLayout layout = ComputeShmLayout(parts.capacity);
  char* base = static_cast<char*>(segment_.data());
  const int send_ring = side_;
  const int receive_ring = 1 - side_;
  writer_ = RingWriter(
      reinterpret_cast<RingControl*>(base + layout.control_offset[send_ring]),
      base + layout.data_offset[send_ring], parts.capacity);
  reader_ = RingReader(
      reinterpret_cast<RingControl*>(base + layout.control_offset[receive_ring]),
      base + layout.data_offset[receive_ring], parts.capacity);
}

ShmChannel::~ShmChannel() {
  UnregisterCloseOnFork(heartbeat_.get());
  // A copy inherited by a forked child must not touch the parent's channel.
  if (ForkGeneration() != fork_generation_) return;
  if ((staged_ || !pending_.empty() || !kept_.empty()) &&
      !peer_gone_.load(std::memory_order_acquire)) {
    (void)Flush(Deadline::After(std::chrono::seconds(1)));
  }
  header_->closed[side_].store(1, std::memory_order_release);
  // Wake a peer sleeping on either doorbell so it notices at once.
  Ring(send_bells_.data.get());
  Ring(receive_bells_.space.get());
}

Status ShmChannel::CheckUsable() const {
  if (ForkGeneration() != fork_generation_) {
    return Status(ErrorCode::kUnsupported,
                  url() + ": an shm channel cannot be used in a child after "
                          "fork(); the parent still owns it (connect anew)");
  }
  return Status::Ok();
}

Status ShmChannel::PeerClosedStatus() const {
  if (refused_.load(std::memory_order_relaxed)) {
    return Status(ErrorCode::kPermissionDenied,
                  url() + ": the listener's mode does not admit this user");
  }
  return Status(ErrorCode::kClosed, url() + ": peer closed the channel");
}

bool ShmChannel::PeerGoneSeen() {
  if (peer_gone_.load(std::memory_order_acquire)) return true;
  if (header_->closed[1 - side_].load(std::memory_order_acquire) == 0) return false;
  peer_gone_.store(true, std::memory_order_release);
  return true;
}

void ShmChannel::CheckHeartbeat() {
  // The heartbeat carries no data after the handshake, except a late
  // verdict of the listener (shm.cc): 'A' admitted (ignored), 'R' refused.
  // End of file or an error means the peer's process is gone.
  char byte;
  const ssize_t r = ::recv(heartbeat_.get(), &byte, 1, MSG_DONTWAIT);
  if (r == 1 && byte == 'A') return;
  if (r == 1 && byte == 'R') refused_.store(true, std::memory_order_relaxed);
  if (r >= 0 || (errno != EAGAIN && errno != EINTR)) {
    peer_gone_.store(true, std::memory_order_release);
  }
}

template <typename Ready>
ShmChannel::Wait ShmChannel::WaitFor(Ready ready,
                                     std::atomic<uint32_t>& sleeping, int bell,
                                     Deadline deadline, bool keep_armed,
                                     SpinBackoff& spins) {
  if (ready()) return Wait::kReady;
  if (!deadline.is_non_blocking() && spin_.count() > 0 && spins.skip > 0) {
    --spins.skip;
  } else if (!deadline.is_non_blocking() && spin_.count() > 0) {
    auto until = std::chrono::steady_clock::now() + spin_;
    if (!deadline.is_infinite()) until = std::min(until, deadline.when());
    do {
      for (int i = 0; i < 16; ++i) {
        if (ready()) {
          spins.backoff = 0;
          return Wait::kReady;
        }
        CpuRelax();
      }
    } while (std::chrono::steady_clock::now() < until);
    spins.backoff = spins.backoff == 0 ? 1 : std::min(spins.backoff * 2, 64);
    spins.skip = spins.backoff;
  }
  for (;;) {
    // Drain, then announce, then look (see "doorbell invariant" in the
    // header): a ring that arrives after the drain stays readable, and the
    // fences pair with those in AfterPublish/AfterConsume, so either we see
    // the other side's update or it sees our flag and rings.
    const bool drained = Drain(bell);
    sleeping.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (ready()) {
      if (!keep_armed) {
        sleeping.store(0, std::memory_order_relaxed);
      } else if (drained) {
        // The drained ring may have announced data still waiting behind
        // the record we are about to take; ring again so a poller of fd()
        // is not left asleep with messages pending.
        Ring(bell);
      }
      return Wait::kReady;
    }
    if (deadline.is_non_blocking()) CheckHeartbeat();
    if (PeerGoneSeen()) return Wait::kPeerGone;
    if (deadline.is_non_blocking() || deadline.Expired()) return Wait::kExpired;
    pollfd fds[2] = {{bell, POLLIN, 0}, {heartbeat_.get(), POLLIN, 0}};
    const int n = ::poll(fds, 2, deadline.PollTimeoutMs());
    if (n > 0 && fds[1].revents != 0) CheckHeartbeat();
    if (ready()) {
      // Woken with work: the bell stays readable (the next wait drains it).
      if (!keep_armed) sleeping.store(0, std::memory_order_relaxed);
      return Wait::kReady;
    }
  }
}

void ShmChannel::AfterPublish() {
  std::atomic<uint32_t>& sleeping = writer_.control()->consumer_sleeping;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping.load(std::memory_order_relaxed) != 0 &&
      sleeping.exchange(0, std::memory_order_relaxed) != 0) {
    Ring(send_bells_.data.get());
  }
}

void ShmChannel::AfterConsume() {
  std::atomic<uint32_t>& sleeping = reader_.control()->producer_sleeping;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping.load(std::memory_order_relaxed) != 0 &&
      sleeping.exchange(0, std::memory_order_relaxed) != 0) {
    Ring(receive_bells_.space.get());
  }
}

Status ShmChannel::WriteFragments(std::string_view data, bool first,
                                  Deadline deadline, size_t* sent) {
  const uint64_t max_fragment = MaxFragment(writer_.capacity());
  *sent = 0;
  do {
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(max_fragment, data.size() - *sent));
    uint32_t flags = 0;
    if (first && *sent == 0) flags |= kRecordFirst;
    if (*sent + n == data.size()) flags |= kRecordLast;
    const std::string_view piece = data.substr(*sent, n);
    if (PeerGoneSeen()) return PeerClosedStatus();
    RingWriter::WriteResult result = RingWriter::WriteResult::kFull;
    const Wait wait = WaitFor(
        [&] {
          result = writer_.TryWrite(piece, flags);
          return result != RingWriter::WriteResult::kFull;
        },
        writer_.control()->producer_sleeping, send_bells_.space.get(),
        deadline, /*keep_armed=*/false, send_spins_);
    if (wait == Wait::kExpired) return deadline.ExpiredStatus(url() + ": send");
    if (wait == Wait::kPeerGone) return PeerClosedStatus();
    if (result == RingWriter::WriteResult::kCorrupt) {
      return CorruptRingStatus("the reader's tail is misaligned or ahead of "
                               "what was written")
          .WithContext(url());
    }
    AfterPublish();
    *sent += n;
  } while (*sent < data.size());
  return Status::Ok();
}

Status ShmChannel::Send(std::string_view message, Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckUsable());
  IPC_RETURN_IF_ERROR(CheckSendSize(message));
  IPC_RETURN_IF_ERROR(FlushBuffered(deadline));
  return SendKeepingTail(&pending_, message, deadline, url(), WriteFn());
}

Status ShmChannel::SendBuffered(std::string_view message) {
  IPC_RETURN_IF_ERROR(CheckUsable());
  IPC_RETURN_IF_ERROR(CheckSendSize(message));
  if (PeerGoneSeen()) return PeerClosedStatus();
  if (pending_.empty() && kept_.empty() && message.size() <= MaxFragment(writer_.capacity())) {
    switch (writer_.TryStage(message, kRecordFirst | kRecordLast)) {
      case RingWriter::WriteResult::kWritten:
        staged_ = true;
        return Status::Ok();
      case RingWriter::WriteResult::kCorrupt:
        return CorruptRingStatus("the reader's tail is misaligned or ahead of what was written")
            .WithContext(url());
      case RingWriter::WriteResult::kFull:
        break;
    }
  }
  kept_.emplace_back(message);
  return Status::Ok();
}

Status ShmChannel::Flush(Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckUsable());
  if (staged_) {
    staged_ = false;
    writer_.Publish();
    AfterPublish();
  }
  IPC_RETURN_IF_ERROR(FlushPending(deadline));
  while (!kept_.empty()) {
    IPC_RETURN_IF_ERROR(SendKeepingTail(&pending_, kept_.front(), deadline, url(), WriteFn()));
    kept_.pop_front();
    // Part of it went out; the rest is pending_, which comes first.
    IPC_RETURN_IF_ERROR(FlushPending(deadline));
  }
  return Status::Ok();
}

Status ShmChannel::FlushBuffered(Deadline deadline) {
  if (!staged_ && kept_.empty()) return Status::Ok();
  Status flushed = Flush(deadline);
  if (IsExpiry(flushed)) {
    return deadline.ExpiredStatus(url() + ": send (earlier messages are still being written)");
  }
  return flushed;
}

Status ShmChannel::FlushPending(Deadline deadline) {
  if (pending_.empty()) return Status::Ok();
  Status flushed = FlushTail(&pending_, deadline, WriteFn());
  if (IsExpiry(flushed)) {
    return deadline.ExpiredStatus(url() + ": send (the previous message is still being written)");
  }
  return flushed;
}

Result<std::span<char>> ShmChannel::Loan(size_t size, Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckUsable());
  loan_in_ring_ = false;
  if (size > MaxWhole(writer_.capacity())) return ChannelImpl::Loan(size, deadline);
  IPC_RETURN_IF_ERROR(CheckSendSize(size));
  loaned_ = false;
  IPC_RETURN_IF_ERROR(FlushBuffered(deadline));
  IPC_RETURN_IF_ERROR(FlushPending(deadline));
  if (PeerGoneSeen()) return PeerClosedStatus();
  char* payload = nullptr;
  RingWriter::WriteResult result = RingWriter::WriteResult::kFull;
  const Wait wait = WaitFor(
      [&] {
        result = writer_.TryLoan(size, &payload);
        return result != RingWriter::WriteResult::kFull;
      },
      writer_.control()->producer_sleeping, send_bells_.space.get(), deadline,
      /*keep_armed=*/false, send_spins_);
  if (wait == Wait::kExpired) return deadline.ExpiredStatus(url() + ": loan");
  if (wait == Wait::kPeerGone) return PeerClosedStatus();
  if (result == RingWriter::WriteResult::kCorrupt) {
    return CorruptRingStatus("the reader's tail is misaligned or ahead of what was written")
        .WithContext(url());
  }
  loaned_ = true;
  loan_in_ring_ = true;
  loan_size_ = size;
  return std::span<char>(payload, size);
}

Status ShmChannel::Commit(size_t size, Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckUsable());
  if (!loan_in_ring_) return ChannelImpl::Commit(size, deadline);
  IPC_RETURN_IF_ERROR(CheckCommit(size, loan_size_));
  loaned_ = false;
  loan_in_ring_ = false;
  if (PeerGoneSeen()) return PeerClosedStatus();
  writer_.CommitLoan(size);
  AfterPublish();
  return Status::Ok();
}

Status ShmChannel::WaitForData(Deadline deadline) {
  const Wait wait = WaitFor([&] { return reader_.HasData(); },
                            reader_.control()->consumer_sleeping,
                            receive_bells_.data.get(), deadline,
                            /*keep_armed=*/true, receive_spins_);
  if (wait == Wait::kExpired) return deadline.ExpiredStatus(url() + ": receive");
  if (wait == Wait::kPeerGone && !reader_.HasData()) return PeerClosedStatus();
  return Status::Ok();  // Deliver what was sent before the peer went.
}

Result<std::string_view> ShmChannel::ReceiveView(Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckUsable());
  ReleaseView();
  // A whole record is lent as it lies in the ring; fragments (a message
  // over MaxWhole, or sent with Send) are assembled by copying.
  while (!assembling_) {
    RingReader::Record record;
    Status corrupt;
    if (reader_.Peek(&record, &corrupt)) {
      if ((record.flags & kRecordWhole) == 0) break;
      if (record.size > max_message()) {
        reader_.Consume();
        AfterConsume();
        return DiscardedStatus(record.size);
      }
      view_held_ = true;
      return std::string_view(record.first, record.size);
    }
    if (!corrupt.ok()) return corrupt.WithContext(url());
    IPC_RETURN_IF_ERROR(WaitForData(deadline));
  }
  IPC_RETURN_IF_ERROR(Receive(&view_buffer_, deadline));
  return std::string_view(view_buffer_);
}

void ShmChannel::ReleaseView() {
  if (!view_held_) return;
  view_held_ = false;
  reader_.Consume();
  AfterConsume();
}

Status ShmChannel::Receive(std::string* message, Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckUsable());
  ReleaseView();
  // A message is assembled in the caller's string: its capacity is reused
  // (no allocation, no page faults) and its lines are the ones this core
  // just read, so a hot loop keeps one ring and one buffer in the cache
  // instead of alternating between two buffers. A message still unfinished
  // when a call returns (its deadline passed part-way) waits in partial_
  // until the next call.
  if (assembling_) message->swap(partial_);
  Status status = ReceiveInto(message, deadline);
  if (assembling_) message->swap(partial_);
  return status;
}

Status ShmChannel::ReceiveInto(std::string* message, Deadline deadline) {
  for (;;) {
    RingReader::Record record;
    Status corrupt;
    if (reader_.Peek(&record, &corrupt)) {
      const bool first = record.flags & kRecordFirst;
      const bool last = record.flags & kRecordLast;
      if (first) {
        assembling_ = true;
        discarding_ = false;
        discarded_size_ = 0;
        message->clear();
      } else if (!assembling_) {
        return Status(ErrorCode::kProtocolError,
                      url() + ": ring holds a fragment with no start");
      }
      const uint64_t so_far = discarding_ ? discarded_size_ : message->size();
      if (!discarding_ && so_far + record.size > max_message()) {
        discarding_ = true;
        discarded_size_ = message->size();
        message->clear();
      }
      if (discarding_) {
        discarded_size_ += record.size;
      } else if (first && last) {
        record.AssignTo(message);
      } else {
        record.AppendTo(message);
      }
      reader_.Consume();
      AfterConsume();
      if (!last) continue;
      assembling_ = false;
      return discarding_ ? DiscardedStatus(discarded_size_) : Status::Ok();
    }
    if (!corrupt.ok()) return corrupt.WithContext(url());
    Status waited = WaitForData(deadline);
    if (!waited.ok() && !IsExpiry(waited) && assembling_) {
      assembling_ = false;
      message->clear();
      return Status(ErrorCode::kClosed,
                    url() + ": peer closed the channel in the middle of a "
                            "message; the partial message was dropped");
    }
    IPC_RETURN_IF_ERROR(waited);
  }
}

Status ShmChannel::DiscardedStatus(uint64_t size) const {
  return Status(ErrorCode::kMessageTooLarge,
                url() + ": received a message of " + std::to_string(size) +
                    " bytes, over this end's max_message of " +
                    std::to_string(max_message()) + "; it was discarded");
}

}  // namespace ipc::internal
