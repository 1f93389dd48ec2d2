// Each configured limit: the client that exceeds it gets a clear error
// naming the limit, nothing changes, and other clients are unaffected.
#include <gtest/gtest.h>

#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

class LimitsTest : public IpcdTest {
 protected:
  std::vector<std::string> DaemonArgs() const override {
    return {"--max-frame-bytes",
            "4096",
            "--max-clients",
            "3",
            "--max-pending-per-client",
            "4",
            "--max-objects",
            "5",
            "--max-bytes",
            "1000"};
  }
};

TEST_F(LimitsTest, StatsReportTheLimits) {
  v1::Response r = client_.Stats();
  const v1::Limits& l = r.stats().limits();
  EXPECT_EQ(l.max_frame_bytes(), 4096);
  EXPECT_EQ(l.max_clients(), 3);
  EXPECT_EQ(l.max_pending_per_client(), 4);
  EXPECT_EQ(l.max_objects(), 5);
  EXPECT_EQ(l.max_bytes(), 1000);
  EXPECT_EQ(r.stats().clients(), 1);
}

TEST_F(LimitsTest, OversizedFrameIsRefusedAndTheConnectionGoesOn) {
  v1::Call set = MakeCall("big", v1::DICT, v1::SET);
  set.set_key("k");
  *set.mutable_value() = StringValue(std::string(5000, 'x'));
  client_.SendCall(set);
  auto r = client_.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  // The frame was refused unread, so the daemon cannot know its id.
  EXPECT_EQ(r->id(), 0u);
  EXPECT_EQ(CodeOf(*r), v1::MESSAGE_TOO_LARGE);
  EXPECT_NE(r->status().message().find("max_frame_bytes"), std::string::npos);
  EXPECT_EQ(CodeOf(client_.Stats()), v1::OK);
  EXPECT_EQ(client_.List().objects().objects_size(), 0);
}

TEST_F(LimitsTest, OversizedResponseIsReplacedByAnError) {
  v1::Call set = MakeCall("d", v1::DICT, v1::SET);
  *set.mutable_value() = StringValue(std::string(150, 'v'));
  for (int i = 0; i < 5; ++i) {
    set.set_key("k" + std::to_string(i));
    ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  }
  // 5 x ~155 bytes is under max_bytes but VALUES+ITEMS of many dicts could
  // exceed a 4 KiB frame; build one with a batch of ITEMS.
  v1::Batch batch;
  for (int i = 0; i < 6; ++i)
    *batch.add_calls() = MakeCall("d", v1::DICT, v1::ITEMS);
  v1::Response r = client_.Batch(batch);
  EXPECT_EQ(CodeOf(r), v1::MESSAGE_TOO_LARGE);
  EXPECT_NE(r.status().message().find("max_frame_bytes"), std::string::npos);
  EXPECT_EQ(CodeOf(client_.Stats()), v1::OK);
}

TEST_F(LimitsTest, MaxObjects) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(CodeOf(client_.Call(
                  MakeCall("o" + std::to_string(i), v1::COUNTER, v1::CREATE))),
              v1::OK);
  }
  v1::Response r = client_.Call(MakeCall("o5", v1::COUNTER, v1::CREATE));
  EXPECT_EQ(CodeOf(r), v1::RESOURCE_EXHAUSTED);
  EXPECT_NE(r.status().message().find("max_objects"), std::string::npos);
  v1::Call add = MakeCall("o6", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  EXPECT_EQ(CodeOf(client_.Call(add)), v1::RESOURCE_EXHAUSTED);
  // Existing objects still work, for everyone.
  *add.mutable_object() = "o0";
  RawClient other = RawClient::Open(daemon_.url());
  EXPECT_EQ(CodeOf(other.Call(add)), v1::OK);
  EXPECT_EQ(client_.Stats().stats().objects(), 5);
}

TEST_F(LimitsTest, MaxBytesRefusesAndChangesNothing) {
  v1::Call set = MakeCall("d", v1::DICT, v1::SET);
  set.set_key("a");
  *set.mutable_value() = StringValue(std::string(600, 'a'));
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  const int64_t held = client_.Stats().stats().bytes_held();
  EXPECT_GT(held, 600);
  set.set_key("b");
  v1::Response r = client_.Call(set);
  EXPECT_EQ(CodeOf(r), v1::RESOURCE_EXHAUSTED);
  EXPECT_NE(r.status().message().find("max_bytes"), std::string::npos);
  EXPECT_EQ(client_.Stats().stats().bytes_held(), held);
  EXPECT_FALSE(client_
                   .Call([] {
                     v1::Call c = MakeCall("d", v1::DICT, v1::CONTAINS);
                     c.set_key("b");
                     return c;
                   }())
                   .result()
                   .flag());
  // An UPDATE that does not fit changes nothing, not even its small entries.
  v1::Call update = MakeCall("d", v1::DICT, v1::UPDATE);
  auto* e = update.add_items();
  e->set_key("small");
  *e->mutable_value() = IntValue(1);
  e = update.add_items();
  e->set_key("huge");
  *e->mutable_value() = StringValue(std::string(600, 'h'));
  EXPECT_EQ(CodeOf(client_.Call(update)), v1::RESOURCE_EXHAUSTED);
  EXPECT_EQ(client_.Call(MakeCall("d", v1::DICT, v1::LEN)).result().count(), 1);
  // Queue items count too.
  v1::Call put = MakeCall("q", v1::QUEUE, v1::PUT);
  *put.mutable_value() = StringValue(std::string(600, 'q'));
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::RESOURCE_EXHAUSTED);
  // Freeing bytes makes room again.
  v1::Call del = MakeCall("d", v1::DICT, v1::DELETE);
  del.set_key("a");
  EXPECT_EQ(CodeOf(client_.Call(del)), v1::OK);
  EXPECT_EQ(client_.Stats().stats().bytes_held(), 0);
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::OK);
}

TEST_F(LimitsTest, MaxClientsRefusesTheExtraConnectionOnly) {
  RawClient second = RawClient::Open(daemon_.url());
  RawClient third = RawClient::Open(daemon_.url());
  ASSERT_TRUE(second.ok() && third.ok());
  RawClient fourth = RawClient::Open(daemon_.url(), /*hello=*/false);
  auto r = fourth.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CodeOf(*r), v1::RESOURCE_EXHAUSTED);
  EXPECT_NE(r->status().message().find("max_clients"), std::string::npos);
  EXPECT_TRUE(fourth.WaitClosed());
  EXPECT_EQ(CodeOf(second.Stats()), v1::OK);
  EXPECT_EQ(CodeOf(third.Stats()), v1::OK);
  // A slot freed is a slot usable.
  second.channel().Close();
  RawClient again;
  for (;;) {  // The daemon notices the close on its own schedule.
    again = RawClient::Open(daemon_.url(), false);
    v1::Response hello = again.Hello();
    if (CodeOf(hello) == v1::OK) break;
    ASSERT_EQ(CodeOf(hello), v1::RESOURCE_EXHAUSTED);
  }
  EXPECT_EQ(CodeOf(again.Stats()), v1::OK);
}

TEST_F(LimitsTest, MaxPendingPerClientRefusesTheExcessInOrder) {
  // Park a request so that later ones queue behind it.
  v1::Call acquire = MakeCall("L", v1::LOCK, v1::ACQUIRE);
  ASSERT_EQ(CodeOf(client_.Call(acquire)), v1::OK);
  RawClient busy = RawClient::Open(daemon_.url());
  std::vector<uint64_t> ids;
  ids.push_back(busy.SendCall(acquire));  // Parked: pending 1.
  v1::Call add = MakeCall("n", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  for (int i = 0; i < 6; ++i) ids.push_back(busy.SendCall(add));
  // Until the daemon has read all 7 (4 to run, 3 refused in their turn).
  for (;;) {
    if (client_.Stats().stats().pending() == 7) break;
  }
  // Another client is unaffected.
  EXPECT_EQ(client_.Call(add).result().value().int_value(), 1);
  ASSERT_EQ(CodeOf(client_.Call(MakeCall("L", v1::LOCK, v1::RELEASE))), v1::OK);
  std::vector<v1::Code> codes;
  for (uint64_t id : ids) {
    auto r = busy.Receive();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->id(), id);  // In order.
    codes.push_back(CodeOf(*r));
    if (CodeOf(*r) == v1::RESOURCE_EXHAUSTED) {
      EXPECT_NE(r->status().message().find("max_pending_per_client"),
                std::string::npos);
    }
  }
  EXPECT_EQ(codes, (std::vector<v1::Code>{
                       v1::OK, v1::OK, v1::OK, v1::OK, v1::RESOURCE_EXHAUSTED,
                       v1::RESOURCE_EXHAUSTED, v1::RESOURCE_EXHAUSTED}));
  EXPECT_EQ(client_.Call(MakeCall("n", v1::COUNTER, v1::GET))
                .result()
                .value()
                .int_value(),
            4);
  EXPECT_EQ(CodeOf(busy.Stats()), v1::OK);  // Still usable.
}

}  // namespace
}  // namespace ipc::testing
