// shm:// beyond the conformance suite: crash safety under SIGKILL at random
// points, large messages through small rings, the fork guard, permissions
// and options.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

std::string ShmUrl(const std::string& options = "") {
  return "shm://" + UniqueName("shmtest") + options;
}

// Message i: an 8-byte sequence number followed by a size that varies with i
// (some larger than the ring, so they travel as several fragments) filled
// with a byte pattern derived from i. Check() verifies all of it.
std::string MakeMessage(uint64_t i, size_t ring_capacity) {
  static const size_t kSizes[] = {0, 1, 63, 500, 4000};
  size_t size = kSizes[i % 5];
  if (i % 7 == 3) size = ring_capacity * 2 + 13;  // Multi-fragment.
  std::string m(8 + size, '\0');
  std::memcpy(m.data(), &i, 8);
  for (size_t k = 0; k < size; ++k) m[8 + k] = static_cast<char>((i * 31 + k) & 0xff);
  return m;
}

bool Check(const std::string& m, uint64_t expected, size_t ring_capacity) {
  return m == MakeMessage(expected, ring_capacity);
}

uint64_t Seed() {
  const uint64_t seed = std::random_device{}();
  std::cerr << "random seed: " << seed << "\n";
  return seed;
}

TEST(ShmCrashTest, WriterKilledAtRandomPointNeverTearsAMessage) {
  constexpr size_t kCapacity = 4096;
  std::mt19937_64 rng(Seed());
  uint64_t total = 0;
  for (int iteration = 0; iteration < 40; ++iteration) {
    const std::string url = ShmUrl("?capacity=4K");
    auto listener = ipc::Listen(url);
    ASSERT_TRUE(listener.ok()) << listener.status();
    const pid_t writer = ForkChild([&] {
      auto ch = ipc::Connect(url, 5s);
      if (!ch.ok()) return 1;
      for (uint64_t i = 0;; ++i) {
        if (!ch->Send(MakeMessage(i, kCapacity)).ok()) return 2;
      }
    });
    auto ch = listener->Accept(5s);
    ASSERT_TRUE(ch.ok()) << ch.status();
    // A third process kills the writer after a random delay while we keep
    // draining, so the kill lands at arbitrary points of its copy loop (in
    // the middle of a record, between fragments, asleep on a full ring).
    const auto delay = std::chrono::microseconds(rng() % 3000);
    const pid_t killer = ForkChild([&] {
      std::this_thread::sleep_for(delay);
      return ::kill(writer, SIGKILL) == 0 ? 0 : 1;
    });
    uint64_t next = 0;
    std::string m;
    // Everything still in the ring is whole and in order; then kClosed.
    for (;; ++next) {
      ipc::Status s = ch->Receive(&m, 5s);
      if (!s.ok()) {
        EXPECT_EQ(s.code(), ErrorCode::kClosed) << s;
        break;
      }
      ASSERT_TRUE(Check(m, next, kCapacity)) << "torn message " << next;
    }
    EXPECT_EQ(WaitChild(killer), 0);
    EXPECT_EQ(WaitChild(writer), 128 + SIGKILL);
    total += next;
  }
  std::cerr << total << " messages checked across the kills\n";
}

TEST(ShmCrashTest, ReaderKilledNeverBlocksTheWriterForever) {
  std::mt19937_64 rng(Seed());
  for (int iteration = 0; iteration < 10; ++iteration) {
    const std::string url = ShmUrl("?capacity=4K");
    auto listener = ipc::Listen(url);
    ASSERT_TRUE(listener.ok()) << listener.status();
    const uint64_t reads = rng() % 50;
    const pid_t reader = ForkChild([&] {
      auto ch = ipc::Connect(url, 5s);
      if (!ch.ok()) return 1;
      std::string m;
      for (uint64_t i = 0; i < reads; ++i) {
        if (!ch->Receive(&m, 5s).ok()) return 2;
      }
      ::kill(::getpid(), SIGKILL);  // Die without closing anything.
      return 3;
    });
    auto ch = listener->Accept(5s);
    ASSERT_TRUE(ch.ok()) << ch.status();
    // Keep sending: the ring fills once the reader is gone, and the blocked
    // Send must see the death (not its deadline).
    ipc::Status s;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; s.ok(); ++i) s = ch->Send(MakeMessage(i, 4096), 30s);
    EXPECT_EQ(s.code(), ErrorCode::kClosed) << s;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    EXPECT_EQ(WaitChild(reader), 128 + SIGKILL);
  }
}

TEST(ShmTest, MessagesLargerThanTheRingArriveWhole) {
  const std::string url = ShmUrl("?capacity=4K");
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  const pid_t sender = ForkChild([&] {
    auto ch = ipc::Connect(url, 5s);
    return ch.ok() && ch->Send(big).ok() && ch->Send("after").ok() ? 0 : 1;
  });
  auto ch = listener->Accept(5s);
  ASSERT_TRUE(ch.ok());
  auto m = ch->Receive(10s);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(*m == big);
  EXPECT_EQ(ch->Receive(5s).value_or(""), "after");
  EXPECT_EQ(WaitChild(sender), 0);
}

// Both ends in this process: the listener accepts while a thread connects.
struct LocalPair {
  ipc::Channel listener_end;
  ipc::Channel connector_end;
};

LocalPair ConnectLocally(const std::string& url) {
  LocalPair pair;
  auto listener = ipc::Listen(url);
  EXPECT_TRUE(listener.ok()) << listener.status();
  if (!listener.ok()) return pair;
  std::thread connector([&] {
    auto ch = ipc::Connect(url, 5s);
    EXPECT_TRUE(ch.ok()) << ch.status();
    if (ch.ok()) pair.connector_end = std::move(*ch);
  });
  auto ch = listener->Accept(5s);
  connector.join();
  EXPECT_TRUE(ch.ok()) << ch.status();
  if (ch.ok()) pair.listener_end = std::move(*ch);
  return pair;
}

TEST(ShmTest, LargeMessagesAreAssembledInTheCallersString) {
  // Receive(std::string*) promises to reuse the caller's capacity; for a
  // multi-fragment message that means assembling in the caller's string,
  // not in a buffer of the channel's that is then swapped in.
  LocalPair p = ConnectLocally(ShmUrl("?capacity=4K"));
  ASSERT_TRUE(p.connector_end.is_open() && p.listener_end.is_open());
  std::string received;
  const char* buffer = nullptr;
  for (uint64_t i = 0; i < 4; ++i) {
    const std::string big = MakeMessage(3, 4096);  // 8 + 2 * 4096 + 13 bytes.
    std::thread sender([&] { EXPECT_TRUE(p.connector_end.Send(big, 5s).ok()); });
    ASSERT_TRUE(p.listener_end.Receive(&received, 5s).ok());
    sender.join();
    EXPECT_TRUE(Check(received, 3, 4096)) << "message " << i;
    if (i == 0) buffer = received.data();
    EXPECT_EQ(received.data(), buffer) << "message " << i << " went to another buffer";
  }
}

// One end used as channel.h allows: a sending thread and a receiving thread
// at once, while the other end echoes and then closes; both threads then
// find the peer gone at about the same time (under TSan, this checks the
// state the two paths share, such as whether the peer has gone).
TEST(ShmTest, OneEndSendsAndReceivesOnTwoThreadsUntilThePeerCloses) {
  LocalPair p = ConnectLocally(ShmUrl("?capacity=4K"));
  ASSERT_TRUE(p.connector_end.is_open() && p.listener_end.is_open());
  constexpr uint64_t kCount = 500;
  std::thread echo([&] {
    for (uint64_t i = 0; i < kCount; ++i) {
      auto m = p.connector_end.Receive(10s);
      if (!m.ok() || !p.connector_end.Send(*m, 10s).ok()) break;
    }
    p.connector_end.Close();
  });
  std::thread sender([&] {
    for (uint64_t i = 0; i < kCount; ++i) {
      ASSERT_TRUE(p.listener_end.Send(MakeMessage(i, 4096), 10s).ok()) << i;
    }
    // The peer closes once it has echoed everything: sends then fail.
    ipc::Status s;
    for (int i = 0; i < 100000 && s.ok(); ++i) s = p.listener_end.Send("more", 10s);
    EXPECT_EQ(s.code(), ErrorCode::kClosed) << s;
  });
  std::string received;
  for (uint64_t i = 0; i < kCount; ++i) {
    const ipc::Status r = p.listener_end.Receive(&received, 10s);
    if (!r.ok()) {
      ADD_FAILURE() << "echo " << i << ": " << r;
      break;
    }
    EXPECT_TRUE(Check(received, i, 4096)) << "echo " << i;
  }
  EXPECT_EQ(p.listener_end.Receive(&received, 10s).code(), ErrorCode::kClosed);
  sender.join();
  echo.join();
}

TEST(ShmTest, ReceiveThatGivesUpPartWayResumesTheSameMessage) {
  // A non-blocking Send puts what fits of a large message into the 4 KiB
  // ring and keeps the rest; the receiver reads those fragments and finds
  // the ring empty before the message is complete. The fragments it has
  // must survive that call and the next message must still arrive whole.
  LocalPair p = ConnectLocally(ShmUrl("?capacity=4K"));
  ASSERT_TRUE(p.connector_end.is_open() && p.listener_end.is_open());
  const std::string big = MakeMessage(3, 4096);
  ASSERT_TRUE(p.connector_end.Send(big, ipc::Deadline::Now()).ok());
  std::string received = "the caller's own text";
  bool after_sent = false;
  int gave_up = 0;
  for (;;) {
    const ipc::Status r = p.listener_end.Receive(&received, ipc::Deadline::Now());
    if (r.ok()) break;
    ASSERT_EQ(r.code(), ErrorCode::kWouldBlock) << r;
    ASSERT_LT(++gave_up, 100000) << "the message never completed";
    // Writes more of the kept rest; sends "after" once the rest is out.
    if (!after_sent) after_sent = p.connector_end.Send("after", ipc::Deadline::Now()).ok();
  }
  EXPECT_GT(gave_up, 0);
  EXPECT_TRUE(Check(received, 3, 4096));
  if (!after_sent) {
    ASSERT_TRUE(p.connector_end.Send("after", 5s).ok());
  }
  ASSERT_TRUE(p.listener_end.Receive(&received, 5s).ok());
  EXPECT_EQ(received, "after");
}

TEST(ShmTest, InheritedChannelIsRefusedInTheForkedChild) {
  const std::string url = ShmUrl();
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok());
  auto connected = ipc::Connect(url, 5s);
  ASSERT_TRUE(connected.ok()) << connected.status();
  auto accepted = listener->Accept(5s);
  ASSERT_TRUE(accepted.ok());
  const pid_t child = ForkChild([&] {
    ipc::Status s = connected->Send("from child");
    return s.code() == ErrorCode::kUnsupported ? 0 : 1;
  });
  EXPECT_EQ(WaitChild(child), 0);
  // The parent's channel is untouched by the child's exit.
  ASSERT_TRUE(connected->Send("from parent").ok());
  EXPECT_EQ(accepted->Receive(5s).value_or(""), "from parent");
}

TEST(ShmTest, ListenerAcceptsManyPeersEachWithItsOwnRing) {
  const std::string url = ShmUrl();
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok());
  constexpr int kPeers = 4;
  pid_t peers[kPeers];
  for (int p = 0; p < kPeers; ++p) {
    peers[p] = ForkChild([&, p] {
      auto ch = ipc::Connect(url, 5s);
      if (!ch.ok() || !ch->Send("peer " + std::to_string(p)).ok()) return 1;
      auto reply = ch->Receive(5s);
      return reply.ok() && *reply == "ack peer " + std::to_string(p) ? 0 : 2;
    });
  }
  for (int p = 0; p < kPeers; ++p) {
    auto ch = listener->Accept(5s);
    ASSERT_TRUE(ch.ok()) << ch.status();
    auto m = ch->Receive(5s);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ch->Send("ack " + *m).ok());
  }
  for (pid_t pid : peers) EXPECT_EQ(WaitChild(pid), 0);
}

TEST(ShmTest, SecondListenerOnTheSameNameIsRefused) {
  const std::string url = ShmUrl();
  auto first = ipc::Listen(url);
  ASSERT_TRUE(first.ok());
  auto second = ipc::Listen(url);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kAddressInUse);
  first->Close();
  EXPECT_TRUE(ipc::Listen(url).ok()) << "a closed listener frees its name";
}

TEST(ShmTest, OtherUsersAreRefusedByDefaultAtConnect) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  const std::string url = ShmUrl();
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok());
  const pid_t other = ForkChild([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 3;
    // A connector of another user waits for the listener's verdict, so the
    // refusal comes from Connect itself, with the reason.
    auto ch = ipc::Connect(url, 10s);
    if (ch.ok()) return 1;
    if (ch.status().code() != ErrorCode::kPermissionDenied) return 2;
    return ch.status().message().find("does not admit") != std::string::npos ? 0 : 4;
  });
  // Keep accepting until the child is done: the refused peer must never
  // surface from Accept.
  int status = 0;
  while (::waitpid(other, &status, WNOHANG) == 0) {
    auto accepted = listener->Accept(20ms);
    ASSERT_EQ(accepted.status().code(), ErrorCode::kDeadlineExceeded);
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(ShmTest, OtherUsersAdmittedByTheModeConnectOnceAccepted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  const std::string url = ShmUrl("?mode=0666");
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok());
  const pid_t other = ForkChild([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 3;
    auto ch = ipc::Connect(url, 10s);
    if (!ch.ok() || !ch->Send("from nobody").ok()) return 1;
    return ch->Receive(10s).value_or("") == "welcome" ? 0 : 2;
  });
  auto ch = listener->Accept(10s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->Receive(10s).value_or(""), "from nobody");
  ASSERT_TRUE(ch->Send("welcome").ok());
  EXPECT_EQ(WaitChild(other), 0);
}

TEST(ShmTest, BadNamesAndOptionsAreNamed) {
  for (const char* bad : {"shm://", "shm://a/b", "shm://sp ace", "shm:///abs"}) {
    auto l = ipc::Listen(bad);
    EXPECT_EQ(l.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  auto small = ipc::Listen(ShmUrl("?capacity=100"));
  EXPECT_EQ(small.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(small.status().message().find("capacity"), std::string::npos);
  auto spin = ipc::Listen(ShmUrl("?spin_us=-1"));
  EXPECT_EQ(spin.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace

namespace {

// PeerHasUnread: what the sender knows of the receiver's progress, without
// consuming anything — a server that died with a request still in its
// ring never ran it.
TEST(ShmTest, PeerHasUnreadTellsWhetherTheReceiverTookEverything) {
  auto listener = ipc::Listen(ShmUrl());
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto sender = ipc::Connect(listener->url(), 5s);
  ASSERT_TRUE(sender.ok()) << sender.status();
  auto receiver = listener->Accept(5s);
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  EXPECT_FALSE(sender->PeerHasUnread());
  ASSERT_TRUE(sender->Send("one").ok());
  auto loan = sender->Loan(3, 5s);  // A loaned message is lent in place...
  ASSERT_TRUE(loan.ok()) << loan.status();
  std::memcpy(loan->data(), "two", 3);
  ASSERT_TRUE(sender->Commit(3).ok());
  EXPECT_TRUE(sender->PeerHasUnread());
  EXPECT_EQ(receiver->Receive(5s).value_or(""), "one");
  EXPECT_TRUE(sender->PeerHasUnread());
  auto view = receiver->ReceiveView(5s);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(*view, "two");
  EXPECT_TRUE(sender->PeerHasUnread()) << "...and a view of it is not taken yet";
  receiver->ReleaseView();
  EXPECT_FALSE(sender->PeerHasUnread());
  // The receiver goes with a message unread: the sender can still tell.
  ASSERT_TRUE(sender->Send("three").ok());
  receiver->Close();
  EXPECT_TRUE(sender->PeerHasUnread());
}

// shm:// batching: SendBuffered stages messages in the ring without
// publishing them, and Flush publishes a batch with one doorbell; messages
// that do not fit the ring then wait in the channel, and Flush writes them
// (and the tail of a non-blocking Send) as an event loop would, without
// blocking.
struct Channels {
  ipc::Channel& writer;
  ipc::Channel& reader;
};

// Flushes the way ipcd does: without blocking, retrying while the reader
// drains the ring.
void FlushWithoutBlocking(ipc::Channel& writer) {
  const auto until = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    const ipc::Status flushed = writer.Flush(ipc::Deadline::Now());
    if (flushed.ok()) return;
    ASSERT_EQ(flushed.code(), ErrorCode::kWouldBlock) << flushed;
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the flush never finished";
    std::this_thread::sleep_for(100us);
  }
}

TEST(ShmBatchTest, StagedMessagesAreInvisibleUntilFlush) {
  LocalPair pair = ConnectLocally(ShmUrl("?capacity=64K"));
  Channels p{pair.listener_end, pair.connector_end};
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  ASSERT_TRUE(p.writer.SendBuffered("one").ok());
  ASSERT_TRUE(p.writer.SendBuffered("two").ok());
  EXPECT_EQ(p.reader.TryReceive().status().code(), ErrorCode::kWouldBlock)
      << "a staged message was published before Flush";
  pollfd ready{p.reader.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&ready, 1, 0), 0) << "the reader was woken before Flush";
  ASSERT_TRUE(p.writer.Flush(ipc::Deadline::Now()).ok());
  ASSERT_EQ(::poll(&ready, 1, 5000), 1) << "Flush did not wake the reader";
  std::vector<std::string> got;
  ASSERT_TRUE(p.reader.ReceiveAvailable(&got, 10).ok());
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
}

TEST(ShmBatchTest, MessagesBeyondTheRingWaitForFlushAndArriveInOrder) {
  // A 4 KiB ring: most of these do not fit at once, some are larger than
  // the ring itself (several fragments); a Send after them keeps its place.
  LocalPair pair = ConnectLocally(ShmUrl("?capacity=4K"));
  Channels p{pair.listener_end, pair.connector_end};
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  std::vector<std::string> sent;
  for (int i = 0; i < 200; ++i) {
    sent.push_back(std::to_string(i) + std::string(i % 9 == 0 ? 9000 : i * 7, 'a' + i % 26));
  }
  for (const std::string& m : sent) ASSERT_TRUE(p.writer.SendBuffered(m).ok());
  std::vector<std::string> got;
  std::thread reader([&] {
    while (got.size() < sent.size() + 1) {
      auto m = p.reader.Receive(20s);
      if (!m.ok()) {
        ADD_FAILURE() << m.status();
        return;
      }
      got.push_back(std::move(*m));
    }
  });
  FlushWithoutBlocking(p.writer);
  ASSERT_TRUE(p.writer.Send("last", 20s).ok());
  reader.join();
  sent.push_back("last");
  EXPECT_EQ(got, sent);
}

TEST(ShmBatchTest, FlushFinishesTheTailOfANonBlockingSend) {
  LocalPair pair = ConnectLocally(ShmUrl("?capacity=4K"));
  Channels p{pair.listener_end, pair.connector_end};
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  const std::string big(1 << 20, 'z');  // Far more than the ring.
  ASSERT_TRUE(p.writer.Send(big, ipc::Deadline::Now()).ok());  // Started: tail kept.
  EXPECT_EQ(p.writer.Flush(ipc::Deadline::Now()).code(), ErrorCode::kWouldBlock)
      << "Flush reported done with most of the message unsent";
  std::string received;
  std::thread reader([&] { received = p.reader.Receive(20s).value_or(""); });
  FlushWithoutBlocking(p.writer);
  reader.join();
  EXPECT_TRUE(received == big) << received.size();
}

TEST(ShmBatchTest, ClosingFlushesWhatIsBuffered) {
  LocalPair pair = ConnectLocally(ShmUrl("?capacity=4K"));
  Channels p{pair.listener_end, pair.connector_end};
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  ASSERT_TRUE(p.writer.SendBuffered("staged").ok());
  ASSERT_TRUE(p.writer.SendBuffered(std::string(6000, 'k')).ok());  // Kept.
  std::vector<std::string> got;
  std::thread reader([&] {
    for (int i = 0; i < 2; ++i) got.push_back(p.reader.Receive(10s).value_or("(none)"));
  });
  p.writer.Close();
  reader.join();
  EXPECT_EQ(got, (std::vector<std::string>{"staged", std::string(6000, 'k')}));
}

TEST(ShmBatchTest, AClosedPeerIsReportedBySendBuffered) {
  LocalPair pair = ConnectLocally(ShmUrl("?capacity=4K"));
  Channels p{pair.listener_end, pair.connector_end};
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  p.reader.Close();
  const auto until = std::chrono::steady_clock::now() + 10s;
  ipc::Status status;
  do {
    status = p.writer.SendBuffered("x");
    if (status.ok()) status = p.writer.Flush(ipc::Deadline::Now());
  } while (status.ok() && std::chrono::steady_clock::now() < until);
  EXPECT_EQ(status.code(), ErrorCode::kClosed) << status;
}

}  // namespace
