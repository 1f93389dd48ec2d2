#include "manager/connection.h"

#include <errno.h>
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "manager/auth.h"
#include "manager/redis/redis_backend.h"
#include "manager/wire.h"
#include "posix/fork_generation.h"

namespace ipc::internal {
namespace {

using Clock = Deadline::Clock;

// A connection idle this long is checked for a hang-up before it is used:
// on tcp:// a write to a peer that has gone still succeeds, and only the
// reply would tell, too late to re-send safely. Busy connections skip the
// check, so the hot path pays no extra system call.
constexpr std::chrono::milliseconds kIdleCheck{20};

// How long a move to shared memory may take before the client stays on
// the socket.
constexpr std::chrono::milliseconds kUpgradeTimeout{2000};

// The most requests a Pipeline keeps unanswered: below any sane per-client
// limit of the daemon, and plenty to hide the round trip.
constexpr size_t kPipelineWindow = 64;

std::string Seconds(std::chrono::milliseconds ms) {
  const auto s = ms.count() / 1000.0;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", s);
  return buf;
}

// True when the peer closed, reset, or sent something unasked (which a
// daemon only does on its way out): either way the connection is done.
bool PeerHungUp(int fd) {
  pollfd p{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  return rc != 0;
}

// With IPC_DEBUG set (to anything but "" or "0"), libipc says on stderr
// what it decided on the caller's behalf, e.g. why it stayed on a socket.
void DebugLog(const std::string& text) {
  static const bool enabled = [] {
    const char* value = std::getenv("IPC_DEBUG");
    return value != nullptr && value[0] != '\0' && std::string_view(value) != "0";
  }();
  if (enabled) std::fprintf(stderr, "libipc: %s\n", text.c_str());
}

// "connect: No such file or directory", from what ipc::Connect reported.
std::string ConnectReason(const Status& status) {
  if (status.sys_errno() != 0) {
    return std::string("connect: ") + std::strerror(status.sys_errno());
  }
  return status.message();
}

}  // namespace

ManagerConnection::ManagerConnection(std::string url, ManagerOptions options)
    : url_(std::move(url)),
      options_(std::move(options)),
      is_unix_(url_.starts_with("unix:")) {}

ManagerConnection::~ManagerConnection() = default;

Result<std::shared_ptr<ManagerConnection>> ManagerConnection::Open(
    std::string_view url, const ManagerOptions& options) {
  std::shared_ptr<ManagerConnection> connection(
      new ManagerConnection(std::string(url), options));
  std::lock_guard<std::mutex> lock(connection->mu_);
  if (RedisBackend::Handles(url)) {
    IPC_ASSIGN_OR_RETURN(connection->redis_, RedisBackend::Open(url, options));
    connection->generation_ = connection->redis_->generation();
    return connection;
  }
  IPC_RETURN_IF_ERROR(connection->Connect(/*first=*/true));
  return connection;
}

Deadline ManagerConnection::ReplyDeadline(Deadline deadline) {
  if (deadline.is_infinite()) return deadline;
  const Clock::time_point start =
      deadline.is_non_blocking() ? Clock::now() : deadline.when();
  return Deadline::At(start + kReplyGrace);
}

Status ManagerConnection::Connect(bool first) {
  // The first connect and a reconnect wait alike: not at all unless the
  // caller set wait_for_daemon. No socket file (ENOENT) or a refused one
  // (ECONNREFUSED: a daemon that died and left its socket) both come back
  // as kNotFound at once, and waiting out connect_timeout on every call
  // would only stall a client whose daemon is gone.
  const Deadline connect_deadline =
      options_.wait_for_daemon.count() > 0
          ? Deadline::After(options_.wait_for_daemon)
          : Deadline::Now();
  // After a lost connection, say that a later call tries again.
  const std::string again = first ? "" : "; the next call tries to reconnect";
  Result<Channel> channel = ipc::Connect(url_, connect_deadline);
  if (!channel.ok()) {
    const Status& why = channel.status();
    if (why.code() == ErrorCode::kNotFound) {
      return Status(ErrorCode::kNotFound,
                    "ipcd at " + url_ + ": not running (" +
                        ConnectReason(why) + ")" + again,
                    why.sys_errno());
    }
    if (why.code() == ErrorCode::kDeadlineExceeded) {
      return Status(ErrorCode::kDeadlineExceeded,
                    "ipcd at " + url_ + ": not running (none answered within " +
                        Seconds(options_.wait_for_daemon) + "; " +
                        ConnectReason(why) + ")" + again,
                    why.sys_errno());
    }
    return why.WithContext("ipcd");
  }
  ShmOffer offer;
  IPC_RETURN_IF_ERROR(Handshake(*channel, &offer));
  channel_url_ = url_;
  if (!offer.url.empty()) MoveToSharedMemory(offer, &*channel);
  on_shm_ = channel_url_.starts_with("shm:");
  channel_ = std::move(*channel);
  fork_generation_ = ForkGeneration();
  ++generation_;
  last_reply_ = Clock::now();
  return Status::Ok();
}

Status ManagerConnection::HandshakeStep(Channel& channel, Deadline deadline,
                                        std::string_view step,
                                        ipcd::v1::Request& request,
                                        ipcd::v1::Response& response) {
  const std::string where = "ipcd at " + url_;
  std::string bytes;
  request.set_id(next_id_++);
  request.SerializeToString(&bytes);
  const Status sent = channel.Send(bytes, deadline);
  // A daemon that turns a connection away answers and closes at once,
  // maybe before our request arrives (then the send fails): its answer
  // can still be read.
  Status status = sent;
  if (sent.ok() || sent.code() == ErrorCode::kClosed) {
    status = channel.Receive(&bytes, deadline);
    if (!status.ok() && !sent.ok()) status = sent;
  }
  if (!status.ok()) {
    return Status(status.code() == ErrorCode::kDeadlineExceeded
                      ? ErrorCode::kDeadlineExceeded
                      : ErrorCode::kClosed,
                  where + ": no answer to " + std::string(step) + " (" +
                      status.message() + ")",
                  status.sys_errno());
  }
  const bool parsed = response.ParseFromString(bytes);
  if (parsed && response.id() == 0 && response.status().code() != 0) {
    // The daemon turned the connection away before reading our request
    // (out of descriptors, too many clients): its reason, not a riddle.
    return StatusFromProto(response.status()).WithContext(where);
  }
  if (!parsed || response.id() != request.id()) {
    return Status(ErrorCode::kProtocolError,
                  where + ": the answer to " + std::string(step) +
                      " is not an ipcd response (is this an ipcd socket?)");
  }
  return StatusFromProto(response.status()).WithContext(where);
}

void ManagerConnection::MoveToSharedMemory(const ShmOffer& offer, Channel* channel) {
  const std::string stay = "ipcd at " + url_ + ": staying on the unix socket: ";
  // The daemon has just offered the listener, so it is up: a short wait
  // (for a listener of another user to admit us) is all it can need, and a
  // missing one must not stall the fallback.
  const Deadline deadline =
      Deadline::After(std::min<std::chrono::milliseconds>(options_.connect_timeout, kUpgradeTimeout));
  Result<Channel> shm = ipc::Connect(offer.url, deadline);
  if (!shm.ok()) {
    DebugLog(stay + "cannot connect to " + offer.url + " (" + shm.status().ToString() + ")");
    return;
  }
  ipcd::v1::Request request;
  ipcd::v1::Response response;
  ipcd::v1::Hello* hello = request.mutable_hello();
  hello->set_protocol_version(ipcd::v1::PROTOCOL_VERSION_CURRENT);
  hello->set_client_name(ClientName());
  hello->set_shm_token(offer.token);
  const Status said = HandshakeStep(*shm, deadline, "hello on " + offer.url, request, response);
  if (!said.ok() || !response.has_hello() || response.hello().auth_required()) {
    DebugLog(stay + (said.ok() ? "unexpected answer to the hello on " + offer.url
                               : said.ToString()));
    return;
  }
  // The unix session closes with the old channel; nothing was done on it.
  *channel = std::move(*shm);
  channel_url_ = offer.url;
  DebugLog("ipcd at " + url_ + ": moved to shared memory (" + offer.url + ")");
}

std::string ManagerConnection::ClientName() const {
  return options_.client_name.empty() ? std::string(program_invocation_short_name)
                                      : options_.client_name;
}

Status ManagerConnection::Handshake(Channel& channel, ShmOffer* offer) {
  const std::string where = "ipcd at " + url_;
  const Deadline deadline = Deadline::After(options_.connect_timeout);
  ipcd::v1::Request request;
  ipcd::v1::Response response;
  auto exchange = [&](std::string_view step) {
    return HandshakeStep(channel, deadline, step, request, response);
  };

  ipcd::v1::Hello* hello = request.mutable_hello();
  hello->set_protocol_version(ipcd::v1::PROTOCOL_VERSION_CURRENT);
  hello->set_client_name(ClientName());
  hello->set_want_shm(is_unix_ && options_.shared_memory);
  std::string client_nonce;
  if (!options_.authkey.empty()) {
    IPC_ASSIGN_OR_RETURN(client_nonce, MakeAuthNonce());
    hello->set_client_nonce(client_nonce);
  }
  IPC_RETURN_IF_ERROR(exchange("hello"));
  if (!response.has_hello()) {
    return Status(ErrorCode::kProtocolError,
                  where + ": hello answered without a HelloReply");
  }
  const ipcd::v1::HelloReply& reply = response.hello();
  if (reply.protocol_version() != ipcd::v1::PROTOCOL_VERSION_CURRENT) {
    return Status(ErrorCode::kUnsupported,
                  where + " speaks protocol version " +
                      std::to_string(reply.protocol_version()) +
                      "; this client speaks version " +
                      std::to_string(ipcd::v1::PROTOCOL_VERSION_CURRENT));
  }
  if (!reply.auth_required()) {
    // A unix socket is guarded by its file permissions and the daemon does
    // not ask for the key there. Anywhere else, a daemon that does not ask
    // cannot prove it holds the key: it may be an impostor.
    if (!options_.authkey.empty() && !is_unix_) {
      return Status(ErrorCode::kPermissionDenied,
                    where +
                        " did not ask for the authentication key, so it "
                        "cannot prove it holds it; refusing to use it");
    }
    if (hello->want_shm() && !reply.shm_url().empty()) {
      offer->url = reply.shm_url();
      offer->token = reply.shm_token();
    } else if (hello->want_shm()) {
      DebugLog(where + ": staying on the unix socket: the daemon offers no shared memory");
    }
    return Status::Ok();
  }
  if (options_.authkey.empty()) {
    return Status(ErrorCode::kPermissionDenied,
                  where + " requires an authentication key (none given)");
  }
  const std::string server_nonce = reply.server_nonce();
  request.Clear();
  request.mutable_authenticate()->set_client_proof(
      ClientProof(options_.authkey, server_nonce, client_nonce));
  Status auth = exchange("authentication");
  if (auth.code() == ErrorCode::kClosed) {
    // The daemon hangs up on a wrong proof; say what that most likely means.
    return Status(
        ErrorCode::kPermissionDenied,
        where + ": authentication refused (wrong key?): " + auth.message());
  }
  IPC_RETURN_IF_ERROR(auth);
  const std::string expected =
      ServerProof(options_.authkey, client_nonce, server_nonce);
  if (!response.has_auth() ||
      !ProofsEqual(response.auth().server_proof(), expected)) {
    return Status(ErrorCode::kPermissionDenied,
                  where +
                      " could not prove it holds the authentication key; "
                      "refusing to use it");
  }
  return Status::Ok();
}

void ManagerConnection::DropIfStale() {
  if (!channel_.is_open()) return;
  if (fork_generation_ != ForkGeneration()) {
    // Inherited from the parent: its session, not ours.
    Drop();
  } else if (Clock::now() - last_reply_ > kIdleCheck &&
             (on_shm_ ? channel_.PeerGone() : PeerHungUp(channel_.fd()))) {
    // (An shm channel's fd() may stay readable after a reply was taken;
    // PeerGone reads its heartbeat instead.)
    Drop();
  }
}

Status ManagerConnection::EnsureConnected() {
  DropIfStale();
  if (channel_.is_open()) return Status::Ok();
  return Connect(/*first=*/false);
}

Status ManagerConnection::SendRequest(bool may_reconnect) {
  const uint64_t before = generation_;
  IPC_RETURN_IF_ERROR(EnsureConnected());
  const bool fresh = generation_ != before;
  Status sent = channel_.Send(out_);
  if (sent.ok()) return sent;
  if (sent.code() == ErrorCode::kMessageTooLarge) {
    return sent.WithContext("ipcd at " + url_);  // Refused before sending.
  }
  Drop();
  // Only a connection already closed before this request proves the
  // request never arrived; then one fresh connection may carry it, unless
  // the request belongs to the connection that closed.
  if (sent.code() != ErrorCode::kClosed || fresh || !may_reconnect) return Lost(sent);
  return ResendOnFreshConnection();
}

Status ManagerConnection::ResendOnFreshConnection() {
  IPC_RETURN_IF_ERROR(Connect(/*first=*/false));
  const Status sent = channel_.Send(out_);
  if (!sent.ok()) {
    Drop();
    return Lost(sent);
  }
  return sent;
}

Status ManagerConnection::ReceiveResponse(uint64_t id, Deadline reply_deadline,
                                          bool blocking_call) {
  Status got(ErrorCode::kWouldBlock, "");
  // An shm channel spins in its blocking Receive, without the system calls
  // a non-blocking one makes to check its doorbell and the daemon.
  const bool spin = options_.reply_spin.count() > 0 && !on_shm_;
  if (spin && spin_skip_ > 0) {
    --spin_skip_;
  } else if (spin) {
    // Non-blocking receives until the spin time is up: a partial message is
    // kept by the channel, so the blocking receive below just goes on.
    const Clock::time_point until = Clock::now() + options_.reply_spin;
    do {
      got = channel_.Receive(&in_, Deadline::Now());
    } while (got.code() == ErrorCode::kWouldBlock && Clock::now() < until);
    // Spinning pays only while replies come within the spin time (an idle
    // daemon on another core). When they do not — a busy daemon, many
    // clients, a shared core — it only burns CPU the daemon could use, so
    // it backs off: skip it for 1, 2, 4 ... 64 replies after each miss.
    if (got.code() == ErrorCode::kWouldBlock) {
      spin_backoff_ = spin_backoff_ == 0 ? 1 : std::min(spin_backoff_ * 2, 64);
      spin_skip_ = spin_backoff_;
    } else {
      spin_backoff_ = 0;
    }
  }
  if (got.code() == ErrorCode::kWouldBlock)
    got = channel_.Receive(&in_, reply_deadline);
  request_unread_ = false;
  if (!got.ok()) {
    request_unread_ = got.code() == ErrorCode::kClosed && channel_.PeerHasUnread();
    Drop();
    if (got.code() == ErrorCode::kDeadlineExceeded) {
      return Status(ErrorCode::kDeadlineExceeded,
                    "ipcd at " + url_ + ": no answer " +
                        (blocking_call ? "by the deadline (plus " + Seconds(kReplyGrace) + ")"
                                       : "within reply_timeout (" +
                                             Seconds(options_.reply_timeout) + ")") +
                        "; the connection was dropped and the call may have been applied");
    }
    return Status(
        ErrorCode::kClosed,
        "ipcd at " + url_ + ": connection lost before the answer came (" +
            got.message() +
            "); the call may have been applied; the next call reconnects",
        got.sys_errno());
  }
  return ParseResponse(id);
}

Status ManagerConnection::ParseResponse(uint64_t id) {
  if (!response_.ParseFromString(in_)) {
    Drop();
    return Status(ErrorCode::kProtocolError,
                  "ipcd at " + url_ + ": received " +
                      std::to_string(in_.size()) +
                      " bytes that are not an ipcd response");
  }
  last_reply_ = Clock::now();
  if (response_.id() != id) {
    // Id 0 is the daemon refusing something it could not parse; it closes
    // after that, and so do we.
    Drop();
    Status why = StatusFromProto(response_.status());
    if (response_.id() == 0 && !why.ok())
      return why.WithContext("ipcd at " + url_);
    return Status(ErrorCode::kProtocolError,
                  "ipcd at " + url_ + ": answer " +
                      std::to_string(response_.id()) + " came for request " +
                      std::to_string(id));
  }
  if (response_.has_status()) return StatusFromProto(response_.status());
  return Status::Ok();
}

Status ManagerConnection::RedisRoundTrip(const ExchangeOptions& options) {
  redis_->CheckFork();
  if (options.only_generation != 0 && options.only_generation != redis_->generation()) {
    return Status(ErrorCode::kClosed,
                  redis_->display() + ": the connection this was meant for is gone");
  }
  request_.set_id(next_id_++);
  const Status got = redis_->RoundTrip(request_, &response_);
  generation_ = redis_->generation();
  IPC_RETURN_IF_ERROR(got);
  if (response_.has_status()) return StatusFromProto(response_.status());
  return Status::Ok();
}

Status ManagerConnection::RoundTrip(const ExchangeOptions& options) {
  if (redis_) return RedisRoundTrip(options);
  const bool bound = options.only_generation != 0;
  if (bound) {
    // Notice a lost connection now: what was meant for it (a lock's
    // release) must fail, not go out on the connection that replaces it.
    DropIfStale();
    if (!channel_.is_open() || options.only_generation != generation_) {
      return Status(ErrorCode::kClosed,
                    "ipcd at " + url_ + ": the connection this was meant for is gone");
    }
  }
  const uint64_t id = next_id_++;
  request_.set_id(id);
  request_.SerializeToString(&out_);
  const uint64_t before = generation_;
  IPC_RETURN_IF_ERROR(SendRequest(/*may_reconnect=*/!bound));
  const bool fresh = generation_ != before;
  Status got = ReceiveResponse(id, options.reply_deadline.value_or(ReplyTimeout()),
                               options.reply_deadline.has_value());
  // On shared memory a send into a dead daemon's ring succeeds; the ring
  // then shows that the request was never taken, which proves it never
  // ran, and one fresh connection may carry it (the rule of SendRequest).
  if (got.code() == ErrorCode::kClosed && request_unread_ && !bound && !fresh) {
    IPC_RETURN_IF_ERROR(ResendOnFreshConnection());
    got = ReceiveResponse(id, options.reply_deadline.value_or(ReplyTimeout()),
                          options.reply_deadline.has_value());
  }
  return got;
}

Deadline ManagerConnection::ReplyTimeout() const {
  if (options_.reply_timeout.count() <= 0) return Deadline::Infinite();
  return Deadline::After(options_.reply_timeout);
}

Status ManagerConnection::Pipeline(
    size_t n, const std::function<void(size_t, ipcd::v1::Request*)>& fill,
    const std::function<void(size_t, const ipcd::v1::Response&)>& read) {
  std::lock_guard<std::mutex> lock(mu_);
  if (redis_) {
    // One script run after another: each is atomic, as each pipelined
    // request is in ipcd.
    for (size_t i = 0; i < n; ++i) {
      request_.Clear();
      fill(i, &request_);
      request_.set_id(next_id_++);
      IPC_RETURN_IF_ERROR(redis_->RoundTrip(request_, &response_));
      read(i, response_);
    }
    return Status::Ok();
  }
  const uint64_t first_id = next_id_;
  next_id_ += n;
  size_t sent = 0, answered = 0;
  std::vector<std::string> ready;  // Replies read ahead, in order.
  size_t next_ready = 0;
  while (answered < n) {
    if (sent < n && sent - answered < kPipelineWindow) {
      request_.Clear();
      fill(sent, &request_);
      request_.set_id(first_id + sent);
      request_.SerializeToString(&out_);
      if (sent == answered) {
        // Nothing outstanding: a plain send, which may reconnect and
        // re-send when the old connection was already closed.
        IPC_RETURN_IF_ERROR(SendRequest(/*may_reconnect=*/true));
        ++sent;
        continue;
      }
      // Buffered: the requests leave together, in one system call, when
      // the first reply is awaited.
      Status status = channel_.SendBuffered(out_);
      if (status.code() == ErrorCode::kUnsupported) {
        status = channel_.Send(out_, Deadline::Now());
      }
      if (status.ok()) {
        ++sent;
        continue;
      }
      if (status.code() != ErrorCode::kWouldBlock) {
        Drop();
        return Lost(status);
      }
      // The socket is full: make room by reading a reply.
    }
    Status flushed = channel_.Flush(ReplyTimeout());
    if (!flushed.ok()) {
      Drop();
      return Lost(flushed);
    }
    // Replies already taken from the socket first; else all that have
    // arrived, in one read; else wait for the next.
    if (next_ready == ready.size()) {
      ready.clear();
      next_ready = 0;
      (void)channel_.ReceiveAvailable(&ready, sent - answered);  // Errors recur below.
    }
    Status status;
    if (next_ready < ready.size()) {
      in_.swap(ready[next_ready++]);
      status = ParseResponse(first_id + answered);
    } else {
      status = ReceiveResponse(first_id + answered, ReplyTimeout(), false);
    }
    // A call's own failure comes in an intact response; only a lost
    // connection (which ReceiveResponse drops) ends the pipeline.
    if (!status.ok() && !channel_.is_open()) return status;
    read(answered, response_);
    ++answered;
  }
  return Status::Ok();
}

void ManagerConnection::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (redis_) {
    redis_->Close();
    generation_ = redis_->generation();
    return;
  }
  Drop();
}

Result<uint64_t> ManagerConnection::Send(
    const std::function<void(ipcd::v1::Request*)>& fill) {
  std::lock_guard<std::mutex> lock(mu_);
  if (redis_) return RedisUnsupported("watches");
  request_.Clear();
  fill(&request_);
  const uint64_t id = next_id_++;
  request_.set_id(id);
  request_.SerializeToString(&out_);
  IPC_RETURN_IF_ERROR(SendRequest(/*may_reconnect=*/true));
  return id;
}

Status ManagerConnection::ReceiveAny(Deadline deadline,
                                     ipcd::v1::Response* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (redis_) return RedisUnsupported("watches");
  if (!channel_.is_open()) {
    return Status(ErrorCode::kClosed, "ipcd at " + url_ + ": not connected");
  }
  const Status got = channel_.Receive(&in_, deadline);
  if (got.code() == ErrorCode::kWouldBlock ||
      got.code() == ErrorCode::kDeadlineExceeded) {
    return got;
  }
  if (!got.ok()) {
    Drop();
    return Status(ErrorCode::kClosed,
                  "ipcd at " + url_ + ": connection lost (" + got.message() + ")",
                  got.sys_errno());
  }
  if (!out->ParseFromString(in_)) {
    Drop();
    return Status(ErrorCode::kProtocolError,
                  "ipcd at " + url_ + ": received " +
                      std::to_string(in_.size()) +
                      " bytes that are not an ipcd response");
  }
  return Status::Ok();
}

int ManagerConnection::fd() {
  std::lock_guard<std::mutex> lock(mu_);
  return channel_.is_open() ? channel_.fd() : -1;
}

void ManagerConnection::Drop() { channel_.Close(); }

Status ManagerConnection::RedisUnsupported(std::string_view what) const {
  return Status(ErrorCode::kUnsupported, redis_->display() + ": " + std::string(what) +
                                             " are not available on the Redis backend "
                                             "(docs/redis.md)");
}

Status ManagerConnection::Lost(const Status& why) const {
  // The channel's message names the URL already.
  return Status(ErrorCode::kClosed,
                "ipcd connection lost: " + why.message(), why.sys_errno());
}

}  // namespace ipc::internal
