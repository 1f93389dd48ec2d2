// RedisClient: one synchronous connection to a Redis server, on hiredis,
// for the Redis backend of ipc::Manager. It parses the backend's URLs,
// connects with a deadline, authenticates and selects the database, checks
// that the peer speaks Redis, and runs commands as byte-string arguments.
//
//   auto c = RedisClient::Connect(RedisUrl::Parse("redis://127.0.0.1:6379").value(),
//                                 std::chrono::seconds(1)).value();
//   RedisReply r = c.Command({"SET", "k", "v"}).value();
//
// Errors name the server ("redis at redis://127.0.0.1:6379: ..."):
// kNotFound when nothing listens, kPermissionDenied for a refused password,
// kProtocolError for a peer that is not Redis, kClosed once the connection
// is lost (the client is then unusable: make a new one; a command that may
// have been applied is never re-sent).
//
// Thread safety: none; one thread at a time (the backend keeps one client
// per connection it needs).
#ifndef IPC_SRC_MANAGER_REDIS_REDIS_CLIENT_H_
#define IPC_SRC_MANAGER_REDIS_REDIS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/result.h"

struct redisContext;

namespace ipc::internal {

// redis://[user:password@]host:port[/db] or redis+unix:///path[?db=N].
struct RedisUrl {
  std::string host;         // Empty for a unix socket.
  int port = 6379;
  std::string socket_path;  // redis+unix only.
  std::string user;         // Empty: AUTH password alone (the default user).
  std::string password;     // Empty: no AUTH.
  int db = 0;

  // kInvalidArgument naming what is wrong with url.
  static Result<RedisUrl> Parse(std::string_view url);
  // The URL without its password, for messages.
  std::string Display() const;
};

// A reply, flattened: hiredis's types with the strings copied out.
struct RedisReply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError.
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray.
};

class RedisClient {
 public:
  static Result<RedisClient> Connect(const RedisUrl& url, std::chrono::milliseconds timeout);

  RedisClient(RedisClient&&) noexcept;
  RedisClient& operator=(RedisClient&&) noexcept;
  ~RedisClient();

  // Sends one command and waits for its reply until deadline. An error
  // reply is a reply (Type::kError), not a failed Status: scripts need to
  // see it. The Status fails when the connection does (kClosed naming it,
  // kProtocolError for garbage) or the reply did not come in time
  // (kDeadlineExceeded); the client is unusable after either.
  Result<RedisReply> Command(const std::vector<std::string_view>& args,
                             Deadline deadline = Deadline::Infinite());

  // Pipelining: Append queues a command (nothing is sent yet); Receive
  // sends what is queued and returns the next reply, in order. With no
  // reply owed (a subscribed connection waiting for a message), a Receive
  // that times out gives kWouldBlock/kDeadlineExceeded and keeps the
  // connection.
  Status Append(const std::vector<std::string_view>& args);
  Result<RedisReply> Receive(Deadline deadline);

  // False once the connection failed; make a new client then.
  bool usable() const;
  // Whether the server hung up (or sent something unasked) while the
  // connection was idle: a restarted server is seen before a command is
  // sent into the dead connection, so it can be sent on a new one.
  bool PeerClosed() const;

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  RedisClient(std::unique_ptr<redisContext, ContextDeleter> context, std::string display);

  // Closes the connection and returns the error naming what failed.
  Status Failed(const char* what);

  std::unique_ptr<redisContext, ContextDeleter> context_;
  std::string display_;  // "redis at redis://host:port"
  int unanswered_ = 0;   // Commands appended whose reply has not been read.
  std::vector<const char*> argv_;
  std::vector<size_t> lengths_;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_REDIS_CLIENT_H_
