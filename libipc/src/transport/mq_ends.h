// The two kinds of mq:// channel end: the one receiving end (the queue,
// the rendezvous socket and every sender's heartbeat) and a sending end (the
// queue and its own heartbeat). See mq.h for the protocol.
#ifndef IPC_SRC_TRANSPORT_MQ_ENDS_H_
#define IPC_SRC_TRANSPORT_MQ_ENDS_H_

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "posix/fork_generation.h"
#include "posix/peer_credentials.h"
#include "posix/unique_fd.h"
#include "transport/mq.h"
#include "transport/mq_queue.h"
#include "transport/pending_tail.h"
#include "transport/transport.h"

namespace ipc::internal {

class MqReceiver final : public ChannelImpl {
 public:
  // ready: an empty epoll descriptor, which becomes fd().
  MqReceiver(std::string url, size_t max_message, uint32_t mode, std::string queue,
             MqDescriptor q, UniqueFd rendezvous, UniqueFd ready,
             uint64_t fork_generation)
      : ChannelImpl(std::move(url), max_message, kMqTransport.caps),
        mode_(mode),
        queue_(std::move(queue)),
        q_(std::move(q)),
        rendezvous_(std::move(rendezvous)),
        ready_(std::move(ready)),
        fork_generation_(fork_generation),
        buffer_(static_cast<size_t>(QueueMsgSize(q_.get())), '\0') {
    Watch(q_.get());
  }

  ~MqReceiver() override {
    if (ForkGeneration() == fork_generation_) ::mq_unlink(queue_.c_str());
  }

  // Takes a sender's connection. Never waits: its hello (the sender id) is
  // read now if it has arrived, else when its socket becomes readable.
  void AddSender(UniqueFd connection) {
    // A sender that connected counts as come, even if it dies before its
    // hello: otherwise a receiver whose only sender was killed inside
    // Connect would wait forever instead of reporting kClosed.
    ever_had_sender_ = true;
    Sender s{std::move(connection), 0, false};
    if (!ReadHello(s)) return;
    Watch(s.heartbeat.get());
    senders_.push_back(std::move(s));
  }

  Status Send(std::string_view, Deadline) override {
    return Status(ErrorCode::kUnsupported,
                  url() + ": this end of a one-way channel only receives");
  }

  Status Receive(std::string* message, Deadline deadline) override {
    if (ForkGeneration() != fork_generation_) {
      return Status(ErrorCode::kUnsupported,
                    url() + ": the receiving end of a message queue cannot be used in a "
                            "child after fork(); the parent still owns it");
    }
    for (;;) {
      const ssize_t n = ::mq_receive(q_.get(), buffer_.data(), buffer_.size(), nullptr);
      if (n >= 0) {
        ++pieces_;
        Status done;
        const bool ready = TakePiece(static_cast<size_t>(n), message, &done);
        // Under steady traffic the queue may never be empty: look after
        // senders now and then all the same.
        if (pieces_ % kHousekeepingPieces == 0) {
          LookAfterSenders();
        } else if (!departed_.empty()) {
          DropDepartedPartials();
        }
        if (ready) return done;
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return ErrnoStatus(url() + ": mq_receive", errno);
      LookAfterSenders();
      if (ever_had_sender_ && senders_.empty()) {
        // Every sender has gone, but the last pieces of one that left just
        // now may have arrived after our empty read: the queue must still
        // be empty now that we know they are all gone.
        if (QueuedPieces(q_.get()) > 0) continue;
        partials_.clear();
        departed_.clear();
        return Status(ErrorCode::kClosed, url() + ": every sender has gone");
      }
      std::vector<pollfd> fds = {{q_.get(), POLLIN, 0}, {rendezvous_.get(), POLLIN, 0}};
      for (const Sender& s : senders_) fds.push_back({s.heartbeat.get(), POLLIN, 0});
      IPC_RETURN_IF_ERROR(PollUntil(fds, deadline, url() + ": receive"));
    }
  }

  int fd() const override { return ready_.get(); }

 private:
  struct Sender {
    UniqueFd heartbeat;
    uint64_t id;
    bool greeted;  // id is known.
  };
  struct Partial {
    std::string data;
    bool discarding = false;
    uint64_t size = 0;
  };
  // A sender seen gone. Its pieces were all queued before that, so once
  // the pieces then queued have been taken, its unfinished message (if any)
  // will never be finished.
  struct Departed {
    uint64_t id;
    uint64_t drop_after;  // A value of pieces_.
  };
  static constexpr uint64_t kHousekeepingPieces = 256;

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
    if (h.flags & kGoodbyePiece) {
      // A sender's last word, queued after all its pieces: what it left
      // unfinished stays so. Its connection and hello came before its
      // first piece, so once they are taken it is among senders_.
      partials_.erase(h.sender);
      AcceptPendingSenders();
      for (Sender& s : senders_) (void)ReadHello(s);
      std::erase_if(senders_, [&](const Sender& s) {
        if (!s.greeted || s.id != h.sender) return false;
        Unwatch(s.heartbeat.get());
        return true;
      });
      return false;
    }
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

  // Accepts new senders and notices departed ones, without waiting.
  void LookAfterSenders() {
    AcceptPendingSenders();
    if (senders_.empty()) return;
    std::vector<pollfd> fds;
    for (const Sender& s : senders_) fds.push_back({s.heartbeat.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 0) <= 0) return;
    // Counted only after the poll that saw them gone, the queue holds
    // every piece they will ever send.
    long queued = -1;
    size_t kept = 0;
    for (size_t i = 0; i < senders_.size(); ++i) {
      Sender& s = senders_[i];
      bool gone = fds[i].revents != 0;
      if (gone && !s.greeted) gone = !ReadHello(s) || (fds[i].revents & (POLLHUP | POLLERR));
      if (!gone) {
        if (kept != i) senders_[kept] = std::move(s);
        ++kept;
        continue;
      }
      if (s.greeted) {
        if (queued < 0) queued = QueuedPieces(q_.get());
        departed_.push_back({s.id, pieces_ + static_cast<uint64_t>(queued)});
      }
      Unwatch(s.heartbeat.get());
    }
    senders_.resize(kept);
    DropDepartedPartials();
  }

  void AcceptPendingSenders() {
    for (;;) {
      const int fd = ::accept4(rendezvous_.get(), nullptr, nullptr,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      UniqueFd connection(fd);
      // As in MqListener::Accept: a user our mode does not admit is hung
      // up on, so it can neither count as a sender nor hold the end open.
      if (CheckPeerAdmitted(fd, mode_, url()).ok()) AddSender(std::move(connection));
    }
  }

  // Reads a sender's hello if it is there. False when the sender is gone
  // or broke the protocol (it is then dropped); a sender that has not said
  // hello yet has sent no piece yet.
  bool ReadHello(Sender& s) {
    if (s.greeted) return true;
    uint64_t id;
    const ssize_t n = ::recv(s.heartbeat.get(), &id, sizeof(id), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n != static_cast<ssize_t>(sizeof(id))) return false;
    s.id = id;
    s.greeted = true;
    ever_had_sender_ = true;
    return true;
  }

  // fd() follows the queue and the heartbeats of the senders we keep. A
  // descriptor leaves the epoll set explicitly: a copy held elsewhere (a
  // forked child) would otherwise keep it in.
  void Watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    (void)::epoll_ctl(ready_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  void Unwatch(int fd) { (void)::epoll_ctl(ready_.get(), EPOLL_CTL_DEL, fd, nullptr); }

  void DropDepartedPartials() {
    std::erase_if(departed_, [&](const Departed& d) {
      if (pieces_ < d.drop_after) return false;
      partials_.erase(d.id);
      return true;
    });
  }

  uint32_t mode_;  // Whom we admit as a sender (peer_credentials.h).
  std::string queue_;
  MqDescriptor q_;
  UniqueFd rendezvous_;
  UniqueFd ready_;  // epoll over q_ and every sender's heartbeat: fd().
  uint64_t fork_generation_;
  std::string buffer_;
  std::vector<Sender> senders_;
  bool ever_had_sender_ = false;
  std::map<uint64_t, Partial> partials_;
  std::vector<Departed> departed_;
  uint64_t pieces_ = 0;  // Pieces taken from the queue so far.
};

class MqSender final : public ChannelImpl {
 public:
  MqSender(std::string url, size_t max_message, MqDescriptor q, UniqueFd heartbeat,
           uint64_t id)
      : ChannelImpl(std::move(url), max_message, kMqTransport.caps),
        q_(std::move(q)),
        heartbeat_(std::move(heartbeat)),
        id_(id),
        fork_generation_(ForkGeneration()),
        buffer_(static_cast<size_t>(QueueMsgSize(q_.get())), '\0') {}

  // WritePieces as the writer that SendKeepingTail/FlushTail take. (Defined
  // before its uses: its return type is deduced.)
  auto WriteFn() {
    return [this](std::string_view data, bool first, Deadline deadline, size_t* sent) {
      return WritePieces(data, first, deadline, sent);
    };
  }

  ~MqSender() override {
    // A copy inherited by a forked child must not speak for the parent.
    if (ForkGeneration() != fork_generation_) return;
    const Deadline deadline = Deadline::After(std::chrono::seconds(1));
    if (!pending_.empty() && !FlushTail(&pending_, deadline, WriteFn()).ok()) return;
    // The goodbye makes fd() readable for a receiver that waits on it.
    const PieceHeader bye{id_, kGoodbyePiece, 0};
    (void)Put(reinterpret_cast<const char*>(&bye), sizeof(bye), deadline);
  }

  Status Send(std::string_view message, Deadline deadline) override {
    IPC_RETURN_IF_ERROR(CheckSendSize(message));
    if (ForkGeneration() != fork_generation_) {
      // Two processes writing pieces under one sender id would mix them.
      return Status(ErrorCode::kUnsupported,
                    url() + ": a sending end cannot be used in a child after fork(); "
                            "the parent still owns it (connect anew)");
    }
    if (ListenerGone()) return ListenerGoneStatus();
    return SendKeepingTail(&pending_, message, deadline, url(), WriteFn());
  }

  // Writes the rest of a message a timed Send left part-way.
  Status Flush(Deadline deadline) override {
    if (pending_.empty()) return Status::Ok();
    if (ListenerGone()) return ListenerGoneStatus();
    return FlushTail(&pending_, deadline, WriteFn());
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
      IPC_RETURN_IF_ERROR(Put(buffer_.data(), sizeof(h) + n, deadline));
      *sent += n;
    } while (*sent < data.size());
    return Status::Ok();
  }

  // Queues one piece, waiting until the deadline for room; kClosed when
  // the receiver vanishes meanwhile.
  Status Put(const char* piece, size_t size, Deadline deadline) {
    for (;;) {
      if (::mq_send(q_.get(), piece, size, 0) == 0) return Status::Ok();
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return ErrnoStatus(url() + ": mq_send", errno);
      std::vector<pollfd> fds = {{q_.get(), POLLOUT, 0}, {heartbeat_.get(), POLLIN, 0}};
      IPC_RETURN_IF_ERROR(PollUntil(fds, deadline, url() + ": send"));
      if (fds[1].revents != 0) return ListenerGoneStatus();
    }
  }

  MqDescriptor q_;
  UniqueFd heartbeat_;
  uint64_t id_;
  uint64_t fork_generation_;
  std::string buffer_;
  std::string pending_;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_TRANSPORT_MQ_ENDS_H_
