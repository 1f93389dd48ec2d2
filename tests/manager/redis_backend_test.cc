// What only the Redis backend has to get right (the rest of the Manager
// suite runs on it unchanged as manager_redis_test): leases of holders that
// die, a Redis restart under a connected client, passwords, a peer that is
// not Redis, fork, Close, hostile names and the values' byte encoding.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RedisBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = RedisServer::Start();
    ASSERT_GT(redis_.pid(), 0);
  }
  Manager Connect(ManagerOptions options = {}) {
    auto m = Manager::Connect(redis_.url(), std::move(options));
    EXPECT_TRUE(m.ok()) << m.status();
    return std::move(m).value();
  }
  RedisServer redis_;
};

// Reads one byte from fd: the child's "ready".
bool AwaitByte(int fd) {
  char c;
  return ::read(fd, &c, 1) == 1;
}

TEST_F(RedisBackendTest, ALiveHolderKeepsItsLockPastTheLeaseAndADeadOneLosesIt) {
  ManagerOptions options;
  options.redis_lease = milliseconds(600);
  Manager manager = Connect(options);
  const std::string name = UniqueName("lock");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ForkChild([&] {
    Manager own = Connect(options);
    if (!own.Lock(name).AcquireRaw(seconds(10)).ok()) return 1;
    if (::write(ready[1], "L", 1) != 1) return 2;
    for (;;) ::pause();
  });
  ASSERT_TRUE(AwaitByte(ready[0]));
  // Three leases later the renewal thread of the living holder still has it.
  std::this_thread::sleep_for(milliseconds(1800));
  EXPECT_CODE(manager.Lock(name).AcquireRaw(Deadline::Now()), ErrorCode::kDeadlineExceeded);
  ::kill(child, SIGKILL);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  // Nobody renews it now: a waiter gets it when the lease runs out.
  ASSERT_OK(manager.Lock(name).AcquireRaw(seconds(20)));
  ASSERT_OK(manager.Lock(name).Release());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(RedisBackendTest, SemaphoreUnitsOfADeadHolderComeBackAfterTheLease) {
  ManagerOptions options;
  options.redis_lease = milliseconds(300);
  Manager manager = Connect(options);
  const std::string name = UniqueName("sem");
  ASSERT_OK(manager.Semaphore(name).Create(1));
  const pid_t child = ForkChild([&] {
    Manager own = Connect(options);
    if (!own.Semaphore(name).Acquire(seconds(10)).ok()) return 1;
    ::raise(SIGKILL);
    return 2;
  });
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  ASSERT_OK(manager.Semaphore(name).Acquire(seconds(20)));
}

TEST_F(RedisBackendTest, CloseGivesBackLocksAndUnitsAtOnce) {
  Manager holder = Connect(), other = Connect();
  const std::string lock = UniqueName("lock"), sem = UniqueName("sem");
  ASSERT_OK(holder.Semaphore(sem).Create(1));
  auto guard = holder.Lock(lock).Acquire(seconds(5));
  ASSERT_OK(guard);
  ASSERT_OK(holder.Semaphore(sem).Acquire(seconds(5)));
  EXPECT_CODE(other.Lock(lock).AcquireRaw(Deadline::Now()), ErrorCode::kDeadlineExceeded);
  holder.Close();
  ASSERT_OK(other.Lock(lock).AcquireRaw(Deadline::Now()));
  ASSERT_OK(other.Semaphore(sem).Acquire(Deadline::Now()));
  // The guard's hold was given back with the connection: its release
  // must not touch the lock that other holds now.
  EXPECT_CODE(guard->Release(), ErrorCode::kClosed);
  EXPECT_CODE(holder.Lock(lock).AcquireRaw(Deadline::Now()), ErrorCode::kDeadlineExceeded);
}

TEST_F(RedisBackendTest, AForkedChildHoldsNoneOfItsParentsLocks) {
  Manager manager = Connect();
  const std::string name = UniqueName("lock");
  ASSERT_OK(manager.Lock(name).AcquireRaw(seconds(5)));
  const pid_t child = ForkChild([&] {
    if (manager.Lock(name).AcquireRaw(Deadline::Now()).code() != ErrorCode::kDeadlineExceeded) {
      return 1;
    }
    if (manager.Lock(name).Release().code() != ErrorCode::kInvalidArgument) return 2;
    return manager.Counter(UniqueName("n")).Add(1).ok() ? 0 : 3;
  });
  EXPECT_EQ(WaitChild(child), 0);
  ASSERT_OK(manager.Lock(name).Release());
}

// Every call after a restart either runs once or fails with kClosed; the
// counter counts exactly the calls that said they ran.
TEST_F(RedisBackendTest, ARestartedServerIsReconnectedWithoutResendingACall) {
  Manager manager = Connect();
  auto counter = manager.Counter(UniqueName("n"));
  ASSERT_OK(counter.Add(1));
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(redis_.Restart());  // Without persistence: the counter is gone.
    int64_t ran = 0;
    for (int i = 0; i < 5; ++i) {
      Result<int64_t> r = counter.Add(1);
      if (r.ok()) {
        ++ran;
      } else {
        EXPECT_CODE(r, ErrorCode::kClosed);
      }
    }
    EXPECT_GE(ran, 4) << "only a call into the dead connection may fail";
    EXPECT_EQ(*counter.Get(), ran);
  }
}

TEST_F(RedisBackendTest, AWaiterSeesTheServerGoInsteadOfHanging) {
  Manager manager = Connect(), observer = Connect();
  auto queue = manager.Queue(UniqueName("q"));
  Status got;
  std::thread waiter([&] { got = queue.Get(seconds(60)).status(); });
  AwaitParked(observer, queue.name());
  redis_.Kill();
  waiter.join();
  EXPECT_CODE(got, ErrorCode::kClosed);
  EXPECT_CODE(queue.Size(), ErrorCode::kNotFound);  // Nothing listens any more.
}

TEST_F(RedisBackendTest, PasswordsComeFromTheUrlOrTheOptionsAndNeverShow) {
  redis_ = RedisServer::Start({.password = "s3cret-pw"});
  const std::string path = redis_.socket_path();
  auto none = Manager::Connect("redis+unix://" + path);
  EXPECT_CODE(none, ErrorCode::kPermissionDenied);
  auto wrong = Manager::Connect("redis://:wrong-pw@127.0.0.1:1");
  EXPECT_CODE(wrong, ErrorCode::kNotFound);  // Nothing listens on port 1.
  ManagerOptions bad;
  bad.authkey = "wrong-pw";
  auto refused = Manager::Connect("redis+unix://" + path, bad);
  EXPECT_CODE(refused, ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message().find("wrong-pw"), std::string::npos) << refused.status();
  ManagerOptions good;
  good.authkey = "s3cret-pw";
  auto m = Manager::Connect("redis+unix://" + path, good);
  ASSERT_OK(m);
  ASSERT_OK(m->Counter("n").Add(2));
}

TEST_F(RedisBackendTest, APeerThatIsNotRedisIsRefusedClearly) {
  auto ipcd = DaemonProcess::Start();
  auto m = Manager::Connect("redis+unix://" + ipcd.socket_path());
  EXPECT_CODE(m, ErrorCode::kProtocolError);
  EXPECT_NE(m.status().message().find("redis at redis+unix://"), std::string::npos) << m.status();
}

TEST_F(RedisBackendTest, WatchesAndBadUrlsAreRefusedByName) {
  Manager manager = Connect();
  auto watch = manager.Watch("x");
  EXPECT_CODE(watch, ErrorCode::kUnsupported);
  EXPECT_NE(watch.status().message().find("Redis backend"), std::string::npos) << watch.status();
  auto cluster = Manager::Connect("redis+cluster://127.0.0.1:1,127.0.0.1:2");
  EXPECT_CODE(cluster, ErrorCode::kNotFound);
  EXPECT_CODE(Manager::Connect("redis://"), ErrorCode::kInvalidArgument);
}

TEST_F(RedisBackendTest, NamesWithHashTagAndGlobCharactersStayApart) {
  Manager manager = Connect();
  const std::string base = UniqueName("n");
  const std::vector<std::string> names = {base + "}", base + "}:k", base + "{x}", base + "*",
                                          base + "[a]", base + "|;:", base + "\\"};
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_OK(manager.Counter(names[i]).Add(static_cast<int64_t>(i) + 1));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(*manager.Counter(names[i]).Get(), static_cast<int64_t>(i) + 1) << names[i];
  }
  auto listed = manager.ListObjects(base + "*");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u) << "the prefix is a prefix, not a pattern";
  EXPECT_EQ((*listed)[0].name, base + "*");
  EXPECT_EQ(manager.ListObjects(base)->size(), names.size());
}

TEST_F(RedisBackendTest, EqualValuesCompareEqualWhateverTheirEncoding) {
  Manager manager = Connect();
  auto dict = manager.Dict(UniqueName("d"));
  Value::Map map = {{"a", Value(1)}, {"b", Value("x")}};
  ASSERT_OK(dict.Set("k", Value(map)));
  EXPECT_TRUE(*dict.CompareAndSet("k", Value(map), Value(2)));
  ASSERT_OK(dict.Set("nan", Value(std::nan(""))));
  EXPECT_FALSE(*dict.CompareAndSet("nan", Value(std::nan("")), Value(0)))
      << "NaN equals nothing, as in ipcd";
  auto list = manager.List(UniqueName("l"));
  ASSERT_OK(list.Append(Value(std::nan(""))));
  EXPECT_EQ(*list.Count(Value(std::nan(""))), 0);
  EXPECT_CODE(list.Index(Value(std::nan(""))), ErrorCode::kNotFound);
}

TEST_F(RedisBackendTest, PrioritiesBeyondWhatAScoreHoldsAreRefused) {
  Manager manager = Connect();
  auto queue = manager.Queue(UniqueName("q"));
  ASSERT_OK(queue.Create(0, QueueOrder::kPriority));
  ASSERT_OK(queue.PutWithPriority(int64_t{1} << 53, Value(1)));
  EXPECT_CODE(queue.PutWithPriority((int64_t{1} << 53) + 1, Value(2)),
              ErrorCode::kInvalidArgument);
  ASSERT_OK(queue.PutWithPriority(-(int64_t{1} << 53), Value(3)));
  EXPECT_EQ(*queue.Get(Deadline::Now()), Value(3));
  EXPECT_EQ(*queue.Get(Deadline::Now()), Value(1));
}

// The child's Close must neither give back its parent's holds (which the
// child does not have) nor wait for the parent's renewal thread.
TEST_F(RedisBackendTest, CloseInAForkedChildLeavesItsParentsLocksAlone) {
  Manager manager = Connect(), other = Connect();
  const std::string name = UniqueName("lock");
  auto guard = manager.Lock(name).Acquire(seconds(5));
  ASSERT_OK(guard);
  const pid_t child = ForkChild([&] {
    manager.Close();
    return 0;
  });
  EXPECT_EQ(WaitChild(child, 20000), 0);
  EXPECT_CODE(other.Lock(name).AcquireRaw(Deadline::Now()), ErrorCode::kDeadlineExceeded);
  ASSERT_OK(guard->Release());
}

// A Set followed at once by a Clear still wakes every waiter (ipcd answers
// them at the Set), and a Join returns when the tasks reach zero even if a
// Put follows at once.
TEST_F(RedisBackendTest, APulseWakesEveryWaiter) {
  Manager observer = Connect();
  const std::string name = UniqueName("ev");
  constexpr int kWaiters = 3;
  std::vector<Manager> waiters;
  for (int i = 0; i < kWaiters; ++i) waiters.push_back(Connect());
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (Manager& m : waiters) {
    threads.emplace_back([&] {
      if (m.Event(name).Wait(seconds(60)).ok()) ++woken;
    });
  }
  for (;;) {
    auto objects = observer.ListObjects(name);
    ASSERT_OK(objects);
    if (!objects->empty() && (*objects)[0].waiters == kWaiters) break;
    std::this_thread::yield();
  }
  ASSERT_OK(observer.Event(name).Set());
  ASSERT_OK(observer.Event(name).Clear());
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(woken.load(), kWaiters);

  const std::string q = UniqueName("q");
  ASSERT_OK(observer.Queue(q).Put(1));
  ASSERT_OK(observer.Queue(q).Get(Deadline::Now()));
  Manager joiner = Connect();
  Status joined;
  std::thread join([&] { joined = joiner.Queue(q).Join(seconds(60)); });
  AwaitParked(observer, q);
  ASSERT_OK(observer.Queue(q).TaskDone());
  ASSERT_OK(observer.Queue(q).Put(2));
  join.join();
  EXPECT_TRUE(joined.ok()) << joined;
}

TEST_F(RedisBackendTest, LargeCountsStayExact) {
  Manager manager = Connect();
  auto sem = manager.Semaphore(UniqueName("sem"));
  const int64_t units = 100'000'000'000'007;  // Past what "%.14g" writes in full.
  ASSERT_OK(sem.Create(units));
  EXPECT_EQ(*sem.Value(), units);
  ASSERT_OK(sem.Release());
  EXPECT_EQ(*sem.Value(), units + 1);
  EXPECT_EQ(manager.ListObjects(sem.name())->at(0).size, units + 1);
  EXPECT_CODE(manager.Semaphore(UniqueName("big")).Create((int64_t{1} << 53) + 1),
              ErrorCode::kInvalidArgument);
  const std::string lock = UniqueName("lock");
  auto cond = manager.Condition(UniqueName("cond"), lock);
  ASSERT_OK(manager.Lock(lock).AcquireRaw(seconds(5)));
  EXPECT_EQ(*cond.Notify(INT64_MAX), 0);
  ASSERT_OK(manager.Lock(lock).Release());
}

TEST_F(RedisBackendTest, ZerosCompareEqualAndTextMustBeUtf8) {
  Manager manager = Connect();
  auto dict = manager.Dict(UniqueName("d"));
  ASSERT_OK(dict.Set("z", Value(-0.0)));
  EXPECT_TRUE(*dict.CompareAndSet("z", Value(0.0), Value(1)));
  auto list = manager.List(UniqueName("l"));
  ASSERT_OK(list.Append(Value(0.0)));
  EXPECT_EQ(*list.Index(Value(-0.0)), 0);
  EXPECT_CODE(dict.Set("bad", Value(std::string("\xff\xfe"))), ErrorCode::kInvalidArgument);
  EXPECT_CODE(dict.Set("bad", Value(Value::Map{{std::string("\xc0"), Value(1)}})),
              ErrorCode::kInvalidArgument);
  EXPECT_FALSE(*dict.Contains("bad"));
  ASSERT_OK(dict.Set("ok", Value::FromBytes("\xff\xfe")));  // Bytes may be anything.
  EXPECT_EQ(*dict.Get("ok"), Value::FromBytes("\xff\xfe"));
}

}  // namespace
}  // namespace ipc::testing
