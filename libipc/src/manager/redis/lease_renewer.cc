#include "manager/redis/lease_renewer.h"

#include <utility>

#include "manager/redis/call_codec.h"
#include "manager/redis/script.h"

namespace ipc::internal {

RedisLeaseRenewer::RedisLeaseRenewer(RedisUrl url, std::chrono::milliseconds connect_timeout,
                                     std::string token, int64_t lease_ms)
    : url_(std::move(url)),
      connect_timeout_(connect_timeout),
      token_(std::move(token)),
      lease_ms_(lease_ms) {}

RedisLeaseRenewer::~RedisLeaseRenewer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RedisLeaseRenewer::Hold(const std::string& object) {
  std::lock_guard<std::mutex> lock(mu_);
  held_[object] = next_epoch_++;
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

std::vector<std::string> RedisLeaseRenewer::Held() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, epoch] : held_) out.push_back(name);
  return out;
}

void RedisLeaseRenewer::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  held_.clear();
}

void RedisLeaseRenewer::Run() {
  // A third of the lease between renewals leaves two more tries before it
  // runs out; after a failed one, try again sooner.
  const auto period = std::chrono::milliseconds(lease_ms_ / 3);
  const auto retry = std::chrono::milliseconds(std::max<int64_t>(lease_ms_ / 12, 1));
  std::unique_lock<std::mutex> lock(mu_);
  bool renewed = true;
  while (!stop_) {
    wake_.wait_for(lock, renewed ? period : retry, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    renewed = RenewAll();
    lock.lock();
  }
}

bool RedisLeaseRenewer::RenewAll() {
  std::map<std::string, uint64_t> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held = held_;
  }
  if (held.empty()) return true;
  // Renewals must land within the lease: no call may take longer.
  const Deadline deadline = Deadline::After(std::chrono::milliseconds(lease_ms_ / 3));
  if (!client_ || !client_->usable()) {
    client_.reset();
    Result<RedisClient> c = RedisClient::Connect(url_, connect_timeout_);
    if (!c.ok()) return false;
    client_.emplace(std::move(*c));
    Result<std::string> sha = LoadRedisScript(*client_, deadline);
    if (!sha.ok()) return false;
    sha_ = *sha;
  }
  RedisScriptArgs args(token_, lease_ms_);
  std::vector<ipcd::v1::Call> calls;
  calls.reserve(held.size());
  std::vector<uint64_t> epochs;
  for (const auto& [name, epoch] : held) {
    ipcd::v1::Call& call = calls.emplace_back();
    call.set_object(name);
    epochs.push_back(epoch);
    args.Add(call, "", kRedisOpRenew);
  }
  Result<RedisReply> reply = EvalRedisScript(*client_, &sha_, args, deadline);
  if (!reply.ok() || reply->elements.size() != calls.size()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < calls.size(); ++i) {
    ipcd::v1::Status status;
    ipcd::v1::Result result;
    RedisFlow flow;
    const bool ok = DecodeRedisCallReply(calls[i], reply->elements[i], &status, &result, &flow).ok();
    if (!ok || result.flag()) continue;
    // Released or lost, unless taken again since the snapshot.
    auto it = held_.find(calls[i].object());
    if (it != held_.end() && it->second == epochs[i]) held_.erase(it);
  }
  return true;
}

}  // namespace ipc::internal
