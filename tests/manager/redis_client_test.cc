// RedisClient against a redis-server this test starts on a unix socket
// (tools/install-deps.sh installs it), and against peers that are not
// Redis.
#include "manager/redis/redis_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/redis_server.h"
#include "support/test_util.h"

namespace ipc::internal {
namespace {

using namespace std::chrono_literals;
using ipc::testing::RedisServer;
using ipc::testing::TempDir;

RedisUrl Url(const std::string& s) {
  auto url = RedisUrl::Parse(s);
  EXPECT_TRUE(url.ok()) << url.status();
  return url.value_or(RedisUrl{});
}

TEST(RedisUrlTest, ParsesTcpAndUnixForms) {
  RedisUrl a = Url("redis://app:s3cret@10.0.0.5:7000/2");
  EXPECT_EQ(a.host, "10.0.0.5");
  EXPECT_EQ(a.port, 7000);
  EXPECT_EQ(a.user, "app");
  EXPECT_EQ(a.password, "s3cret");
  EXPECT_EQ(a.db, 2);
  EXPECT_EQ(a.Display(), "redis://app@10.0.0.5:7000/2");  // No password.
  RedisUrl b = Url("redis://localhost");
  EXPECT_EQ(b.port, 6379);
  EXPECT_EQ(b.password, "");
  RedisUrl c = Url("redis+unix:///run/redis.sock?db=3");
  EXPECT_EQ(c.socket_path, "/run/redis.sock");
  EXPECT_EQ(c.db, 3);
  for (const char* bad : {"http://x", "redis://", "redis://h:0", "redis://h:99999",
                          "redis://h:1/x", "redis+unix://relative", "redis+unix:///s?x=1"}) {
    EXPECT_EQ(RedisUrl::Parse(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(RedisClientTest, RunsCommands) {
  auto server = RedisServer::Start();
  ASSERT_GT(server.pid(), 0);
  auto client = RedisClient::Connect(Url(server.url()), 2s);
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string binary("a\0b", 3);
  auto set = client->Command({"SET", "k", binary});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  auto get = client->Command({"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->str, binary);
  EXPECT_EQ(client->Command({"GET", "absent"})->type, RedisReply::Type::kNil);
  EXPECT_EQ(client->Command({"INCRBY", "n", "5"})->integer, 5);
  auto wrong = client->Command({"INCRBY", "k", "1"});
  ASSERT_TRUE(wrong.ok());  // An error reply is a reply.
  EXPECT_EQ(wrong->type, RedisReply::Type::kError);
  auto array = client->Command({"MGET", "k", "absent"});
  ASSERT_EQ(array->elements.size(), 2u);
  EXPECT_EQ(array->elements[1].type, RedisReply::Type::kNil);
}

TEST(RedisClientTest, PasswordsAreCheckedWithClearErrors) {
  auto server = RedisServer::Start({.password = "right"});
  ASSERT_GT(server.pid(), 0);
  const std::string path = server.url().substr(std::string("redis+unix://").size());
  RedisUrl url = Url(server.url());
  auto none = RedisClient::Connect(url, 2s);
  EXPECT_EQ(none.status().code(), ErrorCode::kPermissionDenied) << none.status();
  EXPECT_NE(none.status().message().find("needs a password"), std::string::npos);
  url.password = "wrong";
  auto wrong = RedisClient::Connect(url, 2s);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kPermissionDenied) << wrong.status();
  EXPECT_EQ(wrong.status().message().find("wrong"), std::string::npos)
      << "the password must not appear in messages: " << wrong.status();
  url.password = "right";
  EXPECT_TRUE(RedisClient::Connect(url, 2s).ok());
}

TEST(RedisClientTest, NothingListeningIsNotFound) {
  TempDir dir;
  auto c = RedisClient::Connect(Url("redis+unix://" + dir.File("none.sock")), 1s);
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound) << c.status();
}

// A unix socket server that answers every connection with `answer` (or
// with nothing) and keeps it open until the test ends.
class FakeServer {
 public:
  explicit FakeServer(std::string answer) {
    path_ = dir_.File("fake.sock");
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    (void)::listen(fd_, 4);
    thread_ = std::thread([this, answer] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      if (!answer.empty()) (void)::write(c, answer.data(), answer.size());
      char buf[256];
      while (::read(c, buf, sizeof buf) > 0) {
      }
      ::close(c);
    });
  }
  ~FakeServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.detach();  // Ends when the client closes its end.
  }
  std::string url() const { return "redis+unix://" + path_; }

 private:
  TempDir dir_;
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
};

TEST(RedisClientTest, APeerThatIsNotRedisIsAProtocolError) {
  {
    FakeServer http("HTTP/1.1 400 Bad Request\r\n\r\n");
    auto c = RedisClient::Connect(Url(http.url()), 1s);
    EXPECT_EQ(c.status().code(), ErrorCode::kProtocolError) << c.status();
  }
  {
    FakeServer silent("");
    auto c = RedisClient::Connect(Url(silent.url()), 300ms);
    EXPECT_EQ(c.status().code(), ErrorCode::kProtocolError) << c.status();
  }
}

}  // namespace
}  // namespace ipc::internal
