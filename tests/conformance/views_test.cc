// The zero-copy calls (Channel::ReceiveView, ReleaseView, Loan, Commit) on
// every transport: shm:// lends ring memory, the others copy, and code
// written against the calls behaves the same on each.
#include <signal.h>

#include <cstring>
#include <thread>
#include <vector>

#include "conformance.h"

namespace ipc::conformance {
namespace {

using ipc::ErrorCode;
using ipc::testing::ForkChild;

class ViewTest : public ConformanceTest {};

// Sends payload with Loan + Commit.
ipc::Status LoanSend(Channel& ch, const std::string& payload) {
  auto room = ch.Loan(payload.size(), 30s);
  if (!room.ok()) return room.status();
  if (room->size() != payload.size()) return ipc::Status(ErrorCode::kInternal, "short loan");
  if (!payload.empty()) std::memcpy(room->data(), payload.data(), payload.size());
  return ch.Commit(payload.size(), 30s);
}

// Messages of many sizes, each sent with Loan/Commit or with Send and
// received with ReceiveView or Receive, alternating: every byte arrives,
// in order, whichever pair of calls carried it.
TEST_P(ViewTest, LoansAndViewsCarryEveryByteInOrderBesideSendAndReceive) {
  if (!caps().reliable) GTEST_SKIP() << "datagrams may be lost";
  const size_t max = caps().default_max_message;
  std::vector<size_t> sizes;
  for (size_t size : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}, size_t{64 << 10},
                      size_t{(64 << 10) + 3}, size_t{300 << 10}, size_t{1 << 20}}) {
    if (size <= max) sizes.push_back(size);
  }
  constexpr int kRounds = 6;
  Pair p = Connected();
  std::thread sender([&] {
    for (int round = 0; round < kRounds; ++round) {
      for (size_t i = 0; i < sizes.size(); ++i) {
        const std::string payload = Payload(sizes[i], round * 100 + i);
        const bool loan = (round + i) % 3 != 2;
        const ipc::Status s = loan ? LoanSend(p.sender, payload) : p.sender.Send(payload, 30s);
        if (!s.ok()) ADD_FAILURE() << "size " << sizes[i] << (loan ? " loaned: " : ": ") << s;
      }
    }
  });
  std::string copy;
  for (int round = 0; round < kRounds && !HasFailure(); ++round) {
    for (size_t i = 0; i < sizes.size() && !HasFailure(); ++i) {
      const std::string expected = Payload(sizes[i], round * 100 + i);
      if ((round + i) % 2 == 0) {
        auto view = p.receiver.ReceiveView(30s);
        ASSERT_TRUE(view.ok()) << "size " << sizes[i] << ": " << view.status();
        ASSERT_EQ(view->size(), sizes[i]);
        EXPECT_TRUE(*view == expected) << "size " << sizes[i] << " round " << round;
        if (i % 4 == 0) p.receiver.ReleaseView();  // Else the next call releases it.
      } else {
        ASSERT_TRUE(p.receiver.Receive(&copy, 30s).ok()) << "size " << sizes[i];
        EXPECT_TRUE(copy == expected) << "size " << sizes[i] << " round " << round;
      }
    }
  }
  sender.join();
}

// A view stays as it was while later messages arrive, until it is released.
TEST_P(ViewTest, AViewHoldsUntilTheNextReceive) {
  if (!caps().reliable) GTEST_SKIP() << "datagrams may be lost";
  Pair p = Connected();
  ASSERT_TRUE(LoanSend(p.sender, "first").ok());
  auto view = p.receiver.ReceiveView(5s);
  ASSERT_TRUE(view.ok()) << view.status();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.sender.Send(Payload(100, i), 5s).ok());
  EXPECT_EQ(*view, "first");
  for (int i = 0; i < 5; ++i) {
    auto next = p.receiver.ReceiveView(5s);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_TRUE(*next == Payload(100, i)) << i;
  }
  p.receiver.ReleaseView();
  p.receiver.ReleaseView();  // Twice is harmless.
  EXPECT_EQ(p.receiver.TryReceiveView().status().code(), ErrorCode::kWouldBlock);
}

// Commit sends as much of the loan as asked; the loan's rules are checked.
TEST_P(ViewTest, CommitSendsWhatWasWrittenAndChecksTheLoan) {
  if (!caps().reliable) GTEST_SKIP() << "datagrams may be lost";
  Pair p = Connected();
  const size_t max = p.sender.max_message();
  EXPECT_EQ(p.sender.Loan(max + 1).status().code(), ErrorCode::kMessageTooLarge);
  EXPECT_EQ(p.sender.Commit(0).code(), ErrorCode::kInvalidArgument) << "no loan open";

  auto room = p.sender.Loan(100, 5s);
  ASSERT_TRUE(room.ok()) << room.status();
  std::memcpy(room->data(), "partial message", 15);
  EXPECT_EQ(p.sender.Commit(101).code(), ErrorCode::kInvalidArgument) << "past the loan";
  ASSERT_TRUE(p.sender.Commit(7).ok()) << "the loan stays open after a refused Commit";
  EXPECT_EQ(p.sender.Commit(7).code(), ErrorCode::kInvalidArgument) << "committed twice";

  // A Send abandons an open loan: nothing of it is sent.
  room = p.sender.Loan(10, 5s);
  ASSERT_TRUE(room.ok()) << room.status();
  std::memcpy(room->data(), "abandoned!", 10);
  ASSERT_TRUE(p.sender.Send("sent").ok());
  EXPECT_EQ(p.sender.Commit(10).code(), ErrorCode::kInvalidArgument);
  // So does another Loan.
  ASSERT_TRUE(p.sender.Loan(10, 5s).ok());
  room = p.sender.Loan(3, 5s);
  ASSERT_TRUE(room.ok()) << room.status();
  std::memcpy(room->data(), "end", 3);
  ASSERT_TRUE(p.sender.Commit(3).ok());

  for (const char* expected : {"partial", "sent", "end"}) {
    auto view = p.receiver.ReceiveView(5s);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(*view, expected);
  }
  EXPECT_EQ(p.receiver.TryReceiveView().status().code(), ErrorCode::kWouldBlock);
}

// A receiver whose max_message is smaller discards a loaned message too.
TEST_P(ViewTest, ReceiverWithSmallerMaxDiscardsALoanedMessage) {
  if (GetParam().in_process_pair) GTEST_SKIP() << "both ends share one max";
  Pair p = Connected("?max_message=8K", "?max_message=1K");
  ASSERT_TRUE(LoanSend(p.sender, std::string(4096, 'b')).ok());
  ASSERT_TRUE(LoanSend(p.sender, "next").ok());
  EXPECT_EQ(p.receiver.ReceiveView(5s).status().code(), ErrorCode::kMessageTooLarge);
  auto view = p.receiver.ReceiveView(5s);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(*view, "next");
}

// What was committed before the peer closed is delivered, then kClosed.
TEST_P(ViewTest, LoanedMessagesBeforeAPeerCloseAreDelivered) {
  if (!caps().detects_peer_close) GTEST_SKIP() << "transport cannot tell";
  Pair p = Connected();
  ASSERT_TRUE(LoanSend(p.sender, "last words").ok());
  p.sender.Close();
  auto view = p.receiver.ReceiveView(5s);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(*view, "last words");
  EXPECT_EQ(p.receiver.ReceiveView(5s).status().code(), ErrorCode::kClosed);
}

// A sender killed while it writes loaned messages: every message that
// arrives is whole (a loan is published only by Commit), then kClosed.
TEST_P(ViewTest, SenderKilledBetweenLoanAndCommitTearsNothing) {
  if (!caps().detects_peer_close || GetParam().in_process_pair) {
    GTEST_SKIP() << "needs close detection and a listener";
  }
  const std::string url = UrlToListenOnAfterFork();
  const pid_t child = ForkChild([&]() -> int {
    auto ch = ipc::Connect(url, 10s);  // Waits for the listener.
    if (!ch.ok()) return 1;
    for (uint64_t i = 0;; ++i) {
      auto room = ch->Loan(1000 + (i * 7919) % (200 << 10));
      if (!room.ok()) return 2;
      std::memset(room->data(), static_cast<int>(i & 0xff), room->size());
      (void)ch->Commit(room->size());
    }
  });
  struct Sender {  // Killed on every way out of the test.
    pid_t pid;
    int Kill() {
      if (pid <= 0) return -1;
      ::kill(pid, SIGKILL);
      const int status = ipc::testing::WaitChild(pid);
      pid = -1;
      return status;
    }
    ~Sender() { Kill(); }
  } sender{child};
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto ch = listener->Accept(10s);
  ASSERT_TRUE(ch.ok()) << ch.status();
  auto uniform = [](std::string_view m) {
    return !m.empty() && m.find_first_not_of(m[0]) == std::string_view::npos;
  };
  for (int i = 0; i < 10; ++i) {
    auto view = ch->ReceiveView(5s);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_TRUE(uniform(*view)) << "message " << i;
  }
  EXPECT_EQ(sender.Kill(), 128 + SIGKILL);
  ipc::Result<std::string_view> view = ipc::Status::Ok();
  while ((view = ch->ReceiveView(10s)).ok()) {
    EXPECT_TRUE(uniform(*view)) << "a torn message of " << view->size() << " bytes";
  }
  EXPECT_EQ(view.status().code(), ErrorCode::kClosed) << view.status();
}

TEST_P(ViewTest, ClosedChannelRefusesEveryCall) {
  Channel closed;
  EXPECT_EQ(closed.ReceiveView().status().code(), ErrorCode::kClosed);
  EXPECT_EQ(closed.Loan(1).status().code(), ErrorCode::kClosed);
  EXPECT_EQ(closed.Commit(1).code(), ErrorCode::kClosed);
  closed.ReleaseView();
}

INSTANTIATE_TEST_SUITE_P(AllTransports, ViewTest, ::testing::ValuesIn(kTransports),
                         TransportName);

}  // namespace
}  // namespace ipc::conformance
