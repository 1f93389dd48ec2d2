#include "manager/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <poll.h>

#include <cerrno>
#include <charconv>

#include "posix/no_sigpipe.h"

namespace ipc::internal {
namespace {

Status BadUrl(std::string_view url, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "redis URL '" + std::string(url) + "': " + why);
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

RedisReply Flatten(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(Flatten(*r.element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

// A refused AUTH, or a command refused for want of one.
bool IsAuthError(const RedisReply& r) {
  return r.type == RedisReply::Type::kError &&
         (r.str.rfind("WRONGPASS", 0) == 0 || r.str.rfind("NOAUTH", 0) == 0 ||
          r.str.find("invalid password") != std::string::npos ||
          r.str.find("invalid username-password") != std::string::npos);
}

}  // namespace

Result<RedisUrl> RedisUrl::Parse(std::string_view url) {
  RedisUrl out;
  constexpr std::string_view kTcp = "redis://", kUnix = "redis+unix://";
  if (url.rfind(kUnix, 0) == 0) {
    std::string_view rest = url.substr(kUnix.size());
    if (rest.empty() || rest[0] != '/') return BadUrl(url, "expected redis+unix:///path");
    const size_t query = rest.find('?');
    out.socket_path = std::string(rest.substr(0, query));
    if (query != std::string_view::npos) {
      std::string_view q = rest.substr(query + 1);
      if (q.rfind("db=", 0) != 0 || !ParseInt(q.substr(3), &out.db) || out.db < 0) {
        return BadUrl(url, "the only option is db=N");
      }
    }
    return out;
  }
  if (url.rfind(kTcp, 0) != 0) return BadUrl(url, "expected redis:// or redis+unix://");
  std::string_view rest = url.substr(kTcp.size());
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      out.password = std::string(credentials);
    } else {
      out.user = std::string(credentials.substr(0, colon));
      out.password = std::string(credentials.substr(colon + 1));
    }
  }
  const size_t slash = rest.find('/');
  std::string_view host_port = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    if (!ParseInt(rest.substr(slash + 1), &out.db) || out.db < 0) {
      return BadUrl(url, "the database after '/' must be a number");
    }
  }
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(host_port);
  } else {
    out.host = std::string(host_port.substr(0, colon));
    if (!ParseInt(host_port.substr(colon + 1), &out.port) || out.port < 1 || out.port > 65535) {
      return BadUrl(url, "the port must be 1-65535");
    }
  }
  if (out.host.empty()) return BadUrl(url, "no host");
  return out;
}

std::string RedisUrl::Display() const {
  std::string s = socket_path.empty()
                      ? "redis://" + (user.empty() ? "" : user + "@") + host + ":" +
                            std::to_string(port)
                      : "redis+unix://" + socket_path;
  if (db != 0) s += socket_path.empty() ? "/" + std::to_string(db) : "?db=" + std::to_string(db);
  return s;
}

void RedisClient::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

RedisClient::RedisClient(std::unique_ptr<redisContext, ContextDeleter> context,
                         std::string display)
    : context_(std::move(context)), display_(std::move(display)) {}
RedisClient::RedisClient(RedisClient&&) noexcept = default;
RedisClient& RedisClient::operator=(RedisClient&&) noexcept = default;
RedisClient::~RedisClient() = default;

Result<RedisClient> RedisClient::Connect(const RedisUrl& url, std::chrono::milliseconds timeout) {
  const std::string display = "redis at " + url.Display();
  const timeval tv = ToTimeval(timeout);
  std::unique_ptr<redisContext, ContextDeleter> context(
      url.socket_path.empty() ? redisConnectWithTimeout(url.host.c_str(), url.port, tv)
                              : redisConnectUnixWithTimeout(url.socket_path.c_str(), tv));
  if (!context) return Status(ErrorCode::kResourceExhausted, display + ": out of memory");
  if (context->err != 0) {
    const int err = errno;
    const bool absent = err == ECONNREFUSED || err == ENOENT;
    return Status(absent ? ErrorCode::kNotFound : ErrorCode::kClosed,
                  display + ": cannot connect (" + context->errstr + ")");
  }
  RedisClient client(std::move(context), display);
  const Deadline deadline = Deadline::After(timeout);
  // A peer that accepts and then says nothing is not Redis (or a wedged
  // one): a protocol error, not a wait.
  auto handshake = [&](const std::vector<std::string_view>& args) -> Result<RedisReply> {
    Result<RedisReply> r = client.Command(args, deadline);
    if (r.status().code() == ErrorCode::kDeadlineExceeded) {
      return Status(ErrorCode::kProtocolError,
                    display + ": no answer as Redis gives within " +
                        std::to_string(timeout.count()) + " ms");
    }
    return r;
  };
  if (!url.password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!url.user.empty()) auth.push_back(url.user);
    auth.push_back(url.password);
    IPC_ASSIGN_OR_RETURN(RedisReply r, handshake(auth));
    if (r.type == RedisReply::Type::kError) {
      return Status(IsAuthError(r) ? ErrorCode::kPermissionDenied : ErrorCode::kProtocolError,
                    display + ": AUTH refused (" + r.str + ")");
    }
  }
  IPC_ASSIGN_OR_RETURN(RedisReply pong, handshake({"PING"}));
  if (IsAuthError(pong)) {
    return Status(ErrorCode::kPermissionDenied, display + ": needs a password (" + pong.str + ")");
  }
  if (pong.type != RedisReply::Type::kStatus || pong.str != "PONG") {
    return Status(ErrorCode::kProtocolError, display + ": did not answer PING as Redis does");
  }
  if (url.db != 0) {
    const std::string db = std::to_string(url.db);
    IPC_ASSIGN_OR_RETURN(RedisReply r, handshake({"SELECT", db}));
    if (r.type == RedisReply::Type::kError) {
      return Status(ErrorCode::kInvalidArgument, display + ": SELECT " + db + ": " + r.str);
    }
  }
  return client;
}

bool RedisClient::usable() const { return context_ != nullptr && context_->err == 0; }

Status RedisClient::Append(const std::vector<std::string_view>& args) {
  if (!usable()) return Status(ErrorCode::kClosed, display_ + ": the connection is lost");
  argv_.clear();
  lengths_.clear();
  for (std::string_view a : args) {
    argv_.push_back(a.data());
    lengths_.push_back(a.size());
  }
  if (redisAppendCommandArgv(context_.get(), static_cast<int>(argv_.size()), argv_.data(),
                             lengths_.data()) != REDIS_OK) {
    return Status(ErrorCode::kResourceExhausted, display_ + ": out of memory");
  }
  ++unanswered_;
  return Status::Ok();
}

Status RedisClient::Failed(const char* what) {
  const bool garbage = context_->err == REDIS_ERR_PROTOCOL;
  Status status(garbage ? ErrorCode::kProtocolError : ErrorCode::kClosed,
                display_ + (garbage ? ": the peer does not speak Redis (" : what) +
                    context_->errstr + ")");
  context_.reset();
  return status;
}

Result<RedisReply> RedisClient::Receive(Deadline deadline) {
  if (!usable()) return Status(ErrorCode::kClosed, display_ + ": the connection is lost");
  redisContext* c = context_.get();
  // Send what was appended, waiting for room as long as the deadline lets.
  int done = 0;
  while (!done) {
    int written;
    {
      ScopedNoSigpipe no_sigpipe;  // hiredis writes with write(2).
      written = redisBufferWrite(c, &done);
    }
    if (written != REDIS_OK) return Failed(": connection lost (");
    if (done) break;
    pollfd p{c->fd, POLLOUT, 0};
    const int n = poll(&p, 1, deadline.PollTimeoutMs());
    if (n == 0) {
      context_.reset();
      return Status(ErrorCode::kDeadlineExceeded, display_ + ": the command could not be sent in time");
    }
  }
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(c, &raw) != REDIS_OK) return Failed(": bad reply (");
    if (raw != nullptr) {
      auto* reply = static_cast<redisReply*>(raw);
      RedisReply out = Flatten(*reply);
      freeReplyObject(reply);
      if (unanswered_ > 0) --unanswered_;
      return out;
    }
    pollfd p{c->fd, POLLIN, 0};
    const int n = poll(&p, 1, deadline.PollTimeoutMs());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      // Nothing yet. Only a caller waiting for a push (a subscription's
      // message, unanswered_ == 0) keeps the connection: a reply owed and
      // not come means the server cannot be trusted to answer in order.
      if (unanswered_ > 0) {
        context_.reset();
        return Status(ErrorCode::kDeadlineExceeded, display_ + ": no answer in time");
      }
      return Status(deadline.is_non_blocking() ? ErrorCode::kWouldBlock
                                               : ErrorCode::kDeadlineExceeded,
                    display_ + ": nothing came in time");
    }
    if (redisBufferRead(c) != REDIS_OK) return Failed(": connection lost (");
  }
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string_view>& args,
                                        Deadline deadline) {
  IPC_RETURN_IF_ERROR(Append(args));
  return Receive(deadline);
}

bool RedisClient::PeerClosed() const {
  if (!usable()) return true;
  pollfd p{context_->fd, POLLIN | POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && unanswered_ == 0;
}

}  // namespace ipc::internal
