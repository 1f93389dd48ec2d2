// Manager against a real ipcd: every dict and counter operation, and their
// errors.
#include <limits>
#include <thread>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;

using ManagerDictTest = ManagerTest;
using ManagerCounterTest = ManagerTest;

TEST_F(ManagerDictTest, SetThenGet) {
  auto dict = manager().Dict(Name("dict"));
  ASSERT_OK(dict.Set("port", 8080));
  auto got = dict.Get("port");
  ASSERT_OK(got);
  EXPECT_EQ(*got, Value(8080));
}

TEST_F(ManagerDictTest, EveryValueKindRoundTrips) {
  auto dict = manager().Dict(Name("kinds"));
  const std::vector<Value> values = {
      Value(),
      Value(true),
      Value(int64_t{-5}),
      Value(2.5),
      Value("text"),
      Value::FromBytes(std::string("\0\xff", 2)),
      Value(Value::List{1, "two", Value::List{}}),
      Value(Value::Map{{"a", 1}, {"b", Value::Map{{"c", nullptr}}}})};
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_OK(dict.Set("k" + std::to_string(i), values[i]));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    auto got = dict.Get("k" + std::to_string(i));
    ASSERT_OK(got);
    EXPECT_EQ(*got, values[i]) << "value " << i << ": " << values[i].ToJson();
  }
}

TEST_F(ManagerDictTest, GetMissingKeyIsNotFound) {
  auto dict = manager().Dict(Name("dict"));
  ASSERT_OK(dict.Set("present", 1));
  EXPECT_CODE(dict.Get("absent"), ErrorCode::kNotFound);
}

TEST_F(ManagerDictTest, GetWithFallback) {
  auto dict = manager().Dict(Name("dict"));
  auto got = dict.Get("absent", "fallback");
  ASSERT_OK(got);
  EXPECT_EQ(*got, Value("fallback"));
  ASSERT_OK(dict.Set("present", 3));
  got = dict.Get("present", "fallback");
  ASSERT_OK(got);
  EXPECT_EQ(*got, Value(3));
}

TEST_F(ManagerDictTest, DeleteAndContains) {
  auto dict = manager().Dict(Name("dict"));
  ASSERT_OK(dict.Set("k", 1));
  EXPECT_EQ(dict.Contains("k").value_or(false), true);
  ASSERT_OK(dict.Delete("k"));
  EXPECT_EQ(dict.Contains("k").value_or(true), false);
  EXPECT_CODE(dict.Delete("k"), ErrorCode::kNotFound);
}

TEST_F(ManagerDictTest, LenKeysValuesItemsInKeyOrder) {
  auto dict = manager().Dict(Name("dict"));
  EXPECT_EQ(dict.Len().value_or(-1), 0);  // A missing dict reads as empty.
  ASSERT_OK(dict.Update(Value::Map{{"b", 2}, {"a", 1}, {"c", "three"}}));
  EXPECT_EQ(dict.Len().value_or(-1), 3);
  auto keys = dict.Keys();
  ASSERT_OK(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{"a", "b", "c"}));
  auto values = dict.Values();
  ASSERT_OK(values);
  EXPECT_EQ(*values, (std::vector<Value>{1, 2, "three"}));
  auto items = dict.Items();
  ASSERT_OK(items);
  EXPECT_EQ(*items, (Value::Map{{"a", 1}, {"b", 2}, {"c", "three"}}));
}

TEST_F(ManagerDictTest, PopRemovesAndReturns) {
  auto dict = manager().Dict(Name("dict"));
  ASSERT_OK(dict.Set("k", "v"));
  auto popped = dict.Pop("k");
  ASSERT_OK(popped);
  EXPECT_EQ(*popped, Value("v"));
  EXPECT_CODE(dict.Pop("k"), ErrorCode::kNotFound);
  auto fallback = dict.Pop("k", 0);
  ASSERT_OK(fallback);
  EXPECT_EQ(*fallback, Value(0));
}

TEST_F(ManagerDictTest, SetDefaultKeepsAnExistingValue) {
  auto dict = manager().Dict(Name("dict"));
  auto first = dict.SetDefault("k", 1);
  ASSERT_OK(first);
  EXPECT_EQ(*first, Value(1));
  auto second = dict.SetDefault("k", 2);
  ASSERT_OK(second);
  EXPECT_EQ(*second, Value(1));
}

TEST_F(ManagerDictTest, ClearEmptiesIt) {
  auto dict = manager().Dict(Name("dict"));
  ASSERT_OK(dict.Update(Value::Map{{"a", 1}, {"b", 2}}));
  ASSERT_OK(dict.Clear());
  EXPECT_EQ(dict.Len().value_or(-1), 0);
}

TEST_F(ManagerDictTest, CompareAndSet) {
  auto dict = manager().Dict(Name("dict"));
  // nullopt: only if absent.
  EXPECT_EQ(dict.CompareAndSet("k", std::nullopt, 1).value_or(false), true);
  EXPECT_EQ(dict.CompareAndSet("k", std::nullopt, 2).value_or(true), false);
  EXPECT_EQ(dict.CompareAndSet("k", Value(5), 2).value_or(true), false);
  EXPECT_EQ(dict.CompareAndSet("k", Value(1), 2).value_or(false), true);
  EXPECT_EQ(dict.Get("k").value_or(Value()), Value(2));
}

TEST_F(ManagerDictTest, WrongKindIsInvalidArgument) {
  const std::string name = Name("dict");
  ASSERT_OK(manager().Dict(name).Set("k", 1));
  EXPECT_CODE(manager().Counter(name).Add(1), ErrorCode::kInvalidArgument);
  EXPECT_CODE(manager().Queue(name).Put(1, Deadline::Now()),
              ErrorCode::kInvalidArgument);
}

TEST_F(ManagerCounterTest, AddGetSet) {
  auto counter = manager().Counter(Name("hits"));
  EXPECT_EQ(counter.Get().value_or(-1), 0);  // A missing counter reads 0.
  EXPECT_EQ(counter.Add().value_or(-1), 1);
  EXPECT_EQ(counter.Add(41).value_or(-1), 42);
  EXPECT_EQ(counter.Add(-50).value_or(-1), -8);
  ASSERT_OK(counter.Set(100));
  EXPECT_EQ(counter.Get().value_or(-1), 100);
}

TEST_F(ManagerCounterTest, CompareAndSet) {
  auto counter = manager().Counter(Name("cas"));
  ASSERT_OK(counter.Set(5));
  EXPECT_EQ(counter.CompareAndSet(4, 9).value_or(true), false);
  EXPECT_EQ(counter.Get().value_or(-1), 5);
  EXPECT_EQ(counter.CompareAndSet(5, 9).value_or(false), true);
  EXPECT_EQ(counter.Get().value_or(-1), 9);
}

TEST_F(ManagerCounterTest, OverflowIsInvalidArgumentAndChangesNothing) {
  auto counter = manager().Counter(Name("big"));
  ASSERT_OK(counter.Set(std::numeric_limits<int64_t>::max() - 1));
  EXPECT_CODE(counter.Add(2), ErrorCode::kInvalidArgument);
  EXPECT_EQ(counter.Get().value_or(0), std::numeric_limits<int64_t>::max() - 1);
}

TEST_F(ManagerCounterTest, WrongKindIsInvalidArgument) {
  const std::string name = Name("counter");
  ASSERT_OK(manager().Counter(name).Add(1));
  EXPECT_CODE(manager().Dict(name).Set("k", 1), ErrorCode::kInvalidArgument);
}

TEST_F(ManagerCounterTest, ReplySpinGivesTheSameAnswers) {
  auto spinning = Connect({.reply_spin = std::chrono::microseconds(20)});
  ASSERT_TRUE(spinning);
  auto counter = spinning->Counter(Name("spin"));
  for (int i = 1; i <= 100; ++i) ASSERT_EQ(counter.Add(1).value_or(0), i);
  EXPECT_CODE(spinning->Dict(Name("d")).Get("absent"), ErrorCode::kNotFound);
}

TEST_F(ManagerCounterTest, AddsFromManyThreadsOnOneManagerAllCount) {
  auto counter = manager().Counter(Name("threads"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([counter]() mutable {
      for (int i = 0; i < 250; ++i) ASSERT_OK(counter.Add(1));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.Get().value_or(-1), 1000);
}

TEST_F(ManagerCounterTest, AddsFromManyProcessesAllCount) {
  const std::string name = Name("procs");
  std::vector<pid_t> children;
  for (int c = 0; c < 4; ++c) {
    // Each child uses the Manager it inherited: its first call opens the
    // child's own connection.
    children.push_back(ForkChild([&] {
      auto counter = manager().Counter(name);
      for (int i = 0; i < 100; ++i) {
        if (!counter.Add(1).ok()) return 1;
      }
      return 0;
    }));
  }
  for (pid_t child : children) EXPECT_EQ(WaitChild(child), 0);
  EXPECT_EQ(manager().Counter(name).Get().value_or(-1), 400);
}

}  // namespace
}  // namespace ipc::testing
