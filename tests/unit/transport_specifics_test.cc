// Behaviour particular to one transport: names, permissions, stale files,
// exclusive senders, chosen ports.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::TempDir;
using ipc::testing::WaitChild;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 0777) : 01000;
}

TEST(UnixSocketTest, OwnerOnlyByDefaultAndModeOnRequest) {
  TempDir dir;
  auto a = ipc::Listen("unix://" + dir.File("a.sock"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(ModeOf(dir.File("a.sock")), 0600u);
  auto b = ipc::Listen("unix://" + dir.File("b.sock") + "?mode=0660");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ModeOf(dir.File("b.sock")), 0660u);
  a->Close();
  EXPECT_NE(::access(dir.File("a.sock").c_str(), F_OK), 0) << "removed on close";
}

TEST(UnixSocketTest, StaleFileReplacedLiveListenerRefusedOtherFilesLeftAlone) {
  TempDir dir;
  const std::string url = "unix://" + dir.File("s.sock");
  // A listener that dies without cleaning up leaves its socket file.
  const pid_t child = ForkChild([&] {
    auto listener = ipc::Listen(url);
    _exit(listener.ok() ? 0 : 1);  // Dies holding it: no destructor runs.
    return 1;
  });
  ASSERT_EQ(WaitChild(child), 0);
  ASSERT_EQ(::access(dir.File("s.sock").c_str(), F_OK), 0);
  auto replaced = ipc::Listen(url);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  auto second = ipc::Listen(url);
  EXPECT_EQ(second.status().code(), ErrorCode::kAddressInUse) << second.status();

  const std::string file = dir.File("regular");
  ::close(::open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  auto refused = ipc::Listen("unix://" + file);
  EXPECT_EQ(refused.status().code(), ErrorCode::kAddressInUse);
  EXPECT_NE(refused.status().message().find("not a socket"), std::string::npos);
  EXPECT_EQ(::access(file.c_str(), F_OK), 0) << "a regular file must never be deleted";
}

TEST(UnixSocketTest, AbstractNamesAndTheirErrors) {
  const std::string url = "unix://@" + ipc::testing::UniqueName("abs");
  auto l = ipc::Listen(url);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(ipc::Listen(url).status().code(), ErrorCode::kAddressInUse);
  EXPECT_EQ(ipc::Listen(url + "?mode=0600").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Listen("unix://@").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Listen("unix:///" + std::string(200, 'x')).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(FifoTest, SecondSenderIsRefusedAndTheFifoGoesWithItsListener) {
  TempDir dir;
  const std::string url = "fifo://" + dir.File("f");
  auto listener = ipc::Listen(url);
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(ModeOf(dir.File("f")), 0600u);
  auto first = ipc::Connect(url, 5s);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ipc::Connect(url, 5s);
  EXPECT_EQ(second.status().code(), ErrorCode::kAddressInUse) << second.status();
  auto receiver = listener->Accept(5s);
  ASSERT_TRUE(receiver.ok());
  ASSERT_TRUE(first->Send("one sender").ok());
  EXPECT_EQ(receiver->Receive(5s).value_or(""), "one sender");
  EXPECT_EQ(listener->Accept(10ms).status().code(), ErrorCode::kUnsupported);
  listener->Close();
  EXPECT_NE(::access(dir.File("f").c_str(), F_OK), 0);
}

TEST(FifoTest, AWriterThatDoesNotSpeakTheFramingIsReported) {
  TempDir dir;
  auto listener = ipc::Listen("fifo://" + dir.File("f"));
  ASSERT_TRUE(listener.ok());
  const int fd = ::open(dir.File("f").c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "hello", 5), 5);
  auto accepted = listener->Accept(5s);
  EXPECT_EQ(accepted.status().code(), ErrorCode::kProtocolError) << accepted.status();
  ::close(fd);
}

TEST(FifoTest, RefusesPathsThatAreNotFifos) {
  TempDir dir;
  const std::string file = dir.File("plain");
  ::close(::open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  EXPECT_EQ(ipc::Listen("fifo://" + file).status().code(), ErrorCode::kAddressInUse);
  EXPECT_EQ(ipc::Connect("fifo://" + file, 10ms).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(::access(file.c_str(), F_OK), 0);
}

TEST(TcpTest, PortZeroIsReportedAndNamesResolve) {
  auto l = ipc::Listen("tcp://localhost:0");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->url().find(":0"), std::string::npos) << l->url();
  auto c = ipc::Connect(l->url(), 5s);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(ipc::Connect("tcp://127.0.0.1", 10ms).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Connect("tcp://127.0.0.1:70000", 10ms).status().code(),
            ErrorCode::kInvalidArgument);
  auto unknown = ipc::Connect("tcp://no-such-host.invalid:80", 10ms);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound) << unknown.status();
}

TEST(UdpTest, TheListenerAnswersWhoeverSpokeLast) {
  auto l = ipc::Listen("udp://127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  auto server = l->Accept();
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->Send("to whom?").code(), ErrorCode::kNotFound);
  EXPECT_EQ(l->Accept().status().code(), ErrorCode::kUnsupported);
  auto a = ipc::Connect(l->url());
  auto b = ipc::Connect(l->url());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->Send("from a").ok());
  EXPECT_EQ(server->Receive(5s).value_or(""), "from a");
  ASSERT_TRUE(server->Send("to a").ok());
  ASSERT_TRUE(b->Send("from b").ok());
  EXPECT_EQ(server->Receive(5s).value_or(""), "from b");
  ASSERT_TRUE(server->Send("to b").ok());
  EXPECT_EQ(a->Receive(5s).value_or(""), "to a");
  EXPECT_EQ(b->Receive(5s).value_or(""), "to b");
  EXPECT_EQ(a->Send(std::string(65508, 'x')).code(), ErrorCode::kMessageTooLarge);
}

// The resident memory of this process, in bytes.
long ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// A peer that announces a message of max_message bytes and sends a few:
// the receiver holds what arrived, not what was announced (a hostile peer,
// or a daemon answering the Manager, must not make it commit 64 MiB per
// connection for four bytes).
TEST(StreamChannelTest, AnAnnouncedMessageThatNeverComesCostsOnlyWhatArrived) {
  TempDir dir;
  auto listener = ipc::Listen("unix://" + dir.File("s") + "?max_message=67108864");
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = dir.File("s");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto channel = listener->Accept(5s);
  ASSERT_TRUE(channel.ok()) << channel.status();
  const uint32_t announced = 64u << 20;
  std::string bytes(reinterpret_cast<const char*>(&announced), 4);
  bytes.append(1000, 'x');
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  const long before = ResidentBytes();
  std::string message;
  EXPECT_EQ(channel->Receive(&message, 100ms).code(), ErrorCode::kDeadlineExceeded);
  EXPECT_LT(ResidentBytes() - before, 8l << 20);
  ::close(fd);
  EXPECT_EQ(channel->Receive(&message, 5s).code(), ErrorCode::kClosed);
}

}  // namespace
