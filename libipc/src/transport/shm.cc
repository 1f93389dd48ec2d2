#include "transport/shm.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>

#include "posix/fd_io.h"
#include "posix/fd_passing.h"
#include "posix/object_stamp.h"
#include "posix/peer_credentials.h"
#include "posix/shm_segment.h"
#include "transport/shm_channel.h"
#include "transport/socket_util.h"

namespace ipc::internal {
namespace {

constexpr uint64_t kDefaultCapacity = uint64_t{1} << 20;
constexpr uint64_t kMinCapacity = 4096;
constexpr uint64_t kMaxCapacity = uint64_t{1} << 30;
constexpr int kDefaultSpinUs = 20;
// The handshake is local and quick; bound it even when Accept or Connect
// was called without a deadline, so a stuck peer cannot hang us.
constexpr std::chrono::seconds kHandshakeTimeout{5};
// The listener's verdict on a connector of another user (see
// NeedsVerdict): kRefused before it hangs up, kAdmitted once it accepted.
// A connector of the listener's own user (or root) is always admitted and
// gets no verdict, so its Connect never waits for Accept.
constexpr char kRefused = 'R';
constexpr char kAdmitted = 'A';

uid_t PeerUid(int socket) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -1;
  return cred.uid;
}

// Whether a connector of connector_uid must learn the verdict of a listener
// whose effective uid is listener_uid: only when the listener's mode decides
// (the same rule as peer_credentials.h: its own user and root always pass).
bool NeedsVerdict(uid_t connector_uid, uid_t listener_uid) {
  return connector_uid != listener_uid && connector_uid != 0;
}

// What the connector sends with the descriptors.
struct Hello {
  uint32_t version;
  uint32_t reserved;
  uint64_t capacity;
};

struct ShmOptions {
  uint64_t capacity = kDefaultCapacity;
  uint32_t mode = 0600;
  std::chrono::nanoseconds spin{std::chrono::microseconds(kDefaultSpinUs)};
};

Result<ShmOptions> ParseOptions(const Url& url) {
  const std::string& name = url.path;
  bool valid = !name.empty() && name.size() <= 200 && url.host == url.path;
  for (char c : name) {
    valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
             c == '_' || c == '-';
  }
  if (!valid) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": expected shm://NAME with NAME made of letters, "
                             "digits, '.', '_' or '-' (at most 200)");
  }
  ShmOptions options;
  if (auto text = url.Option("capacity")) {
    auto size = ParseByteSize(*text);
    if (!size.ok()) return size.status().WithContext(url.text + ": capacity");
    if (*size < kMinCapacity || *size > kMaxCapacity) {
      return Status(ErrorCode::kInvalidArgument,
                    url.text + ": capacity must be between 4K and 1G");
    }
    options.capacity = kMinCapacity;
    while (options.capacity < *size) options.capacity <<= 1;
  }
  IPC_ASSIGN_OR_RETURN(options.mode, ModeOption(url, 0600));
  IPC_ASSIGN_OR_RETURN(int spin_us, IntOption(url, "spin_us", kDefaultSpinUs));
  options.spin = std::chrono::microseconds(spin_us);
  return options;
}

// The abstract socket address "@libipc.shm.NAME".
std::pair<sockaddr_un, socklen_t> RendezvousAddress(const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string abstract = "libipc.shm." + name;
  std::memcpy(addr.sun_path + 1, abstract.data(), abstract.size());
  return {addr, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                       abstract.size())};
}

Result<UniqueFd> NewEventFd(const std::string& what) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return ErrnoStatus(what + ": eventfd", errno);
  return UniqueFd(fd);
}

// The segment travels as a memfd sealed against shrinking and growing: its
// size is then fixed for good, so neither end can be hit by SIGBUS through
// a truncation, and the listener can trust the size it reads with fstat.
constexpr unsigned kRequiredSeals = F_SEAL_SHRINK | F_SEAL_GROW;

// Whether fd is an eventfd: anything else (a pipe, a file, a socket) passed
// as a doorbell by a hostile connector could block our reads or make
// poll() spin.
bool IsEventFd(int fd) {
  char link[64];
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(path.c_str(), link, sizeof(link) - 1);
  if (n < 0) return errno == ENOENT && ::access("/proc/self/fd", F_OK) != 0;
  return std::string_view(link, static_cast<size_t>(n)) == "anon_inode:[eventfd]";
}

// Checks what a connector sent before any of it is used: the hello, the
// segment's seals and size, and the doorbells. Returns the validated
// capacity, the one copy of the geometry the channel will use.
Result<uint64_t> ValidateHandshake(const ReceivedWithFds& hello,
                                   const std::string& url) {
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kProtocolError, url + ": bad handshake from peer (" + why + ")");
  };
  Hello h{};
  if (hello.payload.size() != sizeof(Hello) || hello.fds.size() != 5) {
    return bad("expected a hello and 5 descriptors");
  }
  std::memcpy(&h, hello.payload.data(), sizeof(h));
  if (h.version != kShmChannelVersion) {
    return bad("shm channel version " + std::to_string(h.version) +
               ", this end speaks " + std::to_string(kShmChannelVersion));
  }
  if (h.capacity < kMinCapacity || h.capacity > kMaxCapacity ||
      (h.capacity & (h.capacity - 1)) != 0) {
    return bad("capacity " + std::to_string(h.capacity));
  }
  const int seals = ::fcntl(hello.fds[0].get(), F_GET_SEALS);
  if (seals < 0 || (static_cast<unsigned>(seals) & kRequiredSeals) != kRequiredSeals) {
    return bad("the segment is not a memfd sealed against resizing");
  }
  struct stat st;
  if (::fstat(hello.fds[0].get(), &st) < 0 ||
      static_cast<uint64_t>(st.st_size) != ComputeShmLayout(h.capacity).total_size) {
    return bad("the segment's size does not match its capacity");
  }
  for (size_t i = 1; i < hello.fds.size(); ++i) {
    if (!IsEventFd(hello.fds[i].get())) return bad("a doorbell is not an eventfd");
  }
  return h.capacity;
}

// A new sealed memfd holding a zeroed channel segment of this capacity.
Result<ShmSegment> CreateChannelSegment(const Url& url, uint64_t capacity) {
  const ShmChannelLayout layout = ComputeShmLayout(capacity);
  const std::string name = "libipc.shm." + url.path;
  UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd.get() < 0) return ErrnoStatus(url.text + ": memfd_create", errno);
  // Reserve the pages now, so a memory limit is a clear error here rather
  // than a SIGBUS on first touch.
  if (const int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(layout.total_size))) {
    return ErrnoStatus(url.text + ": reserving " + std::to_string(layout.total_size) +
                           " bytes of shared memory",
                       err);
  }
  const int raw_fd = fd.get();
  IPC_ASSIGN_OR_RETURN(ShmSegment segment, ShmSegment::FromFd(std::move(fd), url.text));
  void* base = segment.data();
  auto* header = new (base) ShmChannelHeader{};
  header->version = kShmChannelVersion;
  header->capacity = capacity;
  for (int ring = 0; ring < 2; ++ring) {
    auto* control =
        new (static_cast<char*>(base) + layout.control_offset[ring]) RingControl{};
    // Armed from the start: the first message rings the doorbell, so a
    // receiver polling fd() early is woken.
    control->consumer_sleeping.store(1, std::memory_order_relaxed);
  }
  StampObject(&header->stamp, ObjectKind::kShmChannel);
  if (::fcntl(raw_fd, F_ADD_SEALS, kRequiredSeals | F_SEAL_SEAL) < 0) {
    return ErrnoStatus(url.text + ": sealing the segment", errno);
  }
  return segment;
}

class ShmListener final : public ListenerImpl {
 public:
  ShmListener(const Url& url, const CommonOptions& common, ShmOptions options,
              UniqueFd socket)
      : ListenerImpl(url.text),
        max_message_(common.max_message),
        options_(options),
        socket_(std::move(socket)) {}

  int fd() const override { return socket_.get(); }

  Result<std::unique_ptr<ChannelImpl>> Accept(Deadline deadline) override {
    for (;;) {
      const int fd = ::accept4(socket_.get(), nullptr, nullptr,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN) return ErrnoStatus(url() + ": accept", errno);
        IPC_RETURN_IF_ERROR(WaitFd(socket_.get(), POLLIN, deadline, url() + ": accept"));
        continue;
      }
      UniqueFd connection(fd);
      if (!CheckPeerAdmitted(fd, options_.mode, url()).ok()) {
        // Take in the peer's hello first (closing with unread data
        // would turn our goodbye into a connection reset), then tell the
        // peer why we hang up; it reports kPermissionDenied.
        (void)ReceiveWithFds(fd, sizeof(Hello), 5,
                             Deadline::After(kHandshakeTimeout), url());
        (void)SendWithFds(fd, std::string_view(&kRefused, 1), {},
                          Deadline::Now(), url());
        continue;
      }
      const bool tell = NeedsVerdict(PeerUid(fd), ::geteuid());
      auto channel = Complete(std::move(connection));
      if (channel.ok() && tell) {
        (void)SendWithFds(fd, std::string_view(&kAdmitted, 1), {}, Deadline::Now(), url());
      }
      // A peer that vanished or misbehaved is not our caller's problem: the
      // next one may be fine.
      if (!channel.ok() && (channel.status().code() == ErrorCode::kClosed ||
                            channel.status().code() == ErrorCode::kProtocolError ||
                            channel.status().code() == ErrorCode::kDeadlineExceeded)) {
        continue;
      }
      return channel;
    }
  }

 private:
  // Maps the segment and doorbells the connector sent, once validated.
  Result<std::unique_ptr<ChannelImpl>> Complete(UniqueFd connection) {
    IPC_ASSIGN_OR_RETURN(
        ReceivedWithFds hello,
        ReceiveWithFds(connection.get(), sizeof(Hello), 5,
                       Deadline::After(kHandshakeTimeout), url()));
    IPC_ASSIGN_OR_RETURN(const uint64_t capacity, ValidateHandshake(hello, url()));
    IPC_ASSIGN_OR_RETURN(ShmSegment segment,
                         ShmSegment::FromFd(std::move(hello.fds[0]), url()));
    const auto* header = static_cast<const ShmChannelHeader*>(segment.data());
    if (std::memcmp(header->stamp.magic, kObjectMagic, sizeof(kObjectMagic)) != 0) {
      return Status(ErrorCode::kProtocolError,
                    url() + ": shared segment does not carry libipc's stamp");
    }
    return MakeShmChannel(
        ShmChannelParts{.url = url(),
                        .max_message = max_message_,
                        .side = 0,
                        .capacity = capacity,
                        .segment = std::move(segment),
                        .send_bells = {std::move(hello.fds[1]), std::move(hello.fds[2])},
                        .receive_bells = {std::move(hello.fds[3]), std::move(hello.fds[4])},
                        .heartbeat = std::move(connection),
                        .spin = options_.spin},
        kShmTransport.caps);
  }

  size_t max_message_;
  ShmOptions options_;
  UniqueFd socket_;
};

// Waits for a listener's verdict on this connector (see kAdmitted).
Status AwaitVerdict(int connection, Deadline deadline, const std::string& url) {
  IPC_RETURN_IF_ERROR(WaitFd(connection, POLLIN, deadline,
                             url + ": waiting for the listener (another user) to accept"));
  char byte = 0;
  const ssize_t n = ::recv(connection, &byte, 1, MSG_DONTWAIT);
  if (n == 1 && byte == kAdmitted) return Status::Ok();
  if (n == 1 && byte == kRefused) {
    return Status(ErrorCode::kPermissionDenied,
                  url + ": the listener (uid " + std::to_string(PeerUid(connection)) +
                      ") does not admit this user (its ?mode=)");
  }
  return Status(ErrorCode::kClosed, url + ": the listener hung up during the handshake");
}

// The connector builds the channel: segment, rings and doorbells, then hands
// them over. Connect thus completes without waiting for Accept (messages
// queue in the ring meanwhile), as a socket's connect completes into the
// listen backlog — except for a connector of another user than the
// listener's, whose admission depends on the listener's mode: its Connect
// waits for the listener's verdict, so a refusal is reported by Connect.
// The segment is a memfd: it never has a name in /dev/shm, so a crash at
// any point leaves nothing behind.
Result<std::unique_ptr<ChannelImpl>> BuildChannel(const Url& url,
                                                  const CommonOptions& common,
                                                  const ShmOptions& options,
                                                  UniqueFd connection,
                                                  Deadline deadline) {
  // Abstract socket names have no permissions: whoever bound the name first
  // is listening. Check who that is before anything is sent.
  IPC_RETURN_IF_ERROR(CheckPeerAdmitted(connection.get(), options.mode,
                                        url.text + ": listener"));
  IPC_ASSIGN_OR_RETURN(ShmSegment segment, CreateChannelSegment(url, options.capacity));
  ShmDoorbells rings[2];
  for (ShmDoorbells& bells : rings) {
    IPC_ASSIGN_OR_RETURN(bells.data, NewEventFd(url.text));
    IPC_ASSIGN_OR_RETURN(bells.space, NewEventFd(url.text));
  }
  const Hello hello{kShmChannelVersion, 0, options.capacity};
  Status sent = SendWithFds(
      connection.get(),
      std::string_view(reinterpret_cast<const char*>(&hello), sizeof(hello)),
      {segment.fd(), rings[0].data.get(), rings[0].space.get(),
       rings[1].data.get(), rings[1].space.get()},
      Deadline::After(kHandshakeTimeout), url.text);
  if (!sent.ok()) {
    // A listener that refused us may already have hung up; say why.
    char byte = 0;
    if (::recv(connection.get(), &byte, 1, MSG_DONTWAIT) == 1 && byte == kRefused) {
      return Status(ErrorCode::kPermissionDenied,
                    url.text + ": the listener's mode does not admit this user");
    }
    return sent;
  }
  if (NeedsVerdict(::geteuid(), PeerUid(connection.get()))) {
    IPC_RETURN_IF_ERROR(AwaitVerdict(connection.get(), deadline, url.text));
  }
  return MakeShmChannel(ShmChannelParts{.url = url.text,
                                        .max_message = common.max_message,
                                        .side = 1,
                                        .capacity = options.capacity,
                                        .segment = std::move(segment),
                                        .send_bells = std::move(rings[1]),
                                        .receive_bells = std::move(rings[0]),
                                        .heartbeat = std::move(connection),
                                        .spin = options.spin},
                        kShmTransport.caps);
}

Result<std::unique_ptr<ListenerImpl>> ShmListen(const Url& url,
                                                const CommonOptions& common) {
  IPC_ASSIGN_OR_RETURN(ShmOptions options, ParseOptions(url));
  IPC_ASSIGN_OR_RETURN(UniqueFd socket, NewSocket(AF_UNIX, SOCK_SEQPACKET, url.text));
  const auto [addr, len] = RendezvousAddress(url.path);
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&addr), len) < 0) {
    if (errno == EADDRINUSE) {
      return Status(ErrorCode::kAddressInUse,
                    url.text + ": a live listener already owns this name",
                    EADDRINUSE);
    }
    return ErrnoStatus(url.text + ": bind", errno);
  }
  if (::listen(socket.get(), SOMAXCONN) < 0) {
    return ErrnoStatus(url.text + ": listen", errno);
  }
  return std::unique_ptr<ListenerImpl>(
      new ShmListener(url, common, options, std::move(socket)));
}

Result<std::unique_ptr<ChannelImpl>> ShmConnect(const Url& url,
                                                const CommonOptions& common,
                                                Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(ShmOptions options, ParseOptions(url));
  const auto rendezvous = RendezvousAddress(url.path);
  const auto& addr = rendezvous.first;
  const auto len = rendezvous.second;
  UniqueFd connection;
  IPC_RETURN_IF_ERROR(RetryUntilPeerAppears(
      [&]() -> Status {
        IPC_ASSIGN_OR_RETURN(UniqueFd fd,
                             NewSocket(AF_UNIX, SOCK_SEQPACKET, url.text));
        IPC_RETURN_IF_ERROR(ConnectSocket(
            fd.get(), reinterpret_cast<const sockaddr*>(&addr), len, deadline,
            url.text));
        connection = std::move(fd);
        return Status::Ok();
      },
      deadline, url.text));
  return BuildChannel(url, common, options, std::move(connection), deadline);
}

}  // namespace

const Transport kShmTransport = {
    .caps = {.scheme = "shm",
             .reliable = true,
             .duplex = true,
             .detects_peer_close = true,
             .multiple_peers = true,
             .max_message_limit = UINT32_MAX,
             .default_max_message = size_t{64} << 20},
    .options = {"capacity", "mode", "spin_us"},
    .listen = ShmListen,
    .connect = ShmConnect,
};

}  // namespace ipc::internal
