#include "transport/zmq.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <zmq.hpp>

#include "posix/fork_generation.h"
#include "posix/unique_fd.h"
#include "transport/inet_address.h"
#include "transport/socket_util.h"

namespace ipc::internal {
namespace {

constexpr int kLingerMs = 1000;
// Waits are cut into slices this long, so that an edge that another thread
// consumed can delay a wake-up by at most this much, never hang it.
constexpr int kWaitSliceMs = 100;
constexpr uint64_t kMonitorEvery = 16;

Status ZmqStatus(const std::string& what, const zmq::error_t& e) {
  return ErrnoStatus(what, e.num());
}

int SliceMs(Deadline deadline) {
  const int ms = deadline.PollTimeoutMs();
  return ms < 0 ? kWaitSliceMs : std::min(ms, kWaitSliceMs);
}

// A PAIR socket, the monitor that reports its connection events, and a
// ZeroMQ context of their own. The own context is what makes Close() keep
// its promise: terminating it waits (up to ZMQ_LINGER) until what was sent
// has left, even when the process exits right after; with a shared,
// never-terminated context those messages would die with the process. It
// also keeps channels apart across fork().
struct Endpoint {
  // Stop the monitor before its reading end closes: libzmq's I/O thread
  // sends monitor events blocking, and would hang for good on an event
  // (the disconnect this close causes) that nobody can read any more.
  // Members then close in reverse order: monitor, socket, and last the
  // context, whose termination flushes the socket.
  ~Endpoint() {
    if (socket.handle() != nullptr) zmq_socket_monitor(socket.handle(), nullptr, 0);
  }

  zmq::context_t context;
  zmq::socket_t socket;
  zmq::socket_t monitor;
  uint64_t fork_generation = ForkGeneration();
};

// ZeroMQ objects must never be touched in a forked child: its context's
// threads did not come along, and closing the sockets would send commands
// through descriptors it shares with the parent. A child's inherited copy is
// therefore left alone (leaked) rather than destroyed.
struct EndpointDeleter {
  void operator()(Endpoint* e) const {
    if (e->fork_generation == ForkGeneration()) delete e;
  }
};
using EndpointPtr = std::unique_ptr<Endpoint, EndpointDeleter>;

// libzmq aborts the whole process (an assertion in its I/O thread) when it
// cannot get a descriptor. A context and its two sockets take about a dozen;
// make sure that many are free before going in, so running out is a clear
// kResourceExhausted instead. (Another thread may still take them in
// between: this narrows the window, it cannot close it.)
constexpr int kZmqDescriptors = 16;

Status CheckFreeDescriptors(const std::string& what) {
  int fds[kZmqDescriptors];
  int opened = 0;
  int err = 0;
  for (; opened < kZmqDescriptors; ++opened) {
    fds[opened] = opened == 0 ? ::open("/dev/null", O_RDONLY | O_CLOEXEC)
                              : ::fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
    if (fds[opened] < 0) {
      err = errno;
      break;
    }
  }
  for (int i = 0; i < opened; ++i) ::close(fds[i]);
  if (err == 0) return Status::Ok();
  return ErrnoStatus(what + ": ZeroMQ needs about " + std::to_string(kZmqDescriptors) +
                         " free descriptors",
                     err);
}

Result<EndpointPtr> MakeEndpoint(const std::string& what) {
  static std::atomic<uint64_t> next{0};
  IPC_RETURN_IF_ERROR(CheckFreeDescriptors(what));
  try {
    EndpointPtr e(new Endpoint);
    e->socket = zmq::socket_t(e->context, zmq::socket_type::pair);
    e->monitor = zmq::socket_t(e->context, zmq::socket_type::pair);
    e->socket.set(zmq::sockopt::linger, kLingerMs);
    e->socket.set(zmq::sockopt::reconnect_ivl, 20);
    const std::string address = "inproc://libipc-monitor-" + std::to_string(next++);
    if (zmq_socket_monitor(e->socket.handle(), address.c_str(),
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_CLOSED) != 0) {
      return ErrnoStatus(what + ": zmq_socket_monitor", zmq_errno());
    }
    e->monitor.set(zmq::sockopt::linger, 0);
    e->monitor.connect(address);
    return e;
  } catch (const zmq::error_t& err) {
    return ZmqStatus(what, err);
  }
}

// The next monitor event, or 0 when there is none right now.
uint16_t NextEvent(zmq::socket_t& monitor) {
  zmq::message_t event, endpoint;
  if (!monitor.recv(event, zmq::recv_flags::dontwait)) return 0;
  (void)monitor.recv(endpoint);  // Always follows the event frame.
  uint16_t id = 0;
  if (event.size() >= sizeof(id)) std::memcpy(&id, event.data(), sizeof(id));
  return id;
}

// Waits until the socket has completed a handshake with a peer; absent
// says what was missing when the deadline passes ("no listener appeared").
Status WaitForPeer(Endpoint& e, Deadline deadline, const std::string& what,
                   const char* absent) {
  try {
    for (;;) {
      for (uint16_t id; (id = NextEvent(e.monitor)) != 0;) {
        if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) return Status::Ok();
      }
      if (deadline.is_non_blocking() || deadline.Expired()) {
        Status s = deadline.ExpiredStatus(what + ": no peer completed the handshake");
        return deadline.is_non_blocking() ? s
                                           : Status(s.code(), what + ": " + absent + " in time");
      }
      zmq::pollitem_t item{e.monitor.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(SliceMs(deadline)));
    }
  } catch (const zmq::error_t& err) {
    return ZmqStatus(what, err);
  }
}

class ZmqChannel final : public ChannelImpl {
 public:
  ZmqChannel(std::string url, size_t max_message, const Capabilities& caps,
             EndpointPtr endpoint, UniqueFd epoll, UniqueFd ready)
      : ChannelImpl(std::move(url), max_message, caps),
        e_(std::move(endpoint)),
        epoll_(std::move(epoll)),
        ready_(std::move(ready)) {}

  static Result<std::unique_ptr<ChannelImpl>> Make(std::string url, size_t max_message,
                                                   const Capabilities& caps, EndpointPtr e) {
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    UniqueFd ready(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!epoll.valid() || !ready.valid()) return ErrnoStatus(url + ": epoll/eventfd", errno);
    try {
      for (int fd : {e->socket.get(zmq::sockopt::fd), e->monitor.get(zmq::sockopt::fd),
                     ready.get()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
          return ErrnoStatus(url + ": epoll_ctl", errno);
        }
      }
    } catch (const zmq::error_t& err) {
      return ZmqStatus(url, err);
    }
    auto channel = std::unique_ptr<ZmqChannel>(new ZmqChannel(
        std::move(url), max_message, caps, std::move(e), std::move(epoll), std::move(ready)));
    std::lock_guard<std::mutex> lock(channel->mu_);
    channel->UpdateReadiness();
    return std::unique_ptr<ChannelImpl>(std::move(channel));
  }

  Status Send(std::string_view message, Deadline deadline) override {
    IPC_RETURN_IF_ERROR(CheckSendSize(message));
    try {
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          // Reading the monitor costs a call into ZeroMQ; on the fast path
          // it is done every kMonitorEvery sends, and whenever a send waits.
          if (++sends_ % kMonitorEvery == 0) DrainMonitor();
          if (peer_gone_) return PeerClosed();
          // ZeroMQ takes a message whole or not at all.
          const bool sent = e_->socket.send(zmq::const_buffer(message.data(), message.size()),
                                           zmq::send_flags::dontwait).has_value();
          // A send may swallow ZMQ_FD's edge for incoming data. That only
          // matters to someone waiting on fd(): a caller that took fd(), or
          // our own Receive asleep in another thread. Checking costs a
          // system call, so only they pay for it.
          if (fd_exported_ || receiver_waiting_) UpdateReadiness();
          if (sent) return Status::Ok();
          DrainMonitor();
          if (peer_gone_) return PeerClosed();
        }
        if (deadline.is_non_blocking() || deadline.Expired()) {
          return deadline.ExpiredStatus(url() + ": send");
        }
        zmq::pollitem_t items[2] = {{e_->socket.handle(), 0, ZMQ_POLLOUT, 0},
                                    {e_->monitor.handle(), 0, ZMQ_POLLIN, 0}};
        std::lock_guard<std::mutex> lock(mu_);
        zmq::poll(items, 2, std::chrono::milliseconds(std::min(SliceMs(deadline), 10)));
      }
    } catch (const zmq::error_t& err) {
      return ZmqStatus(url() + ": send", err);
    }
  }

  Status Receive(std::string* message, Deadline deadline) override {
    try {
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          zmq::message_t m;
          const bool got = e_->socket.recv(m, zmq::recv_flags::dontwait).has_value();
          if (!got) DrainMonitor();
          // After a message, only an outside poller of fd() needs the
          // eventfd brought up to date now; this loop brings it up to date
          // itself before it waits.
          if (!got || fd_exported_) UpdateReadiness();
          if (got) {
            if (m.size() > max_message()) {
              return Status(ErrorCode::kMessageTooLarge,
                            url() + ": received a message of " + std::to_string(m.size()) +
                                " bytes, over this end's max_message of " +
                                std::to_string(max_message()) + "; it was discarded");
            }
            message->assign(static_cast<const char*>(m.data()), m.size());
            return Status::Ok();
          }
          if (peer_gone_) return PeerClosed();
        }
        if (deadline.is_non_blocking() || deadline.Expired()) {
          return deadline.ExpiredStatus(url() + ": receive");
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          receiver_waiting_ = true;
        }
        pollfd p{epoll_.get(), POLLIN, 0};
        (void)::poll(&p, 1, SliceMs(deadline));
        std::lock_guard<std::mutex> lock(mu_);
        receiver_waiting_ = false;
      }
    } catch (const zmq::error_t& err) {
      return ZmqStatus(url() + ": receive", err);
    }
  }

  int fd() const override {
    // From now on every call keeps the eventfd exact; bring it up to date
    // once, since calls before this one did not.
    if (!fd_exported_.exchange(true)) {
      try {
        std::lock_guard<std::mutex> lock(mu_);
        UpdateReadiness();
      } catch (const zmq::error_t&) {
        // The next Receive reports the socket's trouble.
      }
    }
    return epoll_.get();
  }

 private:
  Status PeerClosed() const {
    return Status(ErrorCode::kClosed, url() + ": peer closed the channel");
  }

  // REQUIRES: mu_ held.
  void DrainMonitor() {
    for (uint16_t id; (id = NextEvent(e_->monitor)) != 0;) {
      if (id == ZMQ_EVENT_DISCONNECTED) peer_gone_ = true;
    }
  }

  // Keeps the eventfd readable exactly while a message (or the news of the
  // peer's departure) waits. Reading ZMQ_EVENTS also resets ZMQ_FD's edge,
  // so fd() sleeps until something new happens. REQUIRES: mu_ held.
  void UpdateReadiness() const {
    const bool want = peer_gone_ || (e_->socket.get(zmq::sockopt::events) & ZMQ_POLLIN);
    if (want == ready_set_) return;
    uint64_t value = 1;
    if (want) {
      (void)!::write(ready_.get(), &value, sizeof(value));
    } else {
      (void)!::read(ready_.get(), &value, sizeof(value));
    }
    ready_set_ = want;
  }

  mutable std::mutex mu_;  // ZeroMQ sockets are not thread-safe; one sender
                           // and one receiver thread may use a channel at once.
  EndpointPtr e_;
  UniqueFd epoll_;
  UniqueFd ready_;
  mutable bool ready_set_ = false;  // Guarded by mu_.
  bool peer_gone_ = false;
  uint64_t sends_ = 0;
  bool receiver_waiting_ = false;           // Guarded by mu_.
  mutable std::atomic<bool> fd_exported_{false};
};

struct ZmqAddress {
  std::string zmq_endpoint;  // What zmq_bind/zmq_connect take.
  bool ipv6 = false;         // The socket must be told before it is used.
};

Result<ZmqAddress> ToZmqAddress(const Url& url, bool binding) {
  if (url.scheme == "zmq+ipc") {
    if (url.path.empty() || url.path[0] != '/') {
      return Status(ErrorCode::kInvalidArgument,
                    url.text + ": expected zmq+ipc:///absolute/path");
    }
    return ZmqAddress{"ipc://" + url.path, false};
  }
  IPC_ASSIGN_OR_RETURN(auto addresses, ResolveHostPort(url, SOCK_STREAM, binding));
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&addresses.front().addr);
  std::string host_port = FormatHostPort(sa);
  if (binding && url.port == "0") {
    host_port = host_port.substr(0, host_port.rfind(':')) + ":*";
  }
  return ZmqAddress{"tcp://" + host_port, sa->sa_family == AF_INET6};
}

const Capabilities& CapsFor(const Url& url);

class ZmqListener final : public ListenerImpl {
 public:
  ZmqListener(std::string url, size_t max_message, const Capabilities& caps, EndpointPtr e,
              std::string bound)
      : ListenerImpl(std::move(url)),
        max_message_(max_message),
        caps_(caps),
        e_(std::move(e)),
        bound_(std::move(bound)) {}

  // ZeroMQ closes listening sockets in its I/O thread, later; wait (briefly)
  // until it has, so that the address is really free when Close() returns.
  ~ZmqListener() override {
    if (!e_ || e_->fork_generation != ForkGeneration()) return;
    try {
      e_->socket.set(zmq::sockopt::linger, 0);
      e_->socket.unbind(bound_);
      const Deadline deadline = Deadline::After(std::chrono::seconds(1));
      for (;;) {
        bool closed = false;
        for (uint16_t id; (id = NextEvent(e_->monitor)) != 0;) closed |= id == ZMQ_EVENT_CLOSED;
        if (closed || deadline.Expired()) break;
        zmq::pollitem_t item{e_->monitor.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(SliceMs(deadline)));
      }
    } catch (const zmq::error_t&) {
      // Closing anyway.
    }
  }

  Result<std::unique_ptr<ChannelImpl>> Accept(Deadline deadline) override {
    if (!e_) {
      return Status(ErrorCode::kUnsupported,
                    url() + ": a ZeroMQ PAIR listener has one channel; it was already "
                            "accepted");
    }
    IPC_RETURN_IF_ERROR(WaitForPeer(*e_, deadline, url() + ": accept", "no peer connected"));
    return ZmqChannel::Make(url(), max_message_, caps_, std::move(e_));
  }

  int fd() const override {
    try {
      return e_ ? e_->monitor.get(zmq::sockopt::fd) : -1;
    } catch (const zmq::error_t&) {
      return -1;
    }
  }

 private:
  size_t max_message_;
  const Capabilities& caps_;
  EndpointPtr e_;
  std::string bound_;  // The endpoint as ZeroMQ reports it, for unbind.
};

Result<std::unique_ptr<ListenerImpl>> ZmqListen(const Url& url, const CommonOptions& common) {
  IPC_ASSIGN_OR_RETURN(ZmqAddress address, ToZmqAddress(url, /*binding=*/true));
  IPC_ASSIGN_OR_RETURN(uint32_t mode, ModeOption(url, 0600));
  // ZeroMQ would silently unlink a live listener's socket file and take the
  // path over; refuse that, as unix:// does.
  if (url.scheme == "zmq+ipc") IPC_RETURN_IF_ERROR(ReclaimUnixSocketPath(url.path, url.text));
  IPC_ASSIGN_OR_RETURN(EndpointPtr e, MakeEndpoint(url.text));
  std::string listen_url = url.text;
  std::string bound;
  try {
    if (address.ipv6) e->socket.set(zmq::sockopt::ipv6, 1);
    e->socket.bind(address.zmq_endpoint);
    bound = e->socket.get(zmq::sockopt::last_endpoint);
    if (url.scheme == "zmq+ipc") {
      if (::chmod(url.path.c_str(), mode) < 0) return ErrnoStatus(url.text + ": chmod", errno);
    } else {
      // "tcp://127.0.0.1:41234": carry the chosen port into our URL.
      const size_t query = url.text.find('?');
      listen_url = "zmq+" + bound + (query == std::string::npos ? "" : url.text.substr(query));
    }
  } catch (const zmq::error_t& err) {
    return ZmqStatus(url.text + ": bind", err);
  }
  return std::unique_ptr<ListenerImpl>(
      new ZmqListener(listen_url, common.max_message, CapsFor(url), std::move(e), bound));
}

Result<std::unique_ptr<ChannelImpl>> ZmqConnect(const Url& url, const CommonOptions& common,
                                                Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(ZmqAddress address, ToZmqAddress(url, /*binding=*/false));
  // libzmq retries a refused ipc connect silently until our deadline; a
  // socket this user may not write to is refused here, at once.
  if (url.scheme == "zmq+ipc" &&
      ::faccessat(AT_FDCWD, url.path.c_str(), W_OK, AT_EACCESS) < 0 && errno == EACCES) {
    return Status(ErrorCode::kPermissionDenied,
                  url.text + ": this user may not connect to the listener's socket "
                             "(its mode, or its directory's)",
                  EACCES);
  }
  IPC_ASSIGN_OR_RETURN(EndpointPtr e, MakeEndpoint(url.text));
  try {
    if (address.ipv6) e->socket.set(zmq::sockopt::ipv6, 1);
    e->socket.connect(address.zmq_endpoint);
  } catch (const zmq::error_t& err) {
    return ZmqStatus(url.text + ": connect", err);
  }
  Status connected = WaitForPeer(*e, deadline, url.text, "no listener appeared");
  if (!connected.ok()) {
    e->socket.set(zmq::sockopt::linger, 0);  // Nothing to flush.
    return connected;
  }
  return ZmqChannel::Make(url.text, common.max_message, CapsFor(url), std::move(e));
}

constexpr Capabilities ZmqCaps(std::string_view scheme) {
  return {.scheme = scheme,
          .reliable = true,
          .duplex = true,
          .detects_peer_close = true,
          .multiple_peers = false,
          .max_message_limit = UINT32_MAX,
          .default_max_message = size_t{64} << 20};
}

}  // namespace

const Transport kZmqIpcTransport = {
    .caps = ZmqCaps("zmq+ipc"),
    .options = {"mode"},
    .listen = ZmqListen,
    .connect = ZmqConnect,
};

const Transport kZmqTcpTransport = {
    .caps = ZmqCaps("zmq+tcp"),
    .options = {},
    .listen = ZmqListen,
    .connect = ZmqConnect,
};

namespace {
const Capabilities& CapsFor(const Url& url) {
  return url.scheme == "zmq+ipc" ? kZmqIpcTransport.caps : kZmqTcpTransport.caps;
}
}  // namespace

}  // namespace ipc::internal
