#include "support/redis_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "support/test_util.h"

namespace ipc::testing {
namespace {

// Whether a server answers on path: any reply to PING (+PONG, or -NOAUTH
// when it wants a password) shows it is serving.
bool Answers(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, "PING\r\n", 6) == 6) {
    char c = 0;
    ok = ::read(fd, &c, 1) == 1 && (c == '+' || c == '-');
  }
  ::close(fd);
  return ok;
}

}  // namespace

RedisServer::RedisServer() = default;
RedisServer::RedisServer(RedisServer&& other) noexcept
    : dir_(std::move(other.dir_)),
      options_(std::move(other.options_)),
      socket_path_(std::move(other.socket_path_)),
      pid_(std::exchange(other.pid_, -1)) {}
RedisServer& RedisServer::operator=(RedisServer&& other) noexcept {
  if (this != &other) {
    Kill();
    dir_ = std::move(other.dir_);
    options_ = std::move(other.options_);
    socket_path_ = std::move(other.socket_path_);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}
RedisServer::~RedisServer() { Kill(); }

RedisServer RedisServer::Start(Options options) {
  RedisServer server;
  server.dir_ = std::make_unique<TempDir>();
  server.options_ = std::move(options);
  server.socket_path_ = server.dir_->File("redis.sock");
  if (!server.Launch()) server.Kill();
  return server;
}

bool RedisServer::Launch() {
  std::vector<std::string> args = {"redis-server", "--port", std::to_string(options_.port),
                                   "--bind", "127.0.0.1", "--unixsocket", socket_path_,
                                   "--save", "", "--appendonly", "no",
                                   "--dir", dir_->path(), "--logfile", dir_->File("redis.log")};
  if (!options_.password.empty()) {
    args.insert(args.end(), {"--requirepass", options_.password});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  ::unlink(socket_path_.c_str());
  pid_ = ::fork();
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    _exit(127);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!Answers(socket_path_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "redis-server exited before serving (status " << status
                    << "; is it installed? tools/install-deps.sh installs it)";
      return false;
    }
    if (std::chrono::steady_clock::now() >= give_up) {
      ADD_FAILURE() << "redis-server did not answer PING within 10 s";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Polls for it to come up.
  }
  return true;
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool RedisServer::Restart() {
  Kill();
  return Launch();
}

}  // namespace ipc::testing
