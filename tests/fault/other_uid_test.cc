// Another uid (65534, as `setpriv --reuid=65534 --regid=65534
// --clear-groups` runs it) against what root made with the default,
// owner-only modes: channels, named objects and ipcd's socket. Each refusal
// must come from the open or connect itself, as kPermissionDenied naming
// what was refused, and promptly — not as a later failure, and not as a
// connect that waits out its deadline.
//
// (The opposite direction, another user squatting a name root then opens,
// is tests/sync/owner_test.cc.) Needs root to switch users; skipped
// otherwise.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "ipc/barrier.h"
#include "ipc/channel.h"
#include "ipc/condition.h"
#include "ipc/event.h"
#include "ipc/manager.h"
#include "ipc/mutex.h"
#include "ipc/queue.h"
#include "ipc/semaphore.h"
#include "ipc/shared_memory.h"
#include "ipc/shared_value.h"
#include "spawn.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::Status;
using ipc::testing::ForkChild;
using ipc::testing::TempDir;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

constexpr uid_t kNobody = 65534;

Status StatusOf(const Status& status) { return status; }
Status StatusOf(const auto& result) {
  return result.ok() ? Status::Ok() : result.status();
}

// In the child: drop to uid/gid 65534 with no supplementary groups.
bool BecomeNobody() {
  return ::setgroups(0, nullptr) == 0 &&
         ::setresgid(kNobody, kNobody, kNobody) == 0 &&
         ::setresuid(kNobody, kNobody, kNobody) == 0;
}

// True when s is kPermissionDenied naming `names` and came within 2 s;
// prints what it got otherwise.
bool Refused(const char* what, const Status& s, const std::string& names,
             std::chrono::steady_clock::duration took) {
  const bool ok = s.code() == ErrorCode::kPermissionDenied &&
                  s.message().find(names) != std::string::npos && took < 2s;
  if (!ok) {
    std::fprintf(
        stderr,
        "%s: want PermissionDenied naming '%s' at once, got %s after %lld ms\n",
        what, names.c_str(), s.ToString().c_str(),
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(took)
                .count()));
  }
  return ok;
}

// Runs each check as uid 65534 in a child; the child's exit code counts
// the failed ones.
int AsNobody(const std::function<int()>& checks) {
  const pid_t child =
      ForkChild([&] { return BecomeNobody() ? checks() : 100; });
  return WaitChild(child, 40000);
}

#define EXPECT_REFUSED(what, call, names)                          \
  do {                                                             \
    const auto start_ = std::chrono::steady_clock::now();          \
    const Status status_ = StatusOf(call);                         \
    failed += !Refused(what, status_, names,                       \
                       std::chrono::steady_clock::now() - start_); \
  } while (0)

class OtherUidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as uid 65534";
    // The paths' directory is open to all, so only each object's own
    // mode stands in the way.
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  }
  TempDir dir_;
  const std::string name_ = UniqueName("uid");
};

TEST_F(OtherUidTest, CannotOpenOwnerOnlyNamedObjects) {
  const std::string n = name_;
  auto mutex = ipc::Mutex::Create(n);
  auto rmutex = ipc::RecursiveMutex::Create(n);
  auto sem = ipc::Semaphore::Create(n, 1);
  auto event = ipc::Event::Create(n);
  auto cond = ipc::Condition::Create(n);
  auto barrier = ipc::Barrier::Create(n, 2);
  auto queue = ipc::Queue::Create(n);
  auto mem = ipc::SharedMemory::Create(n, 4096);
  auto value = ipc::SharedValue<long>::Create(n + "v", 7);
  ASSERT_TRUE(mutex.ok() && rmutex.ok() && sem.ok() && event.ok() &&
              cond.ok() && barrier.ok() && queue.ok() && mem.ok() &&
              value.ok());
  const int rc = AsNobody([&] {
    int failed = 0;
    const std::string q = "'" + n + "'";
    EXPECT_REFUSED("Mutex::Open", ipc::Mutex::Open(n), q);
    EXPECT_REFUSED("Mutex::OpenOrCreate", ipc::Mutex::OpenOrCreate(n), q);
    EXPECT_REFUSED("RecursiveMutex::Open", ipc::RecursiveMutex::Open(n), q);
    EXPECT_REFUSED("Semaphore::Open", ipc::Semaphore::Open(n), q);
    EXPECT_REFUSED("Event::Open", ipc::Event::Open(n), q);
    EXPECT_REFUSED("Event::OpenOrCreate", ipc::Event::OpenOrCreate(n), q);
    EXPECT_REFUSED("Condition::Open", ipc::Condition::Open(n), q);
    EXPECT_REFUSED("Barrier::Open", ipc::Barrier::Open(n), q);
    EXPECT_REFUSED("Queue::Open", ipc::Queue::Open(n), q);
    EXPECT_REFUSED("Queue::OpenOrCreate", ipc::Queue::OpenOrCreate(n), q);
    EXPECT_REFUSED("SharedMemory::Open", ipc::SharedMemory::Open(n), q);
    EXPECT_REFUSED("SharedMemory::Open(0666)", ipc::SharedMemory::Open(n, 0666),
                   q);
    EXPECT_REFUSED("SharedValue::Open", ipc::SharedValue<long>::Open(n + "v"),
                   n + "v");
    // Nor can it remove them.
    EXPECT_REFUSED("Mutex::Unlink", ipc::Mutex::Unlink(n), n);
    EXPECT_REFUSED("SharedMemory::Unlink", ipc::SharedMemory::Unlink(n), n);
    return failed;
  });
  EXPECT_EQ(rc, 0) << "see the child's stderr";
  // Still ours and intact.
  EXPECT_TRUE(ipc::Mutex::Open(n).ok());
  EXPECT_TRUE(ipc::SharedMemory::Open(n).ok());
  for (auto unlink :
       {ipc::Mutex::Unlink, ipc::RecursiveMutex::Unlink, ipc::Semaphore::Unlink,
        ipc::Event::Unlink, ipc::Condition::Unlink, ipc::Barrier::Unlink,
        ipc::Queue::Unlink, ipc::SharedMemory::Unlink}) {
    (void)unlink(n);
  }
  (void)ipc::SharedValue<long>::Unlink(n + "v");
}

TEST_F(OtherUidTest, CannotConnectToOwnerOnlyChannels) {
  const std::string unix_url = "unix://" + dir_.File("sock");
  const std::string fifo_url = "fifo://" + dir_.File("fifo");
  const std::string mq_url = "mq:///" + name_;
  auto unix_l = ipc::Listen(unix_url);
  auto fifo_l = ipc::Listen(fifo_url);
  auto mq_l = ipc::Listen(mq_url);
  ASSERT_TRUE(unix_l.ok() && fifo_l.ok() && mq_l.ok());
  const int rc = AsNobody([&] {
    int failed = 0;
    EXPECT_REFUSED("unix", ipc::Connect(unix_url, 5s), dir_.File("sock"));
    EXPECT_REFUSED("fifo", ipc::Connect(fifo_url, 5s), dir_.File("fifo"));
    EXPECT_REFUSED("mq", ipc::Connect(mq_url, 5s), name_);
    return failed;
  });
  EXPECT_EQ(rc, 0) << "see the child's stderr";
  // No connection ever reached a listener.
  EXPECT_EQ(unix_l->Accept(ipc::Deadline::Now()).status().code(),
            ErrorCode::kWouldBlock);
  EXPECT_EQ(fifo_l->Accept(ipc::Deadline::Now()).status().code(),
            ErrorCode::kWouldBlock);
}

// ZeroMQ connects in the background and retries; a socket file it may not
// open must still be reported as such by Connect, not as a missing
// listener after the whole deadline.
TEST_F(OtherUidTest, CannotConnectToAnOwnerOnlyZmqIpcListener) {
  const std::string url = "zmq+ipc://" + dir_.File("zsock");
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int rc = AsNobody([&] {
    int failed = 0;
    EXPECT_REFUSED("zmq+ipc", ipc::Connect(url, 3s), dir_.File("zsock"));
    return failed;
  });
  EXPECT_EQ(rc, 0) << "see the child's stderr";
}

TEST_F(OtherUidTest, CannotConnectToAnOwnerOnlyShmChannel) {
  const std::string url = "shm://" + name_;
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok());
  // The refusal is the listener's verdict, given while it accepts.
  const pid_t child = ForkChild([&] {
    if (!BecomeNobody()) return 100;
    int failed = 0;
    EXPECT_REFUSED("shm", ipc::Connect(url, 5s), url);
    return failed;
  });
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    auto accepted = listener->Accept(20ms);
    ASSERT_EQ(accepted.status().code(), ErrorCode::kDeadlineExceeded)
        << "nobody got in";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "see the child's stderr";
}

TEST_F(OtherUidTest, CannotConnectToTheDaemonSocket) {
  // ipcd makes the socket's directory itself (0750) and the socket 0660,
  // both root's: uid 65534 is kept out by the directory, and by the socket
  // alone once the directory is opened up.
  ipc::testing::SpawnOptions options;
  const std::string socket = dir_.File("run/ipcd.sock");
  options.args = {"--socket", socket};
  options.stderr_file = dir_.File("stderr");
  ipc::testing::SpawnedIpcd daemon(options);
  const std::string url = "unix://" + socket;
  ipc::ManagerOptions wait;
  wait.wait_for_daemon = 10s;
  auto root = ipc::Manager::Connect(url, wait);
  ASSERT_TRUE(root.ok()) << root.status()
                         << ipc::testing::ReadFile(options.stderr_file);
  ASSERT_TRUE(root->Counter("c").Add(1).ok());

  auto try_as_nobody = [&] {
    return AsNobody([&] {
      int failed = 0;
      EXPECT_REFUSED("Manager::Connect", ipc::Manager::Connect(url), socket);
      ipc::ManagerOptions patient;
      patient.wait_for_daemon = 5s;  // Still no point waiting for it.
      EXPECT_REFUSED("Manager::Connect(wait)",
                     ipc::Manager::Connect(url, patient), socket);
      EXPECT_REFUSED("ipc::Connect", ipc::Connect(url, 5s), socket);
      return failed;
    });
  };
  EXPECT_EQ(try_as_nobody(), 0)
      << "through the 0750 directory; see the child's stderr";
  ASSERT_EQ(::chmod(dir_.File("run").c_str(), 0755), 0);
  EXPECT_EQ(try_as_nobody(), 0) << "at the 0660 socket; see the child's stderr";
  EXPECT_TRUE(root->Counter("c").Add(1).ok())
      << "the daemon serves its own user still";
  EXPECT_EQ(daemon.Stop(), 0);
}

}  // namespace
