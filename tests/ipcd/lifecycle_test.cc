// Starting and stopping: options and config file, the socket's directory
// and modes, SIGTERM, and the systemd protocol (notify, watchdog, socket
// activation) exercised without systemd.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "ipcd_fixture.h"
#include "spawn.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  ::lstat(path.c_str(), &st);
  return st.st_mode & 07777;
}

// A bound unix socket of type at path; -1 on failure.
int BoundUnixSocket(const std::string& path, int type) {
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    return -1;
  return fd;
}

// The next datagram on fd, or "" after 10 s.
std::string NextDatagram(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) return "";
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

TEST(LifecycleTest, SigtermExitsCleanlyAndRemovesTheSocket) {
  DaemonProcess daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  const std::string path = daemon.socket_path();
  EXPECT_TRUE(Exists(path));
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_FALSE(Exists(path));
  EXPECT_NE(daemon.Stderr().find("<6>ipcd: "), std::string::npos);
}

TEST(LifecycleTest, ParkedRequestsAreAnsweredClosedOnShutdown) {
  DaemonProcess daemon = DaemonProcess::Start();
  RawClient c = RawClient::Open(daemon.url());
  const uint64_t id = c.SendCall(MakeCall("never", v1::EVENT, v1::WAIT));
  RawClient probe = RawClient::Open(daemon.url());
  for (;;) {
    if (probe.Stats().stats().parked() == 1) break;
  }
  EXPECT_EQ(daemon.Stop(), 0);
  auto r = c.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), id);
  EXPECT_EQ(CodeOf(*r), v1::CLOSED);
}

TEST(LifecycleTest, SocketDirectoryIs0750AndSocket0660) {
  TempDir dir;
  const std::string socket_dir = dir.File("a/b");
  SpawnOptions options;
  options.args = {"--socket", socket_dir + "/ipcd.sock"};
  options.stderr_file = dir.File("stderr");
  SpawnedIpcd daemon(options);
  RawClient c = RawClient::Open("unix://" + socket_dir + "/ipcd.sock");
  ASSERT_TRUE(c.ok()) << ReadFile(options.stderr_file);
  EXPECT_EQ(ModeOf(dir.File("a")), 0750u);
  EXPECT_EQ(ModeOf(socket_dir), 0750u);
  EXPECT_EQ(ModeOf(socket_dir + "/ipcd.sock"), 0660u);
  // The peer's credentials are logged at connect.
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_NE(
      ReadFile(options.stderr_file).find("uid " + std::to_string(::getuid())),
      std::string::npos);
}

TEST(LifecycleTest, DefaultSocketComesFromTheEnvironment) {
  TempDir dir;
  SpawnOptions options;
  options.env = {"XDG_RUNTIME_DIR=" + dir.path()};
  ::unsetenv("IPCD_SOCKET");
  ::unsetenv("RUNTIME_DIRECTORY");
  options.stderr_file = dir.File("stderr");
  SpawnedIpcd daemon(options);
  RawClient c = RawClient::Open("unix://" + dir.path() + "/ipcd/ipcd.sock");
  EXPECT_TRUE(c.ok()) << ReadFile(options.stderr_file);
  EXPECT_EQ(ModeOf(dir.File("ipcd")), 0750u);
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST(LifecycleTest, SecondDaemonOnALiveSocketRefusesToStart) {
  DaemonProcess first = DaemonProcess::Start();
  ASSERT_GT(first.pid(), 0);
  std::string log;
  EXPECT_EQ(RunIpcd({"--socket", first.socket_path()}, &log), 1);
  EXPECT_NE(log.find("live listener"), std::string::npos) << log;
  RawClient c = RawClient::Open(first.url());  // The first one is unharmed.
  EXPECT_EQ(CodeOf(c.Stats()), v1::OK);
  EXPECT_EQ(first.Stop(), 0);
}

TEST(LifecycleTest, ExtraUnixListener) {
  TempDir dir;
  const std::string extra = dir.File("extra.sock");
  DaemonProcess daemon = DaemonProcess::Start({"--listen", "unix://" + extra});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open("unix://" + extra);
  v1::Call add = MakeCall("via-extra", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  EXPECT_EQ(c.Call(add).result().value().int_value(), 1);
  EXPECT_EQ(ModeOf(extra), 0660u);
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_FALSE(Exists(extra));
}

TEST(LifecycleTest, HelpAndBadFlags) {
  std::string log;
  EXPECT_EQ(RunIpcd({"--help"}, &log), 0);
  EXPECT_EQ(RunIpcd({"--no-such-flag", "1"}, &log), 2);
  EXPECT_NE(log.find("no-such-flag"), std::string::npos) << log;
  EXPECT_EQ(RunIpcd({"--max-clients", "zero"}, &log), 2);
  EXPECT_NE(log.find("--max-clients"), std::string::npos) << log;
  EXPECT_EQ(RunIpcd({"--max-frame-bytes"}, &log), 2);
}

TEST(LifecycleTest, SpinZeroMeansAlwaysSleep) {
  DaemonProcess daemon = DaemonProcess::Start({"--spin-us", "0"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  v1::Call add = MakeCall("no-spin", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  EXPECT_EQ(c.Call(add).result().value().int_value(), 1);
  EXPECT_EQ(daemon.Stop(), 0);
  std::string log;
  EXPECT_EQ(RunIpcd({"--spin-us", "-1"}, &log), 2);
  EXPECT_NE(log.find("--spin-us"), std::string::npos) << log;
}

TEST(LifecycleTest, ConfigFileUnknownKeyNamesFileAndLine) {
  TempDir dir;
  const std::string config = dir.File("ipcd.conf");
  WriteFile(config, "# comment\nmax_clients = 10\n\nmax_cleints = 5\n", 0644);
  std::string log;
  EXPECT_EQ(RunIpcd({"--config", config}, &log), 2);
  EXPECT_NE(log.find(config + ":4: unknown option 'max_cleints'"),
            std::string::npos)
      << log;
}

TEST(LifecycleTest, ConfigFileSetsLimitsAndFlagsOverrideIt) {
  TempDir dir;
  const std::string config = dir.File("ipcd.conf");
  WriteFile(
      config,
      "max_clients = 10   # trailing comment\nmax_objects=7\nmax_bytes = 64K\n"
      "max_frame_bytes = 2M\nmax_pending_per_client = 9\n",
      0644);
  DaemonProcess daemon =
      DaemonProcess::Start({"--config", config, "--max-objects", "8"});
  RawClient c = RawClient::Open(daemon.url());
  const v1::Limits limits = c.Stats().stats().limits();
  EXPECT_EQ(limits.max_clients(), 10);
  EXPECT_EQ(limits.max_objects(), 8);
  EXPECT_EQ(limits.max_bytes(), 64 * 1024);
  EXPECT_EQ(limits.max_frame_bytes(), 2 * 1024 * 1024);
  EXPECT_EQ(limits.max_pending_per_client(), 9);
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST(LifecycleTest, NotifiesReadyWatchdogAndStopping) {
  TempDir dir;
  const std::string notify_path = dir.File("notify");
  const int notify = BoundUnixSocket(notify_path, SOCK_DGRAM);
  ASSERT_GE(notify, 0);
  SpawnOptions options;
  options.args = {"--socket", dir.File("ipcd.sock")};
  options.env = {"NOTIFY_SOCKET=" + notify_path, "WATCHDOG_USEC=40000"};
  options.stderr_file = dir.File("stderr");
  SpawnedIpcd daemon(options);
  const std::string first = NextDatagram(notify);
  EXPECT_NE(first.find("READY=1"), std::string::npos) << first;
  EXPECT_NE(first.find("STATUS="), std::string::npos) << first;
  // Ready means serving.
  RawClient c = RawClient::Open("unix://" + dir.File("ipcd.sock"));
  EXPECT_EQ(CodeOf(c.Stats()), v1::OK);
  int pings = 0;
  while (pings < 3) {
    const std::string message = NextDatagram(notify);
    ASSERT_FALSE(message.empty()) << "no watchdog ping; log:\n"
                                  << ReadFile(options.stderr_file);
    if (message.find("WATCHDOG=1") != std::string::npos) ++pings;
  }
  ::kill(daemon.pid(), SIGTERM);
  for (;;) {
    const std::string message = NextDatagram(notify);
    ASSERT_FALSE(message.empty()) << "no STOPPING=1";
    if (message.find("STOPPING=1") != std::string::npos) break;
  }
  EXPECT_EQ(daemon.Wait(), 0);
  ::close(notify);
}

TEST(LifecycleTest, SocketActivationAdoptsTheInheritedSocket) {
  TempDir dir;
  const std::string path = dir.File("activated.sock");
  const int listening = BoundUnixSocket(path, SOCK_STREAM);
  ASSERT_GE(listening, 0);
  ASSERT_EQ(::listen(listening, 16), 0);
  SpawnOptions options;
  options.args = {"--socket", dir.File("not-created.sock")};
  options.stderr_file = dir.File("stderr");
  options.listen_fd = listening;
  SpawnedIpcd daemon(options);
  ::close(listening);  // The daemon has its own copy.
  RawClient c = RawClient::Open("unix://" + path);
  ASSERT_TRUE(c.ok());
  v1::Call add = MakeCall("activated", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(2);
  EXPECT_EQ(c.Call(add).result().value().int_value(), 2);
  EXPECT_FALSE(Exists(dir.File("not-created.sock")));
  EXPECT_EQ(daemon.Stop(), 0);
  // The socket belongs to whoever made it (systemd): left in place.
  EXPECT_TRUE(Exists(path));
  EXPECT_NE(ReadFile(options.stderr_file).find("passed by the service manager"),
            std::string::npos);
}

TEST(LifecycleTest, SocketActivationRefusesANonListeningDescriptor) {
  TempDir dir;
  const int dgram = BoundUnixSocket(dir.File("dgram"), SOCK_DGRAM);
  ASSERT_GE(dgram, 0);
  SpawnOptions options;
  options.args = {"--socket", dir.File("s.sock")};
  options.stderr_file = dir.File("stderr");
  options.listen_fd = dgram;
  SpawnedIpcd daemon(options);
  ::close(dgram);
  EXPECT_EQ(daemon.Wait(), 2);
  EXPECT_NE(ReadFile(options.stderr_file).find("not a stream socket"),
            std::string::npos);
}

}  // namespace
}  // namespace ipc::testing
