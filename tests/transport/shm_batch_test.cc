// shm:// batching: SendBuffered stages messages in the ring without
// publishing them, and Flush publishes a batch with one doorbell; messages
// that do not fit the ring then wait in the channel, and Flush writes them
// (and the tail of a non-blocking Send) as an event loop would, without
// blocking.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::Channel;
using ipc::Deadline;
using ipc::ErrorCode;
using ipc::testing::UniqueName;

struct Pair {
  Channel writer;
  Channel reader;
};

Pair Connected(const std::string& options) {
  Pair pair;
  const std::string url = "shm://" + UniqueName("shmbatch") + options;
  auto listener = ipc::Listen(url);
  EXPECT_TRUE(listener.ok()) << listener.status();
  if (!listener.ok()) return pair;
  std::thread connector([&] {
    auto ch = ipc::Connect(url, 5s);
    EXPECT_TRUE(ch.ok()) << ch.status();
    if (ch.ok()) pair.reader = std::move(*ch);
  });
  auto ch = listener->Accept(5s);
  connector.join();
  EXPECT_TRUE(ch.ok()) << ch.status();
  if (ch.ok()) pair.writer = std::move(*ch);
  return pair;
}

// Flushes the way ipcd does: without blocking, retrying while the reader
// drains the ring.
void FlushWithoutBlocking(Channel& writer) {
  const auto until = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    const ipc::Status flushed = writer.Flush(Deadline::Now());
    if (flushed.ok()) return;
    ASSERT_EQ(flushed.code(), ErrorCode::kWouldBlock) << flushed;
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the flush never finished";
    std::this_thread::sleep_for(100us);
  }
}

TEST(ShmBatchTest, StagedMessagesAreInvisibleUntilFlush) {
  Pair p = Connected("?capacity=64K");
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  ASSERT_TRUE(p.writer.SendBuffered("one").ok());
  ASSERT_TRUE(p.writer.SendBuffered("two").ok());
  EXPECT_EQ(p.reader.TryReceive().status().code(), ErrorCode::kWouldBlock)
      << "a staged message was published before Flush";
  pollfd ready{p.reader.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&ready, 1, 0), 0) << "the reader was woken before Flush";
  ASSERT_TRUE(p.writer.Flush(Deadline::Now()).ok());
  ASSERT_EQ(::poll(&ready, 1, 5000), 1) << "Flush did not wake the reader";
  std::vector<std::string> got;
  ASSERT_TRUE(p.reader.ReceiveAvailable(&got, 10).ok());
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
}

TEST(ShmBatchTest, MessagesBeyondTheRingWaitForFlushAndArriveInOrder) {
  // A 4 KiB ring: most of these do not fit at once, some are larger than
  // the ring itself (several fragments); a Send after them keeps its place.
  Pair p = Connected("?capacity=4K");
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
  Pair p = Connected("?capacity=4K");
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  const std::string big(1 << 20, 'z');  // Far more than the ring.
  ASSERT_TRUE(p.writer.Send(big, Deadline::Now()).ok());  // Started: tail kept.
  EXPECT_EQ(p.writer.Flush(Deadline::Now()).code(), ErrorCode::kWouldBlock)
      << "Flush reported done with most of the message unsent";
  std::string received;
  std::thread reader([&] { received = p.reader.Receive(20s).value_or(""); });
  FlushWithoutBlocking(p.writer);
  reader.join();
  EXPECT_TRUE(received == big) << received.size();
}

TEST(ShmBatchTest, ClosingFlushesWhatIsBuffered) {
  Pair p = Connected("?capacity=4K");
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
  Pair p = Connected("?capacity=4K");
  ASSERT_TRUE(p.writer.is_open() && p.reader.is_open());
  p.reader.Close();
  const auto until = std::chrono::steady_clock::now() + 10s;
  ipc::Status status;
  do {
    status = p.writer.SendBuffered("x");
    if (status.ok()) status = p.writer.Flush(Deadline::Now());
  } while (status.ok() && std::chrono::steady_clock::now() < until);
  EXPECT_EQ(status.code(), ErrorCode::kClosed) << status;
}

}  // namespace
