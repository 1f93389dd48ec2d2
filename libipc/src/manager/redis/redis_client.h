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

  // Sends one command and waits for its reply. An error reply is a reply
  // (Type::kError), not a failed Status: scripts and WATCH need to see it.
  // The Status fails only when the connection does (kClosed, naming it).
  Result<RedisReply> Command(const std::vector<std::string_view>& args);

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  RedisClient(std::unique_ptr<redisContext, ContextDeleter> context, std::string display);

  std::unique_ptr<redisContext, ContextDeleter> context_;
  std::string display_;  // "redis at redis://host:port"
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_REDIS_CLIENT_H_
