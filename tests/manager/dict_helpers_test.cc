// DictProxy's typed reads (GetInt, GetDouble, GetBool, GetString) and
// Modify, the compare-and-set loop, against a real ipcd: defaults, wrong
// kinds, and two processes incrementing one key.
#include <cmath>
#include <limits>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using ManagerDictHelpersTest = ManagerTest;

// v + 1, or 1 when absent; stops with v's error when it is not an int.
Result<Value> Increment(const std::optional<Value>& v) {
  if (!v) return 1;
  IPC_ASSIGN_OR_RETURN(int64_t n, v->AsInt());
  return n + 1;
}

TEST_F(ManagerDictHelpersTest, TypedGetsReturnTheValueOrTheFallback) {
  auto cfg = manager().Dict(Name("cfg"));
  ASSERT_OK(cfg.Update({{"port", 8080},
                        {"ratio", 0.25},
                        {"whole", 2},
                        {"debug", true},
                        {"host", "db"}}));
  EXPECT_EQ(cfg.GetInt("port", 0).value_or(-1), 8080);
  EXPECT_EQ(cfg.GetDouble("ratio", 0).value_or(-1), 0.25);
  EXPECT_EQ(cfg.GetDouble("whole", 0).value_or(-1), 2.0);
  EXPECT_EQ(cfg.GetBool("debug", false).value_or(false), true);
  EXPECT_EQ(cfg.GetString("host", "").value_or(""), "db");
  // Absent keys give the fallback.
  EXPECT_EQ(cfg.GetInt("missing", 7).value_or(-1), 7);
  EXPECT_EQ(cfg.GetDouble("missing", 1.5).value_or(-1), 1.5);
  EXPECT_EQ(cfg.GetBool("missing", true).value_or(false), true);
  EXPECT_EQ(cfg.GetString("missing", "none").value_or(""), "none");
  // Reading added no key.
  EXPECT_EQ(cfg.Len().value_or(-1), 5);
}

TEST_F(ManagerDictHelpersTest, WrongKindIsInvalidArgumentNamingKeyAndKind) {
  const std::string name = Name("cfg");
  auto cfg = manager().Dict(name);
  ASSERT_OK(cfg.Update({{"port", "8080"}, {"n", 1.5}, {"flag", 1}}));
  auto port = cfg.GetInt("port", 0);
  EXPECT_CODE(port, ErrorCode::kInvalidArgument);
  EXPECT_EQ(port.status().message(),
            "dict '" + name + "' key 'port': value is a string, not an int");
  auto n = cfg.GetInt("n", 0);
  EXPECT_CODE(n, ErrorCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("value is a double, not an int"),
            std::string::npos)
      << n.status();
  EXPECT_CODE(cfg.GetBool("flag", false), ErrorCode::kInvalidArgument);
  EXPECT_CODE(cfg.GetString("flag", ""), ErrorCode::kInvalidArgument);
  EXPECT_CODE(cfg.GetDouble("port", 0), ErrorCode::kInvalidArgument);
}

TEST_F(ManagerDictHelpersTest, ModifyStoresAndReturnsTheNewValue) {
  auto dict = manager().Dict(Name("d"));
  auto first = dict.Modify("n", Increment);
  ASSERT_OK(first);
  EXPECT_EQ(*first, Value(1));  // Absent: fn saw nullopt.
  auto second = dict.Modify("n", Increment);
  ASSERT_OK(second);
  EXPECT_EQ(*second, Value(2));
  EXPECT_EQ(dict.GetInt("n", 0).value_or(-1), 2);
}

TEST_F(ManagerDictHelpersTest, ModifyStopsOnTheFunctionsError) {
  const std::string name = Name("d");
  auto dict = manager().Dict(name);
  ASSERT_OK(dict.Set("n", "text"));
  auto result = dict.Modify("n", Increment);
  EXPECT_CODE(result, ErrorCode::kInvalidArgument);
  EXPECT_EQ(dict.Get("n").value_or(Value()), Value("text"));  // Unchanged.
}

TEST_F(ManagerDictHelpersTest, ModifyRetriesWhenAnotherWriterWins) {
  auto dict = manager().Dict(Name("d"));
  auto other = Connect();
  ASSERT_TRUE(other);
  auto other_dict = other->Dict(dict.name());
  ASSERT_OK(dict.Set("n", 10));
  // The first call of fn races with another client's write: the
  // compare-and-set loses and fn runs again on the value that won.
  int calls = 0;
  auto result = dict.Modify("n", [&](const std::optional<Value>& v) {
    if (++calls == 1) {
      EXPECT_TRUE(other_dict.Set("n", 100).ok());
    }
    return Increment(v);
  });
  ASSERT_OK(result);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(*result, Value(101));
}

TEST_F(ManagerDictHelpersTest, ModifyGivesDeadlineExceededWhenItKeepsLosing) {
  auto dict = manager().Dict(Name("d"));
  auto other = Connect();
  ASSERT_TRUE(other);
  auto other_dict = other->Dict(dict.name());
  ASSERT_OK(dict.Set("n", 0));
  int64_t bump = 0;
  // Another writer changes the key during every try: the loop ends at the
  // deadline with nothing stored by it.
  auto result = dict.Modify(
      "n",
      [&](const std::optional<Value>& v) {
        EXPECT_TRUE(other_dict.Set("n", 1000 + ++bump).ok());
        return Increment(v);
      },
      milliseconds(50));
  EXPECT_CODE(result, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(dict.GetInt("n", 0).value_or(-1), 1000 + bump);
  // Deadline::Now() makes exactly one try.
  bump = 0;
  result = dict.Modify(
      "n",
      [&](const std::optional<Value>& v) {
        EXPECT_TRUE(other_dict.Set("n", ++bump).ok());
        return Increment(v);
      },
      Deadline::Now());
  EXPECT_CODE(result, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(bump, 1);
}

TEST_F(ManagerDictHelpersTest, ModifyRefusesANaNAtOnce) {
  auto dict = manager().Dict(Name("d"));
  ASSERT_OK(dict.Set("x", std::numeric_limits<double>::quiet_NaN()));
  auto result = dict.Modify(
      "x", [](const std::optional<Value>&) -> Result<Value> { return 1.0; },
      seconds(30));
  EXPECT_CODE(result, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("NaN"), std::string::npos)
      << result.status();
}

// Two processes, 1000 increments each through Modify: none is lost.
TEST_F(ManagerDictHelpersTest, TwoProcessesIncrementingLoseNothing) {
  constexpr int kEach = 1000;
  auto dict = manager().Dict(Name("d"));
  auto run = [&] {
    // After fork, the inherited Manager opens the child's own connection.
    for (int i = 0; i < kEach; ++i) {
      if (!dict.Modify("n", Increment, seconds(60)).ok()) return 1;
    }
    return 0;
  };
  const pid_t a = ForkChild(run);
  const pid_t b = ForkChild(run);
  EXPECT_EQ(WaitChild(a, 120000), 0);
  EXPECT_EQ(WaitChild(b, 120000), 0);
  EXPECT_EQ(dict.GetInt("n", 0).value_or(-1), 2 * kEach);
}

}  // namespace
}  // namespace ipc::testing
