// RedisRouter: the connections a Redis backend talks through. For a
// redis:// or redis+unix:// URL, one server; for
// redis+cluster://[user:password@]host:port[,host:port...], the masters of
// a Redis Cluster, each command going to the master that serves its keys'
// slot. The slot map comes from CLUSTER SLOTS (asked of any node that
// answers), follows MOVED replies, and is read again after a node fails
// or the cluster says it is changing (TRYAGAIN, CLUSTERDOWN); ASK is
// followed once, with ASKING.
//
// Delivery rule: a command is sent again only when it provably did not
// run: a MOVED, ASK, TRYAGAIN or CLUSTERDOWN reply, "Function not found", or a
// connection found closed (or refused) before the command went out. A
// connection lost after sending gives kClosed, and the next command
// reconnects.
//
// Thread safety: none; one thread at a time.
#ifndef IPC_SRC_MANAGER_REDIS_REDIS_ROUTER_H_
#define IPC_SRC_MANAGER_REDIS_REDIS_ROUTER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/manager.h"
#include "ipc/result.h"
#include "manager/redis/call_codec.h"
#include "manager/redis/cluster_slots.h"
#include "manager/redis/redis_client.h"

namespace ipc::internal {

class RedisRouter {
 public:
  // Parses url (the password is the URL's, else options.authkey); does not
  // connect yet.
  static Result<std::unique_ptr<RedisRouter>> Make(std::string_view url,
                                                   const ManagerOptions& options);
  // A router to the same servers with connections of its own.
  std::unique_ptr<RedisRouter> Clone() const;

  // "redis at redis://host:port" or "redis cluster at h:p,h:p" (never a
  // password).
  const std::string& display() const { return display_; }
  bool cluster() const { return cluster_; }

  // Runs args, whose keys are all in slot (ignored by a single server),
  // until deadline. Error replies other than redirections are replies.
  Result<RedisReply> Command(int slot, const std::vector<std::string_view>& args,
                             Deadline deadline);
  // Runs the backend's script with args: kInvalidArgument when, on a
  // cluster, its objects are in more than one slot; kResourceExhausted when
  // the server is out of memory; kProtocolError for another script error.
  Result<RedisReply> Eval(const RedisScriptArgs& args, Deadline deadline);
  // The masters ("" for a single server), for commands every node must run.
  Result<std::vector<std::string>> Masters(Deadline deadline);
  // Runs args on node (a name Masters() gave).
  Result<RedisReply> CommandOn(const std::string& node, const std::vector<std::string_view>& args,
                               Deadline deadline);
  // A new connection to the node serving slot, for a subscriber.
  Result<RedisClient> ConnectFor(int slot, Deadline deadline);
  // Makes sure a single server (or some node of a cluster) answers; what
  // Manager::Connect checks.
  Status Check(Deadline deadline);
  // The slot of the script's objects in args: -1 (and the error) when they
  // are in several, which a cluster cannot run as one script.
  Result<int> SlotOf(const RedisScriptArgs& args) const;
  // Drops every connection.
  void Close();

 private:
  RedisRouter(std::vector<RedisUrl> seeds, ManagerOptions options, bool cluster);
  // The node that serves slot ("" for a single server), reading the slot
  // map first when there is none.
  Result<std::string> NodeFor(int slot, Deadline deadline);
  // The open connection to node, made (or made again when the old one was
  // closed by the server while idle) as needed.
  Result<RedisClient*> Client(const std::string& node);
  Result<RedisClient> ConnectNode(const std::string& node) const;
  Status RefreshSlots(Deadline deadline);
  void Drop(const std::string& node);

  const std::vector<RedisUrl> seeds_;
  const ManagerOptions options_;
  const bool cluster_;
  const std::string display_;
  std::map<std::string, RedisClient> clients_;  // By node; "" for a single server.
  std::optional<RedisSlotMap> slots_;           // Cluster only; unset = read it.
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_REDIS_ROUTER_H_
