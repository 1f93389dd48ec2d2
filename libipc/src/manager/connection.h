// ManagerConnection: the one connection an ipc::Manager (and every proxy and
// copy made from it) shares with ipcd. It owns the channel, says hello and
// authenticates, numbers the requests, and reconnects after a failure.
// For a redis:// URL it hands every request to a RedisBackend instead,
// which answers it from Redis (redis/redis_backend.h); watches are not
// available there.
// A reconnect waits for a missing daemon exactly as the first connect does
// (ManagerOptions::wait_for_daemon, by default not at all), so a client
// whose daemon is gone gets kNotFound at once from every call.
//
// Delivery rule. A request is re-sent on a fresh connection only when it
// provably never reached the daemon: its Send failed because the old
// connection was already closed. Once a Send succeeded the daemon may have
// applied the request, so a connection lost while waiting for the reply
// gives kClosed and is re-established by the next call, never by re-sending.
//
// Fork. A child inherits the parent's socket but must not talk on it; the
// first call in a child reconnects, so the child gets its own session (and
// holds none of the parent's locks).
//
// Thread safety: every public method may be called from any thread; calls
// run one at a time under a mutex, so a call that waits in the daemon (a
// lock Acquire) delays the others.
//
// Cost: a call is one Send and one Receive on the channel, with the request,
// the response and both byte buffers reused from call to call.
#ifndef IPC_SRC_MANAGER_CONNECTION_H_
#define IPC_SRC_MANAGER_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>

#include "ipc/channel.h"
#include "ipc/deadline.h"
#include "ipc/manager.h"
#include "ipc/result.h"
#include "proto/ipcd.pb.h"

namespace ipc::internal {

class RedisBackend;

class ManagerConnection {
 public:
  // How long past a blocking call's deadline the client waits for the
  // daemon's answer (which it sends when the deadline passes) before it
  // gives up on the connection.
  static constexpr std::chrono::seconds kReplyGrace{5};

  // What an Exchange may wait for and where it may go.
  struct ExchangeOptions {
    // How long a blocking call waits for the response (see
    // ReplyDeadline()); unset for other calls, which wait up to
    // ManagerOptions::reply_timeout.
    std::optional<Deadline> reply_deadline;
    // When not 0, the request is sent only on that connection generation;
    // otherwise the exchange gives kClosed without sending (a lock held on
    // a connection that was since lost must not be released on its
    // successor, where the same name may be held by another guard).
    uint64_t only_generation = 0;
  };

  // Connects to url and says hello (authenticating when the daemon asks).
  // Errors name the URL, e.g. "ipcd at unix:///run/ipcd/ipcd.sock: not
  // running (connect: No such file or directory)".
  static Result<std::shared_ptr<ManagerConnection>> Open(
      std::string_view url, const ManagerOptions& options);

  ManagerConnection(const ManagerConnection&) = delete;
  ManagerConnection& operator=(const ManagerConnection&) = delete;
  ~ManagerConnection();

  const std::string& url() const { return url_; }
  const ManagerOptions& options() const { return options_; }
  // The URL of the channel in use: the daemon's shm:// one after a move to
  // shared memory, else url(); "" while disconnected.
  std::string channel_url() {
    std::lock_guard<std::mutex> lock(mu_);
    if (redis_) return url_;
    return channel_.is_open() ? channel_url_ : std::string();
  }

  // The number of connections made so far: bumped by each (re)connect.
  // Consistent with the exchange when read inside an Exchange's read.
  uint64_t generation() const { return generation_; }

  // The reply deadline for a blocking call with deadline: that deadline
  // plus kReplyGrace (infinite stays infinite).
  static Deadline ReplyDeadline(Deadline deadline);

  // One request and its response. fill(ipcd::v1::Request&) sets the body of
  // a cleared request (the id is set here); read(const ipcd::v1::Response&)
  // runs, under the lock, when the response's status is OK, and returns the
  // call's Status. A non-OK response status is returned as is.
  template <typename Fill, typename Read>
  Status Exchange(Fill&& fill, Read&& read) {
    return Exchange(std::forward<Fill>(fill), std::forward<Read>(read),
                    ExchangeOptions{});
  }
  template <typename Fill, typename Read>
  Status Exchange(Fill&& fill, Read&& read, ExchangeOptions options) {
    std::lock_guard<std::mutex> lock(mu_);
    request_.Clear();
    fill(request_);
    IPC_RETURN_IF_ERROR(RoundTrip(options));
    return read(response_);
  }

  // n requests sent back to back (without waiting for replies, as far as
  // the socket buffers allow), then their responses read in order.
  // fill(i, request) sets request i's body; read(i, response) sees every
  // response, whatever its status. Fails, naming the URL, when the
  // connection fails; requests not yet answered then may or may not have
  // been applied.
  Status Pipeline(
      size_t n, const std::function<void(size_t, ipcd::v1::Request*)>& fill,
      const std::function<void(size_t, const ipcd::v1::Response&)>& read);

  // Closes the connection (the daemon releases its locks); the next call
  // reconnects. Waits for a call in progress.
  void Close();

  // Stream use, for a watch's own connection (ipc::Watcher), where
  // responses come unasked instead of one per call.
  // Sends the request fill sets (its id is set here and returned),
  // connecting first when the connection is down.
  Result<uint64_t> Send(const std::function<void(ipcd::v1::Request*)>& fill);
  // The next response, whatever its id, waiting until deadline: kWouldBlock
  // (deadline Now) or kDeadlineExceeded when none came, the connection
  // kept; kClosed naming the URL when it was lost, and it is dropped.
  Status ReceiveAny(Deadline deadline, ipcd::v1::Response* out);
  // The connection's descriptor; -1 when it is down.
  int fd();

 private:
  ManagerConnection(std::string url, ManagerOptions options);

  // REQUIRES: mu_ held, for every method below.
  // Connects (waiting for the listener up to options_.wait_for_daemon, 0 =
  // not at all) and says hello within options_.connect_timeout; on success
  // the channel is open and generation_ bumped. first: the call is
  // Manager::Connect's, not a reconnect (only the error text differs).
  Status Connect(bool first);
  // What a unix socket's HelloReply offers: a shared-memory channel.
  struct ShmOffer {
    std::string url;
    std::string token;
  };
  // Hello (and Authenticate) on channel; fills *offer when the daemon
  // offers shared memory.
  Status Handshake(Channel& channel, ShmOffer* offer);
  // One request of the handshake and its response; step names it in
  // errors.
  Status HandshakeStep(Channel& channel, Deadline deadline, std::string_view step,
                       ipcd::v1::Request& request, ipcd::v1::Response& response);
  // Replaces *channel with a shared-memory channel to the daemon when the
  // offer works out; otherwise leaves it, saying why under IPC_DEBUG.
  void MoveToSharedMemory(const ShmOffer& offer, Channel* channel);
  std::string ClientName() const;
  // Drops the channel if it was inherited from a parent process or, after
  // kIdleCheck without a reply, its peer hung up.
  void DropIfStale();
  // Makes sure the channel is open and usable by this process.
  Status EnsureConnected();
  // Sends out_ (request id already set), reconnecting and re-sending once,
  // when may_reconnect, if the old connection was already closed.
  Status SendRequest(bool may_reconnect);
  // Sends out_ again on a new connection, for a request that provably
  // never reached the daemon on the old one.
  Status ResendOnFreshConnection();
  // Receives the response to request id into response_; blocking_call
  // picks the words of the timeout error.
  Status ReceiveResponse(uint64_t id, Deadline reply_deadline,
                         bool blocking_call);
  // Parses in_ into response_ as the answer to request id.
  Status ParseResponse(uint64_t id);
  // When a call that does not block in the daemon must have its answer.
  Deadline ReplyTimeout() const;
  Status RoundTrip(const ExchangeOptions& options);
  Status RedisRoundTrip(const ExchangeOptions& options);
  // kUnsupported naming what the Redis backend lacks.
  Status RedisUnsupported(std::string_view what) const;
  // Drops the connection; later calls reconnect.
  void Drop();
  // kClosed for a request that could not be sent.
  Status Lost(const Status& why) const;

  const std::string url_;
  const ManagerOptions options_;
  const bool is_unix_;

  std::mutex mu_;
  std::unique_ptr<RedisBackend> redis_;  // Set for a redis:// URL.
  Channel channel_;
  std::string channel_url_;  // Where channel_ leads (see channel_url()).
  bool on_shm_ = false;      // channel_ is an shm:// channel.
  // The last ReceiveResponse lost the connection with the request still
  // unread by the daemon (Channel::PeerHasUnread): it never ran.
  bool request_unread_ = false;
  uint64_t fork_generation_ = 0;  // ForkGeneration() when channel_ was made.
  uint64_t generation_ = 0;
  uint64_t next_id_ = 1;
  Deadline::Clock::time_point last_reply_{};
  // Replies to skip spinning for after a spin that found nothing (see
  // ReceiveResponse), and the back-off that set it.
  int spin_skip_ = 0;
  int spin_backoff_ = 0;
  ipcd::v1::Request request_;
  ipcd::v1::Response response_;
  std::string out_;
  std::string in_;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_CONNECTION_H_
