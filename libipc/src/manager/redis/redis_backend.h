// RedisBackend: what a ManagerConnection does when its URL is redis:// or
// redis+unix://: it answers the ipcd Requests the proxies build (Call,
// Batch, ListObjects, GetStats) from a Redis server instead of a daemon,
// so every proxy keeps its code and its semantics. docs/redis.md lists
// where the semantics differ.
//
// Each Call (and each Batch, whole) is one run of the backend's script
// (manager.lua) on the main connection, so it is atomic in Redis as it is
// in ipcd. A blocking call that cannot complete yet subscribes to its
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

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/deadline.h"
#include "ipc/manager.h"
#include "ipc/result.h"
#include "manager/redis/call_codec.h"
#include "manager/redis/lease_renewer.h"
#include "manager/redis/redis_client.h"
#include "proto/ipcd.pb.h"

namespace ipc::internal {

class RedisBackend {
 public:
  // Whether url names a Redis server (redis://, redis+unix://,
  // redis+cluster://) rather than ipcd.
  static bool Handles(std::string_view url);

  // Parses url, connects (waiting up to options.wait_for_daemon for a
  // server that is not listening), checks that it is Redis 7 or newer,
  // and loads the script. The password is the URL's, else options.authkey.
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

  // Bumped by Close() and in a forked child: a lock guard made before
  // either must not release what is no longer its hold.
  uint64_t generation() const { return generation_; }

  // "redis at redis://host:port" (never the password).
  const std::string& display() const { return display_; }

 private:
  RedisBackend(RedisUrl url, ManagerOptions options);

  // Drops what a forked child must not use; connects when not connected.
  Status EnsureConnected();
  Result<RedisClient> ConnectClient() const;
  // Runs the script with args on the main connection.
  Result<RedisReply> RunScript(const RedisScriptArgs& args);
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
  Status RunBatch(const ipcd::v1::Batch& batch, ipcd::v1::BatchReply* out);
  Status ListObjects(const ipcd::v1::ListObjects& request, ipcd::v1::ObjectList* out);
  Status GetStats(ipcd::v1::Stats* out);
  // Has the renewer keep the hold on object held ("" none).
  void TrackHold(const std::string& held);
  // kClosed / kDeadlineExceeded from a client: the connection is dropped.
  Status Lost(Status why);
  Deadline ReplyDeadline() const;

  const RedisUrl url_;
  const ManagerOptions options_;
  const std::string display_;
  const int64_t lease_ms_;
  std::string token_;
  std::string sha_;
  std::optional<RedisClient> main_;
  std::optional<RedisClient> subscriber_;
  std::unique_ptr<RedisLeaseRenewer> renewer_;
  uint64_t fork_generation_ = 0;
  uint64_t generation_ = 1;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_REDIS_BACKEND_H_
