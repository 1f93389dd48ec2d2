#include "raw_bench.h"

#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "ipc/capabilities.h"
#include "two_processes.h"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

// The descriptors of one raw link: the parent reads p_read and writes
// p_write; the child the other two.
enum class LinkKind { kStream, kDatagram, kMessageQueue };

struct FdLink {
  int p_read = -1, p_write = -1, c_read = -1, c_write = -1;
  LinkKind kind = LinkKind::kStream;
  std::string what;
  std::string cleanup_dir;
  std::vector<std::string> queues;  // POSIX queues to unlink afterwards.
};

bool WriteAll(int fd, const char* buf, size_t n, LinkKind kind) {
  if (kind == LinkKind::kMessageQueue) {
    while (::mq_send(fd, buf, n, 0) < 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }
  while (n > 0) {
    const ssize_t w = ::write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool ReadAll(int fd, char* buf, size_t n, LinkKind kind) {
  if (kind == LinkKind::kMessageQueue) {
    thread_local std::string scratch;
    mq_attr attr{};
    if (scratch.empty() && ::mq_getattr(fd, &attr) == 0) scratch.resize(attr.mq_msgsize);
    for (;;) {
      const ssize_t r = ::mq_receive(fd, scratch.data(), scratch.size(), nullptr);
      if (r < 0 && errno == EINTR) continue;
      if (r != static_cast<ssize_t>(n)) return false;
      std::memcpy(buf, scratch.data(), n);
      return true;
    }
  }
  if (kind == LinkKind::kDatagram) {
    for (;;) {
      const ssize_t r = ::recv(fd, buf, n, 0);
      if (r < 0 && errno == EINTR) continue;
      return r == static_cast<ssize_t>(n);
    }
  }
  while (n > 0) {
    const ssize_t r = ::read(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

ipc::Result<FdLink> SocketPairLink() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return ipc::ErrnoStatus("socketpair", errno);
  return FdLink{sv[0], sv[0], sv[1], sv[1], LinkKind::kStream, "raw unix socketpair read/write", "", {}};
}

ipc::Result<FdLink> TcpLink() {
  const int l = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (l < 0 || ::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0 ||
      ::listen(l, 1) < 0 || ::getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return ipc::ErrnoStatus("raw tcp listen", errno);
  }
  const int c = ::socket(AF_INET, SOCK_STREAM, 0);
  if (c < 0 || ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return ipc::ErrnoStatus("raw tcp connect", errno);
  }
  const int a = ::accept(l, nullptr, nullptr);
  ::close(l);
  if (a < 0) return ipc::ErrnoStatus("raw tcp accept", errno);
  const int one = 1;
  ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return FdLink{a, a, c, c, LinkKind::kStream, "raw TCP loopback read/write, TCP_NODELAY", "", {}};
}

ipc::Result<FdLink> UdpLink() {
  int fds[2];
  sockaddr_in addrs[2];
  for (int i = 0; i < 2; ++i) {
    fds[i] = ::socket(AF_INET, SOCK_DGRAM, 0);
    addrs[i] = sockaddr_in{};
    addrs[i].sin_family = AF_INET;
    addrs[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addrs[i]);
    if (fds[i] < 0 || ::bind(fds[i], reinterpret_cast<sockaddr*>(&addrs[i]), sizeof(addrs[i])) < 0 ||
        ::getsockname(fds[i], reinterpret_cast<sockaddr*>(&addrs[i]), &len) < 0) {
      return ipc::ErrnoStatus("raw udp bind", errno);
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (::connect(fds[i], reinterpret_cast<sockaddr*>(&addrs[1 - i]), sizeof(addrs[i])) < 0) {
      return ipc::ErrnoStatus("raw udp connect", errno);
    }
    // A lost datagram must not hang the stream pattern.
    timeval tv{0, 500000};
    ::setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  return FdLink{fds[0], fds[0], fds[1], fds[1], LinkKind::kDatagram, "raw UDP send/recv", "", {}};
}

ipc::Result<FdLink> FifoLink() {
  char dir[] = "/tmp/ipc-bench-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return ipc::ErrnoStatus("mkdtemp", errno);
  const std::string ping = std::string(dir) + "/ping", pong = std::string(dir) + "/pong";
  if (::mkfifo(ping.c_str(), 0600) < 0 || ::mkfifo(pong.c_str(), 0600) < 0) {
    return ipc::ErrnoStatus("mkfifo", errno);
  }
  // O_RDWR opens without waiting for the other end (Linux); the child uses
  // the inherited descriptors of the other direction.
  const int a = ::open(ping.c_str(), O_RDWR), b = ::open(pong.c_str(), O_RDWR);
  if (a < 0 || b < 0) return ipc::ErrnoStatus("open fifo", errno);
  return FdLink{b, a, a, b, LinkKind::kStream, "raw FIFO pair read/write", dir, {}};
}

ipc::Result<FdLink> MqLink(size_t size) {
  FdLink link;
  link.kind = LinkKind::kMessageQueue;
  link.what = "raw POSIX mq_send/mq_receive";
  for (const char* role : {"ping", "pong"}) {
    link.queues.push_back("/ipc-bench-" + std::to_string(::getpid()) + "-" + role);
  }
  mqd_t q[2];
  for (int i = 0; i < 2; ++i) {
    q[i] = ::mq_open(link.queues[i].c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, nullptr);
    if (q[i] == static_cast<mqd_t>(-1)) return ipc::ErrnoStatus("raw mq_open", errno);
  }
  mq_attr attr{};
  ::mq_getattr(q[0], &attr);
  if (static_cast<long>(size) > attr.mq_msgsize) {
    for (const auto& name : link.queues) ::mq_unlink(name.c_str());
    return ipc::Status(ipc::ErrorCode::kUnsupported,
                       "a raw message queue carries at most " +
                           std::to_string(attr.mq_msgsize) + " bytes per message");
  }
  link.p_write = link.c_read = q[0];
  link.c_write = link.p_read = q[1];
  return link;
}

ipc::Result<FdLink> MakeFdLink(std::string_view scheme, size_t size) {
  if (scheme == "mq") return MqLink(size);
  if (scheme == "pipe" || scheme == "unix") return SocketPairLink();
  if (scheme == "tcp") return TcpLink();
  if (scheme == "udp") return UdpLink();
  if (scheme == "fifo") return FifoLink();
  return ipc::Status(ipc::ErrorCode::kUnsupported,
                     "no raw baseline for " + std::string(scheme) + ": URLs");
}

ipc::Result<Measurement> FdPingPong(const Options& o, const FdLink& link) {
  const long total = o.warmup + o.count;
  std::vector<int64_t> rtt;
  rtt.reserve(o.count);
  IPC_RETURN_IF_ERROR(RunInTwoProcesses(
      o.cpus,
      [&]() -> ipc::Status {
        std::string buf(o.size, 'p');
        for (long i = 0; i < total; ++i) {
          const auto start = Clock::now();
          if (!WriteAll(link.p_write, buf.data(), o.size, link.kind) ||
              !ReadAll(link.p_read, buf.data(), o.size, link.kind)) {
            return ipc::Status(ipc::ErrorCode::kInternal, link.what + " failed (datagram lost?)");
          }
          if (i >= o.warmup) {
            rtt.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              Clock::now() - start).count());
          }
        }
        return ipc::Status::Ok();
      },
      [&]() -> int {
        std::string buf(o.size, 'c');
        for (long i = 0; i < total; ++i) {
          if (!ReadAll(link.c_read, buf.data(), o.size, link.kind)) return 11;
          if (!WriteAll(link.c_write, buf.data(), o.size, link.kind)) return 12;
        }
        return 0;
      }));
  Measurement m;
  m.what = link.what;
  SetPercentiles(rtt, &m);
  return m;
}

ipc::Result<Measurement> FdStream(const Options& o, const FdLink& link) {
  const long total = o.warmup + o.count;
  Measurement m;
  m.what = link.what;
  IPC_RETURN_IF_ERROR(RunInTwoProcesses(
      o.cpus,
      [&]() -> ipc::Status {
        std::string buf(o.size, 'r');
        Clock::time_point start;
        long received = 0;
        for (long i = 0; i < total; ++i) {
          if (!ReadAll(link.p_read, buf.data(), o.size, link.kind)) break;
          if (i == o.warmup) start = Clock::now();
          if (i >= o.warmup) ++received;
        }
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        m.received = received;
        if (received > 1) {
          m.msgs_per_s = received / seconds;
          m.bytes_per_s = m.msgs_per_s * static_cast<double>(o.size);
        }
        return ipc::Status::Ok();
      },
      [&]() -> int {
        std::string buf(o.size, 's');
        for (long i = 0; i < total; ++i) {
          if (!WriteAll(link.c_write, buf.data(), o.size, link.kind)) return 11;
        }
        return 0;
      }));
  return m;
}

// A minimal shared-memory exchange that only spins: the floor a shared-memory
// channel can approach. Pingpong: one slot per direction. Stream: a ring of
// fixed-size slots.
struct alignas(64) Slot {
  std::atomic<uint64_t> seq{0};
};

struct SharedArea {
  void* base = MAP_FAILED;
  size_t bytes = 0;
  ~SharedArea() {
    if (base != MAP_FAILED) ::munmap(base, bytes);
  }
};

inline void Relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

ipc::Result<Measurement> ShmPingPong(const Options& o) {
  const size_t stride = 64 + ((o.size + 63) & ~size_t{63});
  SharedArea area;
  area.bytes = 2 * stride;
  area.base = ::mmap(nullptr, area.bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (area.base == MAP_FAILED) return ipc::ErrnoStatus("mmap", errno);
  char* base = static_cast<char*>(area.base);
  Slot* ping = new (base) Slot;
  Slot* pong = new (base + stride) Slot;
  char* ping_data = base + 64;
  char* pong_data = base + stride + 64;
  const long total = o.warmup + o.count;
  std::vector<int64_t> rtt;
  rtt.reserve(o.count);
  IPC_RETURN_IF_ERROR(RunInTwoProcesses(
      o.cpus,
      [&]() -> ipc::Status {
        std::string msg(o.size, 'p'), reply(o.size, '\0');
        for (long i = 0; i < total; ++i) {
          const auto start = Clock::now();
          std::memcpy(ping_data, msg.data(), o.size);
          ping->seq.store(i + 1, std::memory_order_release);
          while (pong->seq.load(std::memory_order_acquire) != static_cast<uint64_t>(i + 1)) Relax();
          std::memcpy(reply.data(), pong_data, o.size);
          if (i >= o.warmup) {
            rtt.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              Clock::now() - start).count());
          }
        }
        return ipc::Status::Ok();
      },
      [&]() -> int {
        std::string buf(o.size, '\0');
        for (long i = 0; i < total; ++i) {
          while (ping->seq.load(std::memory_order_acquire) != static_cast<uint64_t>(i + 1)) Relax();
          std::memcpy(buf.data(), ping_data, o.size);
          std::memcpy(pong_data, buf.data(), o.size);
          pong->seq.store(i + 1, std::memory_order_release);
        }
        return 0;
      }));
  Measurement m;
  m.what = "raw shared-memory slots, spinning";
  SetPercentiles(rtt, &m);
  return m;
}

ipc::Result<Measurement> ShmStream(const Options& o) {
  // Slots of the message size, or of 64 KiB pieces of a larger message
  // (each published on its own, so the reader copies one piece out while
  // the writer copies the next in, as the channel does with fragments);
  // about 4 MiB of ring, between 4 and 1024 slots.
  constexpr size_t kMaxPiece = size_t{64} << 10;
  const size_t piece = std::min(o.size, kMaxPiece);
  const size_t pieces = o.size == 0 ? 1 : (o.size + piece - 1) / piece;
  const size_t stride = 64 + ((piece + 63) & ~size_t{63});
  const size_t slots = std::max<size_t>(4, std::min<size_t>(1024, (4u << 20) / stride));
  SharedArea area;
  area.bytes = 128 + slots * stride;
  area.base = ::mmap(nullptr, area.bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (area.base == MAP_FAILED) return ipc::ErrnoStatus("mmap", errno);
  char* base = static_cast<char*>(area.base);
  auto* head = new (base) Slot;       // Pieces published.
  auto* tail = new (base + 64) Slot;  // Pieces consumed.
  char* data = base + 128;
  const long total = o.warmup + o.count;
  Measurement m;
  m.what = pieces > 1 ? "raw shared-memory slot ring of 64 KiB pieces, spinning"
                      : "raw shared-memory slot ring, spinning";
  IPC_RETURN_IF_ERROR(RunInTwoProcesses(
      o.cpus,
      [&]() -> ipc::Status {
        std::string buf(o.size, '\0');
        Clock::time_point start;
        uint64_t seq = 0;
        for (long i = 0; i < total; ++i) {
          for (size_t p = 0; p < pieces; ++p, ++seq) {
            const size_t n = std::min(piece, o.size - p * piece);
            while (head->seq.load(std::memory_order_acquire) <= seq) Relax();
            std::memcpy(buf.data() + p * piece, data + (seq % slots) * stride, n);
            tail->seq.store(seq + 1, std::memory_order_release);
          }
          if (i == o.warmup) start = Clock::now();
        }
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        m.received = o.count;
        m.msgs_per_s = (o.count - 1) / seconds;
        m.bytes_per_s = m.msgs_per_s * static_cast<double>(o.size);
        return ipc::Status::Ok();
      },
      [&]() -> int {
        std::string buf(o.size, 's');
        uint64_t seq = 0;
        for (long i = 0; i < total; ++i) {
          for (size_t p = 0; p < pieces; ++p, ++seq) {
            const size_t n = std::min(piece, o.size - p * piece);
            while (seq - tail->seq.load(std::memory_order_acquire) >= slots) Relax();
            std::memcpy(data + (seq % slots) * stride, buf.data() + p * piece, n);
            head->seq.store(seq + 1, std::memory_order_release);
          }
        }
        return 0;
      }));
  return m;
}

// Raw cppzmq PAIR sockets over the same kind of endpoint, each process with
// its own context (made after fork: ZeroMQ contexts do not survive it).
std::string RawZmqEndpoint(std::string_view scheme) {
  if (scheme == "zmq+ipc") return "ipc:///tmp/ipc-bench-raw-" + std::to_string(::getpid());
  return "tcp://127.0.0.1:" + std::to_string(20000 + ::getpid() % 30000);
}

ipc::Result<Measurement> ZmqRaw(const Options& o, std::string_view scheme) {
  const std::string endpoint = RawZmqEndpoint(scheme);
  const long total = o.warmup + o.count;
  std::vector<int64_t> rtt;
  Measurement m;
  m.what = "raw cppzmq PAIR send/recv";
  IPC_RETURN_IF_ERROR(RunInTwoProcesses(
      o.cpus,
      [&]() -> ipc::Status {
        try {
          zmq::context_t ctx(1);
          zmq::socket_t s(ctx, zmq::socket_type::pair);
          s.set(zmq::sockopt::linger, 0);
          s.bind(endpoint);
          zmq::message_t msg;
          std::string buf(o.size, 'p');
          Clock::time_point start;
          for (long i = 0; i < total; ++i) {
            const auto t0 = Clock::now();
            if (o.mode == Mode::kPingPong) (void)s.send(zmq::buffer(buf), zmq::send_flags::none);
            (void)s.recv(msg);
            if (o.mode == Mode::kPingPong && i >= o.warmup) {
              rtt.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
            }
            if (i == o.warmup) start = Clock::now();
          }
          if (o.mode == Mode::kStream) {
            const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
            m.received = o.count;
            m.msgs_per_s = (o.count - 1) / seconds;
            m.bytes_per_s = m.msgs_per_s * static_cast<double>(o.size);
          }
          (void)s.send(zmq::str_buffer("done"), zmq::send_flags::none);
        } catch (const zmq::error_t& e) {
          return ipc::ErrnoStatus("raw zmq", e.num());
        }
        return ipc::Status::Ok();
      },
      [&]() -> int {
        try {
          zmq::context_t ctx(1);
          zmq::socket_t s(ctx, zmq::socket_type::pair);
          s.connect(endpoint);
          zmq::message_t msg;
          std::string buf(o.size, 'c');
          for (long i = 0; i < total; ++i) {
            if (o.mode == Mode::kPingPong) {
              (void)s.recv(msg);
              (void)s.send(msg, zmq::send_flags::none);
            } else {
              (void)s.send(zmq::buffer(buf), zmq::send_flags::none);
            }
          }
          (void)s.recv(msg);  // The parent's "done": everything arrived.
        } catch (const zmq::error_t&) {
          return 11;
        }
        return 0;
      }));
  if (o.mode == Mode::kPingPong) SetPercentiles(rtt, &m);
  if (scheme == "zmq+ipc") ::unlink(endpoint.substr(6).c_str());
  return m;
}

}  // namespace

ipc::Result<Measurement> MeasureRaw(const Options& o) {
  IPC_ASSIGN_OR_RETURN(ipc::Capabilities caps, ipc::TransportCapabilities(o.url));
  if (caps.scheme == "shm") return o.mode == Mode::kPingPong ? ShmPingPong(o) : ShmStream(o);
  if (caps.scheme == "zmq+ipc" || caps.scheme == "zmq+tcp") return ZmqRaw(o, caps.scheme);
  IPC_ASSIGN_OR_RETURN(FdLink link, MakeFdLink(caps.scheme, o.size));
  auto result = o.mode == Mode::kPingPong ? FdPingPong(o, link) : FdStream(o, link);
  for (int fd : {link.p_read, link.p_write, link.c_read, link.c_write}) ::close(fd);
  for (const std::string& q : link.queues) ::mq_unlink(q.c_str());
  if (!link.cleanup_dir.empty()) {
    ::unlink((link.cleanup_dir + "/ping").c_str());
    ::unlink((link.cleanup_dir + "/pong").c_str());
    ::rmdir(link.cleanup_dir.c_str());
  }
  return result;
}

}  // namespace bench
