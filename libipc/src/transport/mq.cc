#include "transport/mq.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <vector>

#include "posix/fd_io.h"
#include "posix/fd_passing.h"
#include "posix/fork_generation.h"
#include "posix/unique_fd.h"
#include "transport/pending_tail.h"
#include "transport/socket_util.h"

namespace ipc::internal {
namespace {

// Every queue message is one piece: this header, then payload.
struct PieceHeader {
  uint64_t sender;
  uint32_t flags;
  uint32_t reserved;
};
constexpr uint32_t kFirst = 1;
constexpr uint32_t kLast = 2;
constexpr long kMinMsgSize = 64;
constexpr std::chrono::seconds kHandshakeTimeout{5};

class MqDescriptor {
 public:
  MqDescriptor() = default;
  explicit MqDescriptor(mqd_t q) : q_(q) {}
  ~MqDescriptor() {
    if (q_ != static_cast<mqd_t>(-1)) ::mq_close(q_);
  }
  MqDescriptor(MqDescriptor&& o) noexcept : q_(std::exchange(o.q_, static_cast<mqd_t>(-1))) {}
  MqDescriptor& operator=(MqDescriptor&& o) noexcept {
    std::swap(q_, o.q_);
    return *this;
  }
  mqd_t get() const { return q_; }

 private:
  mqd_t q_ = static_cast<mqd_t>(-1);
};

struct MqAttributes {
  long maxmsg = 0;   // 0: the system default.
  long msgsize = 0;
};

Result<std::string> QueueName(const Url& url) {
  const std::string& p = url.path;
  if (p.size() < 2 || p[0] != '/' || p.find('/', 1) != std::string::npos ||
      p.size() > 255) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": expected mq:///NAME (one name, no further '/', "
                             "at most 255 bytes)");
  }
  return p;
}

std::pair<sockaddr_un, socklen_t> RendezvousAddress(const std::string& queue) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string name = "libipc.mq" + queue;  // queue starts with '/'.
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  return {addr, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())};
}

long ReadLimit(const char* file) {
  std::ifstream in(std::string("/proc/sys/fs/mqueue/") + file);
  long value = 0;
  in >> value;
  return value;
}

// The system default msgsize, for queues created without ?msgsize=.
long QueueMsgSize(mqd_t q) {
  mq_attr attr{};
  return ::mq_getattr(q, &attr) == 0 ? attr.mq_msgsize : 0;
}

Status OpenError(const Url& url, const MqAttributes& a, int err) {
  if (err == EINVAL && (a.maxmsg > 0 || a.msgsize > 0)) {
    const long msg_max = ReadLimit("msg_max"), msgsize_max = ReadLimit("msgsize_max");
    return Status(ErrorCode::kResourceExhausted,
                  url.text + ": the system refuses maxmsg=" + std::to_string(a.maxmsg) +
                      " msgsize=" + std::to_string(a.msgsize) + " (limits: " +
                      std::to_string(msg_max) + " messages in /proc/sys/fs/mqueue/msg_max, " +
                      std::to_string(msgsize_max) +
                      " bytes in /proc/sys/fs/mqueue/msgsize_max; raise them or ask for less)",
                  err);
  }
  if (err == EMFILE || err == ENOSPC || err == ENOMEM) {
    return Status(ErrorCode::kResourceExhausted,
                  url.text + ": out of message queues (/proc/sys/fs/mqueue/queues_max, "
                             "RLIMIT_MSGQUEUE): " + std::strerror(err),
                  err);
  }
  return ErrnoStatus(url.text + ": mq_open", err);
}

// Waits for events on the given descriptors until the deadline.
Status PollUntil(std::vector<pollfd>& fds, Deadline deadline, const std::string& what) {
  for (;;) {
    const int n = ::poll(fds.data(), fds.size(), deadline.PollTimeoutMs());
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return ErrnoStatus(what + ": poll", errno);
    if (n == 0 && (deadline.is_non_blocking() || deadline.Expired())) {
      return deadline.ExpiredStatus(what);
    }
  }
}

// The receiving end: the queue, the rendezvous socket and the senders'
// heartbeats. Owns the queue's name and removes it when destroyed.
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
                                        Deadline::After(kHandshakeTimeout), url()));
    if (hello.payload.size() != sizeof(uint64_t)) {
      return Status(ErrorCode::kProtocolError, url() + ": bad sender hello");
    }
    uint64_t id;
    std::memcpy(&id, hello.payload.data(), sizeof(id));
    senders_.push_back({std::move(connection), id});
    ever_had_sender_ = true;
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
        partials_.clear();
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
    if (h.flags & kFirst) partials_[h.sender] = Partial{};
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
    if (!(h.flags & kLast)) return false;
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
      if (first && *sent == 0) h.flags |= kFirst;
      if (*sent + n == data.size()) h.flags |= kLast;
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

class MqListener final : public ListenerImpl {
 public:
  MqListener(const Url& url, size_t max_message, std::string queue, MqDescriptor q,
             UniqueFd rendezvous)
      : ListenerImpl(url.text),
        max_message_(max_message),
        queue_(std::move(queue)),
        q_(std::move(q)),
        rendezvous_(std::move(rendezvous)),
        fork_generation_(ForkGeneration()) {}

  ~MqListener() override {
    // Not accepted: the queue is still ours to remove.
    if (rendezvous_.valid() && ForkGeneration() == fork_generation_) {
      ::mq_unlink(queue_.c_str());
    }
  }

  int fd() const override { return rendezvous_.get(); }

  // Waits for the first sender, then returns the one receiving channel.
  Result<std::unique_ptr<ChannelImpl>> Accept(Deadline deadline) override {
    if (!rendezvous_.valid()) {
      return Status(ErrorCode::kUnsupported,
                    url() + ": a message queue has one receiving channel; it was "
                            "already accepted");
    }
    for (;;) {
      const int fd = ::accept4(rendezvous_.get(), nullptr, nullptr,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        auto receiver = std::make_unique<MqReceiver>(url(), max_message_, queue_,
                                                     std::move(q_), std::move(rendezvous_),
                                                     fork_generation_);
        (void)receiver->AddSender(UniqueFd(fd));
        return std::unique_ptr<ChannelImpl>(std::move(receiver));
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) return ErrnoStatus(url() + ": accept", errno);
      IPC_RETURN_IF_ERROR(WaitFd(rendezvous_.get(), POLLIN, deadline, url() + ": accept"));
    }
  }

 private:
  size_t max_message_;
  std::string queue_;
  MqDescriptor q_;
  UniqueFd rendezvous_;
  uint64_t fork_generation_;
};

Result<MqAttributes> ParseAttributes(const Url& url) {
  MqAttributes a;
  IPC_ASSIGN_OR_RETURN(int maxmsg, IntOption(url, "maxmsg", 0));
  IPC_ASSIGN_OR_RETURN(int msgsize, IntOption(url, "msgsize", 0));
  a.maxmsg = maxmsg;
  a.msgsize = msgsize;
  if (a.msgsize != 0 && a.msgsize < kMinMsgSize) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": msgsize must be at least " + std::to_string(kMinMsgSize));
  }
  return a;
}

Result<std::unique_ptr<ListenerImpl>> MqListen(const Url& url, const CommonOptions& common) {
  IPC_ASSIGN_OR_RETURN(std::string queue, QueueName(url));
  IPC_ASSIGN_OR_RETURN(MqAttributes attributes, ParseAttributes(url));
  IPC_ASSIGN_OR_RETURN(uint32_t mode, ModeOption(url, 0600));
  // The rendezvous socket first: binding it is what makes us the one live
  // listener of this name.
  IPC_ASSIGN_OR_RETURN(UniqueFd rendezvous, NewSocket(AF_UNIX, SOCK_SEQPACKET, url.text));
  const auto [addr, len] = RendezvousAddress(queue);
  if (::bind(rendezvous.get(), reinterpret_cast<const sockaddr*>(&addr), len) < 0) {
    if (errno == EADDRINUSE) {
      return Status(ErrorCode::kAddressInUse,
                    url.text + ": a live listener already owns this queue", EADDRINUSE);
    }
    return ErrnoStatus(url.text + ": bind", errno);
  }
  // Any queue of this name now is a dead listener's: replace it.
  ::mq_unlink(queue.c_str());
  mq_attr attr{};
  mq_attr* attr_ptr = nullptr;
  if (attributes.maxmsg > 0 || attributes.msgsize > 0) {
    attr.mq_maxmsg = attributes.maxmsg > 0 ? attributes.maxmsg : ReadLimit("msg_default");
    attr.mq_msgsize = attributes.msgsize > 0 ? attributes.msgsize : ReadLimit("msgsize_default");
    attr_ptr = &attr;
  }
  const mqd_t q = ::mq_open(queue.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC,
                            mode, attr_ptr);
  if (q == static_cast<mqd_t>(-1)) return OpenError(url, attributes, errno);
  MqDescriptor owned(q);
  // mq_open applies the umask; set exactly the mode asked for.
  if (::fchmod(q, mode) < 0 || QueueMsgSize(q) < kMinMsgSize) {
    const int err = errno;
    ::mq_unlink(queue.c_str());
    return QueueMsgSize(q) < kMinMsgSize
               ? Status(ErrorCode::kResourceExhausted,
                        url.text + ": the queue's msgsize is below " +
                            std::to_string(kMinMsgSize) + " bytes")
               : ErrnoStatus(url.text + ": fchmod", err);
  }
  if (::listen(rendezvous.get(), SOMAXCONN) < 0) {
    const int err = errno;
    ::mq_unlink(queue.c_str());
    return ErrnoStatus(url.text + ": listen", err);
  }
  return std::unique_ptr<ListenerImpl>(new MqListener(
      url, common.max_message, queue, std::move(owned), std::move(rendezvous)));
}

Result<std::unique_ptr<ChannelImpl>> MqConnect(const Url& url, const CommonOptions& common,
                                               Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(std::string queue, QueueName(url));
  IPC_RETURN_IF_ERROR(ParseAttributes(url).status());
  const auto [addr, len] = RendezvousAddress(queue);
  UniqueFd heartbeat;
  IPC_RETURN_IF_ERROR(RetryUntilPeerAppears(
      [&]() -> Status {
        IPC_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(AF_UNIX, SOCK_SEQPACKET, url.text));
        IPC_RETURN_IF_ERROR(ConnectSocket(fd.get(), reinterpret_cast<const sockaddr*>(&addr),
                                          len, deadline, url.text));
        heartbeat = std::move(fd);
        return Status::Ok();
      },
      deadline, url.text));
  const mqd_t q = ::mq_open(queue.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (q == static_cast<mqd_t>(-1)) return ErrnoStatus(url.text + ": mq_open", errno);
  MqDescriptor owned(q);
  static std::atomic<uint32_t> counter{0};
  const uint64_t id = (static_cast<uint64_t>(::getpid()) << 32) | counter++;
  IPC_RETURN_IF_ERROR(SendWithFds(
      heartbeat.get(), std::string_view(reinterpret_cast<const char*>(&id), sizeof(id)), {},
      Deadline::After(kHandshakeTimeout), url.text));
  return std::unique_ptr<ChannelImpl>(
      new MqSender(url.text, common.max_message, std::move(owned), std::move(heartbeat), id));
}

}  // namespace

const Transport kMqTransport = {
    .caps = {.scheme = "mq",
             .reliable = true,
             .duplex = false,
             .detects_peer_close = true,
             .multiple_peers = false,
             .max_message_limit = UINT32_MAX,
             .default_max_message = size_t{64} << 20},
    .options = {"maxmsg", "msgsize", "mode"},
    .listen = MqListen,
    .connect = MqConnect,
};

}  // namespace ipc::internal
