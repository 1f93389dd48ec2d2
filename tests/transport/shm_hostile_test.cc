// shm:// against a hostile peer: a process that speaks the handshake by hand
// and then writes whatever it likes into the shared segment. The victim runs
// in a child so that a wild read shows as a signal, not a crashed test.
// Every attack must end in kProtocolError (or a refused handshake), never a
// signal or a hang.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ipc/channel.h"
#include "support/test_util.h"
#include "transport/shm_layout.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::internal::ComputeShmLayout;
using ipc::internal::RecordHeader;
using ipc::internal::RingControl;
using ipc::internal::ShmChannelHeader;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

constexpr uint64_t kCapacity = 4096;

// What a connector sends with its descriptors (transport/shm.cc).
struct Hello {
  uint32_t version;
  uint32_t reserved;
  uint64_t capacity;
};

sockaddr_un Rendezvous(const std::string& name, socklen_t* len) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string abstract = "libipc.shm." + name;
  std::memcpy(addr.sun_path + 1, abstract.data(), abstract.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size());
  return addr;
}

// A segment as an honest connector makes it, mapped for the attacker.
struct Segment {
  int fd = -1;
  char* base = nullptr;
  size_t size = 0;
  ShmChannelHeader* header() { return reinterpret_cast<ShmChannelHeader*>(base); }
  RingControl* control(int ring) {
    return reinterpret_cast<RingControl*>(base + ComputeShmLayout(kCapacity).control_offset[ring]);
  }
  char* data(int ring) { return base + ComputeShmLayout(kCapacity).data_offset[ring]; }
};

Segment MakeSegment(bool seal) {
  Segment s;
  s.size = ComputeShmLayout(kCapacity).total_size;
  s.fd = ::memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  EXPECT_GE(s.fd, 0);
  EXPECT_EQ(::ftruncate(s.fd, static_cast<off_t>(s.size)), 0);
  s.base = static_cast<char*>(::mmap(nullptr, s.size, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0));
  EXPECT_NE(s.base, MAP_FAILED);
  auto* header = new (s.base) ShmChannelHeader{};
  std::memcpy(header->stamp.magic, ipc::internal::kObjectMagic, sizeof(header->stamp.magic));
  header->stamp.kind = static_cast<uint32_t>(ipc::internal::ObjectKind::kShmChannel);
  header->version = ipc::internal::kShmChannelVersion;
  header->capacity = kCapacity;
  for (int ring = 0; ring < 2; ++ring) s.control(ring)->consumer_sleeping.store(1);
  if (seal) {
    EXPECT_EQ(::fcntl(s.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
  }
  return s;
}

void SendHello(int socket, const Segment& segment, const std::vector<int>& bells) {
  Hello hello{ipc::internal::kShmChannelVersion, 0, kCapacity};
  std::vector<int> fds{segment.fd};
  fds.insert(fds.end(), bells.begin(), bells.end());
  iovec iov{&hello, sizeof(hello)};
  char control[CMSG_SPACE(5 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
  ASSERT_EQ(::sendmsg(socket, &msg, 0), static_cast<ssize_t>(sizeof(hello)));
}

std::vector<int> EventFds() {
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) fds.push_back(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  return fds;
}

// Connects to the listener of `name` as a raw peer (retrying until it is up).
int ConnectRaw(const std::string& name) {
  socklen_t len;
  const sockaddr_un addr = Rendezvous(name, &len);
  for (int attempt = 0; attempt < 500; ++attempt) {
    const int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (::connect(s, reinterpret_cast<const sockaddr*>(&addr), len) == 0) return s;
    ::close(s);
    std::this_thread::sleep_for(10ms);  // Waiting for the child to listen.
  }
  return -1;
}

// The victim: a listener that accepts one channel and receives from it.
// Exit 0 when Receive reports kProtocolError; 1 when Accept found nothing.
pid_t ListenerVictim(const std::string& name) {
  return ForkChild([name] {
    auto listener = ipc::Listen("shm://" + name);
    if (!listener.ok()) return 10;
    auto ch = listener->Accept(10s);
    if (!ch.ok()) return 1;
    for (int i = 0; i < 100; ++i) {
      auto m = ch->Receive(5s);
      if (!m.ok()) return m.status().code() == ErrorCode::kProtocolError ? 0 : 2;
    }
    return 3;
  });
}

void Ring(int bell) {
  const uint64_t one = 1;
  (void)!::write(bell, &one, sizeof(one));
}

// A head far beyond the ring, with a huge record at the tail: the victim
// must not read past the data area.
TEST(ShmHostileTest, HeadFarAheadIsAProtocolErrorNotAWildRead) {
  const std::string name = UniqueName("hostile");
  const pid_t victim = ListenerVictim(name);
  const int s = ConnectRaw(name);
  ASSERT_GE(s, 0);
  Segment seg = MakeSegment(true);
  const RecordHeader huge{30u << 20, 3};
  std::memcpy(seg.data(1), &huge, sizeof(huge));
  seg.control(1)->head.Publish(uint64_t{1} << 40);
  const std::vector<int> bells = EventFds();
  SendHello(s, seg, bells);
  Ring(bells[2]);  // Ring 1's data doorbell.
  EXPECT_EQ(WaitChild(victim, 20000), 0);
  ::close(s);
}

// A head within bounds but a record larger than a fragment may be.
TEST(ShmHostileTest, OversizedRecordIsAProtocolError) {
  const std::string name = UniqueName("hostile");
  const pid_t victim = ListenerVictim(name);
  const int s = ConnectRaw(name);
  ASSERT_GE(s, 0);
  Segment seg = MakeSegment(true);
  const RecordHeader big{static_cast<uint32_t>(kCapacity - 8), 3};
  std::memcpy(seg.data(1), &big, sizeof(big));
  seg.control(1)->head.Publish(kCapacity);
  const std::vector<int> bells = EventFds();
  SendHello(s, seg, bells);
  Ring(bells[2]);
  EXPECT_EQ(WaitChild(victim, 20000), 0);
  ::close(s);
}

TEST(ShmHostileTest, MisalignedHeadIsAProtocolError) {
  const std::string name = UniqueName("hostile");
  const pid_t victim = ListenerVictim(name);
  const int s = ConnectRaw(name);
  ASSERT_GE(s, 0);
  Segment seg = MakeSegment(true);
  const RecordHeader small{3, 3};
  std::memcpy(seg.data(1), &small, sizeof(small));
  seg.control(1)->head.Publish(13);
  const std::vector<int> bells = EventFds();
  SendHello(s, seg, bells);
  Ring(bells[2]);
  EXPECT_EQ(WaitChild(victim, 20000), 0);
  ::close(s);
}

// The capacity in the shared header flips while the listener sets up the
// channel: the listener must use the value it validated, not re-read it.
TEST(ShmHostileTest, CapacityChangedAfterTheHandshakeIsNeverUsed) {
  const std::string name = UniqueName("hostile");
  constexpr int kConnections = 60;
  const pid_t victim = ForkChild([name] {
    auto listener = ipc::Listen("shm://" + name);
    if (!listener.ok()) return 10;
    for (int i = 0; i < kConnections; ++i) {
      auto ch = listener->Accept(10s);
      if (!ch.ok()) return 1;
      auto m = ch->Receive(5s);
      if (!m.ok()) return 2;
      if (*m != "abc") return 3;
      if (!ch->Send("ok").ok()) return 4;
    }
    return 0;
  });
  for (int i = 0; i < kConnections; ++i) {
    const int s = ConnectRaw(name);
    ASSERT_GE(s, 0);
    Segment seg = MakeSegment(true);
    const RecordHeader record{3, 3};
    std::memcpy(seg.data(1), &record, sizeof(record));
    std::memcpy(seg.data(1) + sizeof(record), "abc", 3);
    seg.control(1)->head.Publish(16);
    std::atomic<bool> stop{false};
    std::thread flipper([&] {
      volatile uint64_t* capacity = &seg.header()->capacity;
      // Half the time right (to pass a check), half wrong (to be re-read).
      while (!stop.load()) {
        for (int k = 0; k < 200; ++k) *capacity = uint64_t{1} << 30;
        for (int k = 0; k < 200; ++k) *capacity = kCapacity;
      }
    });
    const std::vector<int> bells = EventFds();
    SendHello(s, seg, bells);
    Ring(bells[2]);
    // The victim sets up, reads and answers while the flipper runs.
    pollfd p{bells[0], POLLIN, 0};  // Ring 0's data doorbell: its answer.
    EXPECT_EQ(::poll(&p, 1, 5000), 1) << "connection " << i;
    stop = true;
    flipper.join();
    ::close(s);
    for (int fd : bells) ::close(fd);
    ::munmap(seg.base, seg.size);
    ::close(seg.fd);
  }
  EXPECT_EQ(WaitChild(victim, 60000), 0);
}

// Sends a handshake the listener must refuse: it hangs up on us, and its
// Accept never returns the connection.
void ExpectRefusedAtHandshake(const Segment& seg, const std::vector<int>& bells) {
  const std::string name = UniqueName("hostile");
  const pid_t victim = ForkChild([name] {
    auto listener = ipc::Listen("shm://" + name);
    if (!listener.ok()) return 10;
    auto ch = listener->Accept(3s);
    return ch.status().code() == ErrorCode::kDeadlineExceeded ? 0 : 1;
  });
  const int s = ConnectRaw(name);
  ASSERT_GE(s, 0);
  SendHello(s, seg, bells);
  char byte;
  pollfd p{s, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_EQ(::recv(s, &byte, 1, 0), 0);
  EXPECT_EQ(WaitChild(victim, 20000), 0);
  ::close(s);
}

// A segment that may still be resized (no seals) could be truncated under
// the listener (SIGBUS).
TEST(ShmHostileTest, UnsealedSegmentIsRefused) {
  ExpectRefusedAtHandshake(MakeSegment(false), EventFds());
}

// A doorbell that is not an eventfd (here a blocking pipe) could block the
// listener's reads forever.
TEST(ShmHostileTest, DoorbellThatIsNotAnEventFdIsRefused) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  std::vector<int> bells = EventFds();
  bells[3] = pipe_fds[0];  // Ring 1's space doorbell, read by the listener.
  ExpectRefusedAtHandshake(MakeSegment(true), bells);
}

// A hostile listener: it accepts by hand, maps the connector's segment and
// corrupts the ring the connector reads (head) and the one it writes
// (tail). The connector's Receive and Send must both say kProtocolError.
TEST(ShmHostileTest, HostileListenerCannotMakeTheConnectorReadOrWriteWild) {
  for (const bool corrupt_tail : {false, true}) {
    const std::string name = UniqueName("hostile");
    socklen_t len;
    const sockaddr_un addr = Rendezvous(name, &len);
    const int listen_fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    ASSERT_EQ(::bind(listen_fd, reinterpret_cast<const sockaddr*>(&addr), len), 0);
    ASSERT_EQ(::listen(listen_fd, 4), 0);
    const pid_t victim = ForkChild([name, corrupt_tail] {
      auto ch = ipc::Connect("shm://" + name + "?capacity=4K", 5s);
      if (!ch.ok()) return 10;
      if (corrupt_tail) {
        std::string m(500, 'x');
        for (int i = 0; i < 1000; ++i) {
          ipc::Status s = ch->Send(m, 5s);
          if (!s.ok()) return s.code() == ErrorCode::kProtocolError ? 0 : 2;
        }
        return 3;
      }
      auto m = ch->Receive(5s);
      return m.status().code() == ErrorCode::kProtocolError ? 0 : 2;
    });
    const int s = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(s, 0);
    Hello hello{};
    char control[CMSG_SPACE(5 * sizeof(int))] = {};
    iovec iov{&hello, sizeof(hello)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ASSERT_EQ(::recvmsg(s, &msg, 0), static_cast<ssize_t>(sizeof(hello)));
    int fds[5];
    std::memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(fds));
    const size_t size = ComputeShmLayout(hello.capacity).total_size;
    char* base = static_cast<char*>(
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0));
    ASSERT_NE(base, MAP_FAILED);
    const auto layout = ComputeShmLayout(hello.capacity);
    auto* ring0 = reinterpret_cast<RingControl*>(base + layout.control_offset[0]);
    auto* ring1 = reinterpret_cast<RingControl*>(base + layout.control_offset[1]);
    if (corrupt_tail) {
      // Claim to have read more than was ever written.
      ring1->tail.Publish(uint64_t{1} << 41);
    } else {
      const RecordHeader huge{30u << 20, 3};
      std::memcpy(base + layout.data_offset[0], &huge, sizeof(huge));
      ring0->head.Publish(uint64_t{1} << 40);
      Ring(fds[1]);  // Ring 0's data doorbell.
    }
    EXPECT_EQ(WaitChild(victim, 20000), 0) << (corrupt_tail ? "tail" : "head");
    ::munmap(base, size);
    for (int fd : fds) ::close(fd);
    ::close(s);
    ::close(listen_fd);
  }
}

}  // namespace
