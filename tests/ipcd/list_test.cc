// The list kind through the raw protocol: the arguments each operation
// needs, list operations on other kinds, and lists in a batch.
#include <gtest/gtest.h>

#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

class ListTest : public IpcdTest {
 protected:
  v1::Response Do(v1::Op op, std::optional<v1::Value> value = std::nullopt,
                  std::optional<int64_t> index = std::nullopt,
                  const std::string& name = "l") {
    v1::Call call = MakeCall(name, v1::LIST, op);
    if (value) *call.mutable_value() = *value;
    if (index) call.set_index(*index);
    return client_.Call(call);
  }
};

TEST_F(ListTest, EachOperationSaysWhatArgumentItLacks) {
  ASSERT_EQ(CodeOf(Do(v1::APPEND, IntValue(1))), v1::OK);
  for (v1::Op op : {v1::APPEND, v1::EXTEND, v1::SET, v1::INSERT, v1::REMOVE,
                    v1::INDEX, v1::COUNT}) {
    const v1::Response r = Do(op, std::nullopt, 0);
    EXPECT_EQ(CodeOf(r), v1::INVALID_ARGUMENT) << v1::Op_Name(op);
    EXPECT_EQ(r.status().message(), "list 'l': " + v1::Op_Name(op) + " needs a value");
  }
  for (v1::Op op : {v1::GET, v1::SET}) {
    const v1::Response r = Do(op, IntValue(2));
    EXPECT_EQ(CodeOf(r), v1::INVALID_ARGUMENT) << v1::Op_Name(op);
    EXPECT_EQ(r.status().message(), "list 'l': " + v1::Op_Name(op) + " needs an index");
  }
  const v1::Response extend = Do(v1::EXTEND, IntValue(2));
  EXPECT_EQ(CodeOf(extend), v1::INVALID_ARGUMENT);
  EXPECT_EQ(extend.status().message(), "list 'l': EXTEND needs value.list_value");
  EXPECT_EQ(Do(v1::LEN).result().count(), 1) << "no failed call changed the list";
}

TEST_F(ListTest, ListOperationsOnOtherKindsAreUnsupported) {
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("d", v1::DICT, v1::APPEND))), v1::UNSUPPORTED);
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("q", v1::QUEUE, v1::SLICE))), v1::UNSUPPORTED);
  EXPECT_EQ(CodeOf(Do(v1::ADD, IntValue(1))), v1::UNSUPPORTED);
  EXPECT_EQ(CodeOf(Do(v1::KEYS)), v1::UNSUPPORTED);
}

TEST_F(ListTest, ABatchRunsListCallsInOrder) {
  v1::Batch batch;
  v1::Call append = MakeCall("l", v1::LIST, v1::APPEND);
  *append.mutable_value() = StringValue("a");
  *batch.add_calls() = append;
  v1::Call extend = MakeCall("l", v1::LIST, v1::EXTEND);
  *extend.mutable_value() = ListValue({IntValue(1), IntValue(2)});
  *batch.add_calls() = extend;
  v1::Call pop = MakeCall("l", v1::LIST, v1::POP);
  pop.set_index(0);
  *batch.add_calls() = pop;
  *batch.add_calls() = MakeCall("l", v1::LIST, v1::SLICE);
  const v1::Response r = client_.Batch(batch);
  ASSERT_EQ(r.batch().replies_size(), 4);
  EXPECT_EQ(r.batch().replies(2).result().value().string_value(), "a");
  const auto& slice = r.batch().replies(3).result().values();
  ASSERT_EQ(slice.size(), 2);
  EXPECT_EQ(slice[0].int_value(), 1);
  EXPECT_EQ(slice[1].int_value(), 2);
}

}  // namespace
}  // namespace ipc::testing
