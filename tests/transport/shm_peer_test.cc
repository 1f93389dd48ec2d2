// shm:// against unlucky and untrusted peers: lost wake-ups under long
// streams, a forked child that holds its parent's end, another user that
// took the rendezvous name first.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

// A stream of small messages, so both ends go to sleep and wake each other
// many thousands of times (the reader on an empty ring, the writer on a full
// one when the ring is small). A lost wake-up shows as a Receive that
// reaches its deadline with the writer still alive, or a writer that never
// finishes.
// Each end is pinned to its own CPU when there are two: the lost wake-up
// this guards against showed almost only so (about one run in three of 2
// million messages), since both ends must sleep and wake in parallel.
bool PinTo(int cpu) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof(set), &set) == 0;
}

void StreamOnce(const std::string& options, uint64_t count) {
  const std::string url = "shm://" + UniqueName("stream") + options;
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok()) << listener.status();
  cpu_set_t saved;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(saved), &saved), 0);
  const pid_t writer = ForkChild([&] {
    PinTo(1);
    auto ch = ipc::Connect(url, 5s);
    if (!ch.ok()) return 1;
    std::string m(64, 'x');
    for (uint64_t i = 0; i < count; ++i) {
      std::memcpy(m.data(), &i, sizeof(i));
      if (!ch->Send(m, 20s).ok()) return 2;
    }
    // Wait for the reader's word that all arrived, so the end stays open.
    auto done = ch->Receive(20s);
    return done.ok() ? 0 : 3;
  });
  PinTo(0);
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  std::string m;
  struct Restore {
    cpu_set_t* set;
    ~Restore() { ::sched_setaffinity(0, sizeof(*set), set); }
  } restore{&saved};
  for (uint64_t i = 0; i < count; ++i) {
    ipc::Status s = ch->Receive(&m, 10s);
    ASSERT_TRUE(s.ok()) << "message " << i << " of " << count << ": " << s;
    uint64_t seq;
    std::memcpy(&seq, m.data(), sizeof(seq));
    ASSERT_EQ(seq, i);
  }
  ASSERT_TRUE(ch->Send("done").ok());
  EXPECT_EQ(WaitChild(writer), 0);
}

// Under sanitizers every message costs several times as much: fewer of them.
// Fewer again under TSan, where ASan's counts take 40 to 55 s a case, near
// the watchdog; a wake-up lost between two processes is nothing TSan can
// see anyway, and the ASan stage streams its longer runs.
#if defined(__SANITIZE_THREAD__)
constexpr uint64_t kLong = 50000;
constexpr uint64_t kShort = 10000;
#elif defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kLong = 200000;
constexpr uint64_t kShort = 20000;
#else
constexpr uint64_t kLong = 2000000;
constexpr uint64_t kShort = 50000;
#endif

TEST(ShmWakeupTest, LongStreamsWithoutSpinningNeverLoseAWakeup) {
  for (int run = 0; run < 6; ++run) {
    StreamOnce("?spin_us=0", kLong);  // The reader sleeps often.
    if (HasFatalFailure()) return;
    StreamOnce("?spin_us=0&capacity=4K", kShort);  // So does the writer.
    if (HasFatalFailure()) return;
  }
}

TEST(ShmWakeupTest, LongStreamsWithSpinningNeverLoseAWakeup) {
  for (int run = 0; run < 4; ++run) {
    StreamOnce("", kLong);
    if (HasFatalFailure()) return;
    StreamOnce("?spin_us=1&capacity=4K", kShort);
    if (HasFatalFailure()) return;
  }
}

// A child forked after Connect inherits the end's descriptors. When the
// parent is killed, the listener must still hear of it at once, although
// the child lives on.
TEST(ShmPeerTest, ForkedChildDoesNotHideItsParentsDeath) {
  const std::string url = "shm://" + UniqueName("forkhb");
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok());
  int grandchild_pid[2];
  ASSERT_EQ(::pipe(grandchild_pid), 0);
  const pid_t parent = ForkChild([&] {
    auto ch = ipc::Connect(url, 5s);
    if (!ch.ok()) return 1;
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      for (;;) ::pause();  // Holds every inherited descriptor until killed.
    }
    (void)!::write(grandchild_pid[1], &grandchild, sizeof(grandchild));
    if (!ch->Send("hello").ok()) return 2;
    ::kill(::getpid(), SIGKILL);
    return 3;
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  pid_t grandchild = 0;
  ASSERT_EQ(::read(grandchild_pid[0], &grandchild, sizeof(grandchild)),
            static_cast<ssize_t>(sizeof(grandchild)));
  EXPECT_EQ(ch->Receive(5s).value_or(""), "hello");
  EXPECT_EQ(WaitChild(parent), 128 + SIGKILL);
  auto after = ch->Receive(10s);
  EXPECT_EQ(after.status().code(), ErrorCode::kClosed) << after.status();
  ::kill(grandchild, SIGKILL);
  ::close(grandchild_pid[0]);
  ::close(grandchild_pid[1]);
}

// Abstract socket names have no permissions: another user can bind the
// rendezvous name first. A connector must refuse such a listener before it
// sends a byte.
TEST(ShmPeerTest, ConnectorRefusesAListenerOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  const std::string url = "shm://" + UniqueName("squat");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t squatter = ForkChild([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
    auto listener = ipc::Listen(url);
    if (!listener.ok()) return 11;
    char byte = 1;
    (void)!::write(ready[1], &byte, 1);
    auto ch = listener->Accept(5s);
    if (!ch.ok()) return 0;  // Nobody came through: good.
    auto m = ch->Receive(2s);
    return m.ok() ? 12 : 13;  // 12: it received the victim's message.
  });
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  auto ch = ipc::Connect(url, 5s);
  ASSERT_FALSE(ch.ok()) << "connected to another user's listener";
  EXPECT_EQ(ch.status().code(), ErrorCode::kPermissionDenied) << ch.status();
  EXPECT_NE(ch.status().message().find("65534"), std::string::npos) << ch.status();
  EXPECT_EQ(WaitChild(squatter), 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

}  // namespace
