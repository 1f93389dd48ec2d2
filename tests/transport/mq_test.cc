// mq:// beyond the conformance suite: pieces and their boundaries, several
// senders, SIGKILL of either side, senders that leave right after sending,
// stale queues, permissions, names, system limits, timed sends, fd().
//
// Every test uses its own queue name; TearDown removes the queue in case a
// killed listener left it behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "ipc/capabilities.h"
#include "ipc/channel.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;
using Clock = std::chrono::steady_clock;

constexpr size_t kHeader = 16;  // The piece header of mq.h.

// Sender s's message i: "s:i:" then a pattern; `size` 0 picks a size that
// needs several 8 KiB pieces.
std::string Message(int sender, int i, size_t size = 0) {
  std::string m = std::to_string(sender) + ":" + std::to_string(i) + ":";
  const size_t head = m.size();
  m.resize(size != 0 ? size : 20000 + (i % 7) * 3000);
  for (size_t k = head; k < m.size(); ++k) m[k] = static_cast<char>(sender * 7 + i + k);
  return m;
}

// Parses "s:i:" and checks the rest; {s, i}, or {-1, -1} for a torn message.
std::pair<int, int> Check(const std::string& m) {
  const size_t a = m.find(':'), b = m.find(':', a + 1);
  if (a == std::string::npos || b == std::string::npos) return {-1, -1};
  const int s = std::stoi(m.substr(0, a)), i = std::stoi(m.substr(a + 1, b - a - 1));
  return m == Message(s, i, m.size()) ? std::make_pair(s, i) : std::make_pair(-1, -1);
}

std::string Pattern(size_t size, size_t seed) {
  std::string s(size, '\0');
  for (size_t k = 0; k < size; ++k) s[k] = static_cast<char>((k * 131 + seed * 7) >> 3);
  return s;
}

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

long Limit(const char* file) {
  std::ifstream in(std::string("/proc/sys/fs/mqueue/") + file);
  long value = 0;
  in >> value;
  return value;
}

// The scheduler state ('R', 'S', ...) of a task, from /proc/.../stat.
char TaskState(const std::string& stat_file) {
  std::ifstream in(stat_file);
  const std::string stat((std::istreambuf_iterator<char>(in)), {});
  const size_t p = stat.rfind(')');
  return p != std::string::npos && p + 2 < stat.size() ? stat[p + 2] : '?';
}

// Waits until the thread whose id *tid holds sleeps (in a blocking call).
void WaitUntilSleeping(const std::atomic<pid_t>& tid) {
  while (tid.load() == 0 ||
         TaskState("/proc/self/task/" + std::to_string(tid.load()) + "/stat") != 'S') {
    std::this_thread::yield();
  }
}

// A raw connection to the listener of queue `name` ("/q"), at the socket
// address mq.h documents, that has not said hello; -1 on failure.
int ConnectRaw(const std::string& name) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string abstract = "libipc.mq" + name;
  std::memcpy(addr.sun_path + 1, abstract.data(), abstract.size());
  const socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + abstract.size();
  if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// A pipe on which a child tells its parent that it has reached a point.
class Signal {
 public:
  Signal() { EXPECT_EQ(::pipe(fds_), 0); }
  ~Signal() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  void Notify() { (void)!::write(fds_[1], "x", 1); }
  bool Wait() {
    char c;
    return Readable(fds_[0], 10000) && ::read(fds_[0], &c, 1) == 1;
  }

 private:
  int fds_[2] = {-1, -1};
};

class MqTest : public ::testing::Test {
 protected:
  void TearDown() override { ::mq_unlink(name_.c_str()); }

  // Forks n senders that connect, wait until all n have connected, then
  // run body(channel, index) and exit with its result. (Otherwise one
  // sender could finish before another connects, and the receiver would
  // rightly report kClosed in between, as a FIFO reader sees end-of-file.)
  std::vector<pid_t> ForkSenders(int n, int (*body)(ipc::Channel&, int)) {
    Signal connected, go;
    std::vector<pid_t> pids;
    for (int s = 0; s < n; ++s) {
      pids.push_back(ForkChild([&, s] {
        auto ch = ipc::Connect(url_, 5s);
        if (!ch.ok()) return 90;
        connected.Notify();
        return go.Wait() ? body(*ch, s) : 91;
      }));
    }
    for (int s = 0; s < n; ++s) EXPECT_TRUE(connected.Wait());
    for (int s = 0; s < n; ++s) go.Notify();
    return pids;
  }

  std::string name_ = "/" + UniqueName("mqtest");  // The queue: "/mqtest-..."
  std::string url_ = "mq://" + name_;
};

TEST_F(MqTest, RoundTripIsOneWayAcrossProcesses) {
  const auto caps = ipc::TransportCapabilities("mq").value();
  EXPECT_TRUE(caps.reliable);
  EXPECT_FALSE(caps.duplex);
  EXPECT_TRUE(caps.detects_peer_close);
  EXPECT_EQ(caps.max_message_limit, UINT32_MAX);
  EXPECT_EQ(caps.default_max_message, size_t{64} << 20);

  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const pid_t child = ForkChild([&] {
    auto ch = ipc::Connect(url_, 5s);
    if (!ch.ok()) return 1;
    if (ch->Receive(1ms).status().code() != ErrorCode::kUnsupported) return 2;
    return ch->Send("ping").ok() ? 0 : 3;
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->Receive(5s).value_or(""), "ping");
  EXPECT_EQ(ch->Send("pong").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(WaitChild(child), 0);
  EXPECT_EQ(ch->Receive(5s).status().code(), ErrorCode::kClosed);
}

TEST_F(MqTest, TenThousandMessagesKeepTheirOrder) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  constexpr int kCount = 10000;
  const pid_t child = ForkChild([&] {
    auto ch = ipc::Connect(url_, 5s);
    if (!ch.ok()) return 1;
    for (int i = 0; i < kCount; ++i) {
      if (!ch->Send(std::to_string(i), 10s).ok()) return 2;
    }
    return 0;
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  std::string m;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(ch->Receive(&m, 10s).ok()) << i;
    ASSERT_EQ(m, std::to_string(i));
  }
  EXPECT_EQ(ch->Receive(5s).status().code(), ErrorCode::kClosed);
  EXPECT_EQ(WaitChild(child), 0);
}

TEST_F(MqTest, SizesAroundPieceBoundariesUpTo16MiB) {
  // msgsize=8192: each piece carries 8192 - 16 bytes of message.
  auto listener = ipc::Listen(url_ + "?msgsize=8192");
  ASSERT_TRUE(listener.ok()) << listener.status();
  constexpr size_t kRoom = 8192 - kHeader;
  const std::vector<size_t> sizes = {0,         1,         kRoom - 1,     kRoom,
                                     kRoom + 1, 8191,      8192,          8193,
                                     2 * kRoom, 2 * kRoom + 1, 64 << 10, 1 << 20,
                                     16 << 20};
  const pid_t child = ForkChild([&] {
    auto ch = ipc::Connect(url_, 5s);
    if (!ch.ok()) return 1;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (!ch->Send(Pattern(sizes[i], i), 30s).ok()) return 2;
    }
    return 0;
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  std::string m;
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(ch->Receive(&m, 30s).ok()) << "size " << sizes[i];
    ASSERT_EQ(m.size(), sizes[i]);
    ASSERT_TRUE(m == Pattern(sizes[i], i)) << "size " << sizes[i];
  }
  EXPECT_EQ(WaitChild(child), 0);
}

TEST_F(MqTest, TwoSendersNeverInterleaveTheirPieces) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  constexpr int kPerSender = 200;
  const std::vector<pid_t> senders = ForkSenders(2, [](ipc::Channel& ch, int s) {
    for (int i = 0; i < kPerSender; ++i) {
      if (!ch.Send(Message(s, i)).ok()) return 2;
    }
    return 0;
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  int next[2] = {0, 0};
  for (int n = 0; n < 2 * kPerSender; ++n) {
    auto m = ch->Receive(10s);
    ASSERT_TRUE(m.ok()) << m.status();
    auto [s, i] = Check(*m);
    ASSERT_GE(s, 0) << "torn or mixed message";
    ASSERT_EQ(i, next[s]++) << "sender " << s << " out of order";
  }
  for (pid_t pid : senders) EXPECT_EQ(WaitChild(pid), 0);
  EXPECT_EQ(ch->Receive(5s).status().code(), ErrorCode::kClosed);
}

TEST_F(MqTest, ASenderKilledMidMessageNeverTearsOne) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  // Sender 0 sends 300 messages; sender 1, the victim, sends 256 KiB
  // messages, 33 pieces each, more than the queue holds (10): once we have
  // taken one of them whole, the next is still being written, so the kill
  // lands in the middle of a message.
  const std::vector<pid_t> senders = ForkSenders(2, [](ipc::Channel& ch, int s) {
    for (int i = 0; s == 1 || i < 300; ++i) {
      if (!ch.Send(Message(s, i, s == 1 ? 256 << 10 : 0)).ok()) return 2;
    }
    return 0;
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  int next[2] = {0, 0};
  for (;;) {
    auto m = ch->Receive(10s);
    if (m.status().code() == ErrorCode::kClosed) break;
    ASSERT_TRUE(m.ok()) << m.status();
    auto [s, i] = Check(*m);
    ASSERT_GE(s, 0) << "torn message delivered";
    ASSERT_EQ(i, next[s]++);
    if (s == 1 && i == 2) {
      ASSERT_EQ(::kill(senders[1], SIGKILL), 0);
    }
  }
  EXPECT_EQ(next[0], 300) << "the other sender's messages all arrive";
  EXPECT_EQ(next[1], 3) << "nothing of the victim after the kill";
  EXPECT_EQ(WaitChild(senders[1]), 128 + SIGKILL);
  EXPECT_EQ(WaitChild(senders[0]), 0);
}

// A sender that closes or exits right after its last Send: the receiver
// may see its heartbeat end while the last pieces are still queued, and
// must deliver them before it reports kClosed. A receiver spinning on
// TryReceive checks for departed senders as often as it can. Odd rounds: a
// thread that closes its channel (which says goodbye); even rounds: a
// process that _exits without a word.
TEST_F(MqTest, ASenderLeavingRightAfterSendingLosesNothing) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ipc::Channel receiver;
  for (int round = 0; round < 100; ++round) {
    const std::string message = Message(0, round, round % 4 < 2 ? 10 : 20000);
    Signal connected, go;
    auto send = [&] {
      auto ch = ipc::Connect(url_, 5s);
      if (!ch.ok()) return 1;
      connected.Notify();
      if (!go.Wait()) return 2;
      if (!ch->Send(message).ok()) return 3;
      if (round % 2) ch->Close();
      return 0;
    };
    std::thread thread;
    pid_t child = -1;
    if (round % 2) {
      thread = std::thread([&] { EXPECT_EQ(send(), 0); });
    } else {
      child = ForkChild([&]() -> int { ::_exit(send()); });
    }
    ASSERT_TRUE(connected.Wait());
    if (!receiver.is_open()) {
      receiver = std::move(listener->Accept(5s).value());
    } else {
      // Meets the new sender (the previous one has gone).
      ASSERT_EQ(receiver.TryReceive().status().code(), ErrorCode::kWouldBlock);
    }
    go.Notify();
    std::string m;
    ipc::Status s;
    do {
      s = receiver.Receive(&m, ipc::Deadline::Now());
    } while (s.code() == ErrorCode::kWouldBlock);
    if (thread.joinable()) thread.join();
    if (child > 0) {
      EXPECT_EQ(WaitChild(child), 0);
    }
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s;
    ASSERT_TRUE(m == message) << "round " << round;
    ASSERT_EQ(receiver.Receive(5s).status().code(), ErrorCode::kClosed);
  }
}

// The same, made certain: the receiver is busy with a newcomer that has
// connected but not yet said hello (a raw socket at the listener's address,
// "@libipc.mq/NAME" as mq.h documents) while the sender sends and exits.
TEST_F(MqTest, ASenderLeavingWhileANewcomerHesitatesLosesNothing) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  Signal connected, go;
  const pid_t child = ForkChild([&] {
    auto ch = ipc::Connect(url_, 5s);
    if (!ch.ok()) return 1;
    connected.Notify();
    if (!go.Wait()) return 2;
    ::_exit(ch->Send(Message(0, 0)).ok() ? 0 : 3);  // No goodbye.
  });
  ASSERT_TRUE(connected.Wait());
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();

  const int newcomer = ConnectRaw(name_);
  ASSERT_GE(newcomer, 0);
  std::atomic<pid_t> tid{0};
  ipc::Result<std::string> got = ipc::Status(ErrorCode::kInternal, "not received");
  std::thread receive([&] {
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    got = ch->Receive(10s);
  });
  WaitUntilSleeping(tid);
  go.Notify();
  EXPECT_EQ(WaitChild(child), 0);
  const uint64_t hello = 0x5eed;
  EXPECT_EQ(::send(newcomer, &hello, sizeof(hello), MSG_NOSIGNAL), 8);
  ::close(newcomer);
  receive.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == Message(0, 0));
  EXPECT_EQ(ch->Receive(5s).status().code(), ErrorCode::kClosed);
}

// Worse: the sender's message has begun (its first piece taken) when the
// receiver, busy with the newcomer, misses the rest arriving and the sender
// leaving. The rest is still queued: the message must arrive whole.
TEST_F(MqTest, ASenderLeavingMidMessageWhileANewcomerHesitatesLosesNothing) {
  // Four slots of 1008-byte pieces: three small messages and the first
  // piece of M fill it; a TrySend of M keeps its last two pieces pending.
  auto listener = ipc::Listen(url_ + "?maxmsg=4&msgsize=1024");
  ASSERT_TRUE(listener.ok()) << listener.status();
  const std::string m = Message(0, 0, 3 * (1024 - kHeader));
  Signal begun, go;
  const pid_t child = ForkChild([&] {
    auto ch = ipc::Connect(url_, 5s);
    if (!ch.ok()) return 1;
    for (const char* small : {"a", "b", "c"}) {
      if (!ch->TrySend(small).ok()) return 2;
    }
    if (!ch->TrySend(m).ok()) return 3;  // One piece in, two pending.
    begun.Notify();
    if (!go.Wait()) return 4;
    ::_exit(ch->Send("after", 5s).ok() ? 0 : 5);  // Flushes M; no goodbye.
  });
  ASSERT_TRUE(begun.Wait());
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  for (const char* small : {"a", "b", "c"}) EXPECT_EQ(ch->Receive(5s).value_or(""), small);

  const int newcomer = ConnectRaw(name_);
  ASSERT_GE(newcomer, 0);
  std::atomic<pid_t> tid{0};
  ipc::Result<std::string> got = ipc::Status(ErrorCode::kInternal, "not received");
  std::thread receive([&] {
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    got = ch->Receive(10s);  // Takes M's first piece, then waits.
  });
  WaitUntilSleeping(tid);
  go.Notify();
  EXPECT_EQ(WaitChild(child), 0);
  const uint64_t hello = 0x5eed;
  EXPECT_EQ(::send(newcomer, &hello, sizeof(hello), MSG_NOSIGNAL), 8);
  ::close(newcomer);
  receive.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == m) << "got " << got->substr(0, 10) << " (" << got->size() << " bytes)";
  EXPECT_EQ(ch->Receive(5s).value_or(""), "after");
  EXPECT_EQ(ch->Receive(5s).status().code(), ErrorCode::kClosed);
}

// A process that connects to the listener's socket and says nothing must
// not make a non-blocking Receive (or Accept) wait.
TEST_F(MqTest, ASilentNewcomerNeverMakesTryReceiveWait) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int silent = ConnectRaw(name_);
  ASSERT_GE(silent, 0);
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  const auto start = Clock::now();
  auto ch = listener->TryAccept();
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->TryReceive().status().code(), ErrorCode::kWouldBlock);
  ASSERT_TRUE(sender->Send("hi").ok());
  EXPECT_EQ(ch->TryReceive().value_or(""), "hi");
  EXPECT_LT(Clock::now() - start, 1s);
  ::close(silent);
}

// A clean Close makes fd() readable, so a receiver that waits only on fd()
// learns that its last sender has gone.
TEST_F(MqTest, FdWakesWhenTheLastSenderCloses) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  ASSERT_TRUE(sender->Send("bye soon").ok());
  EXPECT_TRUE(Readable(ch->fd(), 5000));
  EXPECT_EQ(ch->TryReceive().value_or(""), "bye soon");
  EXPECT_FALSE(Readable(ch->fd(), 0));
  sender->Close();
  ASSERT_TRUE(Readable(ch->fd(), 5000));
  EXPECT_EQ(ch->TryReceive().status().code(), ErrorCode::kClosed);
}

// Two processes writing pieces under one sender id would mix them: an
// inherited sending end refuses in the child and keeps working in the parent.
TEST_F(MqTest, AnInheritedSenderRefusesInTheChild) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  const pid_t child = ForkChild([&] {
    if (sender->Send("from the child").code() != ErrorCode::kUnsupported) return 1;
    if (ch->TryReceive().status().code() != ErrorCode::kUnsupported) return 2;
    sender->Close();  // Says no goodbye for the parent.
    return 0;
  });
  EXPECT_EQ(WaitChild(child), 0);
  ASSERT_TRUE(sender->Send("from the parent").ok());
  EXPECT_EQ(ch->Receive(5s).value_or(""), "from the parent");
  EXPECT_EQ(ch->TryReceive().status().code(), ErrorCode::kWouldBlock);
}

TEST_F(MqTest, ASenderBlockedOnAFullQueueLearnsThatTheListenerDied) {
  Signal listening;
  const pid_t listener_pid = ForkChild([&] {
    auto listener = ipc::Listen(url_);
    if (!listener.ok()) return 1;
    listening.Notify();
    ::pause();  // Never receives; killed below.
    return 0;
  });
  ASSERT_TRUE(listening.Wait());
  auto ch = ipc::Connect(url_, 5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  ipc::Status full;
  while (full.ok()) full = ch->TrySend("fill");
  ASSERT_EQ(full.code(), ErrorCode::kWouldBlock) << full;
  // Block in Send, and kill the listener once this thread sleeps there.
  std::atomic<pid_t> tid{0};
  ipc::Status s;
  Clock::duration took{};
  std::thread sender([&] {
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    const auto start = Clock::now();
    s = ch->Send(Message(0, 0), 20s);
    took = Clock::now() - start;
  });
  WaitUntilSleeping(tid);
  ASSERT_EQ(::kill(listener_pid, SIGKILL), 0);
  sender.join();
  EXPECT_EQ(s.code(), ErrorCode::kClosed) << s;
  EXPECT_LT(took, 5s);
  EXPECT_EQ(WaitChild(listener_pid), 128 + SIGKILL);
  EXPECT_EQ(ch->Send("more").code(), ErrorCode::kClosed);
}

TEST_F(MqTest, AQueueLeftByAKilledListenerIsReplaced) {
  Signal listening;
  const pid_t old = ForkChild([&] {
    auto listener = ipc::Listen(url_);
    if (!listener.ok()) return 1;
    listening.Notify();
    ::pause();
    return 0;
  });
  ASSERT_TRUE(listening.Wait());
  auto stale_sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(stale_sender.ok()) << stale_sender.status();
  ASSERT_TRUE(stale_sender->Send("stale").ok());
  ASSERT_EQ(::kill(old, SIGKILL), 0);
  EXPECT_EQ(WaitChild(old), 128 + SIGKILL);
  const mqd_t left = ::mq_open(name_.c_str(), O_RDONLY);
  ASSERT_NE(left, static_cast<mqd_t>(-1)) << "the killed listener's queue is still there";
  ::mq_close(left);

  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_EQ(ipc::Listen(url_).status().code(), ErrorCode::kAddressInUse);
  EXPECT_EQ(stale_sender->Send("lost").code(), ErrorCode::kClosed);
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  ASSERT_TRUE(sender->Send("fresh").ok());
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->Receive(5s).value_or(""), "fresh") << "the stale message went with its queue";
  ch->Close();
  EXPECT_EQ(::mq_open(name_.c_str(), O_RDONLY), static_cast<mqd_t>(-1))
      << "removed with its receiver";
  EXPECT_EQ(errno, ENOENT);
}

// fd() is the queue descriptor, so fstat sees the queue itself whether or
// not /dev/mqueue is mounted.
TEST_F(MqTest, QueueIsOwnerOnlyUnlessAModeIsGivenAndGoesWithItsListener) {
  struct stat st {};
  {
    auto listener = ipc::Listen(url_);
    ASSERT_TRUE(listener.ok()) << listener.status();
    auto sender = ipc::Connect(url_, 5s);
    ASSERT_TRUE(sender.ok()) << sender.status();
    ASSERT_EQ(::fstat(sender->fd(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    if (::stat(("/dev/mqueue" + name_).c_str(), &st) == 0) {
      EXPECT_EQ(st.st_mode & 0777, 0600u);
    }
    if (::geteuid() == 0) {
      const pid_t other = ForkChild([&] {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 3;
        auto ch = ipc::Connect(url_, 1s);
        return ch.status().code() == ErrorCode::kPermissionDenied ? 0 : 1;
      });
      EXPECT_EQ(WaitChild(other), 0) << "another user is refused";
    }
  }
  EXPECT_EQ(::mq_open(name_.c_str(), O_RDONLY), static_cast<mqd_t>(-1))
      << "a closed listener removes its queue";
  EXPECT_EQ(errno, ENOENT);
  auto listener = ipc::Listen(url_ + "?mode=0640");
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  ASSERT_EQ(::fstat(sender->fd(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(MqTest, BadNamesAreRefusedNamingTheUrl) {
  for (const std::string bad : {"mq:///a/b", "mq://relative", "mq:///", "mq:///.",
                                "mq:///..", "mq://@abstract"}) {
    auto l = ipc::Listen(bad);
    EXPECT_EQ(l.status().code(), ErrorCode::kInvalidArgument) << bad << ": " << l.status();
    EXPECT_NE(l.status().message().find(bad), std::string::npos) << l.status();
    EXPECT_EQ(ipc::Connect(bad, 10ms).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  // NAME_MAX (255) is the longest name, however long the listener's socket
  // address would be.
  const std::string longest = "mq:///" + UniqueName("q") + std::string(255, 'n');
  const std::string too_long = longest.substr(0, 6 + 256);
  EXPECT_EQ(ipc::Listen(too_long).status().code(), ErrorCode::kInvalidArgument);
  for (size_t length : {100, 200, 255}) {
    const std::string url = longest.substr(0, 6 + length);
    auto listener = ipc::Listen(url);
    ASSERT_TRUE(listener.ok()) << length << ": " << listener.status();
    // The socket address is derived from the whole name: names that share
    // a long prefix are distinct listeners.
    auto sibling = ipc::Listen(url.substr(0, url.size() - 1) + "X");
    ASSERT_TRUE(sibling.ok()) << length << ": " << sibling.status();
    auto sender = ipc::Connect(url, 5s);
    ASSERT_TRUE(sender.ok()) << sender.status();
    ASSERT_TRUE(sender->Send("long").ok());
    auto ch = listener->Accept(5s);
    ASSERT_TRUE(ch.ok()) << ch.status();
    EXPECT_EQ(ch->Receive(5s).value_or(""), "long");
  }
}

TEST_F(MqTest, SystemLimitsAreExplained) {
  // Beyond what even CAP_SYS_RESOURCE may ask for (65536 messages, 16 MiB).
  for (const std::string option : {"?maxmsg=100000", "?msgsize=33554432"}) {
    auto l = ipc::Listen(url_ + option);
    EXPECT_EQ(l.status().code(), ErrorCode::kResourceExhausted) << l.status();
    EXPECT_NE(l.status().message().find("/proc/sys/fs/mqueue/msg"), std::string::npos)
        << l.status();
  }
  EXPECT_EQ(ipc::Listen(url_ + "?msgsize=8").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Listen(url_ + "?maxmsg=ten").status().code(), ErrorCode::kInvalidArgument);

  // Without privileges: msg_max is the limit, and exactly msg_max is fine.
  const long msg_max = Limit("msg_max");
  const pid_t unprivileged = ForkChild([&] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 3;
    auto over = ipc::Listen(url_ + "?maxmsg=" + std::to_string(msg_max + 1));
    if (over.status().code() != ErrorCode::kResourceExhausted) return 1;
    if (over.status().message().find("/proc/sys/fs/mqueue/msg_max") == std::string::npos) {
      return 2;
    }
    return ipc::Listen(url_ + "?maxmsg=" + std::to_string(msg_max)).ok() ? 0 : 4;
  });
  EXPECT_EQ(WaitChild(unprivileged), 0);

  // RLIMIT_MSGQUEUE counts every byte a user's queues may hold.
  const pid_t limited = ForkChild([&] {
    const rlimit tiny{1, 1};
    if (::setrlimit(RLIMIT_MSGQUEUE, &tiny) != 0) return 3;
    auto l = ipc::Listen(url_);
    if (l.status().code() != ErrorCode::kResourceExhausted) return 1;
    return l.status().message().find("RLIMIT_MSGQUEUE") != std::string::npos ? 0 : 2;
  });
  EXPECT_EQ(WaitChild(limited), 0);
}

TEST_F(MqTest, AMessageLargerThanTheWholeQueueStillArrives) {
  auto listener = ipc::Listen(url_ + "?maxmsg=4&msgsize=1024");
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  const std::string big = Pattern(100000, 1);
  std::thread send([&] { EXPECT_TRUE(sender->Send(big, 10s).ok()); });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_TRUE(ch->Receive(10s).value_or("") == big);
  send.join();
}

TEST_F(MqTest, TimedSendsOnAFullQueue) {
  auto listener = ipc::Listen(url_ + "?maxmsg=4&msgsize=1024");
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->TryReceive().status().code(), ErrorCode::kWouldBlock);
  EXPECT_EQ(ch->Receive(20ms).status().code(), ErrorCode::kDeadlineExceeded);

  ASSERT_TRUE(sender->TrySend("a").ok());
  ASSERT_TRUE(sender->TrySend("b").ok());
  // Two free slots, four pieces: a started message finishes later (the
  // pending-tail rule of docs/channels.md), so the Send reports OK...
  const std::string four = Pattern(4 * (1024 - kHeader), 2);
  ASSERT_TRUE(sender->TrySend(four).ok());
  // ...and what follows waits for the tail.
  EXPECT_EQ(sender->TrySend("c").code(), ErrorCode::kWouldBlock);
  const auto start = Clock::now();
  EXPECT_EQ(sender->Send("c", 30ms).code(), ErrorCode::kDeadlineExceeded);
  EXPECT_GE(Clock::now() - start, 30ms);

  std::thread drain([&] {
    EXPECT_EQ(ch->Receive(5s).value_or(""), "a");
    EXPECT_EQ(ch->Receive(5s).value_or(""), "b");
    EXPECT_TRUE(ch->Receive(5s).value_or("") == four);
    EXPECT_EQ(ch->Receive(5s).value_or(""), "c");
  });
  EXPECT_TRUE(sender->Send("c", 5s).ok());
  drain.join();
}

TEST_F(MqTest, FdIsReadableWhileAMessageWaits) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_FALSE(Readable(ch->fd(), 0));
  ASSERT_TRUE(sender->Send("one").ok());
  ASSERT_TRUE(sender->Send(Message(0, 1)).ok());  // Three pieces.
  EXPECT_TRUE(Readable(ch->fd(), 0));
  EXPECT_TRUE(Readable(ch->fd(), 0)) << "level-triggered";
  EXPECT_EQ(ch->TryReceive().value_or(""), "one");
  EXPECT_TRUE(Readable(ch->fd(), 0));
  EXPECT_TRUE(ch->TryReceive().value_or("") == Message(0, 1));
  EXPECT_FALSE(Readable(ch->fd(), 0));
}

TEST_F(MqTest, ConnectWaitsForTheListenerAndTimesOutNamingTheUrl) {
  const auto start = Clock::now();
  auto none = ipc::Connect(url_, 50ms);
  EXPECT_EQ(none.status().code(), ErrorCode::kDeadlineExceeded) << none.status();
  EXPECT_NE(none.status().message().find(url_), std::string::npos) << none.status();
  EXPECT_GE(Clock::now() - start, 50ms);

  Signal connecting;
  const pid_t child = ForkChild([&] {
    connecting.Notify();
    auto ch = ipc::Connect(url_, 10s);
    return ch.ok() && ch->Send("early").ok() ? 0 : 1;
  });
  ASSERT_TRUE(connecting.Wait());
  // Listen only once the child sleeps between attempts to connect.
  while (TaskState("/proc/" + std::to_string(child) + "/stat") != 'S') {
    std::this_thread::yield();
  }
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto ch = listener->Accept(10s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->Receive(5s).value_or(""), "early");
  EXPECT_EQ(WaitChild(child), 0);
}

}  // namespace
