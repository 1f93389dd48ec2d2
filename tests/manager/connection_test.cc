// Manager's connection: the missing-daemon message, the default URL,
// reconnecting after the daemon restarts (without re-applying a call that
// may have been applied), fork, and tcp:// with an authentication key.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "ipc/channel.h"
#include "manager/manager_fixture.h"
#include "spawn.h"  // tests/ipcd: SpawnedIpcd


namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A port on 127.0.0.1 free a moment ago (the system's pick for port 0).
int FreeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(ManagerConnectTest, MissingDaemonGivesOneLineNamingTheSocket) {
  TempDir dir;
  const std::string url = "unix://" + dir.File("ipcd.sock");
  auto manager = Manager::Connect(url);
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(
      manager.status().message(),
      "ipcd at " + url + ": not running (connect: No such file or directory)");
}

TEST(ManagerConnectTest, WaitForDaemonGivesDeadlineExceeded) {
  TempDir dir;
  const std::string url = "unix://" + dir.File("ipcd.sock");
  auto manager = Manager::Connect(url, {.wait_for_daemon = milliseconds(50)});
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.status().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(manager.status().message().find("ipcd at " + url + ": not running"),
            std::string::npos)
      << manager.status();
}

TEST(ManagerConnectTest, BadUrlIsInvalidArgument) {
  auto manager = Manager::Connect("nonsense://x");
  EXPECT_CODE(manager, ErrorCode::kInvalidArgument);
}

TEST(ManagerConnectTest, RelativePathOrGarbageIsInvalidArgumentNamingIt) {
  for (const std::string bad :
       {"ipcd.sock", "run/ipcd.sock", "./ipcd.sock", "unix://run/ipcd.sock",
        "mq:///jobs", "not a url"}) {
    auto manager = Manager::Connect(bad);
    EXPECT_CODE(manager, ErrorCode::kInvalidArgument);
    EXPECT_NE(manager.status().message().find(bad), std::string::npos)
        << manager.status();
  }
  // Naming what would work.
  auto manager = Manager::Connect("ipcd.sock");
  EXPECT_NE(manager.status().message().find("absolute socket path"),
            std::string::npos)
      << manager.status();
}

TEST(ManagerConnectTest, NoDaemonOnAnShmNameIsNotFoundNamingIt) {
  const std::string url = "shm://" + UniqueName("no-ipcd");
  auto manager = Manager::Connect(url);
  EXPECT_CODE(manager, ErrorCode::kNotFound);
  EXPECT_NE(manager.status().message().find(url), std::string::npos) << manager.status();
}

TEST(ManagerConnectTest, MissingDaemonAtABarePathNamesTheUnixUrl) {
  TempDir dir;
  const std::string path = dir.File("ipcd.sock");
  auto manager = Manager::Connect(path);
  EXPECT_CODE(manager, ErrorCode::kNotFound);
  EXPECT_NE(manager.status().message().find("ipcd at unix://" + path +
                                            ": not running"),
            std::string::npos)
      << manager.status();
}

TEST(ManagerConnectTest, DefaultUrlFollowsIpcdSocket) {
  const char* saved = std::getenv("IPCD_SOCKET");
  const std::string old = saved ? saved : "";
  ::setenv("IPCD_SOCKET", "/tmp/some-dir/ipcd.sock", 1);
  EXPECT_EQ(Manager::DefaultUrl(), "unix:///tmp/some-dir/ipcd.sock");
  if (saved)
    ::setenv("IPCD_SOCKET", old.c_str(), 1);
  else
    ::unsetenv("IPCD_SOCKET");
}

TEST_F(ManagerTest, ConnectToTheDefaultUrl) {
  const char* saved = std::getenv("IPCD_SOCKET");
  const std::string old = saved ? saved : "";
  ::setenv("IPCD_SOCKET", daemon_.socket_path().c_str(), 1);
  auto manager = Manager::Connect();
  if (saved)
    ::setenv("IPCD_SOCKET", old.c_str(), 1);
  else
    ::unsetenv("IPCD_SOCKET");
  ASSERT_OK(manager);
  EXPECT_EQ(manager->url(), daemon_.url());
  ASSERT_OK(manager->Counter(Name("c")).Add(1));
}

TEST_F(ManagerTest, ConnectToABareSocketPath) {
  auto manager = Manager::Connect(daemon_.socket_path());
  ASSERT_OK(manager);
  EXPECT_EQ(manager->url(), daemon_.url());  // Reported as unix://PATH.
  ASSERT_OK(manager->Counter(Name("c")).Add(1));
}

TEST_F(ManagerTest, CloseReleasesLocksAndLaterCallsReconnect) {
  const std::string name = Name("lock");
  auto other = Connect();
  ASSERT_TRUE(other);
  ASSERT_OK(manager().Lock(name).AcquireRaw());
  EXPECT_CODE(other->Lock(name).Acquire(Deadline::Now()),
              ErrorCode::kDeadlineExceeded);
  manager().Close();
  // The daemon released the closed connection's lock.
  auto taken = other->Lock(name).Acquire(seconds(10));
  ASSERT_OK(taken);
  // And the Manager works again, on a new connection that holds nothing.
  EXPECT_CODE(manager().Lock(name).Release(), ErrorCode::kInvalidArgument);
  ASSERT_OK(manager().Counter(Name("c")).Add(1));
}

TEST_F(ManagerTest, GuardFromALostConnectionDoesNotReleaseANewerHold) {
  const std::string name = Name("lock");
  auto lock = manager().Lock(name);
  auto old_guard = lock.Acquire(Deadline::Now());
  ASSERT_OK(old_guard);
  manager().Close();  // The daemon releases the hold with the connection.
  auto new_guard = lock.Acquire(Deadline::Now());
  ASSERT_OK(new_guard);
  // The stale guard must not release the hold taken on the new connection.
  EXPECT_CODE(old_guard->Release(), ErrorCode::kClosed);
  auto other = Connect();
  ASSERT_TRUE(other);
  EXPECT_CODE(other->Lock(name).Acquire(Deadline::Now()),
              ErrorCode::kDeadlineExceeded);
}

TEST_F(ManagerTest, ChildProcessGetsItsOwnSession) {
  const std::string name = Name("lock");
  ASSERT_OK(manager().Lock(name).AcquireRaw());
  const pid_t child = ForkChild([&] {
    // The parent's lock is not the child's: its own connection must wait.
    Status status = manager().Lock(name).AcquireRaw(Deadline::Now());
    if (status.code() != ErrorCode::kDeadlineExceeded) return 1;
    return manager().Counter(name + "-c").Add(1).ok() ? 0 : 2;
  });
  EXPECT_EQ(WaitChild(child), 0);
  EXPECT_EQ(manager().Counter(name + "-c").Get().value_or(0), 1);
  ASSERT_OK(manager().Lock(name).Release());  // Still the parent's.
}

TEST(ManagerReconnectTest, DaemonRestartOnTheSameSocket) {
  auto daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  // A caller that expects restarts asks to wait for the daemon.
  auto manager =
      Manager::Connect(daemon.url(), {.wait_for_daemon = seconds(20)});
  ASSERT_OK(manager);
  auto observer =
      Manager::Connect(daemon.url(), {.wait_for_daemon = seconds(20)});
  ASSERT_OK(observer);
  const std::string queue = UniqueName("q"), counter = UniqueName("c");
  ASSERT_OK(manager->Counter(counter).Add(1));

  // A call in progress when the daemon goes: it may have been applied, so
  // it gives kClosed rather than being sent again.
  Result<Value> interrupted = Value();
  std::thread waiter(
      [&] { interrupted = manager->Queue(queue).Get(seconds(30)); });
  AwaitParked(*observer, queue);
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
  waiter.join();
  EXPECT_CODE(interrupted, ErrorCode::kClosed);

  // A new daemon on the same socket: the same proxies keep working, the
  // next call waiting for the daemon to listen.
  TempDir logs;
  SpawnedIpcd restarted({.args = {"--socket", daemon.socket_path()},
                         .stderr_file = logs.File("stderr")});
  ASSERT_OK(manager->Counter(counter).Add(1));
  ASSERT_OK(manager->Queue(queue).Put("after restart"));
  EXPECT_EQ(manager->Queue(queue).Get(Deadline::Now()).value_or(Value()),
            Value("after restart"));
  // The observer was idle throughout; it reconnects too.
  ASSERT_OK(observer->Counter(counter).Get());
}

// A guard whose connection was lost to a daemon restart, released before
// any other call noticed: kClosed, and the release never goes out on the
// new connection (where it was "not held by this connection").
TEST(ManagerReconnectTest, GuardReleasedAfterARestartIsClosed) {
  auto daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  auto manager = Manager::Connect(daemon.url(), {.wait_for_daemon = seconds(20)});
  ASSERT_OK(manager);
  const std::string lock = UniqueName("lock");
  auto guard = manager->Lock(lock).Acquire(seconds(5));
  ASSERT_OK(guard);
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
  TempDir logs;
  SpawnedIpcd restarted({.args = {"--socket", daemon.socket_path()},
                         .stderr_file = logs.File("stderr")});
  EXPECT_CODE(guard->Release(), ErrorCode::kClosed);
  // The lock is free on the new daemon, and the Manager works on.
  auto again = manager->Lock(lock).Acquire(Deadline::Now());
  ASSERT_OK(again);
  ASSERT_OK(again->Release());
}

TEST(ManagerReconnectTest, DaemonGoneForGoodGivesAClearError) {
  auto daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  auto manager =
      Manager::Connect(daemon.url(), {.connect_timeout = milliseconds(100)});
  ASSERT_OK(manager);
  EXPECT_EQ(daemon.Stop(), 0);
  auto result = manager->Counter(UniqueName("c")).Add(1);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("ipcd at " + daemon.url()),
            std::string::npos)
      << result.status();
}

// Once the daemon is gone, a call that must reconnect fails as fast as the
// first Connect did (kNotFound, "not running"), instead of waiting out
// connect_timeout; once a daemon listens again, the next call works. Both
// a removed socket (SIGTERM: ENOENT) and a stale one (SIGKILL:
// ECONNREFUSED) count as gone.
void ExpectFastNotRunning(Manager& manager, const std::string& url,
                          const std::string& counter) {
  for (int i = 0; i < 3; ++i) {  // Every call, not just the first.
    const auto start = std::chrono::steady_clock::now();
    auto result = manager.Counter(counter).Add(1);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_CODE(result, ErrorCode::kNotFound);
    EXPECT_NE(result.status().message().find("ipcd at " + url + ": not running"),
              std::string::npos)
        << result.status();
    // Generous: the bug was a wait of connect_timeout (10 s by default).
    EXPECT_LT(took, seconds(5));
  }
}

void RestartAndExpectReconnect(Manager& manager, const std::string& socket,
                               const std::string& counter) {
  TempDir logs;
  SpawnedIpcd restarted(
      {.args = {"--socket", socket}, .stderr_file = logs.File("stderr")});
  // Wait for the listener here, so that the Manager call below need not.
  auto probe = ipc::Connect("unix://" + socket, seconds(10));
  ASSERT_OK(probe);
  probe->Close();
  auto value = manager.Counter(counter).Add(1);
  ASSERT_OK(value);
  EXPECT_EQ(*value, 1);  // A new daemon starts empty.
  EXPECT_EQ(restarted.Stop(), 0);
}

TEST(ManagerReconnectTest, StoppedDaemonFailsFastThenReconnects) {
  auto daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  auto manager = Manager::Connect(daemon.url());  // Default options.
  ASSERT_OK(manager);
  const std::string counter = UniqueName("c");
  ASSERT_OK(manager->Counter(counter).Add(1));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
  ExpectFastNotRunning(*manager, daemon.url(), counter);
  RestartAndExpectReconnect(*manager, daemon.socket_path(), counter);
}

TEST(ManagerReconnectTest, KilledDaemonsStaleSocketFailsFastThenReconnects) {
  auto daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  auto manager = Manager::Connect(daemon.url());
  ASSERT_OK(manager);
  const std::string counter = UniqueName("c");
  ASSERT_OK(manager->Counter(counter).Add(1));
  daemon.Kill();  // Leaves the socket file: connect gives ECONNREFUSED.
  struct stat st;
  ASSERT_EQ(::stat(daemon.socket_path().c_str(), &st), 0);
  ExpectFastNotRunning(*manager, daemon.url(), counter);
  RestartAndExpectReconnect(*manager, daemon.socket_path(), counter);
}

TEST(ManagerReconnectTest, WaitForDaemonAlsoBoundsTheReconnect) {
  auto daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  auto manager =
      Manager::Connect(daemon.url(), {.wait_for_daemon = milliseconds(300)});
  ASSERT_OK(manager);
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
  auto result = manager->Counter(UniqueName("c")).Add(1);
  EXPECT_CODE(result, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(result.status().message().find("ipcd at " + daemon.url() +
                                           ": not running (none answered "
                                           "within 0.3 s"),
            std::string::npos)
      << result.status();
}

class ManagerTcpTest : public ManagerTest {
 protected:
  void SetUp() override {
    key_file_ = key_dir_.File("authkey");
    WriteKey(key_file_, "right key\n");
    // The daemon cannot report a port it picked, so take one that was free
    // a moment ago.
    url_ = "tcp://127.0.0.1:" + std::to_string(FreeTcpPort());
    StartDaemon({"--listen", url_, "--authkey-file", key_file_});
  }

  static void WriteKey(const std::string& path, const std::string& key) {
    std::ofstream(path) << key;
    ::chmod(path.c_str(), 0600);
  }

  TempDir key_dir_;
  std::string key_file_;
  std::string url_;
};

TEST_F(ManagerTcpTest, RightKeyWorks) {
  auto manager = Manager::Connect(url_, {.authkey = "right key"});
  ASSERT_OK(manager);
  EXPECT_EQ(manager->Counter(Name("c")).Add(5).value_or(0), 5);
}

TEST_F(ManagerTcpTest, WrongKeyIsPermissionDenied) {
  auto manager = Manager::Connect(url_, {.authkey = "wrong key"});
  EXPECT_CODE(manager, ErrorCode::kPermissionDenied);
  EXPECT_NE(manager.status().message().find(url_), std::string::npos)
      << manager.status();
}

TEST_F(ManagerTcpTest, MissingKeyIsPermissionDenied) {
  auto manager = Manager::Connect(url_);
  EXPECT_CODE(manager, ErrorCode::kPermissionDenied);
  EXPECT_NE(manager.status().message().find("requires an authentication key"),
            std::string::npos)
      << manager.status();
}

TEST_F(ManagerTcpTest, KeyOnTheUnixSocketIsAccepted) {
  // The unix socket is guarded by its permissions; a key there is unused.
  auto manager = Manager::Connect(daemon_.url(), {.authkey = "right key"});
  ASSERT_OK(manager);
}


// A daemon that stops answering (here: stopped with SIGSTOP) must not hang
// a client: a call that does not wait in the daemon gives up after
// reply_timeout and drops the connection; once the daemon runs again, the
// next call reconnects.
TEST_F(ManagerTest, StoppedDaemonGivesDeadlineExceededAfterReplyTimeout) {
  auto client = Connect({.reply_timeout = std::chrono::milliseconds(200)});
  ASSERT_TRUE(client.has_value());
  auto hits = client->Counter(Name("hits"));
  ASSERT_OK(hits.Add(1));
  ASSERT_EQ(::kill(daemon_.pid(), SIGSTOP), 0);
  const Status stalled = hits.Add(1).status();
  ASSERT_EQ(::kill(daemon_.pid(), SIGCONT), 0);
  EXPECT_EQ(stalled.code(), ErrorCode::kDeadlineExceeded) << stalled;
  EXPECT_NE(stalled.message().find("reply_timeout"), std::string::npos) << stalled;
  // The stalled request was sent but its connection is gone: whether the
  // daemon applied it is unknown (the error says so). The next call works,
  // on a new connection.
  auto value = hits.Add(0);
  ASSERT_OK(value);
  EXPECT_TRUE(*value == 1 || *value == 2) << *value;
}

}  // namespace
}  // namespace ipc::testing
