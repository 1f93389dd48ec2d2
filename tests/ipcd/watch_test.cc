// Watch and Unwatch through the raw protocol: events share a connection
// with calls and carry the Watch's id, Unwatch ends them, a watch of a
// kind ignores other kinds under its name, and the per-connection limit.
#include <gtest/gtest.h>

#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

class WatchProtocolTest : public IpcdTest {
 protected:
  // Watch ids are kWatchIds + n, apart from the ids RawClient numbers
  // its calls with.
  static constexpr uint64_t kWatchIds = 1000000;

  // Sends a Watch with id kWatchIds + n and returns its first answer.
  v1::Response Watch(uint64_t n, const std::string& object,
                     v1::Kind kind = v1::KIND_UNSPECIFIED) {
    v1::Request request;
    request.set_id(kWatchIds + n);
    request.mutable_watch()->set_object(object);
    request.mutable_watch()->set_kind(kind);
    EXPECT_TRUE(client_.Send(request).ok());
    auto response = client_.Receive();
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::Response();
  }
  v1::Response Unwatch(uint64_t n) {
    v1::Request request;
    request.mutable_unwatch()->set_watch_id(kWatchIds + n);
    return client_.Roundtrip(request);
  }
  // Sends call and reads two responses: the event it causes (id watch_id)
  // and its own answer, in the order they come.
  std::vector<v1::Response> CallAndEvent(const v1::Call& call) {
    const uint64_t id = client_.SendCall(call);
    std::vector<v1::Response> got;
    for (int i = 0; i < 2; ++i) {
      auto r = client_.Receive();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      got.push_back(*r);
    }
    EXPECT_EQ(got.size(), 2u);
    if (got.size() == 2) {
      EXPECT_EQ(got[1].id(), id) << "the call's answer";
    }
    return got;
  }
  static v1::Call Add(const std::string& name, int64_t n) {
    v1::Call call = MakeCall(name, v1::COUNTER, v1::ADD);
    *call.mutable_value() = IntValue(n);
    return call;
  }
};

TEST_F(WatchProtocolTest, EventsShareTheConnectionWithCallsAndCarryTheWatchId) {
  const v1::Response first = Watch(500, "hits");
  EXPECT_EQ(first.id(), kWatchIds + 500);
  ASSERT_TRUE(first.has_event());
  EXPECT_TRUE(first.event().resync());
  EXPECT_FALSE(first.event().exists());

  const std::vector<v1::Response> got = CallAndEvent(Add("hits", 2));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id(), kWatchIds + 500) << "the event comes before the call's answer";
  EXPECT_EQ(got[0].event().op(), v1::ADD);
  EXPECT_EQ(got[0].event().value().int_value(), 2);
  EXPECT_GT(got[0].event().version(), first.event().version());
  EXPECT_EQ(got[1].result().value().int_value(), 2);

  EXPECT_EQ(CodeOf(Unwatch(500)), v1::OK);
  // Call checks that the next answer is the call's: no event came first.
  const v1::Response after = client_.Call(Add("hits", 1));
  EXPECT_EQ(after.result().value().int_value(), 3);
  const v1::Response again = Unwatch(500);
  EXPECT_EQ(CodeOf(again), v1::NOT_FOUND);
  EXPECT_NE(again.status().message().find("1000500"), std::string::npos);
  EXPECT_EQ(client_.Stats().stats().watches(), 0);
}

TEST_F(WatchProtocolTest, AWatchOfAKindIgnoresOtherKindsUnderItsName) {
  v1::Call set = MakeCall("cfg", v1::DICT, v1::SET);
  set.set_key("k");
  *set.mutable_value() = IntValue(1);
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  const v1::Response wrong = Watch(7, "cfg", v1::COUNTER);
  EXPECT_EQ(CodeOf(wrong), v1::INVALID_ARGUMENT);
  EXPECT_NE(wrong.status().message().find("is a dict, not a counter"),
            std::string::npos)
      << wrong.status().message();

  // A counter watch of a free name: a dict made there is not its business.
  ASSERT_TRUE(Watch(8, "later", v1::COUNTER).event().resync());
  v1::Call dict = set;
  dict.set_object("later");
  // Call checks that the next answer is the call's: no event came first.
  EXPECT_EQ(CodeOf(client_.Call(dict)), v1::OK);
  v1::Call destroy = MakeCall("later", v1::KIND_UNSPECIFIED, v1::DESTROY);
  const std::vector<v1::Response> got = CallAndEvent(destroy);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event().op(), v1::DESTROY) << "its removal frees the name";
  EXPECT_FALSE(got[0].event().exists());
  const std::vector<v1::Response> made = CallAndEvent(Add("later", 4));
  ASSERT_EQ(made.size(), 2u);
  EXPECT_EQ(made[0].event().value().int_value(), 4);
}

TEST_F(WatchProtocolTest, AConnectionHoldsAtMost1024Watches) {
  for (uint64_t id = 1; id <= 1024; ++id) {
    ASSERT_TRUE(Watch(id, "w" + std::to_string(id)).has_event()) << id;
  }
  const v1::Response over = Watch(2000, "one-more");
  EXPECT_EQ(CodeOf(over), v1::RESOURCE_EXHAUSTED);
  EXPECT_NE(over.status().message().find("1024 watches"), std::string::npos)
      << over.status().message();
  const v1::Response reused = Watch(5, "w5");
  EXPECT_EQ(CodeOf(reused), v1::RESOURCE_EXHAUSTED);

  RawClient other = RawClient::Open(daemon_.url());
  EXPECT_EQ(other.Stats().stats().watches(), 1024);
  client_ = RawClient();  // Closed: its watches end with it.
  for (;;) {
    if (other.Stats().stats().watches() == 0) break;
  }
  EXPECT_EQ(CodeOf(other.Call(Add("w1", 1))), v1::OK);
}

TEST_F(WatchProtocolTest, AWatchIdInUseIsRefused) {
  ASSERT_TRUE(Watch(9, "a").has_event());
  const v1::Response twice = Watch(9, "b");
  EXPECT_EQ(CodeOf(twice), v1::INVALID_ARGUMENT);
  EXPECT_NE(twice.status().message().find("id 1000009"), std::string::npos);
  v1::Request keyed;
  keyed.mutable_watch()->set_object("a");
  keyed.mutable_watch()->set_kind(v1::QUEUE);
  keyed.mutable_watch()->set_key("k");
  EXPECT_EQ(CodeOf(client_.Roundtrip(keyed)), v1::INVALID_ARGUMENT);
  EXPECT_EQ(client_.Stats().stats().watches(), 1);
}

}  // namespace
}  // namespace ipc::testing
