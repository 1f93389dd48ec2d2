#include "manager/redis/redis_backend.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <thread>
#include <utility>

#include "manager/redis/script.h"
#include "manager/wire.h"
#include "posix/fork_generation.h"

namespace ipc::internal {
namespace {

namespace v1 = ipcd::v1;

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
  if (!call.has_timeout_ms()) return Deadline::Infinite();
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

RedisBackend::RedisBackend(RedisUrl url, ManagerOptions options)
    : url_(std::move(url)),
      options_(std::move(options)),
      display_("redis at " + url_.Display()),
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
  if (url.rfind("redis+cluster://", 0) == 0) {
    return Status(ErrorCode::kUnsupported,
                  "redis URL '" + std::string(url) + "': Redis Cluster is not supported yet");
  }
  IPC_ASSIGN_OR_RETURN(RedisUrl parsed, RedisUrl::Parse(url));
  if (parsed.password.empty()) parsed.password = options.authkey;
  std::unique_ptr<RedisBackend> backend(new RedisBackend(std::move(parsed), options));
  IPC_RETURN_IF_ERROR(backend->EnsureConnected());
  // Shard channels (SPUBLISH) and LPOS came with Redis 7.0.
  IPC_ASSIGN_OR_RETURN(RedisReply info, backend->main_->Command({"INFO", "server"},
                                                                backend->ReplyDeadline()));
  const std::string version = InfoField(info.str, "redis_version");
  int major = 0;
  std::from_chars(version.data(), version.data() + version.size(), major);
  if (major < 7) {
    return Status(ErrorCode::kUnsupported, backend->display_ + ": Redis " + version +
                                               " is too old; the Manager needs Redis 7.0 or newer");
  }
  return backend;
}

Result<RedisClient> RedisBackend::ConnectClient() const {
  const auto give_up = std::chrono::steady_clock::now() + options_.wait_for_daemon;
  for (;;) {
    Result<RedisClient> c = RedisClient::Connect(url_, options_.connect_timeout);
    if (c.ok() || c.status().code() != ErrorCode::kNotFound ||
        std::chrono::steady_clock::now() >= give_up) {
      return c;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Polls for a server starting.
  }
}

Status RedisBackend::EnsureConnected() {
  if (fork_generation_ != ForkGeneration()) {
    // A child: the parent's connections and holds are not its own.
    fork_generation_ = ForkGeneration();
    (void)renewer_.release();
    main_.reset();
    subscriber_.reset();
    token_ = RandomToken();
    ++generation_;
  }
  // A server that hung up while idle (restarted) is noticed here, before
  // a command goes into the dead connection: the command then provably
  // never left, and goes out on the new one.
  if (main_ && main_->usable() && !main_->PeerClosed()) return Status::Ok();
  main_.reset();
  IPC_ASSIGN_OR_RETURN(RedisClient c, ConnectClient());
  IPC_ASSIGN_OR_RETURN(sha_, LoadRedisScript(c, ReplyDeadline()));
  main_.emplace(std::move(c));
  return Status::Ok();
}

Deadline RedisBackend::ReplyDeadline() const {
  if (options_.reply_timeout.count() <= 0) return Deadline::Infinite();
  return Deadline::After(options_.reply_timeout);
}

Status RedisBackend::Lost(Status why) {
  if (main_ && !main_->usable()) main_.reset();
  return why;
}

Result<RedisReply> RedisBackend::RunScript(const RedisScriptArgs& args) {
  Result<RedisReply> r = EvalRedisScript(*main_, &sha_, args, ReplyDeadline());
  if (!r.ok()) return Lost(r.status());
  if (r->type != RedisReply::Type::kArray ||
      r->elements.size() != static_cast<size_t>(args.calls())) {
    return Status(ErrorCode::kProtocolError, display_ + ": the script answered " +
                                                 std::to_string(r->elements.size()) +
                                                 " replies for " + std::to_string(args.calls()));
  }
  return r;
}

Status RedisBackend::RoundTrip(const v1::Request& request, v1::Response* response) {
  response->Clear();
  response->set_id(request.id());
  IPC_RETURN_IF_ERROR(EnsureConnected());
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
          display_ + ": watches are not available on the Redis backend (see docs/redis.md)");
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
  if (!subscriber_ || !subscriber_->usable()) {
    subscriber_.reset();
    IPC_ASSIGN_OR_RETURN(RedisClient c, ConnectClient());
    subscriber_.emplace(std::move(c));
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
      return Status(ErrorCode::kProtocolError, display_ + ": SSUBSCRIBE refused: " + r->str);
    }
    if (r->elements.size() == 3 && r->elements[0].str == "ssubscribe" &&
        r->elements[1].str == channel) {
      return Status::Ok();
    }
    // A late message of an earlier subscription: nothing to do.
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
    renewer_ = std::make_unique<RedisLeaseRenewer>(url_, options_.connect_timeout, token_,
                                                   lease_ms_);
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

Status RedisBackend::ListObjects(const v1::ListObjects& request, v1::ObjectList* out) {
  const uint32_t limit = request.limit() == 0 || request.limit() > 1000 ? 1000 : request.limit();
  const std::string pattern = MetaPattern(request.prefix());
  std::vector<std::string> names;
  std::string cursor = "0";
  do {
    Result<RedisReply> r =
        main_->Command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, ReplyDeadline());
    if (!r.ok()) return Lost(r.status());
    if (r->elements.size() != 2) {
      return Status(ErrorCode::kProtocolError, display_ + ": SCAN answered oddly");
    }
    cursor = r->elements[0].str;
    for (const RedisReply& key : r->elements[1].elements) {
      std::string name = RedisNameOfMetaKey(key.str);
      if (!name.empty() && name > request.after() && name.rfind(request.prefix(), 0) == 0) {
        names.push_back(std::move(name));
      }
    }
  } while (cursor != "0");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());  // SCAN may repeat.
  if (names.size() > limit) {
    names.resize(limit);
    out->set_next(names.back());
  }
  if (names.empty()) return Status::Ok();

  RedisScriptArgs args(token_, lease_ms_);
  std::vector<v1::Call> calls(names.size());
  std::vector<std::string> count_waiters = {"PUBSUB", "SHARDNUMSUB"};
  for (size_t i = 0; i < names.size(); ++i) {
    calls[i].set_object(names[i]);
    args.Add(calls[i], "", kRedisOpInfo);
    count_waiters.push_back(RedisWakeChannel(names[i]));
  }
  IPC_ASSIGN_OR_RETURN(RedisReply infos, RunScript(args));
  std::vector<std::string_view> numsub(count_waiters.begin(), count_waiters.end());
  Result<RedisReply> waiters = main_->Command(numsub, ReplyDeadline());
  if (!waiters.ok()) return Lost(waiters.status());
  for (size_t i = 0; i < names.size(); ++i) {
    v1::Status status;
    v1::Result result;
    RedisFlow flow;
    IPC_RETURN_IF_ERROR(DecodeRedisCallReply(calls[i], infos.elements[i], &status, &result, &flow));
    if (status.code() != v1::OK) continue;  // Destroyed meanwhile.
    v1::ObjectInfo* info = out->add_objects();
    info->set_name(names[i]);
    info->set_kind(static_cast<v1::Kind>(result.count()));
    info->set_size(result.value().int_value());
    // INFO's list: {bytes, waiters with a live ticket}.
    int64_t bytes = 0, ticketed = 0;
    if (result.keys_size() == 2) {
      std::from_chars(result.keys(0).data(), result.keys(0).data() + result.keys(0).size(), bytes);
      std::from_chars(result.keys(1).data(), result.keys(1).data() + result.keys(1).size(),
                      ticketed);
    }
    info->set_bytes(bytes);
    // A waiter is subscribed to the object's channel while it waits; one
    // that died unsubscribed at once, but keeps its place in a line until
    // its ticket runs out, and counts until then.
    const size_t at = 2 * i + 1;
    const int64_t subscribed = at < waiters->elements.size() ? waiters->elements[at].integer : 0;
    info->set_waiters(std::max(subscribed, ticketed));
  }
  return Status::Ok();
}

Status RedisBackend::GetStats(v1::Stats* out) {
  Result<RedisReply> r = main_->Command({"INFO"}, ReplyDeadline());
  if (!r.ok()) return Lost(r.status());
  const std::string& info = r->str;
  out->set_server_version("redis " + InfoField(info, "redis_version"));
  out->set_uptime_ms(InfoInt(info, "uptime_in_seconds") * 1000);
  out->set_clients(InfoInt(info, "connected_clients"));
  out->set_bytes_held(InfoInt(info, "used_memory"));
  out->set_requests_total(InfoInt(info, "total_commands_processed"));
  out->set_parked(InfoInt(info, "pubsub_shardchannels"));
  out->mutable_limits()->set_max_bytes(InfoInt(info, "maxmemory"));
  out->mutable_limits()->set_max_clients(InfoInt(info, "maxclients"));
  // The largest value Redis takes in one command (a CONFIG a server may
  // hide: then its default, 512 MiB).
  int64_t max_bulk = int64_t{512} << 20;
  Result<RedisReply> bulk = main_->Command({"CONFIG", "GET", "proto-max-bulk-len"}, ReplyDeadline());
  if (!bulk.ok()) return Lost(bulk.status());
  if (bulk->elements.size() == 2) {
    const std::string& v = bulk->elements[1].str;
    std::from_chars(v.data(), v.data() + v.size(), max_bulk);
  }
  out->mutable_limits()->set_max_frame_bytes(max_bulk);
  int64_t objects = 0;
  std::string cursor = "0";
  do {
    Result<RedisReply> scan =
        main_->Command({"SCAN", cursor, "MATCH", "{ipc:*}:k", "COUNT", "1000"}, ReplyDeadline());
    if (!scan.ok()) return Lost(scan.status());
    if (scan->elements.size() != 2) {
      return Status(ErrorCode::kProtocolError, display_ + ": SCAN answered oddly");
    }
    cursor = scan->elements[0].str;
    objects += static_cast<int64_t>(scan->elements[1].elements.size());
  } while (cursor != "0");
  out->set_objects(objects);
  return Status::Ok();
}

void RedisBackend::Close() {
  if (renewer_) {
    const auto held = renewer_->Held();
    if (!held.empty() && (!main_ || !main_->usable())) {
      main_.reset();
      Result<RedisClient> c = ConnectClient();
      if (c.ok()) main_.emplace(std::move(*c));
    }
    if (!held.empty() && main_) {
      RedisScriptArgs args(token_, lease_ms_);
      for (const std::string& name : held) {
        v1::Call call;
        call.set_object(name);
        args.Add(call, "", kRedisOpReleaseAll);
      }
      // Best effort: what cannot be given back now runs out with its lease.
      (void)EvalRedisScript(*main_, &sha_, args, ReplyDeadline());
    }
    renewer_.reset();
  }
  main_.reset();
  subscriber_.reset();
  ++generation_;
}

}  // namespace ipc::internal
