// A client of ipcd's unix socket moves to shared memory on its own: the
// HelloReply offers the daemon's shm:// upgrade listener and a single-use
// token (loop/shm_upgrades.h); ipc::Manager takes it, and stays on the
// socket when it cannot. The token rules are checked with raw clients.
#include <gtest/gtest.h>

#include <chrono>
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

// A Hello with the given upgrade fields, on a connection that has not said
// hello yet.
v1::Response SayHello(RawClient& client, bool want_shm, const std::string& token = "") {
  v1::Request request;
  v1::Hello* hello = request.mutable_hello();
  hello->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  hello->set_client_name("upgrade-test");
  hello->set_want_shm(want_shm);
  hello->set_shm_token(token);
  return client.Roundtrip(request);
}

using ShmUpgradeTest = IpcdTest;

TEST_F(ShmUpgradeTest, ManagerMovesToSharedMemoryAndServesAsBefore) {
  auto manager = Manager::Connect(daemon_.url());
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_EQ(manager->url(), daemon_.url());
  EXPECT_TRUE(manager->channel_url().starts_with("shm://ipcd-")) << manager->channel_url();
  EXPECT_EQ(manager->Counter("hits").Add(5).value(), 5);
  auto guard = manager->Lock("l").Acquire(seconds(5));
  ASSERT_TRUE(guard.ok()) << guard.status();
  // The same store as the unix socket's.
  EXPECT_EQ(client_.Call(CounterAdd("hits", 1)).result().value().int_value(), 6);
  EXPECT_NE(daemon_.Stderr().find("for unix socket clients moving to shared memory"),
            std::string::npos)
      << daemon_.Stderr();
}

TEST_F(ShmUpgradeTest, ManagerStaysOnTheSocketWhenToldTo) {
  auto manager = Manager::Connect(daemon_.url(), {.shared_memory = false});
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_EQ(manager->channel_url(), daemon_.url());
  EXPECT_EQ(manager->Counter("hits").Add(1).value(), 1);
}

TEST_F(ShmUpgradeTest, AnOfferOnlyForThoseWhoAsk) {
  RawClient plain = RawClient::Open(daemon_.url(), /*hello=*/false);
  ASSERT_TRUE(plain.ok());
  const v1::Response reply = SayHello(plain, /*want_shm=*/false);
  ASSERT_EQ(CodeOf(reply), v1::OK);
  EXPECT_TRUE(reply.hello().shm_url().empty());
  EXPECT_TRUE(reply.hello().shm_token().empty());
}

// The token: required on the upgrade listener, 32 random bytes, single
// use, and void once the unix session that got it is gone.
TEST_F(ShmUpgradeTest, TheUpgradeListenerTakesOnlyAFreshToken) {
  RawClient unix_client = RawClient::Open(daemon_.url(), /*hello=*/false);
  ASSERT_TRUE(unix_client.ok());
  const v1::Response offer = SayHello(unix_client, /*want_shm=*/true);
  ASSERT_EQ(CodeOf(offer), v1::OK);
  const std::string url = offer.hello().shm_url();
  const std::string token = offer.hello().shm_token();
  ASSERT_TRUE(url.starts_with("shm://")) << offer.ShortDebugString();
  ASSERT_EQ(token.size(), 32u);

  for (const std::string& bad : {std::string(), std::string(32, 'x'), token.substr(0, 31)}) {
    RawClient intruder = RawClient::Open(url, /*hello=*/false);
    ASSERT_TRUE(intruder.ok());
    const v1::Response refused = SayHello(intruder, false, bad);
    EXPECT_EQ(CodeOf(refused), v1::PERMISSION_DENIED) << refused.ShortDebugString();
    EXPECT_TRUE(intruder.WaitClosed());
  }

  RawClient moved = RawClient::Open(url, /*hello=*/false);
  ASSERT_TRUE(moved.ok());
  const v1::Response welcome = SayHello(moved, false, token);
  ASSERT_EQ(CodeOf(welcome), v1::OK) << welcome.ShortDebugString();
  EXPECT_TRUE(welcome.hello().shm_url().empty()) << "no offer on the shm listener";
  EXPECT_EQ(moved.Call(CounterAdd("moved", 2)).result().value().int_value(), 2);

  RawClient again = RawClient::Open(url, /*hello=*/false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(CodeOf(SayHello(again, false, token)), v1::PERMISSION_DENIED) << "used twice";

  // A token whose unix session has closed is void.
  RawClient leaver = RawClient::Open(daemon_.url(), /*hello=*/false);
  ASSERT_TRUE(leaver.ok());
  const std::string orphan = SayHello(leaver, true).hello().shm_token();
  ASSERT_EQ(orphan.size(), 32u);
  leaver.channel().Close();
  ExpectServing();  // The daemon has seen the close by the time it answers.
  RawClient late = RawClient::Open(url, /*hello=*/false);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(CodeOf(SayHello(late, false, orphan)), v1::PERMISSION_DENIED);
}

class NoUpgradeTest : public IpcdTest {
 protected:
  std::vector<std::string> DaemonArgs() const override {
    return {"--shm-upgrade", "false"};
  }
};

TEST_F(NoUpgradeTest, ADaemonWithoutUpgradesKeepsClientsOnTheSocket) {
  RawClient asker = RawClient::Open(daemon_.url(), /*hello=*/false);
  ASSERT_TRUE(asker.ok());
  EXPECT_TRUE(SayHello(asker, true).hello().shm_url().empty());
  auto manager = Manager::Connect(daemon_.url());
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_EQ(manager->channel_url(), daemon_.url());
  EXPECT_EQ(manager->Counter("hits").Add(1).value(), 1);
}

// A daemon restarted under a client on shared memory: a call in flight
// gives kClosed (it may have been applied), and the next call reconnects
// through the socket and moves to the new daemon's shared memory.
TEST(ShmUpgradeRestartTest, ADaemonRestartUnderAnShmClient) {
  TempDir dir;
  const std::string socket = dir.File("ipcd.sock");
  auto first = std::make_unique<SpawnedIpcd>(
      SpawnOptions{.args = {"--socket", socket}, .stderr_file = dir.File("first.log")});
  auto manager = Manager::Connect("unix://" + socket, {.wait_for_daemon = seconds(20)});
  ASSERT_TRUE(manager.ok()) << manager.status();
  const std::string before = manager->channel_url();
  ASSERT_TRUE(before.starts_with("shm://")) << before;
  ASSERT_EQ(manager->Counter("c").Add(1).value(), 1);

  Result<Value> interrupted = Value();
  std::thread waiter([&] { interrupted = manager->Queue("q").Get(seconds(30)); });
  auto observer = Manager::Connect("unix://" + socket);
  ASSERT_TRUE(observer.ok()) << observer.status();
  for (int i = 0; i < 500; ++i) {  // Until the Get is parked in the daemon.
    auto objects = observer->ListObjects();
    if (objects.ok() && !objects->empty() && objects->front().waiters > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(first->Stop(), 0);
  waiter.join();
  EXPECT_EQ(interrupted.status().code(), ErrorCode::kClosed) << interrupted.status();

  SpawnedIpcd second({.args = {"--socket", socket}, .stderr_file = dir.File("second.log")});
  ASSERT_EQ(manager->Counter("c").Add(1).value(), 1) << "a fresh daemon, a fresh counter";
  const std::string after = manager->channel_url();
  EXPECT_TRUE(after.starts_with("shm://")) << after;
  EXPECT_NE(after, before) << "each daemon has its own upgrade listener";
}

}  // namespace
}  // namespace ipc::testing
