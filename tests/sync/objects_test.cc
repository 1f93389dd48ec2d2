#include "ipc/objects.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "ipc/semaphore.h"
#include "support/test_util.h"

namespace {

using ipc::ErrorCode;
using ipc::ObjectInfo;
using ipc::Semaphore;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

const ObjectInfo* Find(const std::vector<ObjectInfo>& all, const std::string& name) {
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const ObjectInfo& o) { return o.name == name; });
  return it == all.end() ? nullptr : &*it;
}

TEST(ObjectsTest, ListsLiveAndDeadCreatorsAndCleansOnlyTheDead) {
  const std::string live = UniqueName("live");
  const std::string dead = UniqueName("dead");
  ASSERT_TRUE(Semaphore::Create(live, 1).ok());
  // A child creates a semaphore and exits without removing it.
  const pid_t child = ForkChild([&] { return Semaphore::Create(dead, 1).ok() ? 0 : 1; });
  ASSERT_EQ(WaitChild(child), 0);

  auto all = ipc::ListObjects();
  ASSERT_TRUE(all.ok()) << all.status();
  const ObjectInfo* live_info = Find(*all, live);
  const ObjectInfo* dead_info = Find(*all, dead);
  ASSERT_NE(live_info, nullptr);
  ASSERT_NE(dead_info, nullptr);
  EXPECT_EQ(live_info->kind, "semaphore");
  EXPECT_EQ(live_info->path, "/dev/shm/libipc.sem." + live);
  EXPECT_EQ(live_info->creator_pid, ::getpid());
  EXPECT_TRUE(live_info->creator_alive);
  EXPECT_EQ(dead_info->creator_pid, child);
  EXPECT_FALSE(dead_info->creator_alive);

  auto would = ipc::CleanStaleObjects(/*dry_run=*/true);
  ASSERT_TRUE(would.ok());
  EXPECT_NE(Find(*would, dead), nullptr);
  EXPECT_EQ(Find(*would, live), nullptr);
  EXPECT_TRUE(Semaphore::Open(dead).ok()) << "dry run removed nothing";

  // One naming scheme: the name given to Create, optionally with its kind.
  EXPECT_EQ(ipc::RemoveStaleObject(live).code(), ErrorCode::kAddressInUse);
  EXPECT_EQ(ipc::RemoveStaleObject(dead, "mutex").code(), ErrorCode::kNotFound);
  const ipc::Status file_name = ipc::RemoveStaleObject("libipc.sem." + dead);
  EXPECT_EQ(file_name.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(file_name.message().find(dead), std::string::npos) << file_name;
  ASSERT_TRUE(ipc::RemoveStaleObject(dead, "semaphore").ok());
  EXPECT_EQ(Semaphore::Open(dead).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Semaphore::Open(live).ok());
  EXPECT_EQ(ipc::RemoveStaleObject("not-ours").code(), ErrorCode::kNotFound);
  (void)Semaphore::Unlink(live);
}

#ifdef IPCCTL
std::string RunIpcctl(const std::string& args) {
  std::string out;
  FILE* p = ::popen((std::string(IPCCTL) + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(ObjectsTest, IpcctlCleanRemovesOnlyTheDeads) {
  const std::string live = UniqueName("cli-live");
  const std::string dead = UniqueName("cli-dead");
  ASSERT_TRUE(Semaphore::Create(live, 1).ok());
  const pid_t child = ForkChild([&] { return Semaphore::Create(dead, 1).ok() ? 0 : 1; });
  ASSERT_EQ(WaitChild(child), 0);

  const std::string listing = RunIpcctl("objects --json");
  EXPECT_NE(listing.find("\"" + live + "\""), std::string::npos) << listing;
  EXPECT_NE(listing.find("\"" + dead + "\""), std::string::npos) << listing;
  const std::string table = RunIpcctl("objects");
  EXPECT_NE(table.find("semaphore       " + live), std::string::npos) << table;

  const std::string dry = RunIpcctl("clean --dry-run");
  EXPECT_NE(dry.find(dead), std::string::npos) << dry;
  EXPECT_EQ(dry.find(live), std::string::npos) << dry;
  EXPECT_TRUE(Semaphore::Open(dead).ok()) << "a dry run removes nothing";

  const std::string refused = RunIpcctl("clean " + live);
  EXPECT_NE(refused.find("still running"), std::string::npos) << refused;
  // By name: a bare `clean` would also take other tests' dead objects.
  const std::string cleaned = RunIpcctl("clean " + dead);
  EXPECT_NE(cleaned.find("removed"), std::string::npos) << cleaned;
  EXPECT_NE(cleaned.find("semaphore"), std::string::npos) << cleaned;
  EXPECT_EQ(Semaphore::Open(dead).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Semaphore::Open(live).ok());
  (void)Semaphore::Unlink(live);
}
#endif  // IPCCTL

}  // namespace
