// The handshake and every kind of bad input: each gets an error response
// or a closed connection, and the daemon keeps serving everyone else.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "ipcd_fixture.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

class ProtocolTest : public IpcdTest {};

TEST_F(ProtocolTest, HelloReplyDescribesTheDaemon) {
  RawClient c = RawClient::Open(daemon_.url(), /*hello=*/false);
  v1::Response r = c.Hello();
  ASSERT_EQ(CodeOf(r), v1::OK);
  EXPECT_EQ(r.hello().protocol_version(), 1u);
  EXPECT_EQ(r.hello().server_version().rfind("ipcd ", 0), 0u);
  EXPECT_FALSE(r.hello().auth_required());  // unix listener.
  EXPECT_GT(r.hello().session_id(), 0u);
}

TEST_F(ProtocolTest, WrongVersionIsUnsupportedThenClosed) {
  RawClient c = RawClient::Open(daemon_.url(), false);
  v1::Response r = c.Hello(/*version=*/2);
  EXPECT_EQ(CodeOf(r), v1::UNSUPPORTED);
  EXPECT_NE(r.status().message().find("version 2"), std::string::npos);
  EXPECT_TRUE(c.WaitClosed());
  ExpectServing();
}

TEST_F(ProtocolTest, RequestBeforeHelloIsRefusedThenClosed) {
  RawClient c = RawClient::Open(daemon_.url(), false);
  v1::Call call = MakeCall("x", v1::COUNTER, v1::ADD);
  *call.mutable_value() = IntValue(1);
  v1::Response r = c.Call(call);
  EXPECT_EQ(CodeOf(r), v1::PROTOCOL_ERROR);
  EXPECT_NE(r.status().message().find("Hello"), std::string::npos);
  EXPECT_TRUE(c.WaitClosed());
  // Nothing was run.
  EXPECT_EQ(client_.List().objects().objects_size(), 0);
}

TEST_F(ProtocolTest, RepeatedHelloIsAnErrorAndTheConnectionStaysUsable) {
  v1::Response r = client_.Hello();
  EXPECT_EQ(CodeOf(r), v1::PROTOCOL_ERROR);
  EXPECT_EQ(CodeOf(client_.Stats()), v1::OK);
}

TEST_F(ProtocolTest, GarbageBytesGiveAnErrorWithIdZeroAndClose) {
  ASSERT_TRUE(
      client_.SendBytes(std::string("\xff\xff\xff\xff garbage", 13)).ok());
  auto r = client_.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), 0u);
  EXPECT_EQ(CodeOf(*r), v1::PROTOCOL_ERROR);
  EXPECT_TRUE(client_.WaitClosed());
  ExpectServing();
}

TEST_F(ProtocolTest, GarbageAsFirstFrameIsRefusedAndClosed) {
  RawClient c = RawClient::Open(daemon_.url(), false);
  ASSERT_TRUE(c.SendBytes("\x08").ok());  // A truncated varint.
  auto r = c.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CodeOf(*r), v1::PROTOCOL_ERROR);
  EXPECT_TRUE(c.WaitClosed());
  ExpectServing();
}

TEST_F(ProtocolTest, TruncatedProtobufIsRefused) {
  v1::Request request;
  request.set_id(5);
  v1::Call* call = request.mutable_call();
  call->set_object("truncated-object-name");
  call->set_kind(v1::COUNTER);
  call->set_op(v1::ADD);
  std::string bytes = request.SerializeAsString();
  bytes.resize(bytes.size() - 6);
  ASSERT_TRUE(client_.SendBytes(bytes).ok());
  auto r = client_.Receive();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(), 0u);
  EXPECT_EQ(CodeOf(*r), v1::PROTOCOL_ERROR);
  EXPECT_TRUE(client_.WaitClosed());
  ExpectServing();
}

// An empty frame parses as a Request with id 0, which is reserved: refused,
// and the connection goes on.
TEST_F(ProtocolTest, EmptyFrameIsARequestWithTheReservedIdZero) {
  ASSERT_TRUE(client_.SendBytes("").ok());
  auto r = client_.Receive();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(), 0u);
  EXPECT_EQ(CodeOf(*r), v1::PROTOCOL_ERROR);
  EXPECT_EQ(CodeOf(client_.Stats()), v1::OK);
}

TEST_F(ProtocolTest, UnknownOpIsUnsupported) {
  v1::Call call = MakeCall("x", v1::COUNTER, static_cast<v1::Op>(99));
  v1::Response r = client_.Call(call);
  EXPECT_EQ(CodeOf(r), v1::UNSUPPORTED);
  EXPECT_NE(r.status().message().find("99"), std::string::npos);
  EXPECT_EQ(
      CodeOf(client_.Call(MakeCall("x", v1::COUNTER, v1::OP_UNSPECIFIED))),
      v1::UNSUPPORTED);
  // An op the kind lacks.
  r = client_.Call(MakeCall("x", v1::LOCK, v1::PUT));
  EXPECT_EQ(CodeOf(r), v1::UNSUPPORTED);
  EXPECT_EQ(client_.List().objects().objects_size(), 0);
}

TEST_F(ProtocolTest, UnknownKindAndMissingKindAreInvalid) {
  EXPECT_EQ(
      CodeOf(client_.Call(MakeCall("x", static_cast<v1::Kind>(42), v1::GET))),
      v1::INVALID_ARGUMENT);
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("x", v1::KIND_UNSPECIFIED, v1::GET))),
            v1::INVALID_ARGUMENT);
}

TEST_F(ProtocolTest, WrongKindNamesBothKinds) {
  v1::Call set = MakeCall("cfg", v1::DICT, v1::SET);
  set.set_key("k");
  *set.mutable_value() = IntValue(1);
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  v1::Call add = MakeCall("cfg", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  v1::Response r = client_.Call(add);
  EXPECT_EQ(CodeOf(r), v1::INVALID_ARGUMENT);
  EXPECT_EQ(r.status().message(), "object 'cfg' is a dict, not a counter");
}

TEST_F(ProtocolTest, BadObjectNamesAreInvalid) {
  for (const std::string& name :
       {std::string(), std::string(256, 'n'), std::string("tab\there"),
        std::string("nul\0x", 5), std::string("del\x7f")}) {
    v1::Response r = client_.Call(MakeCall(name, v1::COUNTER, v1::GET));
    EXPECT_EQ(CodeOf(r), v1::INVALID_ARGUMENT)
        << "name of size " << name.size();
    EXPECT_NE(r.status().message().find("bad object name"), std::string::npos);
  }
  EXPECT_EQ(CodeOf(client_.Call(
                MakeCall(std::string(255, 'n'), v1::COUNTER, v1::GET))),
            v1::OK);
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("caf\xc3\xa9", v1::COUNTER, v1::GET))),
            v1::OK);
}

TEST_F(ProtocolTest, MissingArgumentsAreInvalid) {
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("c", v1::COUNTER, v1::ADD))),
            v1::INVALID_ARGUMENT);
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("c", v1::COUNTER, v1::SET))),
            v1::INVALID_ARGUMENT);
  v1::Call cas = MakeCall("c", v1::COUNTER, v1::COMPARE_AND_SET);
  *cas.mutable_value() = IntValue(1);
  EXPECT_EQ(CodeOf(client_.Call(cas)), v1::INVALID_ARGUMENT);
  v1::Call set = MakeCall("d", v1::DICT, v1::SET);
  *set.mutable_value() = IntValue(1);
  EXPECT_EQ(CodeOf(client_.Call(set)), v1::INVALID_ARGUMENT);  // No key.
  set = MakeCall("d", v1::DICT, v1::SET);
  set.set_key("k");
  EXPECT_EQ(CodeOf(client_.Call(set)), v1::INVALID_ARGUMENT);  // No value.
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("q", v1::QUEUE, v1::PUT))),
            v1::INVALID_ARGUMENT);
  v1::Call wait = MakeCall("e", v1::EVENT, v1::WAIT);
  wait.set_timeout_ms(-1);
  EXPECT_EQ(CodeOf(client_.Call(wait)), v1::INVALID_ARGUMENT);
  // A failed first use creates nothing.
  EXPECT_EQ(client_.List().objects().objects_size(), 0);
}

TEST_F(ProtocolTest, AuthenticateOnAUnixListenerIsAnError) {
  v1::Request request;
  request.mutable_authenticate()->set_client_proof("x");
  EXPECT_EQ(CodeOf(client_.Roundtrip(request)), v1::PROTOCOL_ERROR);
  EXPECT_EQ(CodeOf(client_.Stats()), v1::OK);
}

TEST_F(ProtocolTest, PeerThatVanishesMidFrameDoesNotDisturbOthers) {
  {
    auto channel = Connect(daemon_.url());
    ASSERT_TRUE(channel.ok());
    // A raw header announcing 1000 bytes, then nothing: the peer dies.
    const int fd = channel->fd();
    const char header[4] = {static_cast<char>(0xe8), 0x03, 0, 0};
    ASSERT_EQ(::write(fd, header, 4), 4);
    ASSERT_EQ(::write(fd, "abc", 3), 3);
  }
  ExpectServing();
}

TEST_F(ProtocolTest, ManyGarbageConnectionsLeaveTheDaemonAlive) {
  for (int i = 0; i < 20; ++i) {
    RawClient c = RawClient::Open(daemon_.url(), false);
    std::string junk(static_cast<size_t>(i * 7 + 1), static_cast<char>(i * 37));
    (void)c.SendBytes(junk);
  }
  ExpectServing();
}

TEST(HandshakeTimeoutTest, SilentConnectionIsClosedAndFreesItsSlot) {
  DaemonProcess daemon =
      DaemonProcess::Start({"--handshake-timeout-ms", "100", "--max-clients", "2"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient silent = RawClient::Open(daemon.url(), /*hello=*/false);
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_NE(daemon.Stderr().find("no handshake within"), std::string::npos);
  // Connections that did their Hello are not affected by the timeout.
  RawClient talker = RawClient::Open(daemon.url());
  RawClient second = RawClient::Open(daemon.url());
  EXPECT_EQ(CodeOf(talker.Stats()), v1::OK);
  EXPECT_EQ(CodeOf(second.Stats()), v1::OK);
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST_F(ProtocolTest, DeeplyNestedValueIsRefusedNotACrash) {
  // Far past the parser's limit (kParseRecursionLimit, 1000). Less far under
  // TSan, which records the call stack of every allocation: building,
  // copying and freeing 5,000 levels takes this process 15 to 50 s there.
  const int depth = kThreadSanitizer ? 1500 : 5000;
  v1::Value deep;
  v1::Value* v = &deep;
  for (int i = 0; i < depth; ++i) v = v->mutable_list_value()->add_items();
  v->set_int_value(1);
  v1::Call set = MakeCall("deep", v1::DICT, v1::SET);
  set.set_key("k");
  *set.mutable_value() = deep;
  v1::Request request;
  request.set_id(9);
  *request.mutable_call() = set;
  ASSERT_TRUE(client_.SendBytes(request.SerializeAsString()).ok());
  auto r = client_.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CodeOf(*r), v1::PROTOCOL_ERROR);
  ExpectServing();
}

TEST_F(ProtocolTest, RandomFramesNeverBringTheDaemonDown) {
  std::mt19937 random(12345);
  for (int i = 0; i < 150; ++i) {
    RawClient c = RawClient::Open(daemon_.url(), /*hello=*/i % 3 != 0);
    std::string frame(random() % 64, '\0');
    for (char& ch : frame) ch = static_cast<char>(random());
    ASSERT_TRUE(c.SendBytes(frame).ok());
    // Whatever it was, the daemon answers it, closes the connection or
    // (for a frame that happens to be a valid blocking call) parks it.
    auto r = c.Receive(std::chrono::seconds(1));
    if (!r.ok()) {
      EXPECT_TRUE(r.status().code() == ErrorCode::kClosed ||
                  r.status().code() == ErrorCode::kProtocolError ||
                  r.status().code() == ErrorCode::kDeadlineExceeded)
          << r.status();
    }
  }
  ExpectServing();
}

}  // namespace
}  // namespace ipc::testing
