// Corners of the protocol where the daemon must do what docs/protocol.md
// and proto/ipcd.proto say: value nesting, reserved ids, nonce sizes,
// missing arguments, the documented examples.
#include <gtest/gtest.h>

#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::seconds;

class ContractTest : public IpcdTest {};

// A Value nesting `levels` lists (or maps) around an int.
v1::Value Nested(int levels, bool maps) {
  v1::Value top;
  v1::Value* v = &top;
  for (int i = 0; i < levels; ++i) {
    if (maps) {
      v1::Entry* e = v->mutable_map_value()->add_entries();
      e->set_key("k");
      v = e->mutable_value();
    } else {
      v = v->mutable_list_value()->add_items();
    }
  }
  v->set_int_value(1);
  return top;
}

TEST_F(ContractTest, DeepestAcceptedValueCanBeReadBackByEveryRead) {
  for (bool maps : {false, true}) {
    SCOPED_TRACE(maps ? "maps" : "lists");
    v1::Call set = MakeCall("d", v1::DICT, v1::SET);
    set.set_key("k");
    *set.mutable_value() = Nested(30, maps);
    ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
    // Every read of it parses with the default recursion limit (the raw
    // client uses plain ParseFromString).
    v1::Batch batch;
    *batch.add_calls() = MakeCall("d", v1::DICT, v1::ITEMS);
    *batch.add_calls() = MakeCall("d", v1::DICT, v1::VALUES);
    v1::Call get = MakeCall("d", v1::DICT, v1::GET);
    get.set_key("k");
    *batch.add_calls() = get;
    v1::Response r = client_.Batch(batch);
    ASSERT_EQ(CodeOf(r), v1::OK) << r.status().message();
    EXPECT_EQ(r.batch().replies(0).result().items_size(), 1);
    EXPECT_EQ(CodeOf(client_.Call(MakeCall("d", v1::DICT, v1::ITEMS))), v1::OK);
  }
}

TEST_F(ContractTest, OverDeepValueIsInvalidArgumentForCallAndBatch) {
  for (int levels : {31, 49, 50, 200}) {
    SCOPED_TRACE(levels);
    v1::Call set = MakeCall("d", v1::DICT, v1::SET);
    set.set_key("k");
    *set.mutable_value() = Nested(levels, /*maps=*/false);
    v1::Response r = client_.Call(set);
    EXPECT_EQ(CodeOf(r), v1::INVALID_ARGUMENT) << r.status().message();
    EXPECT_NE(r.status().message().find("nest"), std::string::npos);
    v1::Batch batch;
    *batch.add_calls() = set;
    r = client_.Batch(batch);
    ASSERT_EQ(r.batch().replies_size(), 1);
    EXPECT_EQ(r.batch().replies(0).status().code(), v1::INVALID_ARGUMENT);
    v1::Call put = MakeCall("q", v1::QUEUE, v1::PUT);
    *put.mutable_value() = Nested(levels, /*maps=*/true);
    EXPECT_EQ(CodeOf(client_.Call(put)), v1::INVALID_ARGUMENT);
    v1::Call update = MakeCall("d", v1::DICT, v1::UPDATE);
    v1::Entry* e = update.add_items();
    e->set_key("k");
    *e->mutable_value() = Nested(levels, false);
    EXPECT_EQ(CodeOf(client_.Call(update)), v1::INVALID_ARGUMENT);
  }
  EXPECT_EQ(client_.List().objects().objects_size(), 0);
}

TEST_F(ContractTest, RequestIdZeroIsRefusedAndNotRun) {
  v1::Request request;
  request.set_id(0);
  v1::Call add = MakeCall("c", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(5);
  *request.mutable_call() = add;
  ASSERT_TRUE(client_.Send(request).ok());
  auto r = client_.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), 0u);
  EXPECT_EQ(CodeOf(*r), v1::PROTOCOL_ERROR);
  EXPECT_NE(r->status().message().find("id 0"), std::string::npos);
  // Not run, and the connection goes on.
  EXPECT_EQ(client_.Call(MakeCall("c", v1::COUNTER, v1::GET)).result().value().int_value(), 0);
}

TEST_F(ContractTest, ClientNonceMustBeEmptyOr32Bytes) {
  for (size_t size : {size_t{3}, size_t{31}, size_t{33}, size_t{64}}) {
    SCOPED_TRACE(size);
    RawClient c = RawClient::Open(daemon_.url(), /*hello=*/false);
    v1::Request hello;
    hello.set_id(1);
    hello.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
    hello.mutable_hello()->set_client_nonce(std::string(size, 'n'));
    ASSERT_TRUE(c.Send(hello).ok());
    auto r = c.Receive();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(CodeOf(*r), v1::PROTOCOL_ERROR);
    EXPECT_NE(r->status().message().find("32 bytes"), std::string::npos);
    EXPECT_TRUE(c.WaitClosed());
  }
  for (size_t size : {size_t{0}, size_t{32}}) {
    RawClient c = RawClient::Open(daemon_.url(), /*hello=*/false);
    EXPECT_EQ(CodeOf(c.Hello(v1::PROTOCOL_VERSION_CURRENT, std::string(size, 'n'))),
              v1::OK);
  }
}

TEST_F(ContractTest, SetAndSetdefaultWithoutAValueAreBothInvalid) {
  for (v1::Op op : {v1::SET, v1::SETDEFAULT}) {
    v1::Call call = MakeCall("d", v1::DICT, op);
    call.set_key("k");
    EXPECT_EQ(CodeOf(client_.Call(call)), v1::INVALID_ARGUMENT) << op;
  }
  v1::Call contains = MakeCall("d", v1::DICT, v1::CONTAINS);
  contains.set_key("k");
  EXPECT_FALSE(client_.Call(contains).result().flag());
  // An explicit null is a value.
  v1::Call setdefault = MakeCall("d", v1::DICT, v1::SETDEFAULT);
  setdefault.set_key("k");
  setdefault.mutable_value()->set_null_value(v1::NULL_VALUE);
  EXPECT_EQ(CodeOf(client_.Call(setdefault)), v1::OK);
}

TEST_F(ContractTest, ListObjectsMatchesTheProtocolExample) {
  // docs/protocol.md, "ListObjects and GetStats".
  v1::Call set = MakeCall("cfg", v1::DICT, v1::SET);
  set.set_key("mode");
  *set.mutable_value() = StringValue("fast");
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  v1::Response r = client_.List();
  ASSERT_EQ(r.objects().objects_size(), 1);
  EXPECT_EQ(r.objects().objects(0).size(), 1);
  EXPECT_EQ(r.objects().objects(0).bytes(), 10);
}

TEST_F(ContractTest, NegativeTimeoutIsInvalid) {
  v1::Call get = MakeCall("q", v1::QUEUE, v1::GET);
  get.set_timeout_ms(-1);
  EXPECT_EQ(CodeOf(client_.Call(get)), v1::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace ipc::testing
