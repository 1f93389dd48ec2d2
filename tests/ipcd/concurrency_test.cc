// Many client processes at once, and clients that die or do not read.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "ipc/message.h"
#include "ipcd_fixture.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

constexpr int kProcesses = 50;
constexpr int kOpsPerProcess = 200;

class ConcurrencyTest : public IpcdTest {};

// The children below run in forked processes, where gtest must not be
// used, so their failures are exit codes (10: could not connect and say
// Hello).

// Connects to url and completes the Hello exchange.
Result<Channel> ConnectAndHello(const std::string& url) {
  IPC_ASSIGN_OR_RETURN(Channel channel,
                       Connect(url, std::chrono::seconds(10)));
  v1::Request request;
  request.set_id(1);
  request.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  IPC_RETURN_IF_ERROR(SendMessage(channel, request));
  IPC_ASSIGN_OR_RETURN(
      v1::Response hello,
      ReceiveMessage<v1::Response>(channel, std::chrono::seconds(10)));
  if (hello.status().code() != v1::OK) {
    return Status(ErrorCode::kProtocolError, hello.status().message());
  }
  return channel;
}

int ChildAddToCounter(const std::string& url) {
  auto channel = ConnectAndHello(url);
  if (!channel.ok()) return 10;
  v1::Request request;
  *request.mutable_call() = MakeCall("total", v1::COUNTER, v1::ADD);
  *request.mutable_call()->mutable_value() = IntValue(1);
  for (int i = 0; i < kOpsPerProcess; ++i) {
    request.set_id(static_cast<uint64_t>(i + 2));
    if (!SendMessage(*channel, request).ok()) return 13;
    auto r = ReceiveMessage<v1::Response>(*channel, std::chrono::seconds(30));
    if (!r.ok() || r->status().code() != v1::OK || r->id() != request.id())
      return 14;
  }
  return 0;
}

int ChildFillDict(const std::string& url, int index) {
  auto channel = ConnectAndHello(url);
  if (!channel.ok()) return 10;
  v1::Request request;
  // Pipelined: send everything, then read everything.
  for (int i = 0; i < kOpsPerProcess; ++i) {
    request.Clear();
    request.set_id(static_cast<uint64_t>(i + 2));
    v1::Call* call = request.mutable_call();
    *call = MakeCall("shared", v1::DICT, v1::SET);
    call->set_key("p" + std::to_string(index) + "-" + std::to_string(i));
    *call->mutable_value() = IntValue(index * 1000 + i);
    if (!SendMessage(*channel, request).ok()) return 13;
  }
  for (int i = 0; i < kOpsPerProcess; ++i) {
    auto r = ReceiveMessage<v1::Response>(*channel, std::chrono::seconds(30));
    if (!r.ok() || r->status().code() != v1::OK) return 14;
    if (r->id() != static_cast<uint64_t>(i + 2)) return 15;
  }
  return 0;
}

TEST_F(ConcurrencyTest, FiftyProcessesAddToOneCounterExactly) {
  std::vector<pid_t> children;
  const std::string url = daemon_.url();
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(ForkChild([&url] { return ChildAddToCounter(url); }));
  }
  for (pid_t pid : children) EXPECT_EQ(WaitChild(pid, 50000), 0);
  v1::Response r = client_.Call(MakeCall("total", v1::COUNTER, v1::GET));
  EXPECT_EQ(r.result().value().int_value(), kProcesses * kOpsPerProcess);
}

TEST_F(ConcurrencyTest, FiftyProcessesFillOneDict) {
  std::vector<pid_t> children;
  const std::string url = daemon_.url();
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(ForkChild([&url, p] { return ChildFillDict(url, p); }));
  }
  for (pid_t pid : children) EXPECT_EQ(WaitChild(pid, 50000), 0);
  EXPECT_EQ(
      client_.Call(MakeCall("shared", v1::DICT, v1::LEN)).result().count(),
      kProcesses * kOpsPerProcess);
  v1::Call get = MakeCall("shared", v1::DICT, v1::GET);
  get.set_key("p17-123");
  EXPECT_EQ(client_.Call(get).result().value().int_value(), 17123);
}

TEST_F(ConcurrencyTest, SigkilledHolderReleasesItsLockToTheParkedWaiter) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const std::string url = daemon_.url();
  const pid_t holder = ForkChild([&] {
    ::close(ready[0]);
    auto channel = ConnectAndHello(url);
    if (!channel.ok()) return 10;
    v1::Request request;
    for (const char* name : {"crash-lock", "crash-rlock"}) {
      request.Clear();
      request.set_id(2);
      *request.mutable_call() =
          MakeCall(name, name[6] == 'r' ? v1::RLOCK : v1::LOCK, v1::ACQUIRE);
      for (int times = 0; times < (name[6] == 'r' ? 3 : 1); ++times) {
        if (!SendMessage(*channel, request).ok()) return 13;
        auto r =
            ReceiveMessage<v1::Response>(*channel, std::chrono::seconds(10));
        if (!r.ok() || r->status().code() != v1::OK) return 14;
      }
    }
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();  // Holding both until killed.
  });
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);

  RawClient waiter = RawClient::Open(daemon_.url());
  const uint64_t id =
      waiter.SendCall(MakeCall("crash-lock", v1::LOCK, v1::ACQUIRE));
  for (;;) {
    if (client_.Stats().stats().parked() == 1) break;
  }
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  EXPECT_EQ(WaitChild(holder), 128 + SIGKILL);
  auto r = waiter.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), id);
  EXPECT_EQ(CodeOf(*r), v1::OK);
  // The rlock's three holds went with the process too.
  v1::Call try_rlock = MakeCall("crash-rlock", v1::RLOCK, v1::ACQUIRE);
  try_rlock.set_timeout_ms(10000);
  EXPECT_EQ(CodeOf(client_.Call(try_rlock)), v1::OK);
  EXPECT_NE(daemon_.Stderr().find("released"), std::string::npos);
}

TEST_F(ConcurrencyTest, SlowReaderLosesNothingAndBlocksNobody) {
  v1::Call set = MakeCall("blob", v1::DICT, v1::SET);
  set.set_key("k");
  *set.mutable_value() = StringValue(std::string(64 * 1024, 'b'));
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);

  RawClient slow = RawClient::Open(daemon_.url());
  constexpr int kRequests = 600;  // ~39 MB of responses, not read for now.
  // Sending may itself wait: once the daemon holds enough unread responses
  // it stops reading this connection, so the requests go from a thread
  // (one sender and one receiver thread per channel is allowed).
  std::thread sender([&slow] {
    v1::Request request;
    *request.mutable_call() = MakeCall("blob", v1::DICT, v1::GET);
    request.mutable_call()->set_key("k");
    for (int i = 0; i < kRequests; ++i) {
      request.set_id(static_cast<uint64_t>(1000 + i));
      if (!SendMessage(slow.channel(), request, std::chrono::seconds(30)).ok()) return;
    }
  });
  // Meanwhile everyone else is served.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(CodeOf(client_.Stats()), v1::OK);
  RawClient late = RawClient::Open(daemon_.url());
  EXPECT_EQ(CodeOf(late.Stats()), v1::OK);
  for (int i = 0; i < kRequests; ++i) {
    auto r = slow.Receive(std::chrono::seconds(30));
    const bool good = r.ok() && r->id() == static_cast<uint64_t>(1000 + i) &&
                      r->result().value().string_value().size() == 64u * 1024;
    if (!good) {
      ADD_FAILURE() << "response " << i << ": "
                    << (r.ok() ? r->ShortDebugString().substr(0, 200)
                               : r.status().ToString());
      ::shutdown(slow.channel().fd(), SHUT_RDWR);  // Ends the sender too.
      break;
    }
  }
  sender.join();
}

TEST_F(ConcurrencyTest, ProducersAndConsumersAcrossProcesses) {
  const std::string url = daemon_.url();
  constexpr int kItems = 100;
  auto consumer = [&url]() -> int {
    auto channel = ConnectAndHello(url);
    if (!channel.ok()) return 10;
    v1::Request request;
    int64_t sum = 0;
    for (int i = 0; i < kItems; ++i) {
      request.Clear();
      request.set_id(static_cast<uint64_t>(i + 2));
      *request.mutable_call() = MakeCall("jobs", v1::QUEUE, v1::GET);
      request.mutable_call()->set_timeout_ms(20000);
      if (!SendMessage(*channel, request).ok()) return 13;
      auto r = ReceiveMessage<v1::Response>(*channel, std::chrono::seconds(30));
      if (!r.ok() || r->status().code() != v1::OK) return 14;
      sum += r->result().value().int_value();
    }
    request.Clear();
    request.set_id(1000);
    *request.mutable_call() = MakeCall("sums", v1::COUNTER, v1::ADD);
    *request.mutable_call()->mutable_value() = IntValue(sum);
    if (!SendMessage(*channel, request).ok()) return 15;
    auto r = ReceiveMessage<v1::Response>(*channel, std::chrono::seconds(30));
    return r.ok() && r->status().code() == v1::OK ? 0 : 16;
  };
  v1::Call create = MakeCall("jobs", v1::QUEUE, v1::CREATE);
  create.set_capacity(8);  // The producer parks on a full queue.
  ASSERT_EQ(CodeOf(client_.Call(create)), v1::OK);
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) children.push_back(ForkChild(consumer));
  v1::Call put = MakeCall("jobs", v1::QUEUE, v1::PUT);
  for (int i = 1; i <= 4 * kItems; ++i) {
    *put.mutable_value() = IntValue(i);
    ASSERT_EQ(CodeOf(client_.Call(put)), v1::OK);
  }
  for (pid_t pid : children) EXPECT_EQ(WaitChild(pid, 50000), 0);
  const int64_t n = 4 * kItems;
  EXPECT_EQ(client_.Call(MakeCall("sums", v1::COUNTER, v1::GET))
                .result()
                .value()
                .int_value(),
            n * (n + 1) / 2);
}

}  // namespace
}  // namespace ipc::testing
