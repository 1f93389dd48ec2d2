#include "manager/redis/redis_backend.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <thread>
#include <utility>

#include "manager/redis/cluster_slots.h"
#include "manager/wire.h"
#include "posix/fork_generation.h"

namespace ipc::internal {
namespace {

namespace v1 = ipcd::v1;

// How long a listing's later pages may come from its first page's SCAN.
constexpr std::chrono::seconds kListingReuse{30};

// A waiter tries again at least this often even when no change was
// published: a lease that runs out (a dead holder's lock) publishes
// nothing, and the script's retry hint may be longer.
constexpr std::chrono::milliseconds kMaxWaitBetweenTries{1000};

std::string RandomToken() {
  unsigned char bytes[16];
  size_t filled = 0;
  while (filled < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n > 0) filled += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Deadline CallDeadline(const v1::Call& call) {
  // Past about 292 years the clock's nanoseconds would overflow: forever.
  constexpr int64_t kForever = int64_t{1} << 53;
  if (!call.has_timeout_ms() || call.timeout_ms() >= kForever) return Deadline::Infinite();
  if (call.timeout_ms() <= 0) return Deadline::Now();
  return Deadline::After(std::chrono::milliseconds(call.timeout_ms()));
}

// A "key:value" line of INFO's text.
std::string InfoField(const std::string& info, std::string_view field) {
  const std::string needle = "\n" + std::string(field) + ":";
  size_t at = ("\n" + info).find(needle);
  if (at == std::string::npos) return "";
  at += needle.size() - 1;
  const size_t end = info.find_first_of("\r\n", at);
  return info.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

int64_t InfoInt(const std::string& info, std::string_view field) {
  const std::string s = InfoField(info, field);
  int64_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// A SCAN MATCH pattern for meta keys of names starting with prefix.
std::string MetaPattern(std::string_view prefix) {
  std::string p = "{ipc:";
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') p += '\\';
    p += c;
  }
  return p + "*}:k";
}

}  // namespace

bool RedisBackend::Handles(std::string_view url) {
  return url.rfind("redis://", 0) == 0 || url.rfind("redis+unix://", 0) == 0 ||
         url.rfind("redis+cluster://", 0) == 0;
}

RedisBackend::RedisBackend(std::unique_ptr<RedisRouter> router, ManagerOptions options)
    : router_(std::move(router)),
      options_(std::move(options)),
      lease_ms_(std::max<int64_t>(options_.redis_lease.count(), 30)),
      token_(RandomToken()),
      fork_generation_(ForkGeneration()) {}

RedisBackend::~RedisBackend() {
  if (fork_generation_ != ForkGeneration()) {
    (void)renewer_.release();  // Its thread is the parent's (see lease_renewer.h).
    return;
  }
  Close();
}

Result<std::unique_ptr<RedisBackend>> RedisBackend::Open(std::string_view url,
                                                         const ManagerOptions& options) {
  IPC_ASSIGN_OR_RETURN(std::unique_ptr<RedisRouter> router, RedisRouter::Make(url, options));
  std::unique_ptr<RedisBackend> backend(new RedisBackend(std::move(router), options));
  RedisRouter& r = *backend->router_;
  IPC_RETURN_IF_ERROR(r.Check(backend->ReplyDeadline()));
  // Shard channels (SPUBLISH) and LPOS came with Redis 7.0.
  IPC_ASSIGN_OR_RETURN(std::vector<std::string> masters, r.Masters(backend->ReplyDeadline()));
  IPC_ASSIGN_OR_RETURN(RedisReply info,
                       r.CommandOn(masters.front(), {"INFO", "server"}, backend->ReplyDeadline()));
  const std::string version = InfoField(info.str, "redis_version");
  int major = 0;
  std::from_chars(version.data(), version.data() + version.size(), major);
  if (major < 7) {
    return Status(ErrorCode::kUnsupported, r.display() + ": Redis " + version +
                                               " is too old; the Manager needs Redis 7.0 or newer");
  }
  // A server that may evict keys would drop a lock (its key has a TTL, the
  // first a volatile-* policy takes) while its holder runs. A server that
  // hides CONFIG cannot be checked; docs/redis.md says what to set.
  for (const std::string& node : masters) {
    IPC_ASSIGN_OR_RETURN(RedisReply policy, r.CommandOn(node, {"CONFIG", "GET", "maxmemory-policy"},
                                                        backend->ReplyDeadline()));
    if (policy.elements.size() == 2 && policy.elements[1].str != "noeviction") {
      return Status(ErrorCode::kUnsupported,
                    r.display() + ": maxmemory-policy is " + policy.elements[1].str +
                        ", so Redis may evict the Manager's objects (locks first); set "
                        "maxmemory-policy noeviction");
    }
  }
  return backend;
}

void RedisBackend::CheckFork() {
  if (fork_generation_ == ForkGeneration()) return;
  // A child: the parent's connections and holds are not its own. Its
  // copies of the parent's sockets are closed without a word (closing a
  // copy leaves the parent's connection open).
  fork_generation_ = ForkGeneration();
  (void)renewer_.release();
  router_->Close();
  subscriber_.reset();
  token_ = RandomToken();
  ++generation_;
}

void RedisBackend::NewSession() {
  renewer_.reset();
  token_ = RandomToken();
  ++generation_;
}

Deadline RedisBackend::ReplyDeadline() const {
  if (options_.reply_timeout.count() <= 0) return Deadline::Infinite();
  return Deadline::After(options_.reply_timeout);
}

Result<RedisReply> RedisBackend::RunScript(const RedisScriptArgs& args) {
  IPC_ASSIGN_OR_RETURN(RedisReply r, router_->Eval(args, ReplyDeadline()));
  if (r.type != RedisReply::Type::kArray ||
      r.elements.size() != static_cast<size_t>(args.calls())) {
    return Status(ErrorCode::kProtocolError, display() + ": the script answered " +
                                                 std::to_string(r.elements.size()) +
                                                 " replies for " + std::to_string(args.calls()));
  }
  return r;
}

Status RedisBackend::RunOnEach(const std::vector<std::string>& objects, int op,
                               const std::function<Status(size_t, const RedisReply&)>& fn) {
  // One script run per slot (a single server has one).
  std::map<int, std::vector<size_t>> by_slot;
  for (size_t i = 0; i < objects.size(); ++i) {
    by_slot[router_->cluster() ? RedisKeySlot(RedisObjectPrefix(objects[i])) : 0].push_back(i);
  }
  for (const auto& [slot, members] : by_slot) {
    RedisScriptArgs args(token_, lease_ms_);
    for (size_t i : members) {
      v1::Call call;
      call.set_object(objects[i]);
      args.Add(call, "", op);
    }
    IPC_ASSIGN_OR_RETURN(RedisReply reply, RunScript(args));
    for (size_t j = 0; j < members.size(); ++j) {
      IPC_RETURN_IF_ERROR(fn(members[j], reply.elements[j]));
    }
  }
  return Status::Ok();
}

Status RedisBackend::RoundTrip(const v1::Request& request, v1::Response* response) {
  response->Clear();
  response->set_id(request.id());
  CheckFork();
  Status got = Answer(request, response);
  // The server may have run the call without this client hearing back: a
  // lock it took would belong to this token with nobody to release it. As
  // ipcd does when a connection is lost, give up the session: what it holds
  // is no longer renewed and runs out with its lease; guards made before
  // get kClosed.
  if (got.code() == ErrorCode::kClosed || got.code() == ErrorCode::kDeadlineExceeded) {
    NewSession();
  }
  return got;
}

Status RedisBackend::Answer(const v1::Request& request, v1::Response* response) {
  switch (request.body_case()) {
    case v1::Request::kCall:
      return RunCall(request.call(), response->mutable_status(), response->mutable_result());
    case v1::Request::kBatch:
      return RunBatch(request.batch(), response->mutable_batch());
    case v1::Request::kListObjects:
      return ListObjects(request.list_objects(), response->mutable_objects());
    case v1::Request::kGetStats:
      return GetStats(response->mutable_stats());
    default:
      response->mutable_status()->set_code(v1::UNSUPPORTED);
      response->mutable_status()->set_message(
          display() + ": watches are not available on the Redis backend (see docs/redis.md)");
      return Status::Ok();
  }
}

Status RedisBackend::RunCall(const v1::Call& call, v1::Status* status, v1::Result* result) {
  const Deadline deadline = CallDeadline(call);
  RedisScriptArgs args(token_, lease_ms_);
  args.Add(call, "", 0, /*may_wait=*/!deadline.is_non_blocking());
  IPC_ASSIGN_OR_RETURN(RedisReply reply, RunScript(args));
  RedisFlow flow;
  IPC_RETURN_IF_ERROR(DecodeRedisCallReply(call, reply.elements[0], status, result, &flow));
  if (flow.blocked()) IPC_RETURN_IF_ERROR(WaitAndRetry(call, deadline, &flow, status, result));
  TrackHold(flow.held);
  return Status::Ok();
}

Status RedisBackend::Retry(const v1::Call& call, int op, RedisFlow* flow, v1::Status* status,
                           v1::Result* result) {
  RedisScriptArgs args(token_, lease_ms_);
  args.Add(call, flow->state, op);
  IPC_ASSIGN_OR_RETURN(RedisReply reply, RunScript(args));
  const std::string state = flow->state;
  status->Clear();
  result->Clear();
  IPC_RETURN_IF_ERROR(DecodeRedisCallReply(call, reply.elements[0], status, result, flow));
  if (flow->blocked() && flow->state.empty()) flow->state = state;
  return Status::Ok();
}

Status RedisBackend::GiveUp(const v1::Call& call, RedisFlow* flow, v1::Status* status,
                            v1::Result* result) {
  const v1::Code code = flow->timeout_code;
  const std::string message = flow->timeout_message;
  // Only a waiter with a state of its own (a place in a line, a barrier
  // party, a condition waiter) has something to give up.
  const size_t bar = flow->state.find('|');
  if (bar != std::string::npos && bar + 1 < flow->state.size()) {
    IPC_RETURN_IF_ERROR(Retry(call, kRedisOpGiveUp, flow, status, result));
    // Still waiting (a condition waiter taking its lock back, which its
    // deadline does not bound), or answered otherwise than "timed out".
    if (flow->blocked() || flow->final || status->code() != v1::OK) return Status::Ok();
  }
  status->set_code(code);
  status->set_message(message);
  result->Clear();
  flow->timeout_code = v1::OK;
  return Status::Ok();
}

Status RedisBackend::WaitAndRetry(const v1::Call& call, Deadline deadline, RedisFlow* flow,
                                  v1::Status* status, v1::Result* result) {
  std::string subscribed;  // The channel the subscriber listens on ("" none).
  Status outcome = Status::Ok();
  while (flow->blocked()) {
    if (!flow->unbounded && (deadline.is_non_blocking() || deadline.Expired())) {
      outcome = GiveUp(call, flow, status, result);
      if (!outcome.ok()) break;
      continue;
    }
    const std::string channel =
        flow->channel.empty() ? RedisWakeChannel(call.object()) : flow->channel;
    if (subscribed != channel) {
      // Subscribed before the next try: a change made after that try
      // cannot be missed.
      if (!subscribed.empty()) Unsubscribe(subscribed);
      subscribed.clear();
      outcome = Subscribe(channel);
      if (!outcome.ok()) break;
      subscribed = channel;
    } else {
      auto wait = kMaxWaitBetweenTries;
      if (flow->retry_ms > 0) wait = std::min(wait, std::chrono::milliseconds(flow->retry_ms));
      Deadline until = Deadline::After(wait);
      if (!flow->unbounded && deadline.when() < until.when()) until = deadline;
      outcome = AwaitWake(channel, until);
      if (!outcome.ok()) break;
    }
    outcome = Retry(call, 0, flow, status, result);
    if (!outcome.ok()) break;
  }
  if (!subscribed.empty()) Unsubscribe(subscribed);
  return outcome;
}

Status RedisBackend::Subscribe(const std::string& channel) {
  const int slot = router_->cluster() ? RedisKeySlot(channel) : 0;
  for (int attempt = 0;; ++attempt) {
    // On a cluster a shard channel lives on the master of its slot.
    if (!subscriber_ || !subscriber_->usable() || subscriber_slot_ != slot) {
      subscriber_.reset();
      IPC_ASSIGN_OR_RETURN(RedisClient c, router_->ConnectFor(slot, ReplyDeadline()));
      subscriber_.emplace(std::move(c));
      subscriber_slot_ = slot;
    }
    IPC_RETURN_IF_ERROR(subscriber_->Append({"SSUBSCRIBE", channel}));
    const Deadline deadline = ReplyDeadline();
    for (;;) {
      Result<RedisReply> r = subscriber_->Receive(deadline);
      if (!r.ok()) {
        subscriber_.reset();
        return r.status();
      }
      if (r->type == RedisReply::Type::kError) {
        subscriber_.reset();
        // MOVED: the slot has another master now; ask the new map.
        if (attempt == 0 && r->str.rfind("MOVED", 0) == 0) break;
        return Status(ErrorCode::kProtocolError, display() + ": SSUBSCRIBE refused: " + r->str);
      }
      if (r->elements.size() == 3 && r->elements[0].str == "ssubscribe" &&
          r->elements[1].str == channel) {
        return Status::Ok();
      }
      // A late message of an earlier subscription: nothing to do.
    }
    router_->Close();
  }
}

Status RedisBackend::AwaitWake(const std::string& channel, Deadline deadline) {
  for (;;) {
    Result<RedisReply> r = subscriber_->Receive(deadline);
    if (!r.ok()) {
      const ErrorCode code = r.status().code();
      if (code == ErrorCode::kDeadlineExceeded || code == ErrorCode::kWouldBlock) {
        return Status::Ok();  // Time to try again anyway.
      }
      subscriber_.reset();
      return r.status();
    }
    if (r->elements.size() == 3 && r->elements[0].str == "smessage" &&
        r->elements[1].str == channel) {
      return Status::Ok();
    }
  }
}

void RedisBackend::Unsubscribe(const std::string& channel) {
  if (!subscriber_ || !subscriber_->usable()) return;
  if (!subscriber_->Append({"SUNSUBSCRIBE", channel}).ok()) {
    subscriber_.reset();
    return;
  }
  const Deadline deadline = ReplyDeadline();
  for (;;) {
    Result<RedisReply> r = subscriber_->Receive(deadline);
    if (!r.ok()) {
      subscriber_.reset();
      return;
    }
    if (r->elements.size() == 3 && r->elements[0].str == "sunsubscribe" &&
        r->elements[1].str == channel) {
      return;
    }
  }
}

void RedisBackend::TrackHold(const std::string& held) {
  if (held.empty()) return;
  if (!renewer_) {
    renewer_ = std::make_unique<RedisLeaseRenewer>(router_->Clone(), token_, lease_ms_);
  }
  renewer_->Hold(held);
}

Status RedisBackend::RunBatch(const v1::Batch& batch, v1::BatchReply* out) {
  if (batch.calls_size() == 0) return Status::Ok();
  RedisScriptArgs args(token_, lease_ms_);
  for (const v1::Call& call : batch.calls()) args.Add(call, "", 0, /*may_wait=*/false);
  IPC_ASSIGN_OR_RETURN(RedisReply reply, RunScript(args));
  for (int i = 0; i < batch.calls_size(); ++i) {
    v1::CallReply* r = out->add_replies();
    RedisFlow flow;
    IPC_RETURN_IF_ERROR(DecodeRedisCallReply(batch.calls(i), reply.elements[i],
                                             r->mutable_status(), r->mutable_result(), &flow));
    // In a batch nothing waits: a call that would is answered as timed out.
    if (flow.blocked()) {
      r->mutable_status()->set_code(flow.timeout_code);
      r->mutable_status()->set_message(flow.timeout_message);
    }
    TrackHold(flow.held);
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> RedisBackend::SubscribedWaiters(
    const std::vector<std::string>& objects) {
  std::vector<int64_t> out(objects.size(), 0);
  std::map<int, std::vector<size_t>> by_slot;
  for (size_t i = 0; i < objects.size(); ++i) {
    by_slot[router_->cluster() ? RedisKeySlot(RedisWakeChannel(objects[i])) : 0].push_back(i);
  }
  for (const auto& [slot, members] : by_slot) {
    std::vector<std::string> command = {"PUBSUB", "SHARDNUMSUB"};
    for (size_t i : members) command.push_back(RedisWakeChannel(objects[i]));
    IPC_ASSIGN_OR_RETURN(RedisReply r, router_->Command(
        slot, std::vector<std::string_view>(command.begin(), command.end()), ReplyDeadline()));
    // [channel, count, channel, count, ...]
    for (size_t j = 0; j < members.size() && 2 * j + 1 < r.elements.size(); ++j) {
      out[members[j]] = r.elements[2 * j + 1].integer;
    }
  }
  return out;
}

// Every object name whose meta key matches pattern, on every master.
Status RedisBackend::ScanNames(const std::string& pattern,
                               const std::function<void(std::string)>& fn) {
  IPC_ASSIGN_OR_RETURN(std::vector<std::string> masters, router_->Masters(ReplyDeadline()));
  for (const std::string& node : masters) {
    std::string cursor = "0";
    do {
      IPC_ASSIGN_OR_RETURN(RedisReply r,
                           router_->CommandOn(node, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"},
                                              ReplyDeadline()));
      if (r.elements.size() != 2) {
        return Status(ErrorCode::kProtocolError, display() + ": SCAN answered oddly: " + r.str);
      }
      cursor = r.elements[0].str;
      for (const RedisReply& key : r.elements[1].elements) {
        std::string name = RedisNameOfMetaKey(key.str);
        if (!name.empty()) fn(std::move(name));
      }
    } while (cursor != "0");
  }
  return Status::Ok();
}

Status RedisBackend::ListObjects(const v1::ListObjects& request, v1::ObjectList* out) {
  const uint32_t limit = request.limit() == 0 || request.limit() > 1000 ? 1000 : request.limit();
  // A SCAN reads every key, so a listing's later pages come from the names
  // its first page scanned: pages are not a snapshot (proto/ipcd.proto),
  // and an object made since may be missing, one destroyed is skipped.
  const auto now = std::chrono::steady_clock::now();
  if (request.after().empty() || listing_.prefix != request.prefix() ||
      now - listing_.scanned > kListingReuse) {
    listing_ = Listing{request.prefix(), {}, now};
    IPC_RETURN_IF_ERROR(ScanNames(MetaPattern(request.prefix()), [&](std::string name) {
      if (name.rfind(request.prefix(), 0) == 0) listing_.names.push_back(std::move(name));
    }));
    std::sort(listing_.names.begin(), listing_.names.end());
    listing_.names.erase(std::unique(listing_.names.begin(), listing_.names.end()),
                         listing_.names.end());  // SCAN may repeat a key.
  }
  auto from = std::upper_bound(listing_.names.begin(), listing_.names.end(), request.after());
  const size_t left = static_cast<size_t>(listing_.names.end() - from);
  std::vector<std::string> names(from, from + std::min<size_t>(left, limit));
  if (left > limit) out->set_next(names.back());
  if (names.empty()) return Status::Ok();

  std::vector<std::optional<v1::ObjectInfo>> infos(names.size());
  IPC_RETURN_IF_ERROR(RunOnEach(names, kRedisOpInfo, [&](size_t i, const RedisReply& reply) {
    v1::Call call;
    v1::Status status;
    v1::Result result;
    RedisFlow flow;
    IPC_RETURN_IF_ERROR(DecodeRedisCallReply(call, reply, &status, &result, &flow));
    if (status.code() != v1::OK) return Status::Ok();  // Destroyed meanwhile.
    v1::ObjectInfo& info = infos[i].emplace();
    info.set_name(names[i]);
    info.set_kind(static_cast<v1::Kind>(result.count()));
    info.set_size(result.value().int_value());
    // INFO's list: {bytes, waiters with a live ticket}.
    int64_t bytes = 0, ticketed = 0;
    if (result.keys_size() == 2) {
      std::from_chars(result.keys(0).data(), result.keys(0).data() + result.keys(0).size(), bytes);
      std::from_chars(result.keys(1).data(), result.keys(1).data() + result.keys(1).size(),
                      ticketed);
    }
    info.set_bytes(bytes);
    info.set_waiters(ticketed);
    return Status::Ok();
  }));
  IPC_ASSIGN_OR_RETURN(std::vector<int64_t> subscribed, SubscribedWaiters(names));
  for (size_t i = 0; i < names.size(); ++i) {
    if (!infos[i]) continue;
    // A waiter is subscribed to the object's channel while it waits; one
    // that died unsubscribed at once, but keeps its place in a line until
    // its ticket runs out, and counts until then.
    infos[i]->set_waiters(std::max(infos[i]->waiters(), subscribed[i]));
    *out->add_objects() = std::move(*infos[i]);
  }
  return Status::Ok();
}

Status RedisBackend::GetStats(v1::Stats* out) {
  IPC_ASSIGN_OR_RETURN(std::vector<std::string> masters, router_->Masters(ReplyDeadline()));
  for (const std::string& node : masters) {
    IPC_ASSIGN_OR_RETURN(RedisReply r, router_->CommandOn(node, {"INFO"}, ReplyDeadline()));
    const std::string& info = r.str;
    out->set_server_version("redis " + InfoField(info, "redis_version"));
    out->set_uptime_ms(std::max(out->uptime_ms(), InfoInt(info, "uptime_in_seconds") * 1000));
    out->set_clients(out->clients() + InfoInt(info, "connected_clients"));
    out->set_bytes_held(out->bytes_held() + InfoInt(info, "used_memory"));
    out->set_requests_total(out->requests_total() + InfoInt(info, "total_commands_processed"));
    out->set_parked(out->parked() + InfoInt(info, "pubsub_shardchannels"));
    out->mutable_limits()->set_max_bytes(out->limits().max_bytes() + InfoInt(info, "maxmemory"));
    out->mutable_limits()->set_max_clients(InfoInt(info, "maxclients"));
  }
  // The largest value Redis takes in one command (a CONFIG a server may
  // hide: then its default, 512 MiB).
  int64_t max_bulk = int64_t{512} << 20;
  IPC_ASSIGN_OR_RETURN(RedisReply bulk, router_->CommandOn(masters.front(),
                                                          {"CONFIG", "GET", "proto-max-bulk-len"},
                                                          ReplyDeadline()));
  if (bulk.elements.size() == 2) {
    const std::string& v = bulk.elements[1].str;
    std::from_chars(v.data(), v.data() + v.size(), max_bulk);
  }
  out->mutable_limits()->set_max_frame_bytes(max_bulk);
  int64_t objects = 0;
  IPC_RETURN_IF_ERROR(ScanNames("{ipc:*}:k", [&](std::string) { ++objects; }));
  out->set_objects(objects);
  return Status::Ok();
}

void RedisBackend::Close() {
  CheckFork();
  if (renewer_) {
    // Best effort: what cannot be given back now runs out with its lease.
    (void)RunOnEach(renewer_->Held(), kRedisOpReleaseAll,
                    [](size_t, const RedisReply&) { return Status::Ok(); });
    renewer_.reset();
  }
  router_->Close();
  subscriber_.reset();
  NewSession();
}

}  // namespace ipc::internal
