#include "ipc/shared_dict.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ipc/objects.h"
#include "support/test_util.h"
#include "sync/shared_dict_area.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::SharedDict;
using ipc::SharedDictOptions;
using ipc::Value;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

class SharedDictTest : public ::testing::Test {
 protected:
  void TearDown() override { (void)SharedDict::Unlink(name_); }

  SharedDict Make(const SharedDictOptions& options = {}) {
    auto d = SharedDict::Create(name_, options);
    EXPECT_TRUE(d.ok()) << d.status();
    return std::move(d).value();
  }

  const std::string name_ = UniqueName("dict");
};

TEST_F(SharedDictTest, BehavesLikeADict) {
  SharedDict d = Make();
  ASSERT_TRUE(d.Set("b", "2").ok());
  ASSERT_TRUE(d.Set("a", "1").ok());
  EXPECT_EQ(d.Get("a").value_or(""), "1");
  EXPECT_EQ(d.Contains("b").value_or(false), true);
  EXPECT_EQ(d.Contains("c").value_or(true), false);
  EXPECT_EQ(d.Size().value_or(0), 2u);

  ipc::Status missing = d.Get("c").status();
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("no key 'c'"), std::string::npos) << missing;
  EXPECT_NE(missing.message().find(name_), std::string::npos) << missing;

  EXPECT_EQ(d.SetDefault("a", "other").value_or(""), "1");
  EXPECT_EQ(d.SetDefault("c", "3").value_or(""), "3");
  EXPECT_EQ(d.Keys().value_or(std::vector<std::string>{}),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d.GetItems().value_or(SharedDict::Items{}),
            (SharedDict::Items{{"a", "1"}, {"b", "2"}, {"c", "3"}}));

  EXPECT_EQ(d.Pop("b").value_or(""), "2");
  EXPECT_EQ(d.Pop("b").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(d.Delete("c").ok());
  EXPECT_EQ(d.Delete("c").code(), ErrorCode::kNotFound);
  EXPECT_TRUE(d.Clear().ok());
  EXPECT_EQ(d.Size().value_or(1), 0u);
}

TEST_F(SharedDictTest, KeysAndValuesAreBytes) {
  SharedDict d = Make();
  const std::string key("k\0ey", 4), value(100000, '\0');
  ASSERT_TRUE(d.Set(key, value).ok());
  ASSERT_TRUE(d.Set("", "empty key").ok());
  EXPECT_EQ(d.Get(key).value_or(""), value);
  EXPECT_EQ(d.Get("").value_or(""), "empty key");
  EXPECT_EQ(d.Get(std::string("k", 1)).status().code(), ErrorCode::kNotFound);
  // Overwrites shorter and longer in place or not, always whole.
  ASSERT_TRUE(d.Set(key, "short").ok());
  EXPECT_EQ(d.Get(key).value_or(""), "short");
  ASSERT_TRUE(d.Set(key, std::string(5000, 'x')).ok());
  EXPECT_EQ(d.Get(key).value_or(""), std::string(5000, 'x'));
}

TEST_F(SharedDictTest, CompareAndSet) {
  SharedDict d = Make();
  EXPECT_EQ(d.CompareAndSet("k", std::nullopt, "1").value_or(false), true);
  EXPECT_EQ(d.CompareAndSet("k", std::nullopt, "2").value_or(true), false);
  EXPECT_EQ(d.CompareAndSet("k", "0", "2").value_or(true), false);
  EXPECT_EQ(d.Get("k").value_or(""), "1");
  EXPECT_EQ(d.CompareAndSet("k", "1", "2").value_or(false), true);
  EXPECT_EQ(d.Get("k").value_or(""), "2");
  EXPECT_EQ(d.CompareAndSet("absent", "x", "y").value_or(true), false);
  EXPECT_EQ(d.Contains("absent").value_or(true), false);
}

TEST_F(SharedDictTest, ValuesRoundTripInTheProtocolsEncoding) {
  SharedDict d = Make();
  const Value config = Value::Map{{"port", 8080}, {"hosts", Value::List{"a", "b"}},
                                  {"ratio", 0.5}, {"raw", Value::FromBytes("\x01\x02")},
                                  {"off", false}, {"none", nullptr}};
  ASSERT_TRUE(d.SetValue("config", config).ok());
  EXPECT_EQ(d.GetValue("config").value_or(Value()), config);
  ASSERT_TRUE(d.SetValue("n", 42).ok());
  EXPECT_EQ(d.GetValue("n")->AsInt().value_or(0), 42);

  ASSERT_TRUE(d.Set("junk", "\xff\xff\xff").ok());
  ipc::Status junk = d.GetValue("junk").status();
  EXPECT_EQ(junk.code(), ErrorCode::kProtocolError) << junk;
  EXPECT_NE(junk.message().find("not an encoded ipc::Value"), std::string::npos) << junk;
  EXPECT_EQ(d.GetValue("missing").status().code(), ErrorCode::kNotFound);
}

TEST_F(SharedDictTest, AFullDictSaysSoAndKeepsItsContents) {
  SharedDict d = Make({.capacity = 4096});
  int stored = 0;
  ipc::Status s;
  while ((s = d.Set("key-" + std::to_string(stored), std::string(40, 'v'))).ok()) ++stored;
  ASSERT_EQ(s.code(), ErrorCode::kFull) << s;
  EXPECT_NE(s.message().find("SharedDictOptions::capacity"), std::string::npos) << s;
  EXPECT_NE(s.message().find("4096 bytes"), std::string::npos) << s;
  EXPECT_GT(stored, 5);
  EXPECT_EQ(d.Size().value_or(0), static_cast<size_t>(stored));

  // An Update that cannot fit changes nothing: not the pairs before the
  // one that failed (a replaced value, a new key), and no bytes are lost.
  ASSERT_TRUE(d.Delete("key-2").ok());
  ASSERT_TRUE(d.Delete("key-3").ok());
  const auto before = d.GetItems().value();
  const size_t free_before = d.Stats()->free_bytes;
  SharedDict::Items pairs = {{"key-0", std::string(60, 'n')}, {"new-key", "x"},
                             {"key-1", std::string(8000, 'y')}};
  ipc::Status update = d.Update(pairs);
  EXPECT_EQ(update.code(), ErrorCode::kFull) << update;
  EXPECT_NE(update.message().find("key 'key-1'"), std::string::npos) << update;
  EXPECT_NE(update.message().find("nothing was changed"), std::string::npos) << update;
  EXPECT_EQ(d.GetItems().value(), before);
  EXPECT_EQ(d.Stats()->free_bytes, free_before);
  // A value too large to fit, on an existing key, leaves the old one.
  EXPECT_EQ(d.Set("key-0", std::string(8000, 'z')).code(), ErrorCode::kFull);
  EXPECT_EQ(d.Get("key-0").value_or(""), std::string(40, 'v'));
  // Freeing room makes room.
  ASSERT_TRUE(d.Clear().ok());
  EXPECT_TRUE(d.Update({{"a", "1"}, {"b", "2"}, {"a", "3"}}).ok());
  EXPECT_EQ(d.GetItems().value(), (SharedDict::Items{{"a", "3"}, {"b", "2"}}));
}

TEST_F(SharedDictTest, ClearErrorsForBadInput) {
  EXPECT_EQ(SharedDict::Create("bad/name").status().code(), ErrorCode::kInvalidArgument);
  ipc::Status small = SharedDict::Create(name_, {.capacity = 100}).status();
  EXPECT_EQ(small.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(small.message().find("capacity"), std::string::npos) << small;
  EXPECT_EQ(SharedDict::Open(name_).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(SharedDict::Unlink(name_).code(), ErrorCode::kNotFound);
  SharedDict d = Make();
  EXPECT_EQ(SharedDict::Create(name_).status().code(), ErrorCode::kAddressInUse);
  SharedDict moved = std::move(d);
  EXPECT_EQ(d.Get("k").status().code(), ErrorCode::kClosed);  // NOLINT: use after move
  EXPECT_TRUE(moved.Set("k", "v").ok());
}

TEST_F(SharedDictTest, OpenOrCreateSharesOneDictAndKeepsItsCapacity) {
  auto a = SharedDict::OpenOrCreate(name_, {.capacity = 1 << 16});
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = SharedDict::OpenOrCreate(name_, {.capacity = 1 << 20});
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(a->Set("k", "v").ok());
  EXPECT_EQ(b->Get("k").value_or(""), "v");
  EXPECT_EQ(b->Stats()->capacity, size_t{1} << 16);
}

TEST_F(SharedDictTest, IsListedAsANamedObject) {
  SharedDict d = Make();
  auto objects = ipc::ListObjects();
  ASSERT_TRUE(objects.ok()) << objects.status();
  bool found = false;
  for (const auto& o : *objects) {
    if (o.name == name_) {
      found = true;
      EXPECT_EQ(o.kind, "shared-dict");
      EXPECT_EQ(o.creator_pid, getpid());
      EXPECT_EQ(o.path, "/dev/shm/libipc.dict." + name_);
    }
  }
  EXPECT_TRUE(found);
  struct stat st{};
  ASSERT_EQ(::stat(("/dev/shm/libipc.dict." + name_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Processes that each add to one counter with CompareAndSet and write their
// own keys: every add and every key is there at the end.
TEST_F(SharedDictTest, ProcessesShareItAtomically) {
  SharedDict d = Make();
  ASSERT_TRUE(d.Set("count", "0").ok());
  constexpr int kProcesses = 4, kAdds = 300;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(ForkChild([&, p] {
      auto mine = SharedDict::Open(name_);
      if (!mine.ok()) return 1;
      for (int i = 0; i < kAdds; ++i) {
        for (;;) {
          auto now = mine->Get("count");
          if (!now.ok()) return 2;
          auto swapped =
              mine->CompareAndSet("count", *now, std::to_string(std::stoi(*now) + 1));
          if (!swapped.ok()) return 3;
          if (*swapped) break;
        }
        if (!mine->Set("p" + std::to_string(p) + "-" + std::to_string(i), "x").ok()) return 4;
      }
      return 0;
    }));
  }
  for (pid_t child : children) EXPECT_EQ(WaitChild(child), 0);
  EXPECT_EQ(d.Get("count").value_or(""), std::to_string(kProcesses * kAdds));
  EXPECT_EQ(d.Size().value_or(0), static_cast<size_t>(kProcesses * kAdds + 1));
}

TEST_F(SharedDictTest, ThreadsOfOneProcessShareOneHandle) {
  SharedDict d = Make();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&d, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string key = std::to_string(t) + "-" + std::to_string(i);
        ASSERT_TRUE(d.Set(key, key).ok());
        ASSERT_EQ(d.Get(key).value_or(""), key);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(d.Size().value_or(0), 2000u);
}

// A child that takes the dict's lock the way a call does, reports, and
// waits to be killed: as if killed inside a call. `changing` says whether
// it is inside a change.
pid_t HoldTheLock(const std::string& name, bool changing, int ready_fd) {
  return ForkChild([&] {
    const std::string path = "/dev/shm/libipc.dict." + name;
    const int fd = ::open(path.c_str(), O_RDWR);
    if (fd < 0) return 1;
    void* base = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return 2;
    auto* header = static_cast<ipc::internal::dict::DictHeader*>(base);
    if (pthread_mutex_lock(&header->lock) != 0) return 3;
    if (changing) header->changing.store(getpid());
    char c = 'x';
    if (::write(ready_fd, &c, 1) != 1) return 4;
    for (;;) ::pause();
  });
}

void KillHolder(pid_t child) {
  ::kill(child, SIGKILL);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
}

TEST_F(SharedDictTest, DeadlinesWhileAnotherProcessHoldsIt) {
  SharedDict d = Make();
  ASSERT_TRUE(d.Set("k", "v").ok());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = HoldTheLock(name_, /*changing=*/false, ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ipc::Status now = d.Get("k", ipc::Deadline::Now()).status();
  EXPECT_EQ(now.code(), ErrorCode::kWouldBlock) << now;
  ipc::Status later = d.Set("k", "w", 30ms);
  EXPECT_EQ(later.code(), ErrorCode::kDeadlineExceeded) << later;
  EXPECT_NE(later.message().find("shared dict '" + name_ + "': lock"), std::string::npos)
      << later;
  // A holder killed outside a change: the next caller carries on.
  KillHolder(holder);
  EXPECT_EQ(d.Get("k", 5s).value_or(""), "v");
  EXPECT_EQ(d.Stats()->owner_deaths, 1u);
  EXPECT_TRUE(d.Set("k", "w").ok());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(SharedDictTest, AHolderKilledInsideAChangeMakesItNotRecoverableUntilReset) {
  SharedDict d = Make();
  ASSERT_TRUE(d.Set("k", "v").ok());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = HoldTheLock(name_, /*changing=*/true, ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  KillHolder(holder);

  ipc::Status torn = d.Get("k", 5s).status();
  EXPECT_EQ(torn.code(), ErrorCode::kNotRecoverable) << torn;
  EXPECT_NE(torn.message().find("process " + std::to_string(holder) + " died in the middle"),
            std::string::npos)
      << torn;
  EXPECT_NE(torn.message().find("Reset()"), std::string::npos) << torn;
  // Every call and every process sees it, not just the first.
  EXPECT_EQ(d.Set("k", "w").code(), ErrorCode::kNotRecoverable);
  const pid_t other = ForkChild([&] {
    auto mine = SharedDict::Open(name_);
    return mine.ok() && mine->Size().status().code() == ErrorCode::kNotRecoverable ? 0 : 1;
  });
  EXPECT_EQ(WaitChild(other), 0);

  ASSERT_TRUE(d.Reset().ok());
  EXPECT_EQ(d.Size().value_or(1), 0u);
  EXPECT_TRUE(d.Set("k", "again").ok());
  EXPECT_EQ(d.Get("k").value_or(""), "again");
  EXPECT_EQ(d.Stats()->free_bytes + 1024 > d.Stats()->capacity, true);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(SharedDictTest, ResetEmptiesAHealthyDictForEveryHandle) {
  SharedDict d = Make();
  auto other = SharedDict::Open(name_);
  ASSERT_TRUE(other.ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(d.Set(std::to_string(i), "v").ok());
  ASSERT_TRUE(other->Reset().ok());
  EXPECT_EQ(d.Size().value_or(1), 0u);
  ASSERT_TRUE(d.Set("after", "reset").ok());
  EXPECT_EQ(other->Get("after").value_or(""), "reset");
}

// A header damaged by a process that may write the segment is refused, not
// followed.
TEST_F(SharedDictTest, ADamagedHeaderIsRefused) {
  SharedDict d = Make();
  const std::string path = "/dev/shm/libipc.dict." + name_;
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  void* base = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(base, MAP_FAILED);
  auto* header = static_cast<ipc::internal::dict::DictHeader*>(base);
  const uint64_t offset = header->map_offset;
  header->map_offset = uint64_t{1} << 40;
  EXPECT_EQ(d.Get("k").status().code(), ErrorCode::kProtocolError);
  header->map_offset = offset;
  header->capacity = uint64_t{1} << 40;
  EXPECT_EQ(SharedDict::Open(name_).status().code(), ErrorCode::kProtocolError);
  // Still removable: Unlink checks the stamp, not the header.
  EXPECT_TRUE(SharedDict::Unlink(name_).ok());
  EXPECT_EQ(SharedDict::Open(name_).status().code(), ErrorCode::kNotFound);
  ::munmap(base, 4096);
  ::close(fd);
}

}  // namespace
