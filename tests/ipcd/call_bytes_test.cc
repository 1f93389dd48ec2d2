// FindCallBytes and FindBatchCallBytes (ipcd/dispatch/call_bytes.h): the
// bytes the state log takes as a change must be exactly those that parsed
// to the call that ran, or nothing.
#include "dispatch/call_bytes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/ipcd.pb.h"

namespace ipcd {
namespace {

v1::Call AddCall(const std::string& name, int64_t delta) {
  v1::Call call;
  call.set_op(v1::ADD);
  call.set_object(name);
  call.mutable_value()->set_int_value(delta);
  return call;
}

TEST(CallBytesTest, TheUsualFrameGivesTheCallAsSent) {
  for (uint64_t id : {uint64_t{1}, uint64_t{300}, ~uint64_t{0}}) {
    v1::Request request;
    request.set_id(id);
    *request.mutable_call() = AddCall("counter", 7);
    const std::string frame = request.SerializeAsString();
    std::string_view bytes;
    ASSERT_TRUE(FindCallBytes(frame, &bytes)) << id;
    EXPECT_EQ(bytes, request.call().SerializeAsString()) << id;
  }
}

TEST(CallBytesTest, FieldsInAnotherOrderAreFoundByTheGeneralWalk) {
  const std::string call = AddCall("c", 1).SerializeAsString();
  // The call first, the id after it.
  std::string frame = "\x22" + std::string(1, static_cast<char>(call.size())) + call + "\x08\x05";
  std::string_view bytes;
  ASSERT_TRUE(FindCallBytes(frame, &bytes));
  EXPECT_EQ(bytes, call);
}

TEST(CallBytesTest, ACallGivenTwiceIsNotTaken) {
  // Protobuf merges the two; neither one's bytes is the call that ran.
  const std::string call = AddCall("c", 1).SerializeAsString();
  const std::string field = "\x22" + std::string(1, static_cast<char>(call.size())) + call;
  std::string_view bytes;
  EXPECT_FALSE(FindCallBytes("\x08\x01" + field + field, &bytes));
}

TEST(CallBytesTest, ACutFrameIsNotTaken) {
  v1::Request request;
  request.set_id(9);
  *request.mutable_call() = AddCall("counter", 7);
  const std::string frame = request.SerializeAsString();
  std::string_view bytes;
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(FindCallBytes(std::string_view(frame).substr(0, n), &bytes)) << n;
  }
}

TEST(CallBytesTest, ABatchGivesEachCallInOrder) {
  v1::Request request;
  request.set_id(4);
  *request.mutable_batch()->add_calls() = AddCall("a", 1);
  *request.mutable_batch()->add_calls() = AddCall("b", 2);
  const std::string frame = request.SerializeAsString();
  std::vector<std::string_view> calls;
  ASSERT_TRUE(FindBatchCallBytes(frame, &calls));
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], request.batch().calls(0).SerializeAsString());
  EXPECT_EQ(calls[1], request.batch().calls(1).SerializeAsString());
}

}  // namespace
}  // namespace ipcd
