// ListObjects against a real ipcd: pages, the cursor, the prefix filter and
// the limit, and a daemon holding max_objects (100,000) objects whose names
// would not fit in one frame.
#include <string>
#include <vector>

#include "manager_fixture.h"

namespace ipc::testing {
namespace {

std::vector<std::string> Names(const std::vector<ManagedObject>& objects) {
  std::vector<std::string> names;
  for (const ManagedObject& o : objects) names.push_back(o.name);
  return names;
}

// Makes counters named names, in one batch.
void MakeCounters(Manager& manager, const std::vector<std::string>& names) {
  auto batch = manager.Batch();
  for (const std::string& name : names) batch.CounterAdd(name, 1);
  auto replies = batch.Run();
  ASSERT_OK(replies);
  for (const auto& reply : *replies) ASSERT_OK(reply);
}

TEST_F(ManagerTest, ListObjectsPageFollowsPrefixAfterAndLimit) {
  MakeCounters(manager(), {"a/1", "a/2", "b/1", "b/2", "b/3", "b0", "c"});
  auto page = manager().ListObjectsPage({.prefix = "b/", .limit = 2});
  ASSERT_OK(page);
  EXPECT_EQ(Names(page->objects), (std::vector<std::string>{"b/1", "b/2"}));
  EXPECT_EQ(page->next, "b/2");
  page = manager().ListObjectsPage({.prefix = "b/", .after = page->next, .limit = 2});
  ASSERT_OK(page);
  EXPECT_EQ(Names(page->objects), (std::vector<std::string>{"b/3"}));
  EXPECT_EQ(page->next, "") << "the last page has no next";
  // A page that ends exactly at the last match has no next either.
  page = manager().ListObjectsPage({.prefix = "a/", .limit = 2});
  ASSERT_OK(page);
  EXPECT_EQ(page->next, "");
  // A cursor before the prefix starts at the prefix; one past it, nothing.
  page = manager().ListObjectsPage({.prefix = "b/", .after = "a/9"});
  ASSERT_OK(page);
  EXPECT_EQ(page->objects.size(), 3u);
  page = manager().ListObjectsPage({.prefix = "b/", .after = "b/9"});
  ASSERT_OK(page);
  EXPECT_TRUE(page->objects.empty());
  page = manager().ListObjectsPage({.prefix = "zz"});
  ASSERT_OK(page);
  EXPECT_TRUE(page->objects.empty());
  auto all = manager().ListObjects();
  ASSERT_OK(all);
  EXPECT_EQ(Names(*all),
            (std::vector<std::string>{"a/1", "a/2", "b/1", "b/2", "b/3", "b0", "c"}));
  auto bs = manager().ListObjects("b");
  ASSERT_OK(bs);
  EXPECT_EQ(Names(*bs), (std::vector<std::string>{"b/1", "b/2", "b/3", "b0"}));
}

// 100,000 objects with 200-byte names are 20 MB of names: one response
// could never hold them. Pages of at most 1,000 do, and ListObjects reads
// them all, in order.
TEST_F(ManagerTest, ListObjectsReadsMaxObjectsWithLongNamesInPages) {
  constexpr int kObjects = 100000;
  const std::string stem(190, 'n');
  std::vector<std::string> names;
  for (int i = 0; i < kObjects; ++i) {
    names.push_back(stem + std::to_string(1000000 + i));
    if (names.size() == 2000) {
      MakeCounters(manager(), names);
      names.clear();
    }
  }
  auto first = manager().ListObjectsPage({});
  ASSERT_OK(first);
  EXPECT_EQ(first->objects.size(), 1000u);
  EXPECT_EQ(first->next, first->objects.back().name);
  auto all = manager().ListObjects();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), static_cast<size_t>(kObjects));
  for (int i = 0; i < kObjects; ++i) {
    ASSERT_EQ((*all)[i].name, stem + std::to_string(1000000 + i)) << i;
  }
}

}  // namespace
}  // namespace ipc::testing
