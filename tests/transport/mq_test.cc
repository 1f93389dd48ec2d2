// mq:// beyond the conformance suite: several senders, pieces of large
// messages under SIGKILL, limits, stale queues, permissions.
#include <gtest/gtest.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <map>
#include <random>
#include <string>
#include <thread>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

// Sender s's message i: "s:i:" then a pattern, sized to need several pieces.
std::string Message(int sender, int i) {
  std::string head = std::to_string(sender) + ":" + std::to_string(i) + ":";
  std::string m = head + std::string(20000 + (i % 7) * 3000, '\0');
  for (size_t k = head.size(); k < m.size(); ++k) m[k] = static_cast<char>(sender * 7 + i + k);
  return m;
}

// Parses "s:i:" and checks the rest; returns {s, i} or {-1, -1}.
std::pair<int, int> Check(const std::string& m) {
  const size_t a = m.find(':'), b = m.find(':', a + 1);
  if (a == std::string::npos || b == std::string::npos) return {-1, -1};
  const int s = std::stoi(m.substr(0, a)), i = std::stoi(m.substr(a + 1, b - a - 1));
  return m == Message(s, i) ? std::make_pair(s, i) : std::make_pair(-1, -1);
}

class MqTest : public ::testing::Test {
 protected:
  std::string url_ = "mq:///" + UniqueName("mqtest");
};

TEST_F(MqTest, TwoSendersNeverInterleaveTheirPieces) {
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  constexpr int kPerSender = 200;
  pid_t senders[2];
  for (int s = 0; s < 2; ++s) {
    senders[s] = ForkChild([&, s] {
      auto ch = ipc::Connect(url_, 5s);
      if (!ch.ok()) return 1;
      for (int i = 0; i < kPerSender; ++i) {
        if (!ch->Send(Message(s, i)).ok()) return 2;
      }
      return 0;
    });
  }
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
  std::mt19937 rng(std::random_device{}());
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok());
  // A steady sender, and a victim killed at a random moment of its stream
  // of multi-piece messages.
  const pid_t steady = ForkChild([&] {
    auto ch = ipc::Connect(url_, 5s);
    if (!ch.ok()) return 1;
    for (int i = 0; i < 300; ++i) {
      if (!ch->Send(Message(0, i)).ok()) return 2;
    }
    return 0;
  });
  const pid_t victim = ForkChild([&]() -> int {
    auto ch = ipc::Connect(url_, 5s);
    if (!ch.ok()) return 1;
    for (int i = 0;; ++i) (void)ch->Send(Message(1, i));
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok());
  const auto delay = std::chrono::microseconds(rng() % 20000);
  const pid_t killer = ForkChild([&] {
    std::this_thread::sleep_for(delay);
    return ::kill(victim, SIGKILL) == 0 ? 0 : 1;
  });
  int steady_next = 0, victim_next = 0;
  for (;;) {
    auto m = ch->Receive(10s);
    if (m.status().code() == ErrorCode::kClosed) break;
    ASSERT_TRUE(m.ok()) << m.status();
    auto [s, i] = Check(*m);
    ASSERT_GE(s, 0) << "torn message delivered";
    ASSERT_EQ(i, s == 0 ? steady_next++ : victim_next++);
  }
  EXPECT_EQ(steady_next, 300) << "the steady sender's messages all arrive";
  EXPECT_EQ(WaitChild(killer), 0);
  EXPECT_EQ(WaitChild(victim), 128 + SIGKILL);
  EXPECT_EQ(WaitChild(steady), 0);
}

TEST_F(MqTest, ASenderBlockedOnAFullQueueLearnsThatTheListenerDied) {
  const pid_t listener_pid = ForkChild([&] {
    auto listener = ipc::Listen(url_);
    if (!listener.ok()) return 1;
    ::pause();  // Never receives; killed below.
    return 0;
  });
  auto ch = ipc::Connect(url_, 5s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  // Fill the queue (10 pieces by default), then kill the listener from
  // another process while we are blocked.
  const pid_t killer = ForkChild([&] {
    std::this_thread::sleep_for(50ms);
    return ::kill(listener_pid, SIGKILL) == 0 ? 0 : 1;
  });
  ipc::Status s;
  for (int i = 0; s.ok() && i < 1000; ++i) s = ch->Send(std::string(4000, 'f'), 20s);
  EXPECT_EQ(s.code(), ErrorCode::kClosed) << s;
  EXPECT_EQ(WaitChild(killer), 0);
  EXPECT_EQ(WaitChild(listener_pid), 128 + SIGKILL);
  // A killed listener cannot remove its queue, and the system keeps it
  // (charged to our RLIMIT_MSGQUEUE) until someone does.
  ::mq_unlink(url_.substr(5).c_str());
}

TEST_F(MqTest, QueueOfADeadListenerIsReplacedAndModeIsOwnerOnly) {
  const std::string name = url_.substr(5);  // "/mqtest-..."
  // A dead listener's queue, with a stray message in it.
  const mqd_t stale = ::mq_open(name.c_str(), O_CREAT | O_WRONLY, 0644, nullptr);
  ASSERT_NE(stale, static_cast<mqd_t>(-1));
  ASSERT_EQ(::mq_send(stale, "junk", 4, 0), 0);
  ::mq_close(stale);
  auto listener = ipc::Listen(url_);
  ASSERT_TRUE(listener.ok()) << listener.status();
  if (::geteuid() == 0) {
    // Owner-only: another user cannot open it (/dev/mqueue may not be
    // mounted, so ask the system rather than the file).
    const pid_t other = ForkChild([&] {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 3;
      const mqd_t q = ::mq_open(name.c_str(), O_WRONLY);
      return q == static_cast<mqd_t>(-1) && errno == EACCES ? 0 : 1;
    });
    EXPECT_EQ(WaitChild(other), 0);
  }
  EXPECT_EQ(ipc::Listen(url_).status().code(), ErrorCode::kAddressInUse);
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok());
  ASSERT_TRUE(sender->Send("fresh").ok());
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok());
  EXPECT_EQ(ch->Receive(5s).value_or(""), "fresh") << "the stale message is gone";
  ch->Close();
  EXPECT_EQ(::mq_open(name.c_str(), O_WRONLY), static_cast<mqd_t>(-1))
      << "removed with its receiver";
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(MqTest, LimitsAndNamesAreExplained) {
  auto huge = ipc::Listen(url_ + "?maxmsg=100000");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(huge.status().message().find("/proc/sys/fs/mqueue/msg_max"), std::string::npos)
      << huge.status();
  EXPECT_EQ(ipc::Listen(url_ + "?msgsize=8").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Listen("mq:///a/b").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Listen("mq://relative").status().code(), ErrorCode::kInvalidArgument);
  auto small = ipc::Listen(url_ + "?maxmsg=4&msgsize=1024");
  ASSERT_TRUE(small.ok()) << small.status();
  auto sender = ipc::Connect(url_, 5s);
  ASSERT_TRUE(sender.ok());
  // Larger than the whole queue: still delivered, in pieces, while the
  // receiver drains.
  const std::string big(100000, 'q');
  std::thread send([&] { EXPECT_TRUE(sender->Send(big, 10s).ok()); });
  auto ch = small->Accept(5s);
  ASSERT_TRUE(ch.ok());
  EXPECT_TRUE(ch->Receive(10s).value_or("") == big);
  send.join();
}

}  // namespace
