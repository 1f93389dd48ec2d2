#include "manager/redis/redis_router.h"

#include <charconv>
#include <thread>
#include <utility>

#include "manager/redis/script.h"

namespace ipc::internal {
namespace {

// Redirections followed for one command before giving up: a cluster that
// keeps moving a slot is being resharded faster than it can be followed.
constexpr int kMaxRedirects = 8;

Status BadUrl(std::string_view url, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "redis URL '" + std::string(url) + "': " + why);
}

// "host:port" of a MOVED/ASK reply ("MOVED 3999 127.0.0.1:6381").
std::string RedirectTarget(const std::string& error) {
  const size_t space = error.rfind(' ');
  return space == std::string::npos ? std::string() : error.substr(space + 1);
}

bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

Result<std::unique_ptr<RedisRouter>> RedisRouter::Make(std::string_view url,
                                                       const ManagerOptions& options) {
  constexpr std::string_view kCluster = "redis+cluster://";
  std::vector<RedisUrl> seeds;
  const bool cluster = url.rfind(kCluster, 0) == 0;
  if (!cluster) {
    IPC_ASSIGN_OR_RETURN(RedisUrl one, RedisUrl::Parse(url));
    seeds.push_back(std::move(one));
  } else {
    std::string_view rest = url.substr(kCluster.size());
    std::string credentials;
    if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
      credentials = std::string(rest.substr(0, at + 1));
      rest = rest.substr(at + 1);
    }
    if (rest.find('/') != std::string_view::npos) {
      return BadUrl(url, "a cluster has only database 0: no /db");
    }
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view node = rest.substr(0, comma);
      auto parsed = RedisUrl::Parse("redis://" + credentials + std::string(node));
      if (!parsed.ok()) return BadUrl(url, "bad node '" + std::string(node) + "'");
      seeds.push_back(std::move(*parsed));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (seeds.empty()) return BadUrl(url, "no host:port");
  }
  for (RedisUrl& seed : seeds) {
    if (seed.password.empty()) seed.password = options.authkey;
  }
  return std::unique_ptr<RedisRouter>(new RedisRouter(std::move(seeds), options, cluster));
}

RedisRouter::RedisRouter(std::vector<RedisUrl> seeds, ManagerOptions options, bool cluster)
    : seeds_(std::move(seeds)),
      options_(std::move(options)),
      cluster_(cluster),
      display_([&] {
        if (!cluster_) return "redis at " + seeds_[0].Display();
        std::string s = "redis cluster at ";
        for (size_t i = 0; i < seeds_.size(); ++i) {
          s += (i ? "," : "") + seeds_[i].host + ":" + std::to_string(seeds_[i].port);
        }
        return s;
      }()) {}

std::unique_ptr<RedisRouter> RedisRouter::Clone() const {
  return std::unique_ptr<RedisRouter>(new RedisRouter(seeds_, options_, cluster_));
}

Result<RedisClient> RedisRouter::ConnectNode(const std::string& node) const {
  RedisUrl url = seeds_[0];
  if (cluster_) {
    const size_t colon = node.rfind(':');
    url.host = node.substr(0, colon);
    std::from_chars(node.data() + colon + 1, node.data() + node.size(), url.port);
    return RedisClient::Connect(url, options_.connect_timeout);
  }
  // A single server may be (re)starting: wait for it as long as asked.
  const auto give_up = std::chrono::steady_clock::now() + options_.wait_for_daemon;
  for (;;) {
    Result<RedisClient> c = RedisClient::Connect(url, options_.connect_timeout);
    if (c.ok() || c.status().code() != ErrorCode::kNotFound ||
        std::chrono::steady_clock::now() >= give_up) {
      return c;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Polls for a server starting.
  }
}

Result<RedisClient*> RedisRouter::Client(const std::string& node) {
  auto it = clients_.find(node);
  // A server that hung up while the connection was idle (restarted, or a
  // failed node) is seen here, before a command goes into the dead
  // connection: it then provably never left.
  if (it != clients_.end() && (!it->second.usable() || it->second.PeerClosed())) {
    clients_.erase(it);
    it = clients_.end();
  }
  if (it == clients_.end()) {
    IPC_ASSIGN_OR_RETURN(RedisClient c, ConnectNode(node));
    it = clients_.emplace(node, std::move(c)).first;
  }
  return &it->second;
}

void RedisRouter::Drop(const std::string& node) {
  clients_.erase(node);
  if (cluster_) slots_.reset();  // The node may have failed over: read the map again.
}

void RedisRouter::Close() {
  clients_.clear();
  slots_.reset();
}

Status RedisRouter::RefreshSlots(Deadline deadline) {
  std::vector<std::string> candidates;
  if (slots_) candidates = slots_->masters();
  for (const RedisUrl& seed : seeds_) candidates.push_back(seed.host + ":" + std::to_string(seed.port));
  for (const auto& [node, client] : clients_) candidates.push_back(node);
  Status last = Status(ErrorCode::kNotFound, display_ + ": no node answers");
  for (const std::string& node : candidates) {
    Result<RedisClient*> c = Client(node);
    if (!c.ok()) {
      last = c.status();
      continue;
    }
    Result<RedisReply> r = (*c)->Command({"CLUSTER", "SLOTS"}, deadline);
    if (!r.ok()) {
      clients_.erase(node);
      last = r.status();
      continue;
    }
    if (r->type == RedisReply::Type::kError) {
      return Status(ErrorCode::kProtocolError,
                    display_ + ": " + node + " is not in cluster mode (" + r->str + ")");
    }
    IPC_ASSIGN_OR_RETURN(RedisSlotMap map, RedisSlotMap::Parse(*r));
    slots_ = std::move(map);
    return Status::Ok();
  }
  return last;
}

Result<std::string> RedisRouter::NodeFor(int slot, Deadline deadline) {
  if (!cluster_) return std::string();
  if (!slots_) IPC_RETURN_IF_ERROR(RefreshSlots(deadline));
  std::string node = slots_->MasterOf(slot);
  if (node.empty()) {
    return Status(ErrorCode::kClosed, display_ + ": no master serves slot " + std::to_string(slot) +
                                          " (the cluster is down or failing over)");
  }
  return node;
}

Result<RedisReply> RedisRouter::Command(int slot, const std::vector<std::string_view>& args,
                                        Deadline deadline) {
  for (int redirects = 0;; ++redirects) {
    IPC_ASSIGN_OR_RETURN(std::string node, NodeFor(slot, deadline));
    Result<RedisClient*> client = Client(node);
    if (!client.ok()) {
      // Nothing was sent: on a cluster the slot may have a new master.
      if (!cluster_ || redirects >= kMaxRedirects || deadline.Expired()) return client.status();
      Drop(node);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // Waits out a failover.
      continue;
    }
    Result<RedisReply> r = (*client)->Command(args, deadline);
    if (!r.ok()) {
      Drop(node);
      return r;
    }
    if (r->type != RedisReply::Type::kError || !cluster_) return r;
    if (redirects >= kMaxRedirects) {
      return Status(ErrorCode::kClosed, display_ + ": still redirected after " +
                                            std::to_string(kMaxRedirects) + " tries: " + r->str);
    }
    if (StartsWith(r->str, "MOVED ")) {
      slots_->Move(slot, RedirectTarget(r->str));
      continue;
    }
    if (StartsWith(r->str, "ASK ")) {
      IPC_ASSIGN_OR_RETURN(RedisClient * target, Client(RedirectTarget(r->str)));
      IPC_ASSIGN_OR_RETURN(RedisReply asking, target->Command({"ASKING"}, deadline));
      (void)asking;
      return target->Command(args, deadline);
    }
    if (StartsWith(r->str, "TRYAGAIN") || StartsWith(r->str, "CLUSTERDOWN")) {
      if (deadline.Expired()) return r;
      slots_.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // The cluster is changing.
      continue;
    }
    return r;
  }
}

Result<int> RedisRouter::SlotOf(const RedisScriptArgs& args) const {
  int slot = args.keys.empty() ? 0 : RedisKeySlot(args.keys[0]);
  for (const std::string& key : args.keys) {
    if (RedisKeySlot(key) != slot) {
      std::string names;
      for (const std::string& k : args.keys) names += (names.empty() ? "" : ", ") + k;
      return Status(ErrorCode::kInvalidArgument,
                    display_ + ": the objects of one call or batch must be in one hash slot on "
                               "Redis Cluster, and " + names +
                        " are not; names that begin with the same {tag} share a slot "
                        "(docs/redis.md)");
    }
  }
  return slot;
}

Result<RedisReply> RedisRouter::Eval(const RedisScriptArgs& args, Deadline deadline) {
  int slot = 0;
  if (cluster_) {
    IPC_ASSIGN_OR_RETURN(slot, SlotOf(args));
  }
  const std::string nkeys = std::to_string(args.keys.size());
  std::vector<std::string_view> command;
  command.reserve(3 + args.keys.size() + args.argv.size());
  command.push_back("FCALL");
  command.push_back(RedisManagerFunction());
  command.push_back(nkeys);
  for (const std::string& k : args.keys) command.push_back(k);
  for (const std::string& a : args.argv) command.push_back(a);
  for (int attempt = 0;; ++attempt) {
    IPC_ASSIGN_OR_RETURN(RedisReply r, Command(slot, command, deadline));
    if (r.type != RedisReply::Type::kError) return r;
    if (attempt == 0 && r.str.find("Function not found") != std::string::npos) {
      // This server has not seen this version of the library (or lost it
      // in a restart without persistence): nothing ran.
      IPC_ASSIGN_OR_RETURN(RedisReply loaded,
                           Command(slot, {"FUNCTION", "LOAD", "REPLACE", RedisManagerLibrary()},
                                   deadline));
      if (loaded.type == RedisReply::Type::kError) {
        return Status(ErrorCode::kProtocolError,
                      display_ + ": FUNCTION LOAD refused: " + loaded.str);
      }
      continue;
    }
    // A full server (maxmemory with noeviction) refuses writes: a limit, as
    // ipcd's max_bytes is.
    const bool full = StartsWith(r.str, "OOM");
    return Status(full ? ErrorCode::kResourceExhausted : ErrorCode::kProtocolError,
                  display_ + ": the Manager's function failed: " + r.str);
  }
}

Result<std::vector<std::string>> RedisRouter::Masters(Deadline deadline) {
  if (!cluster_) return std::vector<std::string>{""};
  if (!slots_) IPC_RETURN_IF_ERROR(RefreshSlots(deadline));
  return slots_->masters();
}

Result<RedisReply> RedisRouter::CommandOn(const std::string& node,
                                          const std::vector<std::string_view>& args,
                                          Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(RedisClient * client, Client(node));
  Result<RedisReply> r = client->Command(args, deadline);
  if (!r.ok()) Drop(node);
  return r;
}

Result<RedisClient> RedisRouter::ConnectFor(int slot, Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(std::string node, NodeFor(slot, deadline));
  Result<RedisClient> c = ConnectNode(node);
  if (!c.ok()) Drop(node);
  return c;
}

Status RedisRouter::Check(Deadline deadline) {
  if (!cluster_) return Client("").status();
  return RefreshSlots(deadline);
}

}  // namespace ipc::internal
