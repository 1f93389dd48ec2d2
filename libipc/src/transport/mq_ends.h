// The two kinds of mq:// channel end: the one receiving end (the queue,
// the rendezvous socket and every sender's heartbeat) and a sending end (the
// queue and its own heartbeat). See mq.h for the protocol.
#ifndef IPC_SRC_TRANSPORT_MQ_ENDS_H_
#define IPC_SRC_TRANSPORT_MQ_ENDS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "posix/fd_passing.h"
#include "posix/fork_generation.h"
#include "posix/unique_fd.h"
#include "transport/mq.h"
#include "transport/mq_queue.h"
#include "transport/pending_tail.h"
#include "transport/transport.h"

namespace ipc::internal {

class MqReceiver final : public ChannelImpl {
 public:
  MqReceiver(std::string url, size_t max_message, std::string queue, MqDescriptor q,
             UniqueFd rendezvous, uint64_t fork_generation)
      : ChannelImpl(std::move(url), max_message, kMqTransport.caps),
        queue_(std::move(queue)),
        q_(std::move(q)),
        rendezvous_(std::move(rendezvous)),
        fork_generation_(fork_generation),
        buffer_(static_cast<size_t>(QueueMsgSize(q_.get())), '\0') {}

  ~MqReceiver() override {
    if (ForkGeneration() == fork_generation_) ::mq_unlink(queue_.c_str());
  }

  // Takes a sender's connection (its id comes first on it).
  Status AddSender(UniqueFd connection) {
    IPC_ASSIGN_OR_RETURN(ReceivedWithFds hello,
                         ReceiveWithFds(connection.get(), sizeof(uint64_t), 0,
                                        Deadline::After(kMqHandshakeTimeout), url()));
    if (hello.payload.size() != sizeof(uint64_t)) {
      return Status(ErrorCode::kProtocolError, url() + ": bad sender hello");
    }
    uint64_t id;
    std::memcpy(&id, hello.payload.data(), sizeof(id));
    senders_.push_back({std::move(connection), id});
    ever_had_sender_ = true;
    drained_after_last_sender_ = false;
    return Status::Ok();
  }

  Status Send(std::string_view, Deadline) override {
    return Status(ErrorCode::kUnsupported,
                  url() + ": this end of a one-way channel only receives");
  }

  Status Receive(std::string* message, Deadline deadline) override {
    for (;;) {
      const ssize_t n = ::mq_receive(q_.get(), buffer_.data(), buffer_.size(), nullptr);
      if (n >= 0) {
        drained_after_last_sender_ = false;
        Status done;
        if (TakePiece(static_cast<size_t>(n), message, &done)) return done;
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return ErrnoStatus(url() + ": mq_receive", errno);
      // The queue is empty: look after senders before waiting.
      AcceptNewSenders();
      ForgetDeadSenders();
      if (ever_had_sender_ && senders_.empty()) {
        // A sender may have queued its last piece after our empty receive
        // and then left: the queue is final now, so look once more.
        if (!drained_after_last_sender_) {
          drained_after_last_sender_ = true;
          continue;
        }
        partials_.clear();
        drained_after_last_sender_ = false;
        return Status(ErrorCode::kClosed, url() + ": every sender has gone");
      }
      std::vector<pollfd> fds = {{q_.get(), POLLIN, 0}, {rendezvous_.get(), POLLIN, 0}};
      for (const Sender& s : senders_) fds.push_back({s.heartbeat.get(), POLLIN, 0});
      IPC_RETURN_IF_ERROR(PollUntil(fds, deadline, url() + ": receive"));
    }
  }

  int fd() const override { return q_.get(); }

 private:
  struct Sender {
    UniqueFd heartbeat;
    uint64_t id;
  };
  struct Partial {
    std::string data;
    bool discarding = false;
    uint64_t size = 0;
  };

  // Adds a piece to its sender's message. True when a message (or an error)
  // is ready in *message / *status.
  bool TakePiece(size_t n, std::string* message, Status* status) {
    PieceHeader h;
    if (n < sizeof(h)) {
      *status = Status(ErrorCode::kProtocolError,
                       url() + ": a message without libipc's piece header was in the queue");
      return true;
    }
    std::memcpy(&h, buffer_.data(), sizeof(h));
    const char* payload = buffer_.data() + sizeof(h);
    const size_t size = n - sizeof(h);
    if (h.flags & kFirstPiece) partials_[h.sender] = Partial{};
    auto it = partials_.find(h.sender);
    if (it == partials_.end()) return false;  // Tail of a dropped message.
    Partial& p = it->second;
    p.size += size;
    if (!p.discarding && p.size > max_message()) {
      p.discarding = true;
      p.data.clear();
      p.data.shrink_to_fit();
    }
    if (!p.discarding) p.data.append(payload, size);
    if (!(h.flags & kLastPiece)) return false;
    if (p.discarding) {
      *status = Status(ErrorCode::kMessageTooLarge,
                       url() + ": received a message of " + std::to_string(p.size) +
                           " bytes, over this end's max_message of " +
                           std::to_string(max_message()) + "; it was discarded");
    } else {
      message->swap(p.data);
      *status = Status::Ok();
    }
    partials_.erase(it);
    return true;
  }

  void AcceptNewSenders() {
    for (;;) {
      const int fd = ::accept4(rendezvous_.get(), nullptr, nullptr,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      (void)AddSender(UniqueFd(fd));  // A sender that fails its hello is dropped.
    }
  }

  // Drops senders whose heartbeat ended. Called with the queue empty, so a
  // gone sender's unfinished message will never be completed: drop it too.
  void ForgetDeadSenders() {
    for (size_t i = 0; i < senders_.size();) {
      pollfd p{senders_[i].heartbeat.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) == 1) {
        partials_.erase(senders_[i].id);
        senders_.erase(senders_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
  }

  std::string queue_;
  MqDescriptor q_;
  UniqueFd rendezvous_;
  uint64_t fork_generation_;
  std::string buffer_;
  std::vector<Sender> senders_;
  bool ever_had_sender_ = false;
  // Set when the last sender was seen gone; cleared by every piece.
  bool drained_after_last_sender_ = false;
  std::map<uint64_t, Partial> partials_;
};

class MqSender final : public ChannelImpl {
 public:
  MqSender(std::string url, size_t max_message, MqDescriptor q, UniqueFd heartbeat,
           uint64_t id)
      : ChannelImpl(std::move(url), max_message, kMqTransport.caps),
        q_(std::move(q)),
        heartbeat_(std::move(heartbeat)),
        id_(id),
        buffer_(static_cast<size_t>(QueueMsgSize(q_.get())), '\0') {}

  // WritePieces as the writer that SendKeepingTail/FlushTail take. (Defined
  // before its uses: its return type is deduced.)
  auto WriteFn() {
    return [this](std::string_view data, bool first, Deadline deadline, size_t* sent) {
      return WritePieces(data, first, deadline, sent);
    };
  }

  ~MqSender() override {
    if (!pending_.empty()) {
      (void)FlushTail(&pending_, Deadline::After(std::chrono::seconds(1)), WriteFn());
    }
  }

  Status Send(std::string_view message, Deadline deadline) override {
    IPC_RETURN_IF_ERROR(CheckSendSize(message));
    if (ListenerGone()) return ListenerGoneStatus();
    return SendKeepingTail(&pending_, message, deadline, url(), WriteFn());
  }

  Status Receive(std::string*, Deadline) override {
    return Status(ErrorCode::kUnsupported,
                  url() + ": this end of a one-way channel only sends");
  }

  int fd() const override { return q_.get(); }

 private:
  bool ListenerGone() {
    pollfd p{heartbeat_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }
  Status ListenerGoneStatus() const {
    return Status(ErrorCode::kClosed, url() + ": the receiving side has gone");
  }

  Status WritePieces(std::string_view data, bool first, Deadline deadline, size_t* sent) {
    const size_t room = buffer_.size() - sizeof(PieceHeader);
    *sent = 0;
    do {
      const size_t n = std::min(room, data.size() - *sent);
      PieceHeader h{id_, 0, 0};
      if (first && *sent == 0) h.flags |= kFirstPiece;
      if (*sent + n == data.size()) h.flags |= kLastPiece;
      std::memcpy(buffer_.data(), &h, sizeof(h));
      std::memcpy(buffer_.data() + sizeof(h), data.data() + *sent, n);
      for (;;) {
        if (::mq_send(q_.get(), buffer_.data(), sizeof(h) + n, 0) == 0) break;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return ErrnoStatus(url() + ": mq_send", errno);
        // The queue is full: wait for room, or for the receiver to vanish.
        std::vector<pollfd> fds = {{q_.get(), POLLOUT, 0}, {heartbeat_.get(), POLLIN, 0}};
        IPC_RETURN_IF_ERROR(PollUntil(fds, deadline, url() + ": send"));
        if (fds[1].revents != 0) return ListenerGoneStatus();
      }
      *sent += n;
    } while (*sent < data.size());
    return Status::Ok();
  }


  MqDescriptor q_;
  UniqueFd heartbeat_;
  uint64_t id_;
  std::string buffer_;
  std::string pending_;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_MQ_ENDS_H_
