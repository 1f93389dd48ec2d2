// RedisServer: a real redis-server child process for tests (Debian's
// redis-server, which tools/install-deps.sh installs).
//
//   auto redis = ipc::testing::RedisServer::Start();
//   auto manager = ipc::Manager::Connect(redis.url());
//
// Start() runs redis-server without persistence on a unix socket in a
// fresh temp dir (or, with a port, on 127.0.0.1 too) and waits (at most
// 10 s) until it answers PING; if it exits first, or redis-server is
// missing, the test fails. Restart() kills it and starts it again on the
// same socket and port, as a server restart under connected clients.
//
// Thread safety: use one RedisServer from one thread. Move-only.
#ifndef IPC_TESTS_SUPPORT_REDIS_SERVER_H_
#define IPC_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace ipc::testing {

class TempDir;

class RedisServer {
 public:
  struct Options {
    std::string password;  // --requirepass; "" = none.
    int port = 0;          // 0 = the unix socket only.
    std::vector<std::string> extra_args;
  };
  // On failure the returned object has pid() == -1 and a gtest failure
  // has been recorded.
  static RedisServer Start(Options options);
  static RedisServer Start() { return Start(Options{}); }

  RedisServer();
  RedisServer(RedisServer&& other) noexcept;
  RedisServer& operator=(RedisServer&& other) noexcept;
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  // Kills the server if it still runs and removes the temp dir.
  ~RedisServer();

  // "redis+unix://<temp dir>/redis.sock".
  std::string url() const { return "redis+unix://" + socket_path_; }
  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return pid_; }

  // SIGKILL and reap.
  void Kill();
  // Kill() and start again with the same options; false (and a test
  // failure) when it does not come back.
  bool Restart();

 private:
  bool Launch();

  std::unique_ptr<TempDir> dir_;
  Options options_;
  std::string socket_path_;
  pid_t pid_ = -1;
};

}  // namespace ipc::testing

#endif  // IPC_TESTS_SUPPORT_REDIS_SERVER_H_
