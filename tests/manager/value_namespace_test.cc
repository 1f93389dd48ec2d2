// Manager against a real ipcd: the value and namespace kinds.
#include <string>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using ManagerValueTest = ManagerTest;

TEST_F(ManagerValueTest, AValueHoldsNullUntilSetAndAnyKindOfValue) {
  auto v = manager().Value(Name("v"));
  EXPECT_EQ(*v.Get(), Value()) << "a value nobody set reads null";
  auto objects = manager().ListObjects();
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty()) << "a read made nothing";
  for (const Value& value : {Value(42), Value(2.5), Value("text"), Value(true),
                             Value(Value::List{Value(1), Value("a")}),
                             Value(Value::Map{{"k", Value(1)}})}) {
    ASSERT_OK(v.Set(value));
    EXPECT_EQ(*v.Get(), value);
  }
}

TEST_F(ManagerValueTest, CreateGivesTheFirstValueOnly) {
  auto v = manager().Value(Name("v"));
  ASSERT_OK(v.Create(7));
  EXPECT_EQ(*v.Get(), Value(7));
  ASSERT_OK(v.Create(8));  // Exists: keeps its value.
  EXPECT_EQ(*v.Get(), Value(7));
}

TEST_F(ManagerValueTest, CompareAndSetSwapsOnlyOnAMatch) {
  auto v = manager().Value(Name("v"));
  EXPECT_TRUE(*v.CompareAndSet(Value(), "first")) << "null matches a value never set";
  EXPECT_FALSE(*v.CompareAndSet(Value(), "second"));
  EXPECT_EQ(*v.Get(), Value("first"));
  EXPECT_TRUE(*v.CompareAndSet("first", Value::List{Value(1)}));
  EXPECT_EQ(*v.Get(), Value(Value::List{Value(1)}));
}

TEST_F(ManagerValueTest, TheByteLimitHolds) {
  IPC_SKIP_ON_REDIS("--max-bytes");
  StartDaemon({"--max-bytes", "1000"});
  auto v = manager().Value(Name("v"));
  ASSERT_OK(v.Set(std::string(500, 'a')));
  EXPECT_CODE(v.Set(std::string(2000, 'b')), ErrorCode::kResourceExhausted);
  EXPECT_EQ(*v.Get(), Value(std::string(500, 'a')));
}

TEST_F(ManagerValueTest, ANamespaceHoldsAttributes) {
  auto ns = manager().Namespace(Name("ns"));
  auto missing = ns.Get("x");
  EXPECT_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("namespace '"), std::string::npos)
      << missing.status();
  ASSERT_OK(ns.Set("x", 1));
  ASSERT_OK(ns.Set("y", "two"));
  EXPECT_EQ(*ns.Get("x"), Value(1));
  EXPECT_TRUE(*ns.Contains("y"));
  EXPECT_EQ(*ns.Items(), (Value::Map{{"x", Value(1)}, {"y", Value("two")}}));
  ASSERT_OK(ns.Delete("x"));
  EXPECT_FALSE(*ns.Contains("x"));
  EXPECT_CODE(ns.Delete("x"), ErrorCode::kNotFound);
  // A namespace is not a dict: the dict's other operations are not its own.
  EXPECT_CODE(manager().Dict(ns.name()).Len(), ErrorCode::kInvalidArgument);
  EXPECT_CODE(ns.Set("", 1), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ipc::testing
