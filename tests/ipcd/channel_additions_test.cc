// The small libipc additions ipcd relies on: Channel::Flush for a message
// whose non-blocking Send left a tail, SendBuffered/ReceiveAvailable for
// many messages per system call, and "?fd=N" to adopt an inherited
// listening socket (systemd socket activation).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

TEST(ChannelFlushTest, FinishesTheTailOfANonBlockingSend) {
  auto pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  Channel& writer = pipe->first;
  Channel& reader = pipe->second;
  EXPECT_TRUE(writer.Flush(Deadline::Now()).ok());  // Nothing pending.

  const std::string big(8 << 20, 'z');  // Far more than a socket buffer.
  ASSERT_TRUE(writer.Send(big, Deadline::Now()).ok());  // Started: tail kept.
  Status flushed = writer.Flush(Deadline::Now());
  EXPECT_EQ(flushed.code(), ErrorCode::kWouldBlock) << flushed;

  std::string received;
  std::thread consumer([&] {
    received = reader.Receive(std::chrono::seconds(20)).value_or("");
  });
  // The event-loop way: wait for POLLOUT, flush without blocking, repeat.
  for (;;) {
    flushed = writer.Flush(Deadline::Now());
    if (flushed.ok()) break;
    ASSERT_EQ(flushed.code(), ErrorCode::kWouldBlock) << flushed;
    pollfd p{writer.fd(), POLLOUT, 0};
    ASSERT_GE(::poll(&p, 1, 10000), 0);
  }
  consumer.join();
  EXPECT_EQ(received.size(), big.size());
  EXPECT_EQ(received, big);
  EXPECT_TRUE(Channel().Flush(Deadline::Now()).code() == ErrorCode::kClosed);
}

bool Readable(const Channel& channel) {
  pollfd p{channel.fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(ChannelBatchTest, BufferedMessagesLeaveOnFlushAndArriveWholeInOrder) {
  auto pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  Channel& writer = pipe->first;
  Channel& reader = pipe->second;
  // Sizes around the 64 KiB read of ReceiveAvailable, and an empty one.
  const std::vector<std::string> sent = {"one", "", std::string(70000, 'b'),
                                         "two", std::string(65530, 'c'), "3"};
  for (const std::string& m : sent) ASSERT_TRUE(writer.SendBuffered(m).ok());
  EXPECT_FALSE(Readable(reader));  // Nothing written before Flush.
  ASSERT_TRUE(writer.Flush(std::chrono::seconds(10)).ok());

  std::vector<std::string> got;
  while (got.size() < sent.size()) {
    pollfd p{reader.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    const size_t before = got.size();
    Status status = reader.ReceiveAvailable(&got, 100);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_GT(got.size(), before);
  }
  EXPECT_EQ(got, sent);
  std::vector<std::string> none;
  EXPECT_EQ(reader.ReceiveAvailable(&none, 100).code(), ErrorCode::kWouldBlock);
  EXPECT_TRUE(none.empty());
}

TEST(ChannelBatchTest, TakesNoMoreThanAskedAndFdStaysReadable) {
  auto pipe = Pipe();
  ASSERT_TRUE(pipe.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pipe->first.Send("m" + std::to_string(i)).ok());
  }
  std::vector<std::string> got;
  ASSERT_TRUE(pipe->second.ReceiveAvailable(&got, 2).ok());
  EXPECT_EQ(got, (std::vector<std::string>{"m0", "m1"}));
  EXPECT_TRUE(Readable(pipe->second));  // Nothing held back inside.
  ASSERT_TRUE(pipe->second.ReceiveAvailable(&got, 10).ok());
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(got.back(), "m4");
  EXPECT_FALSE(Readable(pipe->second));
}

TEST(ChannelBatchTest, OversizedMessagesAreRefusedAndReported) {
  auto pipe = Pipe(1024);
  ASSERT_TRUE(pipe.ok());
  EXPECT_EQ(pipe->first.SendBuffered(std::string(2048, 'x')).code(),
            ErrorCode::kMessageTooLarge);
  // An oversized incoming message (the sender allows more) is discarded
  // and reported; the messages around it arrive.
  const std::string url = "unix://@" + UniqueName("batch");
  auto listener = Listen(url + "?max_message=1024");
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto writer = Connect(url);
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto reader = listener->Accept(std::chrono::seconds(10));
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE(writer->Send("small").ok());
  ASSERT_TRUE(writer->Send(std::string(2000, 'y')).ok());
  ASSERT_TRUE(writer->Send("after").ok());
  std::vector<std::string> got;
  ASSERT_TRUE(reader->ReceiveAvailable(&got, 10).ok());
  EXPECT_EQ(got, std::vector<std::string>{"small"});
  EXPECT_EQ(reader->ReceiveAvailable(&got, 10).code(), ErrorCode::kMessageTooLarge);
  ASSERT_TRUE(reader->ReceiveAvailable(&got, 10).ok());
  EXPECT_EQ(got, (std::vector<std::string>{"small", "after"}));
}

int ListeningUnixSocket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    return -1;
  if (::listen(fd, 8) < 0) return -1;
  return fd;
}

void ExpectExchange(Listener& listener, const std::string& url) {
  auto client = Connect(url, std::chrono::seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  auto server = listener.Accept(std::chrono::seconds(5));
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(client->Send("ping").ok());
  EXPECT_EQ(server->Receive(std::chrono::seconds(5)).value_or(""), "ping");
}

TEST(AdoptListenerTest, UnixSocketByFd) {
  TempDir dir;
  const std::string path = dir.File("adopted.sock");
  const int fd = ListeningUnixSocket(path);
  ASSERT_GE(fd, 0);
  auto listener = Listen("unix://" + path + "?fd=" + std::to_string(fd));
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_EQ(listener->url(), "unix://" + path);  // Where peers connect.
  ExpectExchange(*listener, listener->url());
  listener->Close();
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0)
      << "an adopted socket's file is not ours to remove";
}

TEST(AdoptListenerTest, TcpSocketByFd) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  auto listener = Listen("tcp://127.0.0.1:0?fd=" + std::to_string(fd));
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_EQ(listener->url().find("fd="), std::string::npos);
  EXPECT_NE(listener->url().find("tcp://127.0.0.1:"), std::string::npos);
  EXPECT_EQ(listener->url().find(":0"), std::string::npos);  // The real port.
  ExpectExchange(*listener, listener->url());
}

TEST(AdoptListenerTest, RefusesWhatIsNotAListeningStreamSocket) {
  TempDir dir;
  const int dgram = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  auto bad = Listen("unix://" + dir.File("x") + "?fd=" + std::to_string(dgram));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  ::close(dgram);
  const int unbound = ::socket(AF_UNIX, SOCK_STREAM, 0);
  bad = Listen("unix://" + dir.File("x") + "?fd=" + std::to_string(unbound));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not listening"), std::string::npos);
  ::close(unbound);
  bad = Listen("unix://" + dir.File("x") + "?fd=12345");
  EXPECT_FALSE(bad.ok());
  bad = Listen("unix://" + dir.File("x") + "?fd=-1");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  const int fd = ListeningUnixSocket(dir.File("y"));
  bad = Listen("unix://" + dir.File("y") + "?fd=" + std::to_string(fd) +
               "&mode=0600");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  ::close(fd);
  // A unix socket offered to tcp://.
  const int unix_fd = ListeningUnixSocket(dir.File("z"));
  bad = Listen("tcp://127.0.0.1:0?fd=" + std::to_string(unix_fd));
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  ::close(unix_fd);
  // Connecting has no use for fd=.
  EXPECT_EQ(Connect("unix://" + dir.File("y") + "?fd=3", Deadline::Now())
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ipc::testing
