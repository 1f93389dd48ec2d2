// zmq+ipc:// and zmq+tcp:// beyond the conformance suite, including a
// channel between two network namespaces (two hosts on one machine).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::TempDir;
using ipc::testing::WaitChild;

TEST(ZmqTest, PortZeroIsReportedAndOneChannelPerListener) {
  auto l = ipc::Listen("zmq+tcp://127.0.0.1:0");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->url().rfind("zmq+tcp://127.0.0.1:", 0), 0u) << l->url();
  EXPECT_EQ(l->url().find(":0"), std::string::npos) << l->url();
  auto c = ipc::Connect(l->url(), 5s);
  ASSERT_TRUE(c.ok()) << c.status();
  auto a = l->Accept(5s);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(l->Accept(10ms).status().code(), ErrorCode::kUnsupported);
}

TEST(ZmqTest, IpcSocketIsOwnerOnlyAndBadUrlsAreErrorsNotExceptions) {
  TempDir dir;
  auto l = ipc::Listen("zmq+ipc://" + dir.File("z.sock"));
  ASSERT_TRUE(l.ok()) << l.status();
  struct stat st;
  ASSERT_EQ(::stat(dir.File("z.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ipc::Listen("zmq+ipc://relative").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Listen("zmq+tcp://127.0.0.1").status().code(), ErrorCode::kInvalidArgument);
  // Taken address: a ZeroMQ error turned into a Status naming the URL.
  auto taken = ipc::Listen(l->url());
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), ErrorCode::kAddressInUse) << taken.status();
  auto busy = ipc::Listen("zmq+tcp://127.0.0.1:0");
  ASSERT_TRUE(busy.ok());
  auto again = ipc::Listen(busy->url());
  EXPECT_EQ(again.status().code(), ErrorCode::kAddressInUse) << again.status();
  EXPECT_NE(again.status().message().find(busy->url()), std::string::npos);
  auto unknown = ipc::Connect("zmq+tcp://no-such-host.invalid:5555", 10ms);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound) << unknown.status();
}

// Runs a shell command; true when it exits 0.
bool Shell(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

bool EnterNamespace(const std::string& name) {
  const int fd = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::setns(fd, CLONE_NEWNET) == 0;
  ::close(fd);
  return ok;
}

// Two network namespaces joined by a veth pair are two hosts as far as the
// network stack goes: a zmq+tcp channel between them crosses a real link.
TEST(ZmqTest, CrossesHostsBetweenTwoNetworkNamespaces) {
  const std::string id = std::to_string(::getpid() % 100000);
  const std::string a = "ipcA" + id, b = "ipcB" + id;
  const std::string va = "vA" + id, vb = "vB" + id;
  if (::geteuid() != 0 || !Shell("ip netns add " + a)) {
    GTEST_SKIP() << "cannot create network namespaces here (needs root and iproute2)";
  }
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      Shell("ip netns del " + a);
      Shell("ip netns del " + b);
    }
  } cleanup{a, b};
  ASSERT_TRUE(Shell("ip netns add " + b));
  ASSERT_TRUE(Shell("ip link add " + va + " type veth peer name " + vb));
  ASSERT_TRUE(Shell("ip link set " + va + " netns " + a));
  ASSERT_TRUE(Shell("ip link set " + vb + " netns " + b));
  ASSERT_TRUE(Shell("ip -n " + a + " addr add 10.231.7.1/24 dev " + va));
  ASSERT_TRUE(Shell("ip -n " + b + " addr add 10.231.7.2/24 dev " + vb));
  ASSERT_TRUE(Shell("ip -n " + a + " link set " + va + " up"));
  ASSERT_TRUE(Shell("ip -n " + b + " link set " + vb + " up"));

  const std::string url = "zmq+tcp://10.231.7.1:5555";
  const pid_t server = ForkChild([&] {
    if (!EnterNamespace(a)) return 1;
    auto l = ipc::Listen(url);
    if (!l.ok()) return 2;
    auto ch = l->Accept(20s);
    if (!ch.ok()) return 3;
    auto m = ch->Receive(10s);
    if (!m.ok() || *m != "hello from host B") return 4;
    return ch->Send("hello back from host A").ok() ? 0 : 5;
  });
  const pid_t client = ForkChild([&] {
    if (!EnterNamespace(b)) return 1;
    auto ch = ipc::Connect(url, 20s);
    if (!ch.ok()) return 2;
    if (!ch->Send("hello from host B").ok()) return 3;
    auto reply = ch->Receive(10s);
    return reply.ok() && *reply == "hello back from host A" ? 0 : 4;
  });
  EXPECT_EQ(WaitChild(client, 60000), 0);
  EXPECT_EQ(WaitChild(server, 60000), 0);
}

}  // namespace
