#include "transport/mq.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "posix/fd_io.h"
#include "posix/fd_passing.h"
#include "posix/fork_generation.h"
#include "posix/peer_credentials.h"
#include "posix/unique_fd.h"
#include "transport/mq_ends.h"
#include "transport/mq_queue.h"
#include "transport/socket_util.h"

namespace ipc::internal {
namespace {

class MqListener final : public ListenerImpl {
 public:
  MqListener(const Url& url, size_t max_message, uint32_t mode, std::string queue,
             MqDescriptor q, UniqueFd rendezvous)
      : ListenerImpl(url.text),
        max_message_(max_message),
        mode_(mode),
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
        UniqueFd connection(fd);
        // A user our mode does not admit is hung up on (it sees kClosed).
        if (!CheckPeerAdmitted(fd, mode_, url()).ok()) continue;
        // fd() of the receiver: the queue and every sender's heartbeat, so
        // that a poller wakes for a piece and for a sender's death alike.
        UniqueFd ready(::epoll_create1(EPOLL_CLOEXEC));
        if (!ready.valid()) return ErrnoStatus(url() + ": epoll_create1", errno);
        auto receiver = std::make_unique<MqReceiver>(url(), max_message_, mode_, queue_,
                                                     std::move(q_), std::move(rendezvous_),
                                                     std::move(ready), fork_generation_);
        receiver->AddSender(std::move(connection));
        return std::unique_ptr<ChannelImpl>(std::move(receiver));
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) return ErrnoStatus(url() + ": accept", errno);
      IPC_RETURN_IF_ERROR(WaitFd(rendezvous_.get(), POLLIN, deadline, url() + ": accept"));
    }
  }

 private:
  size_t max_message_;
  uint32_t mode_;
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
    attributes = {attr.mq_maxmsg, attr.mq_msgsize};  // What the error names.
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
      url, common.max_message, mode, queue, std::move(owned), std::move(rendezvous)));
}

Result<std::unique_ptr<ChannelImpl>> MqConnect(const Url& url, const CommonOptions& common,
                                               Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(std::string queue, QueueName(url));
  IPC_RETURN_IF_ERROR(ParseAttributes(url).status());
  // Whom we trust as the listener, by the rule the listener applies to us.
  IPC_ASSIGN_OR_RETURN(uint32_t mode, ModeOption(url, 0600));
  const auto rendezvous = RendezvousAddress(queue);
  const auto& addr = rendezvous.first;
  const auto len = rendezvous.second;
  UniqueFd heartbeat;
  MqDescriptor owned;
  IPC_RETURN_IF_ERROR(RetryUntilPeerAppears(
      [&]() -> Status {
        IPC_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(AF_UNIX, SOCK_SEQPACKET, url.text));
        IPC_RETURN_IF_ERROR(ConnectSocket(fd.get(), reinterpret_cast<const sockaddr*>(&addr),
                                          len, deadline, url.text));
        // The abstract socket has no permissions: anyone may have bound it.
        // Check who did before we say or send anything.
        IPC_RETURN_IF_ERROR(CheckPeerAdmitted(fd.get(), mode, url.text + ": listener"));
        // The listener made the queue before it listened; if it is gone
        // (kNotFound), so is that listener: wait for the next.
        const mqd_t q = ::mq_open(queue.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (q == static_cast<mqd_t>(-1)) return OpenError(url, MqAttributes{}, errno);
        owned = MqDescriptor(q);
        // The queue is found by name: its owner must pass the same rule
        // (another user may have made it when the listener was gone).
        struct stat st;
        if (::fstat(q, &st) < 0) return ErrnoStatus(url.text + ": fstat", errno);
        IPC_RETURN_IF_ERROR(CheckOwnerAdmitted(st, mode, url.text + ": queue"));
        heartbeat = std::move(fd);
        return Status::Ok();
      },
      deadline, url.text));
  static std::atomic<uint32_t> counter{0};
  const uint64_t id = (static_cast<uint64_t>(::getpid()) << 32) | counter++;
  IPC_RETURN_IF_ERROR(SendWithFds(
      heartbeat.get(), std::string_view(reinterpret_cast<const char*>(&id), sizeof(id)), {},
      Deadline::After(kMqHandshakeTimeout), url.text));
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
