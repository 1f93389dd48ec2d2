// tcp:// listeners and their HMAC challenge-response (proto/ipcd.proto,
// Authenticate): nothing but Hello and Authenticate is looked at before the
// key is proven.
#include "manager/auth.h"

#include <gtest/gtest.h>

#include <regex>

#include "ipc/message.h"
#include "raw_client.h"
#include "spawn.h"
#include "support/daemon_process.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

constexpr char kKey[] = "correct horse battery staple";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_file_ = keys_.File("key");
    WriteFile(key_file_, std::string(kKey) + "\n", 0600);
    daemon_ = DaemonProcess::Start(
        {"--listen", "tcp://:0", "--authkey-file", key_file_});
    ASSERT_GT(daemon_.pid(), 0);
    std::smatch m;
    const std::string log = daemon_.Stderr();
    ASSERT_TRUE(std::regex_search(
        log, m, std::regex("listening on (tcp://127\\.0\\.0\\.1:[0-9]+)")))
        << log;
    tcp_url_ = m[1];
  }
  void TearDown() override {
    if (daemon_.pid() > 0) {
      EXPECT_EQ(daemon_.Stop(), 0);
    }
  }

  // Hello with a client nonce; returns the reply.
  v1::Response HelloWithNonce(RawClient& c) {
    v1::Response r = c.Hello(v1::PROTOCOL_VERSION_CURRENT, client_nonce_);
    EXPECT_EQ(CodeOf(r), v1::OK);
    EXPECT_TRUE(r.hello().auth_required());
    EXPECT_EQ(r.hello().server_nonce().size(), internal::kAuthNonceSize);
    return r;
  }
  v1::Response Authenticate(RawClient& c, const std::string& proof) {
    v1::Request request;
    request.mutable_authenticate()->set_client_proof(proof);
    return c.Roundtrip(request);
  }
  int64_t ObjectCount() {
    RawClient local = RawClient::Open(daemon_.url());
    return local.List().objects().objects_size();
  }

  TempDir keys_;
  std::string key_file_;
  DaemonProcess daemon_;
  std::string tcp_url_;
  const std::string client_nonce_ = std::string(32, '\x5a');
};

TEST_F(AuthTest, RightKeyAuthenticatesBothWays) {
  RawClient c = RawClient::Open(tcp_url_, false);
  v1::Response hello = HelloWithNonce(c);
  const std::string server_nonce = hello.hello().server_nonce();
  v1::Response r =
      Authenticate(c, internal::ClientProof(kKey, server_nonce, client_nonce_));
  ASSERT_EQ(CodeOf(r), v1::OK) << r.status().message();
  EXPECT_EQ(r.auth().server_proof(),
            internal::ServerProof(kKey, client_nonce_, server_nonce));
  v1::Call add = MakeCall("remote", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(3);
  EXPECT_EQ(c.Call(add).result().value().int_value(), 3);
}

TEST_F(AuthTest, WrongKeyIsRefusedWithAClearErrorAndClosed) {
  RawClient c = RawClient::Open(tcp_url_, false);
  v1::Response hello = HelloWithNonce(c);
  v1::Response r = Authenticate(
      c, internal::ClientProof("wrong key", hello.hello().server_nonce(),
                               client_nonce_));
  EXPECT_EQ(CodeOf(r), v1::PERMISSION_DENIED);
  EXPECT_NE(r.status().message().find("authentication failed"),
            std::string::npos);
  EXPECT_TRUE(r.auth().server_proof().empty());
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_NE(daemon_.Stderr().find("failed authentication"), std::string::npos);
}

TEST_F(AuthTest, CallBeforeAuthenticateIsRefusedAndNotRun) {
  RawClient c = RawClient::Open(tcp_url_, false);
  HelloWithNonce(c);
  v1::Call add = MakeCall("sneaky", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  v1::Response r = c.Call(add);
  EXPECT_EQ(CodeOf(r), v1::PERMISSION_DENIED);
  EXPECT_NE(r.status().message().find("authentication required"),
            std::string::npos);
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(ObjectCount(), 0);
}

TEST_F(AuthTest, PipelinedCallAfterWrongKeyIsNeverRun) {
  RawClient c = RawClient::Open(tcp_url_, false);
  v1::Response hello = HelloWithNonce(c);
  v1::Request auth;
  auth.set_id(c.next_id());
  auth.mutable_authenticate()->set_client_proof(std::string(32, '\0'));
  ASSERT_TRUE(c.Send(auth).ok());
  v1::Call add = MakeCall("after-bad-auth", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  c.SendCall(add);
  auto r = c.Receive();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(CodeOf(*r), v1::PERMISSION_DENIED);
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(ObjectCount(), 0);
}

TEST_F(AuthTest, UnixSocketNeedsNoKey) {
  RawClient local = RawClient::Open(daemon_.url(), false);
  v1::Response r = local.Hello();
  EXPECT_FALSE(r.hello().auth_required());
  EXPECT_EQ(CodeOf(local.Stats()), v1::OK);
}

TEST(AuthStartupTest, TcpListenerWithoutKeyRefusesToStart) {
  TempDir dir;
  std::string log;
  EXPECT_EQ(
      RunIpcd({"--socket", dir.File("s.sock"), "--listen", "tcp://:0"}, &log),
      2);
  EXPECT_NE(log.find("--authkey-file"), std::string::npos) << log;
  EXPECT_NE(log.find("<3>ipcd: "), std::string::npos) << log;
}

TEST(AuthStartupTest, KeyFileReadableByOthersIsRefused) {
  TempDir dir;
  WriteFile(dir.File("key"), "k", 0644);
  std::string log;
  EXPECT_EQ(RunIpcd({"--socket", dir.File("s.sock"), "--listen", "tcp://:0",
                     "--authkey-file", dir.File("key")},
                    &log),
            2);
  EXPECT_NE(log.find("authkey-file"), std::string::npos) << log;
}

}  // namespace
}  // namespace ipc::testing
