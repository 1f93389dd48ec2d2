// The client side of the protocol against scripted fake daemons: what it
// does with a wrong protocol version, a daemon that cannot prove the key,
// a connection lost after a request was sent (never re-sent), and a daemon
// that does not answer a blocking call in time.
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "ipc/channel.h"
#include "ipc/message.h"
#include "manager/manager_fixture.h"
#include "proto/ipcd.pb.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Serves the connections a test's client makes, one after another, each
// with the next handler; a handler returns when it is done with its
// connection (which is then closed).
class FakeDaemon {
 public:
  using Handler = std::function<void(Channel&)>;

  explicit FakeDaemon(std::vector<Handler> handlers)
      : url_("unix://" + dir_.File("fake.sock")) {
    auto listener = Listen(url_);
    if (!listener.ok()) std::abort();
    listener_ = std::move(*listener);
    thread_ = std::thread([this, handlers = std::move(handlers)] {
      for (const Handler& handler : handlers) {
        auto channel = listener_.Accept(seconds(30));
        if (!channel.ok()) return;
        handler(*channel);
      }
    });
  }
  ~FakeDaemon() { thread_.join(); }

  const std::string& url() const { return url_; }

 private:
  TempDir dir_;
  std::string url_;
  Listener listener_;
  std::thread thread_;
};

ipcd::v1::Request Read(Channel& channel) {
  auto request = ReceiveMessage<ipcd::v1::Request>(channel, seconds(30));
  return request.ok() ? *request : ipcd::v1::Request();
}

void Answer(Channel& channel, const ipcd::v1::Request& request,
            ipcd::v1::Response response) {
  response.set_id(request.id());
  (void)SendMessage(channel, response);
}

// Answers the Hello like a daemon that needs no key.
void SayHello(Channel& channel, uint32_t version = 1) {
  const ipcd::v1::Request hello = Read(channel);
  ipcd::v1::Response response;
  response.mutable_hello()->set_protocol_version(version);
  response.mutable_hello()->set_server_version("fake");
  Answer(channel, hello, response);
}

// A daemon whose offer of shared memory leads nowhere: the client stays on
// the socket and works as before.
TEST(ManagerHandshakeTest, AnShmOfferThatFailsLeavesTheClientOnTheSocket) {
  ipcd::v1::Request call;
  FakeDaemon fake({[&](Channel& channel) {
    const ipcd::v1::Request hello = Read(channel);
    EXPECT_TRUE(hello.hello().want_shm());
    ipcd::v1::Response response;
    response.mutable_hello()->set_protocol_version(1);
    response.mutable_hello()->set_shm_url("shm://" + UniqueName("nobody-listens"));
    response.mutable_hello()->set_shm_token(std::string(32, 't'));
    Answer(channel, hello, response);
    call = Read(channel);
    ipcd::v1::Response result;
    result.mutable_result()->mutable_value()->set_int_value(7);
    Answer(channel, call, result);
  }});
  auto manager = Manager::Connect(fake.url());
  ASSERT_OK(manager);
  EXPECT_EQ(manager->channel_url(), fake.url());
  EXPECT_EQ(manager->Counter("c").Add(7).value_or(0), 7);
  EXPECT_EQ(call.call().object(), "c");
}

TEST(ManagerHandshakeTest, OtherProtocolVersionIsUnsupported) {
  FakeDaemon fake({[](Channel& channel) { SayHello(channel, 2); }});
  auto manager = Manager::Connect(fake.url());
  EXPECT_CODE(manager, ErrorCode::kUnsupported);
  EXPECT_NE(manager.status().message().find("version 2"), std::string::npos)
      << manager.status();
}

TEST(ManagerHandshakeTest, HelloRefusedWithUnsupportedIsUnsupported) {
  FakeDaemon fake({[](Channel& channel) {
    const ipcd::v1::Request hello = Read(channel);
    ipcd::v1::Response response;
    response.mutable_status()->set_code(ipcd::v1::UNSUPPORTED);
    response.mutable_status()->set_message(
        "protocol version 1 is not spoken here");
    Answer(channel, hello, response);
  }});
  EXPECT_CODE(Manager::Connect(fake.url()), ErrorCode::kUnsupported);
}

TEST(ManagerHandshakeTest, DaemonThatCannotProveTheKeyIsRefused) {
  bool saw_nonce = false;
  FakeDaemon fake({[&](Channel& channel) {
    const ipcd::v1::Request hello = Read(channel);
    saw_nonce = hello.hello().client_nonce().size() == 32;
    ipcd::v1::Response response;
    response.mutable_hello()->set_protocol_version(1);
    response.mutable_hello()->set_auth_required(true);
    response.mutable_hello()->set_server_nonce(std::string(32, 'n'));
    Answer(channel, hello, response);
    // Accepts any proof, but cannot sign the client's nonce.
    const ipcd::v1::Request auth = Read(channel);
    ipcd::v1::Response reply;
    reply.mutable_auth()->set_server_proof(std::string(32, 'x'));
    Answer(channel, auth, reply);
  }});
  auto manager = Manager::Connect(fake.url(), {.authkey = "secret"});
  EXPECT_CODE(manager, ErrorCode::kPermissionDenied);
  EXPECT_NE(manager.status().message().find("could not prove"),
            std::string::npos)
      << manager.status();
  EXPECT_TRUE(saw_nonce);
}

TEST(ManagerHandshakeTest, CallLostAfterSendingIsClosedAndNotSentAgain) {
  int adds_received = 0;
  ipcd::v1::Op next_op = ipcd::v1::OP_UNSPECIFIED;
  FakeDaemon fake({
      [&](Channel& channel) {
        SayHello(channel);
        // The Add arrives; the "daemon" dies before answering.
        if (Read(channel).call().op() == ipcd::v1::ADD) ++adds_received;
      },
      [&](Channel& channel) {
        SayHello(channel);
        const ipcd::v1::Request request = Read(channel);
        next_op = request.call().op();
        if (next_op == ipcd::v1::ADD) ++adds_received;
        ipcd::v1::Response response;
        response.mutable_result()->mutable_value()->set_int_value(7);
        Answer(channel, request, response);
      },
  });
  auto manager = Manager::Connect(fake.url());
  ASSERT_OK(manager);
  auto counter = manager->Counter("c");
  EXPECT_CODE(counter.Add(1), ErrorCode::kClosed);
  // The next call reconnects and carries itself only, not the lost Add.
  EXPECT_EQ(counter.Get().value_or(0), 7);
  EXPECT_EQ(adds_received, 1);
  EXPECT_EQ(next_op, ipcd::v1::GET);
}

TEST(ManagerHandshakeTest, BlockingCallCarriesItsTimeout) {
  bool infinite_unset = false;
  int64_t now_ms = -1, timed_ms = -1;
  FakeDaemon fake({[&](Channel& channel) {
    SayHello(channel);
    for (int i = 0; i < 3; ++i) {
      const ipcd::v1::Request request = Read(channel);
      const ipcd::v1::Call& call = request.call();
      if (i == 0) infinite_unset = !call.has_timeout_ms();
      if (i == 1) now_ms = call.timeout_ms();
      if (i == 2) timed_ms = call.timeout_ms();
      ipcd::v1::Response response;
      response.mutable_result()->mutable_value()->set_string_value("item");
      Answer(channel, request, response);
    }
  }});
  auto manager = Manager::Connect(fake.url());
  ASSERT_OK(manager);
  auto queue = manager->Queue("q");
  ASSERT_OK(queue.Get());
  ASSERT_OK(queue.Get(Deadline::Now()));
  ASSERT_OK(queue.Get(seconds(100)));
  EXPECT_TRUE(infinite_unset);
  EXPECT_EQ(now_ms, 0);
  EXPECT_GT(timed_ms, 90000);
  EXPECT_LE(timed_ms, 100000);
}

TEST(ManagerHandshakeTest, NoAnswerWithinTheGraceDropsTheConnection) {
  FakeDaemon fake({
      [](Channel& channel) {
        SayHello(channel);
        (void)Read(channel);  // Never answers the Get...
        (void)Read(channel);  // ...and waits until the client hangs up.
      },
      [](Channel& channel) {
        SayHello(channel);
        const ipcd::v1::Request request = Read(channel);
        Answer(channel, request, ipcd::v1::Response());
      },
  });
  auto manager = Manager::Connect(fake.url());
  ASSERT_OK(manager);
  EXPECT_CODE(manager->Queue("q").Get(milliseconds(10)),
              ErrorCode::kDeadlineExceeded);
  // A new connection serves the next call.
  ASSERT_OK(manager->Counter("c").Set(1));
}

}  // namespace
}  // namespace ipc::testing
