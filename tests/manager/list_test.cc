// Manager against a real ipcd: every list operation, Python's index rules,
// and the errors (an index out of range names the index and the length).
#include <string>
#include <thread>
#include <vector>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using ManagerListTest = ManagerTest;

Value::List Ints(std::initializer_list<int64_t> ints) {
  Value::List out;
  for (int64_t i : ints) out.emplace_back(i);
  return out;
}

TEST_F(ManagerListTest, AppendExtendGetSetLen) {
  auto list = manager().List(Name("list"));
  ASSERT_OK(list.Append(1));
  ASSERT_OK(list.Extend(Ints({2, 3, 4})));
  EXPECT_EQ(*list.Len(), 4);
  EXPECT_EQ(*list.Get(0), Value(1));
  EXPECT_EQ(*list.Get(-1), Value(4)) << "negative counts from the end";
  EXPECT_EQ(*list.Get(-4), Value(1));
  ASSERT_OK(list.Set(1, "two"));
  ASSERT_OK(list.Set(-1, Value::List{Value(4), Value("four")}));
  EXPECT_EQ(*list.Slice(), (Value::List{Value(1), Value("two"), Value(3),
                                        Value(Value::List{Value(4), Value("four")})}));
  ASSERT_OK(list.Extend({}));
  EXPECT_EQ(*list.Len(), 4);
}

TEST_F(ManagerListTest, AnIndexOutOfRangeNamesTheIndexAndTheLength) {
  auto list = manager().List(Name("list"));
  ASSERT_OK(list.Extend(Ints({10, 20, 30})));
  for (int64_t bad : std::initializer_list<int64_t>{3, -4, 1000, INT64_MIN, INT64_MAX}) {
    auto got = list.Get(bad);
    EXPECT_CODE(got, ErrorCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find("index " + std::to_string(bad) +
                                          " is out of range for length 3"),
              std::string::npos)
        << got.status();
    EXPECT_CODE(list.Set(bad, 1), ErrorCode::kInvalidArgument);
    EXPECT_CODE(list.Pop(bad), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(*list.Slice(), Ints({10, 20, 30})) << "failed calls changed nothing";
  auto empty = manager().List(Name("empty"));
  EXPECT_CODE(empty.Pop(), ErrorCode::kInvalidArgument);
  EXPECT_CODE(empty.Get(0), ErrorCode::kInvalidArgument);
}

TEST_F(ManagerListTest, InsertClampsAsPythonDoes) {
  auto list = manager().List(Name("list"));
  ASSERT_OK(list.Extend(Ints({1, 2, 3})));
  ASSERT_OK(list.Insert(0, 0));
  ASSERT_OK(list.Insert(-1, 25));  // Before the last item.
  ASSERT_OK(list.Insert(100, 9));  // Past the end: at the end.
  ASSERT_OK(list.Insert(-100, -9));  // Before the start: at the start.
  EXPECT_EQ(*list.Slice(), Ints({-9, 0, 1, 2, 25, 3, 9}));
}

TEST_F(ManagerListTest, PopRemoveIndexCount) {
  auto list = manager().List(Name("list"));
  ASSERT_OK(list.Extend({Value(1), Value("a"), Value(1), Value(2.5), Value()}));
  EXPECT_EQ(*list.Count(1), 2);
  EXPECT_EQ(*list.Count("zz"), 0);
  EXPECT_EQ(*list.Index("a"), 1);
  EXPECT_EQ(*list.Index(Value()), 4) << "null is a value like any other";
  EXPECT_CODE(list.Index("zz"), ErrorCode::kNotFound);
  ASSERT_OK(list.Remove(1));  // The first of the two.
  EXPECT_EQ(*list.Slice(), (Value::List{Value("a"), Value(1), Value(2.5), Value()}));
  EXPECT_CODE(list.Remove("zz"), ErrorCode::kNotFound);
  EXPECT_EQ(*list.Pop(), Value());
  EXPECT_EQ(*list.Pop(0), Value("a"));
  EXPECT_EQ(*list.Pop(-1), Value(2.5));
  EXPECT_EQ(*list.Slice(), Ints({1}));
}

TEST_F(ManagerListTest, SlicesClampAsPythonDoes) {
  auto list = manager().List(Name("list"));
  ASSERT_OK(list.Extend(Ints({0, 1, 2, 3, 4})));
  EXPECT_EQ(*list.Slice(1, 3), Ints({1, 2}));
  EXPECT_EQ(*list.Slice(-2), Ints({3, 4}));
  EXPECT_EQ(*list.Slice(0, -1), Ints({0, 1, 2, 3}));
  EXPECT_EQ(*list.Slice(3, 1), Ints({})) << "an empty slice, not an error";
  EXPECT_EQ(*list.Slice(-100, 100), Ints({0, 1, 2, 3, 4}));
  EXPECT_EQ(*list.Slice(7), Ints({}));
}

TEST_F(ManagerListTest, ClearAndAMissingListReadAsEmpty) {
  auto list = manager().List(Name("list"));
  EXPECT_EQ(*list.Len(), 0);
  EXPECT_EQ(*list.Slice(), Ints({}));
  EXPECT_EQ(*list.Count(1), 0);
  EXPECT_CODE(list.Index(1), ErrorCode::kNotFound);
  auto objects = manager().ListObjects();
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty()) << "reads made no object";
  ASSERT_OK(list.Extend(Ints({1, 2})));
  ASSERT_OK(list.Clear());
  EXPECT_EQ(*list.Len(), 0);
  objects = manager().ListObjects();
  ASSERT_OK(objects);
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].kind, "list");
  EXPECT_EQ((*objects)[0].bytes, 0) << "cleared items gave their bytes back";
}

TEST_F(ManagerListTest, WrongKindAndBadArgumentsAreRefused) {
  const std::string name = Name("taken");
  ASSERT_OK(manager().Counter(name).Add(1));
  EXPECT_CODE(manager().List(name).Append(1), ErrorCode::kInvalidArgument);
  auto list = manager().List(Name("list"));
  EXPECT_CODE(list.Remove(Value()), ErrorCode::kNotFound);
  auto objects = manager().ListObjects();
  ASSERT_OK(objects);
  EXPECT_EQ(objects->size(), 1u) << "a failed first use leaves no list behind";
}

// The byte limit holds for lists: an EXTEND that does not fit adds nothing.
TEST_F(ManagerListTest, MaxBytesRefusesAWholeExtend) {
  IPC_SKIP_ON_REDIS("--max-bytes");
  StartDaemon({"--max-bytes", "4096"});
  auto list = manager().List(Name("list"));
  ASSERT_OK(list.Append(std::string(1000, 'a')));
  Value::List big(5, Value(std::string(1000, 'b')));
  EXPECT_CODE(list.Extend(big), ErrorCode::kResourceExhausted);
  EXPECT_EQ(*list.Len(), 1);
  EXPECT_CODE(list.Append(std::string(5000, 'c')), ErrorCode::kResourceExhausted);
  EXPECT_CODE(list.Set(0, std::string(5000, 'c')), ErrorCode::kResourceExhausted);
  EXPECT_EQ(*list.Len(), 1);
}

// Two clients appending at once: every item arrives, none twice.
TEST_F(ManagerListTest, ConcurrentAppendsAllArrive) {
  const std::string name = Name("list");
  constexpr int kEach = 500;
  auto other = Connect();
  ASSERT_TRUE(other);
  std::thread t([&] {
    auto list = other->List(name);
    for (int i = 0; i < kEach; ++i) ASSERT_OK(list.Append(1000 + i));
  });
  auto list = manager().List(name);
  for (int i = 0; i < kEach; ++i) ASSERT_OK(list.Append(i));
  t.join();
  auto all = list.Slice();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u * kEach);
  std::vector<int64_t> mine, theirs;
  for (const Value& v : *all) {
    const int64_t n = *v.if_int();
    (n < 1000 ? mine : theirs).push_back(n);
  }
  for (int i = 0; i < kEach; ++i) {
    EXPECT_EQ(mine[i], i);
    EXPECT_EQ(theirs[i], 1000 + i);
  }
}

}  // namespace
}  // namespace ipc::testing
