#include "ipc/pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"
#include "sync/pool_wire.h"
#include "sync/pool_worker.h"
#include "test_message.pb.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::Pool;
using ipc::PoolOptions;
using ::testing::HasSubstr;

int64_t Square(const int64_t& x) { return x * x; }

struct Point {
  double x, y;
};
double Norm2(const Point& p) { return p.x * p.x + p.y * p.y; }

std::string Reverse(const std::string& s) {
  return std::string(s.rbegin(), s.rend());
}

ipc::test::Greeting Shout(const ipc::test::Greeting& in) {
  ipc::test::Greeting out;
  out.set_text(in.text() + "!");
  out.set_number(in.number() * 2);
  return out;
}

int64_t ThrowOnThree(const int64_t& x) {
  if (x == 3) throw std::runtime_error("three is not allowed");
  if (x == 4) throw 4;
  return x;
}

ipc::Result<int64_t> NotFoundOnFive(const int64_t& x) {
  if (x == 5) return ipc::Status(ErrorCode::kNotFound, "no five here");
  return x;
}

int64_t SigkillOn17(const int64_t& x) {
  if (x == 17) raise(SIGKILL);
  return x;
}

int64_t AbortOnTwo(const int64_t& x) {
  if (x == 2) abort();
  return x;
}

int64_t ExitOnOne(const int64_t& x) {
  if (x == 1) _exit(3);
  return x;
}

// Runs until its worker is killed.
int64_t Block(const int64_t&) {
  for (;;) pause();
}

int64_t WorkerPid(const int64_t&) { return getpid(); }

// Memory that the test and the pool's workers (and their children) share.
// Create it before the pool, so that every worker inherits the mapping.
struct Shared {
  std::atomic<int64_t> grandchild{0};
  std::atomic<int64_t> runs{0};
  std::atomic<int64_t> started{0};
  std::atomic<int64_t> pids[8] = {};
};
Shared* g_shared = nullptr;

class SharedMemory {
 public:
  SharedMemory() {
    void* at = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(at, MAP_FAILED);
    g_shared = new (at) Shared;
  }
  ~SharedMemory() {
    munmap(g_shared, sizeof(Shared));
    g_shared = nullptr;
  }
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
};

// Dies, leaving a child that holds the worker's socket open for 30 s.
int64_t DieLeavingAChildWithTheSocket(const int64_t&) {
  const pid_t child = fork();
  if (child == 0) {
    sleep(30);
    _exit(0);
  }
  g_shared->grandchild = child;
  raise(SIGKILL);
  return 0;
}

int64_t CountedSquare(const int64_t& x) {
  ++g_shared->runs;
  return x * x;
}

// Writes a frame the parent cannot parse to its own channel (the worker's
// only socket), then waits to be killed for it.
int64_t SendGarbage(const int64_t&) {
  const char frame[] = {5,   0,   0,   0,  5,
                        'x', 'x', 'x', 'x'};  // Length 5, a torn Results.
  for (int fd = 3; fd < 256; ++fd) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
      (void)!write(fd, frame, sizeof frame);
  }
  for (;;) pause();
}

pid_t g_initialized_in = 0;
int64_t InitializedHere(const int64_t&) {
  return g_initialized_in == getpid() ? getpid() : -1;
}

// Aborting workers would otherwise dump core, which is slow.
ipc::Status NoCoreDumps() {
  const rlimit none{0, 0};
  (void)setrlimit(RLIMIT_CORE, &none);
  return ipc::Status::Ok();
}

// True when pid is no child of ours any more: the pool reaped it, so it is
// neither running nor a zombie.
bool Reaped(pid_t pid) {
  return waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD;
}

Pool MakePool(size_t workers, PoolOptions options = {}) {
  options.workers = workers;
  if (!options.initializer) options.initializer = NoCoreDumps;
  auto pool = Pool::Create(options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return std::move(pool).value();
}

std::vector<int64_t> Range(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

// "pool worker 1234 was killed ..." -> 1234.
pid_t PidIn(const std::string& message) {
  const std::string prefix = "pool worker ";
  const size_t at = message.find(prefix);
  return at == std::string::npos
             ? -1
             : std::atoi(message.c_str() + at + prefix.size());
}

TEST(PoolTest, MapKeepsInputOrderForEveryChunksize) {
  Pool pool = MakePool(3);
  const std::vector<int64_t> xs = Range(2000);
  for (std::optional<size_t> chunksize :
       {std::optional<size_t>(), std::optional<size_t>(1),
        std::optional<size_t>(7), std::optional<size_t>(100),
        std::optional<size_t>(5000)}) {
    auto squares = pool.Map(Square, xs, chunksize);
    ASSERT_TRUE(squares.ok()) << squares.status();
    ASSERT_EQ(squares->size(), xs.size());
    for (size_t i = 0; i < xs.size(); ++i)
      ASSERT_EQ((*squares)[i], xs[i] * xs[i]) << i;
  }
  auto none = pool.Map(Square, std::vector<int64_t>{});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST(PoolTest, MapsValuesStructsStringsAndProtobufMessages) {
  Pool pool = MakePool(2);
  auto norms = pool.Map(Norm2, std::vector<Point>{{3, 4}, {1, 1}});
  ASSERT_TRUE(norms.ok()) << norms.status();
  EXPECT_EQ(*norms, (std::vector<double>{25.0, 2.0}));

  auto reversed = pool.Map(
      Reverse, std::vector<std::string>{"abc", "", std::string(100000, 'z')});
  ASSERT_TRUE(reversed.ok()) << reversed.status();
  EXPECT_EQ((*reversed)[0], "cba");
  EXPECT_EQ((*reversed)[1], "");
  EXPECT_EQ((*reversed)[2], std::string(100000, 'z'));

  std::vector<ipc::test::Greeting> hellos(50);
  for (size_t i = 0; i < hellos.size(); ++i) {
    hellos[i].set_text("hello " + std::to_string(i));
    hellos[i].set_number(static_cast<int64_t>(i));
  }
  auto shouts = pool.Map(Shout, hellos, 4);
  ASSERT_TRUE(shouts.ok()) << shouts.status();
  for (size_t i = 0; i < hellos.size(); ++i) {
    EXPECT_EQ((*shouts)[i].text(), "hello " + std::to_string(i) + "!");
    EXPECT_EQ((*shouts)[i].number(), 2 * static_cast<int64_t>(i));
  }
  ipc::test::Greeting one;
  one.set_text("one");
  auto shout = pool.Apply(Shout, one);
  ASSERT_TRUE(shout.ok()) << shout.status();
  EXPECT_EQ(shout->text(), "one!");
}

TEST(PoolTest, ImapUnorderedGivesEveryResultOnce) {
  Pool pool = MakePool(2);
  const std::vector<int64_t> xs = Range(1000);
  std::vector<int> seen(xs.size());
  for (size_t chunksize : {1, 13}) {
    std::fill(seen.begin(), seen.end(), 0);
    ipc::Status status = pool.ImapUnordered(
        Square, xs,
        [&](size_t index, ipc::Result<int64_t> result) {
          ASSERT_TRUE(result.ok()) << result.status();
          EXPECT_EQ(*result, xs[index] * xs[index]);
          ++seen[index];
        },
        chunksize);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1),
              static_cast<long>(xs.size()));
  }
}

TEST(PoolTest, ApplyAndApplyAsync) {
  Pool pool = MakePool(2);
  auto nine = pool.Apply(Square, 3);
  ASSERT_TRUE(nine.ok()) << nine.status();
  EXPECT_EQ(*nine, 9);

  std::vector<ipc::AsyncResult<int64_t>> pending;
  for (int64_t x = 0; x < 20; ++x)
    pending.push_back(pool.ApplyAsync(Square, x));
  for (int64_t x = 0; x < 20; ++x) {
    auto r = pending[static_cast<size_t>(x)].Get(10s);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, x * x);
    EXPECT_TRUE(pending[static_cast<size_t>(x)].Ready());
    EXPECT_EQ(pending[static_cast<size_t>(x)].Get().value(),
              x * x);  // Again: the same.
  }
  ipc::AsyncResult<int64_t> empty;
  EXPECT_EQ(empty.Get().status().code(), ErrorCode::kInvalidArgument);
}

TEST(PoolTest, ExceptionIsThatTasksErrorAndTheWorkerSurvives) {
  Pool pool = MakePool(2);
  const std::vector<pid_t> pids = pool.worker_pids();
  auto all = pool.Map(ThrowOnThree, Range(10), 1);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), ErrorCode::kInternal);
  EXPECT_THAT(
      all.status().message(),
      HasSubstr(
          "Map input 3: the task threw an exception: three is not allowed"));

  std::map<size_t, std::string> errors;
  ASSERT_TRUE(pool.ImapUnordered(ThrowOnThree, Range(10),
                                 [&](size_t i, ipc::Result<int64_t> r) {
                                   if (!r.ok())
                                     errors[i] = r.status().message();
                                 })
                  .ok());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[3], "the task threw an exception: three is not allowed");
  EXPECT_EQ(errors[4], "the task threw an unknown exception");
  EXPECT_EQ(pool.worker_pids(), pids);
}

// Fixed-size outputs of a batch travel packed; a failure in the middle of
// a batch must still leave every other output of it intact.
TEST(PoolTest, FailureInsideABatchKeepsItsOtherOutputs) {
  Pool pool = MakePool(2);
  const std::vector<int64_t> xs = Range(10);
  std::map<size_t, ipc::Result<int64_t>> outcomes;
  ASSERT_TRUE(pool.ImapUnordered(
                      ThrowOnThree, xs,
                      [&](size_t i, ipc::Result<int64_t> r) {
                        outcomes.emplace(i, std::move(r));
                      },
                      10)
                  .ok());
  ASSERT_EQ(outcomes.size(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i == 3 || i == 4) {
      EXPECT_FALSE(outcomes.at(i).ok()) << i;
    } else {
      EXPECT_EQ(outcomes.at(i).value_or(-1), xs[i]) << i;
    }
  }
  auto last_fails = pool.Map(NotFoundOnFive, Range(6), 6);
  EXPECT_EQ(last_fails.status().message(), "Map input 5: no five here");
}

TEST(PoolTest, ErrorStatusIsThatTasksError) {
  Pool pool = MakePool(2);
  auto all = pool.Map(NotFoundOnFive, Range(8), 3);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(all.status().message(), "Map input 5: no five here");
  auto ok = pool.Apply(NotFoundOnFive, 6);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 6);
}

TEST(PoolTest, SigkilledWorkerFailsItsTaskAndIsReplaced) {
  Pool pool = MakePool(2);
  const std::vector<pid_t> before = pool.worker_pids();
  const std::vector<int64_t> xs = Range(100);
  std::map<size_t, ipc::Status> errors;
  size_t results = 0;
  ASSERT_TRUE(pool.ImapUnordered(SigkillOn17, xs,
                                 [&](size_t i, ipc::Result<int64_t> r) {
                                   ++results;
                                   if (r.ok()) {
                                     EXPECT_EQ(*r, xs[i]);
                                   } else {
                                     errors[i] = r.status();
                                   }
                                 })
                  .ok());
  EXPECT_EQ(results, xs.size());
  ASSERT_EQ(errors.size(), 1u);
  const ipc::Status& killed = errors[17];
  EXPECT_EQ(killed.code(), ErrorCode::kClosed);
  EXPECT_THAT(
      killed.message(),
      HasSubstr("was killed by signal 9 (SIGKILL) while running task 17"));
  const pid_t dead = PidIn(killed.message());
  EXPECT_NE(std::find(before.begin(), before.end(), dead), before.end())
      << killed;
  const std::vector<pid_t> after = pool.worker_pids();
  EXPECT_EQ(after.size(), 2u);
  EXPECT_EQ(std::find(after.begin(), after.end(), dead), after.end());
  EXPECT_TRUE(Reaped(dead));
  auto later = pool.Map(Square, xs, 1);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ((*later)[99], 99 * 99);
}

TEST(PoolTest, WorkerKilledFromOutsideFailsTheTaskItRan) {
  Pool pool = MakePool(1);
  const pid_t worker = pool.worker_pids().at(0);
  auto blocked = pool.ApplyAsync(Block, 0);
  auto queued =
      pool.ApplyAsync(Square, 5);  // Sent to the same worker, not started.
  EXPECT_FALSE(blocked.Ready());
  ASSERT_EQ(kill(worker, SIGKILL), 0);
  auto r = blocked.Get(10s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "pool worker " + std::to_string(worker) +
                " was killed by signal 9 (SIGKILL) while running task 0");
  auto five = queued.Get(10s);
  ASSERT_TRUE(five.ok()) << five.status();
  EXPECT_EQ(*five, 25);
  EXPECT_NE(pool.worker_pids().at(0), worker);
}

TEST(PoolTest, AbortAndExitInATaskAreReportedAsSuch) {
  Pool pool = MakePool(2);
  auto aborted = pool.Map(AbortOnTwo, Range(5), 1);
  ASSERT_FALSE(aborted.ok());
  EXPECT_THAT(
      aborted.status().message(),
      HasSubstr("was killed by signal 6 (SIGABRT) while running task 2"));
  auto exited = pool.Map(ExitOnOne, Range(5), 2);
  ASSERT_FALSE(exited.ok());
  EXPECT_THAT(
      exited.status().message(),
      HasSubstr("exited with status 3 while running tasks 0 to 1 (one batch)"));
  EXPECT_EQ(pool.worker_pids().size(), 2u);
  EXPECT_EQ(pool.Apply(Square, 4).value_or(0), 16);
}

TEST(PoolTest, GarbageFromAWorkerIsItsError) {
  Pool pool = MakePool(1);
  const pid_t worker = pool.worker_pids().at(0);
  auto r = pool.Apply(SendGarbage, 0, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("pool worker " + std::to_string(worker) +
                        " sent a malformed frame"));
  EXPECT_THAT(r.status().message(),
              HasSubstr("and was killed while running task 0"));
  EXPECT_TRUE(Reaped(worker));
  EXPECT_EQ(pool.Apply(Square, 2).value_or(0), 4);
}

TEST(PoolTest, TerminateFailsPendingTasks) {
  Pool pool = MakePool(1);
  const pid_t worker = pool.worker_pids().at(0);
  std::vector<ipc::AsyncResult<int64_t>> pending;
  for (int i = 0; i < 3; ++i) pending.push_back(pool.ApplyAsync(Block, i));
  pool.Terminate();
  for (auto& p : pending) {
    auto r = p.Get(10s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kClosed);
    EXPECT_EQ(r.status().message(),
              "ipc::Pool: terminated before the task finished");
  }
  EXPECT_TRUE(Reaped(worker));
  EXPECT_TRUE(pool.worker_pids().empty());
  EXPECT_EQ(pool.Apply(Square, 1).status().code(), ErrorCode::kClosed);
  EXPECT_TRUE(pool.Join().ok());
}

TEST(PoolTest, GetAndMapDeadlines) {
  Pool pool = MakePool(1);
  auto blocked = pool.ApplyAsync(Block, 0);
  EXPECT_EQ(blocked.Get(20ms).status().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(blocked.Get(ipc::Deadline::Now()).status().code(),
            ErrorCode::kWouldBlock);
  EXPECT_FALSE(blocked.Ready());
  auto map = pool.Map(Square, Range(10), 1, 20ms);
  EXPECT_EQ(map.status().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(pool.Join(20ms).code(),
            ErrorCode::kInvalidArgument);  // Not closed.
  ASSERT_TRUE(pool.Close().ok());
  EXPECT_EQ(pool.Join(20ms).code(), ErrorCode::kDeadlineExceeded);
}

TEST(PoolTest, CloseThenJoin) {
  Pool pool = MakePool(2);
  const std::vector<pid_t> pids = pool.worker_pids();
  auto pending = pool.ApplyAsync(Square, 6);
  ASSERT_TRUE(pool.Close().ok());
  ASSERT_TRUE(pool.Close().ok());
  auto after = pool.Apply(Square, 2);
  EXPECT_EQ(after.status().code(), ErrorCode::kClosed);
  EXPECT_EQ(after.status().message(),
            "ipc::Pool: closed; it takes no more tasks");
  EXPECT_EQ(pool.Map(Square, Range(3)).status().code(), ErrorCode::kClosed);
  ASSERT_TRUE(pool.Join(10s).ok());
  EXPECT_EQ(pending.Get(ipc::Deadline::Now()).value_or(0),
            36);  // Finished before the exit.
  EXPECT_TRUE(pool.worker_pids().empty());
  for (pid_t pid : pids) EXPECT_TRUE(Reaped(pid)) << pid;
}

TEST(PoolTest, DestructionWithPendingWorkLeavesNoProcess) {
  std::vector<pid_t> pids;
  ipc::AsyncResult<int64_t> orphan;
  {
    Pool pool = MakePool(2);
    pids = pool.worker_pids();
    for (int i = 0; i < 4; ++i) (void)pool.ApplyAsync(Block, i);
    orphan = pool.ApplyAsync(Block, 9);
  }
  for (pid_t pid : pids) EXPECT_TRUE(Reaped(pid)) << pid;
  EXPECT_EQ(orphan.Get(1s).status().message(),
            "ipc::Pool: destroyed before the task finished");
}

TEST(PoolTest, ACopyInAForkedChildLeavesTheParentsWorkersAlone) {
  Pool pool = MakePool(2);
  const pid_t child = ipc::testing::ForkChild([&] {
    Pool inherited = std::move(pool);  // Destroyed in the child.
    return inherited.Apply(Square, 2).status().code() == ErrorCode::kClosed ? 0
                                                                            : 1;
  });
  EXPECT_EQ(ipc::testing::WaitChild(child), 0);
  EXPECT_EQ(pool.Apply(Square, 3, 10s).value_or(0), 9);
  EXPECT_EQ(pool.worker_pids().size(), 2u);
}

TEST(PoolTest, InitializerRunsInEachWorker) {
  PoolOptions options;
  options.initializer = [] {
    g_initialized_in = getpid();
    return NoCoreDumps();
  };
  Pool pool = MakePool(3, options);
  const std::vector<pid_t> pids = pool.worker_pids();
  auto where = pool.Map(InitializedHere, Range(300), 1);
  ASSERT_TRUE(where.ok()) << where.status();
  for (int64_t pid : *where) {
    EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end()) << pid;
  }
  EXPECT_EQ(g_initialized_in, 0);  // Not in the parent.
}

TEST(PoolTest, FailingInitializerFailsCreate) {
  PoolOptions options;
  options.workers = 2;
  options.initializer = [] {
    return ipc::Status(ErrorCode::kNotFound, "no config file");
  };
  auto pool = Pool::Create(options);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(pool.status().message(),
              HasSubstr("the initializer failed: no config file"));

  options.initializer = []() -> ipc::Status {
    throw std::runtime_error("boom");
  };
  pool = Pool::Create(options);
  ASSERT_FALSE(pool.ok());
  EXPECT_THAT(pool.status().message(),
              HasSubstr("the pool initializer threw an exception: boom"));
}

TEST(PoolTest, BadOptionsAreInvalidArguments) {
  PoolOptions options;
  options.workers = 0;
  auto none = Pool::Create(options);
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("workers = 0"));

  Pool pool = MakePool(1);
  auto map = pool.Map(Square, Range(3), 0);
  EXPECT_EQ(map.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(map.status().message(), HasSubstr("chunksize 0"));
  EXPECT_EQ(pool.ImapUnordered(
                    Square, Range(3), [](size_t, ipc::Result<int64_t>) {}, 0)
                .code(),
            ErrorCode::kInvalidArgument);

  Pool empty;
  EXPECT_EQ(empty.Apply(Square, 1).status().code(), ErrorCode::kClosed);
  EXPECT_EQ(empty.Close().code(), ErrorCode::kClosed);
}

TEST(PoolTest, DefaultWorkersIsOnePerCpu) {
  auto pool = Pool::Create();
  ASSERT_TRUE(pool.ok()) << pool.status();
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(pool->workers(), static_cast<size_t>(CPU_COUNT(&set)));
  EXPECT_EQ(pool->worker_pids().size(), pool->workers());
}

TEST(PoolTest, MaxTasksPerChildReplacesWorkers) {
  PoolOptions options;
  options.max_tasks_per_child = 5;
  Pool pool = MakePool(2, options);
  auto pids = pool.Map(WorkerPid, Range(50), 1);
  ASSERT_TRUE(pids.ok()) << pids.status();
  std::map<int64_t, int> tasks_per_pid;
  for (int64_t pid : *pids) ++tasks_per_pid[pid];
  EXPECT_GE(tasks_per_pid.size(), 10u);
  const std::vector<pid_t> alive = pool.worker_pids();
  for (const auto& [pid, n] : tasks_per_pid) {
    EXPECT_LE(n, 5) << pid;
    EXPECT_TRUE(Reaped(static_cast<pid_t>(pid)) ||
                std::count(alive.begin(), alive.end(), pid) == 1);
  }
}

// A process the task forked keeps the worker's socket open, so the socket
// never closes: the death must still be seen, through the worker's pidfd.
TEST(PoolTest, DeathIsSeenWhileAChildOfTheWorkerHoldsItsSocket) {
  SharedMemory shared;
  Pool pool = MakePool(1);
  const pid_t worker = pool.worker_pids().at(0);
  auto r = pool.Apply(DieLeavingAChildWithTheSocket, 0, 10s);
  const pid_t grandchild = static_cast<pid_t>(g_shared->grandchild.load());
  if (grandchild > 0) (void)kill(grandchild, SIGKILL);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "pool worker " + std::to_string(worker) +
                " was killed by signal 9 (SIGKILL) while running task 0");
  EXPECT_TRUE(Reaped(worker));
  EXPECT_EQ(pool.Apply(Square, 3, 10s).value_or(0), 9);
}

// The job's queued batches point into the inputs, which are gone once the
// exception has left ImapUnordered: none of them may be sent after that.
TEST(PoolTest, AnExceptionFromOnResultDropsTheRestOfTheJob) {
  SharedMemory shared;
  Pool pool = MakePool(1);
  constexpr int64_t kInputs = 20000;
  {
    auto xs = std::make_unique<std::vector<int64_t>>(Range(kInputs));
    int results = 0;
    EXPECT_THROW((void)pool.ImapUnordered(CountedSquare, *xs,
                                          [&](size_t, ipc::Result<int64_t>) {
                                            if (++results == 3)
                                              throw std::runtime_error("3");
                                          }),
                 std::runtime_error);
  }
  auto squares = pool.Map(Square, Range(100), 1, 10s);
  ASSERT_TRUE(squares.ok()) << squares.status();
  for (int64_t i = 0; i < 100; ++i)
    EXPECT_EQ((*squares)[static_cast<size_t>(i)], i * i);
  // Only the batches sent ahead before the exception ran (up to about a
  // thousand tasks), not the whole job ahead of the Map's tasks.
  EXPECT_LT(g_shared->runs.load(), kInputs / 2);
}

// Results are always at hand here (on_result is the slow part), so only
// an explicit check stops the call at its deadline.
TEST(PoolTest, ImapUnorderedKeepsItsDeadlineWhileResultsKeepComing) {
  Pool pool = MakePool(2);
  size_t results = 0;
  const ipc::Status status = pool.ImapUnordered(
      Square, Range(200),
      [&](size_t, ipc::Result<int64_t>) {
        ++results;
        std::this_thread::sleep_for(20ms);
      },
      1, 200ms);
  EXPECT_EQ(status.code(), ErrorCode::kDeadlineExceeded) << status;
  // Ignoring the deadline would deliver all 200 (in 200 x 20 ms).
  EXPECT_LT(results, 200u);
  auto after = pool.Map(Square, Range(10), 1, 10s);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->at(9), 81);
}

TEST(PoolTest, StartTimeoutFailsCreateAndReapsTheWorkers) {
  SharedMemory shared;
  PoolOptions options;
  options.workers = 2;
  options.start_timeout = 200ms;
  options.initializer = []() -> ipc::Status {
    g_shared->pids[g_shared->started++] = getpid();
    for (;;) pause();
  };
  auto pool = Pool::Create(options);  // Without the limit it never returns.
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(pool.status().message(),
              HasSubstr("ipc::Pool::Create: starting the workers"));
  for (int64_t i = 0; i < g_shared->started; ++i) {
    const auto pid = static_cast<pid_t>(g_shared->pids[i].load());
    EXPECT_TRUE(Reaped(pid)) << pid;
  }
}

// The attack: a thread SIGKILLs a random worker every couple of
// milliseconds during a long run. Every input must get exactly one outcome,
// a result or an error naming a worker that was killed, and no worker may
// be left unreaped. Workers are named by pidfd, so a pid the pool already
// reaped (and the system may reuse) is never signalled.
// Not under TSan: it does not support fork() while another thread runs.
TEST(PoolTest, RandomKillsDuringALongRunLoseNothing) {
  if (ipc::testing::kThreadSanitizer)
    GTEST_SKIP() << "fork() with a running thread";
  Pool pool = MakePool(2);
  const std::vector<int64_t> xs = Range(20000);
  for (size_t chunksize : {1, 5}) {
    std::mutex mutex;
    std::map<pid_t, int> pidfds;  // Workers seen, and their pidfds.
    auto refresh = [&] {
      std::lock_guard<std::mutex> lock(mutex);
      for (pid_t pid : pool.worker_pids()) {
        if (!pidfds.count(pid))
          pidfds[pid] = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
      }
    };
    refresh();
    std::atomic<bool> done{false};
    std::vector<int> killed;  // pidfds, under mutex.
    size_t errors = 0;
    std::thread killer([&] {
      std::mt19937 random(42);
      while (!done) {
        std::this_thread::sleep_for(
            1ms);  // The attack's pace, not a synchronization.
        std::lock_guard<std::mutex> lock(mutex);
        auto it = pidfds.begin();
        std::advance(it, static_cast<long>(random() % pidfds.size()));
        if (syscall(SYS_pidfd_send_signal, it->second, SIGKILL, nullptr, 0) ==
            0) {
          killed.push_back(it->second);
        }
      }
    });
    // Runs again until the attack has killed a fair number of workers.
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (killed.size() >= 25) break;
      }
      std::vector<int> outcomes(xs.size());
      const ipc::Status status = pool.ImapUnordered(
          Square, xs,
          [&](size_t index, ipc::Result<int64_t> r) {
            ++outcomes[index];
            if (r.ok()) {
              EXPECT_EQ(*r, xs[index] * xs[index]);
            } else {
              ++errors;
              EXPECT_EQ(r.status().code(), ErrorCode::kClosed) << r.status();
              EXPECT_THAT(r.status().message(),
                          HasSubstr("was killed by signal 9 (SIGKILL)"));
              std::lock_guard<std::mutex> lock(mutex);
              EXPECT_TRUE(pidfds.count(PidIn(r.status().message())))
                  << r.status();
            }
            refresh();
          },
          chunksize, 60s);
      ASSERT_TRUE(status.ok()) << status;
      ASSERT_EQ(std::count(outcomes.begin(), outcomes.end(), 1),
                static_cast<long>(xs.size()));
    }
    done = true;
    killer.join();
    // The last kills may land after the run: wait until those workers are
    // dead (a pidfd is readable then), so the next run starts without them.
    for (int fd : killed) {
      pollfd exited{fd, POLLIN, 0};
      ASSERT_EQ(poll(&exited, 1, 10000), 1);
    }
    EXPECT_LE(errors, killed.size() * chunksize);
    const std::vector<pid_t> alive = pool.worker_pids();
    for (const auto& [pid, fd] : pidfds) {
      if (std::find(alive.begin(), alive.end(), pid) == alive.end()) {
        EXPECT_TRUE(Reaped(pid)) << pid;
      }
      close(fd);
    }
    std::cout << "chunksize " << chunksize << ": " << killed.size()
              << " kills, " << errors << " tasks failed, " << pidfds.size()
              << " workers\n";
  }
  auto after = pool.Map(Square, xs);
  ASSERT_TRUE(after.ok()) << after.status();
}

}  // namespace

namespace wire_tests {

namespace pool_wire = ipc::internal::pool_wire;

// Starts a bare worker on a pipe, as the pool does, and waits for Ready.
pid_t StartWorker(ipc::Channel* parent_end, uint64_t secret) {
  auto ends = ipc::Pipe();
  EXPECT_TRUE(ends.ok()) << ends.status();
  const pid_t pid = fork();
  if (pid == 0)
    ipc::internal::RunPoolWorker(std::move(ends->second), {}, secret);
  ends->second.Close();
  *parent_end = std::move(ends->first);
  auto ready = parent_end->Receive(10s);
  EXPECT_TRUE(ready.ok()) << ready.status();
  return pid;
}

std::string TasksFrame(uint64_t secret, uint32_t count, std::string body) {
  const auto function = ipc::internal::MakeTaskFunction(Square);
  std::string frame;
  pool_wire::Writer(&frame).Tasks(
      {.batch = 1,
       .function = function,
       .tag = pool_wire::FunctionTag(secret, function),
       .count = count});
  return frame + body;
}

// Frames a worker must refuse by exiting with kPoolWorkerBadFrameExit:
// never a crash, never a task run on a bogus address.
TEST(PoolWireTest, GarbageToAWorkerEndsItCleanly) {
  const uint64_t secret = 0x1234;
  std::vector<std::string> frames = {
      "",
      std::string(1, '\x63'),   // No such kind.
      std::string(1, '\x03'),   // Tasks, no header.
      std::string("\x04x", 2),  // Exit with trailing bytes.
      TasksFrame(secret + 1, 1, std::string("\x01\x08\0\0\0", 5) + "12345678"),
      TasksFrame(secret, 1000000000, std::string("\x01\0\0\0\0", 5)),
      TasksFrame(secret, 3, std::string("\x01\x08\0\0\0", 5) + "12345678"),
      TasksFrame(secret, 1, std::string("\x00\xff\xff\xff\x7f", 5) + "x"),
      TasksFrame(secret, 1, std::string("\x07", 1)),  // No such layout.
  };
  const size_t crafted = frames.size();
  std::mt19937 random(7);
  for (int i = 0; i < 50; ++i) {
    std::string bytes(random() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    frames.push_back(TasksFrame(secret, random() % 4, bytes));
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    ipc::Channel parent_end;
    const pid_t worker = StartWorker(&parent_end, secret);
    ASSERT_TRUE(parent_end.Send(frames[i]).ok());
    // The worker reads the frame before it sees the end of the stream; one
    // that happens to be well-formed is answered, and then the worker
    // leaves with 0 because we are gone.
    parent_end.Close();
    int status = 0;
    ASSERT_EQ(waitpid(worker, &status, 0), worker);
    ASSERT_TRUE(WIFEXITED(status))
        << "frame " << i << ": signal " << WTERMSIG(status);
    if (i < crafted || WEXITSTATUS(status) != 0) {
      EXPECT_EQ(WEXITSTATUS(status), ipc::internal::kPoolWorkerBadFrameExit)
          << "frame " << i;
    }
  }
}

}  // namespace wire_tests
