// RedisBackend: what a ManagerConnection does when its URL is redis://,
// redis+unix:// or redis+cluster://: it answers the ipcd Requests the proxies build (Call,
// Batch, ListObjects, GetStats) from a Redis server instead of a daemon,
// so every proxy keeps its code and its semantics. docs/redis.md lists
// where the semantics differ.
//
// Each Call (and each Batch, whole) is one run of the backend's script
// (lua/*.lua) through a RedisRouter (one server, or the master serving
// the objects' slot on a cluster), so it is atomic in Redis as it is in
// ipcd. A blocking call that cannot complete yet subscribes to its
// object's shard channel on a second connection, tries again, and then
// waits there for a change (or its retry hint, at most a second) before
// each further try, until its deadline.
//
// Holds (locks, semaphore units) belong to this backend's random token and
// are leases: a RedisLeaseRenewer keeps them while the process lives, and
// Close() or the destructor gives them back. After fork() the child starts
// over with a token of its own and holds nothing.
//
// Delivery rule, as with ipcd: a command is sent again only when it
// provably never left (the server had hung up before it was sent); once
// sent, a lost connection gives kClosed and the next call reconnects.
//
// Thread safety: none; ManagerConnection calls it under its mutex.
#ifndef IPC_SRC_MANAGER_REDIS_REDIS_BACKEND_H_
#define IPC_SRC_MANAGER_REDIS_REDIS_BACKEND_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/manager.h"
#include "ipc/result.h"
#include "manager/redis/call_codec.h"
#include "manager/redis/lease_renewer.h"
#include "manager/redis/redis_client.h"
#include "manager/redis/redis_router.h"
#include "proto/ipcd.pb.h"

namespace ipc::internal {

class RedisBackend {
 public:
  // Whether url names a Redis server (redis://, redis+unix://,
  // redis+cluster://) rather than ipcd.
  static bool Handles(std::string_view url);

  // Parses url, connects (waiting up to options.wait_for_daemon for a
  // server that is not listening) and checks that it is Redis 7 or newer.
  // The password is the URL's, else options.authkey.
  static Result<std::unique_ptr<RedisBackend>> Open(std::string_view url,
                                                    const ManagerOptions& options);
  ~RedisBackend();

  // Answers request into *response (its id copied). The returned Status
  // fails only when the server could not be reached or did not answer
  // (then nothing more is known of the request); an operation's own error
  // is in response->status().
  Status RoundTrip(const ipcd::v1::Request& request, ipcd::v1::Response* response);

  // Gives back every hold and disconnects; the next call reconnects.
  void Close();

  // In a child after fork(): drops the parent's connections (without
  // closing them for the parent) and holds, and takes a new token. Every
  // entry point calls it; ManagerConnection calls it before comparing
  // generations.
  void CheckFork();

  // Bumped by Close() and in a forked child: a lock guard made before
  // either must not release what is no longer its hold.
  uint64_t generation() const { return generation_; }

  // "redis at redis://host:port" (never the password).
  const std::string& display() const { return router_->display(); }

 private:
  RedisBackend(std::unique_ptr<RedisRouter> router, ManagerOptions options);

  // Starts afresh with a new token: nothing held, old guards refused.
  void NewSession();
  // Request's answer (RoundTrip without the session bookkeeping).
  Status Answer(const ipcd::v1::Request& request, ipcd::v1::Response* response);
  // Runs the script with args; checks it answered one reply per call.
  Result<RedisReply> RunScript(const RedisScriptArgs& args);
  // Runs the client's own op on each object, one script run per slot;
  // fn sees each object's reply.
  Status RunOnEach(const std::vector<std::string>& objects, int op,
                   const std::function<Status(size_t, const RedisReply&)>& fn);
  Status RunCall(const ipcd::v1::Call& call, ipcd::v1::Status* status,
                 ipcd::v1::Result* result);
  // While *flow says the call is blocked: waits for a change of its object
  // (or of the channel *flow names), then tries again; at the deadline it
  // gives up (GiveUp). Leaves the answer in *status and *result.
  Status WaitAndRetry(const ipcd::v1::Call& call, Deadline deadline, RedisFlow* flow,
                      ipcd::v1::Status* status, ipcd::v1::Result* result);
  // Runs call again with flow's state (op: 0, or the client's own op).
  Status Retry(const ipcd::v1::Call& call, int op, RedisFlow* flow, ipcd::v1::Status* status,
               ipcd::v1::Result* result);
  // The deadline passed: answers timed out, unless the script says the
  // call ended otherwise or still waits past its deadline.
  Status GiveUp(const ipcd::v1::Call& call, RedisFlow* flow, ipcd::v1::Status* status,
                ipcd::v1::Result* result);
  // Waits on the subscriber for a message on channel, until deadline.
  Status AwaitWake(const std::string& channel, Deadline deadline);
  Status Subscribe(const std::string& channel);
  void Unsubscribe(const std::string& channel);
  // Calls fn with the name of every object whose meta key matches pattern
  // (SCAN MATCH), on every master.
  Status ScanNames(const std::string& pattern, const std::function<void(std::string)>& fn);
  // Counts the waiters subscribed to each object's channel.
  Result<std::vector<int64_t>> SubscribedWaiters(const std::vector<std::string>& objects);
  Status RunBatch(const ipcd::v1::Batch& batch, ipcd::v1::BatchReply* out);
  Status ListObjects(const ipcd::v1::ListObjects& request, ipcd::v1::ObjectList* out);
  Status GetStats(ipcd::v1::Stats* out);
  // Has the renewer keep the hold on object held ("" none).
  void TrackHold(const std::string& held);
  Deadline ReplyDeadline() const;

  std::unique_ptr<RedisRouter> router_;
  const ManagerOptions options_;
  const int64_t lease_ms_;
  std::string token_;
  std::optional<RedisClient> subscriber_;
  int subscriber_slot_ = -1;  // The slot whose node subscriber_ is on.
  // The names the last listing's first page scanned, for its next pages.
  struct Listing {
    std::string prefix;
    std::vector<std::string> names;  // Sorted.
    std::chrono::steady_clock::time_point scanned;
  };
  Listing listing_;
  std::unique_ptr<RedisLeaseRenewer> renewer_;
  uint64_t fork_generation_ = 0;
  uint64_t generation_ = 1;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_REDIS_BACKEND_H_
