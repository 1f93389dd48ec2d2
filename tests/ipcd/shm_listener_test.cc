// ipcd listening on shm:// (--listen shm://NAME): the same protocol, limits
// and crash handling as on its unix socket, over a channel that has no
// socket to peek at and no write readiness. Raw clients and ipc::Manager
// connect to it by URL.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "ipc/manager.h"
#include "ipcd_fixture.h"
#include "spawn.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using std::chrono::seconds;

class ShmListenerTest : public IpcdTest {
 protected:
  std::vector<std::string> DaemonArgs() const override {
    return {"--listen", shm_url_, "--spin-us", "0", "--max-frame-bytes", "65536"};
  }
  const std::string shm_url_ = "shm://" + UniqueName("ipcd-shm");
};

TEST_F(ShmListenerTest, ServesTheProtocolBesideTheSocket) {
  RawClient shm = RawClient::Open(shm_url_);
  ASSERT_TRUE(shm.ok());
  EXPECT_EQ(shm.Call(CounterAdd("hits", 5)).result().value().int_value(), 5);
  // The same store as the unix socket's.
  EXPECT_EQ(client_.Call(CounterAdd("hits", 1)).result().value().int_value(), 6);
  v1::Batch batch;
  *batch.add_calls() = CounterAdd("hits", 10);
  *batch.add_calls() = CounterAdd("other", 1);
  const v1::Response r = shm.Batch(batch);
  ASSERT_EQ(r.batch().replies_size(), 2) << r.ShortDebugString();
  EXPECT_EQ(r.batch().replies(0).result().value().int_value(), 16);
  EXPECT_GE(shm.Stats().stats().clients(), 2);
  EXPECT_NE(daemon_.Stderr().find("listening on " + shm_url_), std::string::npos)
      << daemon_.Stderr();
}

TEST_F(ShmListenerTest, ManagerConnectsByShmUrl) {
  auto manager = Manager::Connect(shm_url_);
  ASSERT_TRUE(manager.ok()) << manager.status();
  auto counter = manager->Counter("m");
  EXPECT_EQ(counter.Add(3).value(), 3);
  auto guard = manager->Lock("l").Acquire(seconds(5));
  ASSERT_TRUE(guard.ok()) << guard.status();
  EXPECT_EQ(client_.Call(CounterAdd("m", 1)).result().value().int_value(), 4);
}

TEST_F(ShmListenerTest, ALockHolderKilledOverShmReleasesTheLock) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = ForkChild([&] {
    RawClient c = RawClient::Open(shm_url_);
    if (CodeOf(c.Call(MakeCall("l", v1::LOCK, v1::ACQUIRE))) != v1::OK) return 1;
    (void)!::write(ready[1], "x", 1);
    ::pause();
    return 0;
  });
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  EXPECT_EQ(WaitChild(holder), 128 + SIGKILL);
  v1::Call acquire = MakeCall("l", v1::LOCK, v1::ACQUIRE);
  acquire.set_timeout_ms(5000);
  const v1::Response r = client_.Call(acquire);
  EXPECT_EQ(CodeOf(r), v1::OK) << r.ShortDebugString();
}

TEST_F(ShmListenerTest, OversizedMessagesAreRefusedAndTheConnectionGoesOn) {
  // The client's end accepts larger messages than the daemon's.
  RawClient shm = RawClient::Open(shm_url_ + "?max_message=1048576");
  ASSERT_TRUE(shm.ok());
  v1::Call big = MakeCall("d", v1::DICT, v1::SET);
  big.set_key("k");
  *big.mutable_value() = StringValue(std::string(100000, 'x'));
  v1::Request request;
  request.set_id(shm.next_id());
  *request.mutable_call() = big;
  ASSERT_TRUE(shm.Send(request).ok());
  // Refused unread, as on a socket: the answer cannot carry its id.
  auto r = shm.Receive(seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CodeOf(*r), v1::MESSAGE_TOO_LARGE) << r->ShortDebugString();
  EXPECT_EQ(r->id(), 0u);
  EXPECT_EQ(shm.Call(CounterAdd("after", 1)).result().value().int_value(), 1);
}

TEST_F(ShmListenerTest, OversizedFrameBeforeTheHandshakeCloses) {
  RawClient shm = RawClient::Open(shm_url_ + "?max_message=1048576", /*hello=*/false);
  ASSERT_TRUE(shm.ok());
  ASSERT_TRUE(shm.SendBytes(std::string(5000, 'x')).ok());
  auto r = shm.Receive(seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CodeOf(*r), v1::MESSAGE_TOO_LARGE) << r->ShortDebugString();
  EXPECT_TRUE(shm.WaitClosed());
}

TEST_F(ShmListenerTest, AClientThatDoesNotReadStallsNobody) {
  // A 4 KiB ring fills with the answers to 500 requests long before they
  // are read; the daemon keeps them and serves others meanwhile.
  RawClient slow = RawClient::Open(shm_url_ + "?capacity=4096");
  ASSERT_TRUE(slow.ok());
  constexpr int kRequests = 500;
  std::vector<uint64_t> ids;
  for (int i = 0; i < kRequests; ++i) ids.push_back(slow.SendCall(CounterAdd("slow", 1)));
  RawClient other = RawClient::Open(shm_url_);
  EXPECT_EQ(other.Call(CounterAdd("other", 1)).result().value().int_value(), 1);
  for (int i = 0; i < kRequests; ++i) {
    auto r = slow.Receive(seconds(10));
    ASSERT_TRUE(r.ok()) << "answer " << i << ": " << r.status();
    EXPECT_EQ(r->id(), ids[i]);
    EXPECT_EQ(r->result().value().int_value(), i + 1);
  }
}

TEST_F(ShmListenerTest, AnAnswerLargerThanTheRingArrivesWhole) {
  // 30 KB through a 4 KiB ring: the daemon cannot write it in one go and
  // must finish it as the client drains the ring, without a request to
  // prompt it.
  const std::string big(30000, 'v');
  ASSERT_EQ(CodeOf(client_.Call(DictSet("d", "k", StringValue(big)))), v1::OK);
  RawClient shm = RawClient::Open(shm_url_ + "?capacity=4096");
  ASSERT_TRUE(shm.ok());
  v1::Call get = MakeCall("d", v1::DICT, v1::GET);
  get.set_key("k");
  for (int i = 0; i < 3; ++i) {
    const v1::Response r = shm.Call(get);
    EXPECT_EQ(r.result().value().string_value().size(), big.size()) << i << ": " << r.ShortDebugString().substr(0, 200);
  }
}

TEST_F(ShmListenerTest, QueueItemIsNotLostToAGetterWhoseShmPeerIsGone) {
  RawClient getter = RawClient::Open(shm_url_);
  RawClient putter = RawClient::Open(daemon_.url());
  getter.SendCall(MakeCall("q", v1::QUEUE, v1::GET));
  WaitParked(1);
  // The PUT and the getter's close reach a stopped daemon, which sees both
  // in one wake-up.
  ASSERT_EQ(::kill(daemon_.pid(), SIGSTOP), 0);
  v1::Call put = MakeCall("q", v1::QUEUE, v1::PUT);
  *put.mutable_value() = StringValue("precious");
  putter.SendCall(put);
  getter.channel().Close();
  ASSERT_EQ(::kill(daemon_.pid(), SIGCONT), 0);
  auto put_reply = putter.Receive(seconds(5));
  ASSERT_TRUE(put_reply.ok()) << put_reply.status();
  EXPECT_EQ(CodeOf(*put_reply), v1::OK);
  v1::Call get = MakeCall("q", v1::QUEUE, v1::GET);
  get.set_timeout_ms(1000);
  const v1::Response r = client_.Call(get);
  EXPECT_EQ(CodeOf(r), v1::OK) << "the item was lost: " << r.status().message();
  EXPECT_EQ(r.result().value().string_value(), "precious");
}

TEST(ShmListenerOptionsTest, AnUnsupportedSchemeNamesTheOnesThatWork) {
  TempDir dir;
  std::string log;
  EXPECT_EQ(RunIpcd({"--socket", dir.File("s.sock"), "--listen", "mq:///ipcd-nope"}, &log), 2);
  EXPECT_NE(log.find("only unix://, tcp:// and shm:// are supported"), std::string::npos) << log;
}

}  // namespace
}  // namespace ipc::testing
