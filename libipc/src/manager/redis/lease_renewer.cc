#include "manager/redis/lease_renewer.h"

#include <utility>

#include "manager/redis/call_codec.h"
#include "manager/redis/cluster_slots.h"

namespace ipc::internal {

RedisLeaseRenewer::RedisLeaseRenewer(std::unique_ptr<RedisRouter> router, std::string token,
                                     int64_t lease_ms)
    : token_(std::move(token)), lease_ms_(lease_ms), router_(std::move(router)) {}

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
  // Renewals must land within the lease: no call may take longer.
  const Deadline deadline = Deadline::After(std::chrono::milliseconds(lease_ms_ / 3));
  // One script run per slot (a single server has one).
  std::map<int, std::vector<std::pair<std::string, uint64_t>>> by_slot;
  for (const auto& [name, epoch] : held) {
    by_slot[router_->cluster() ? RedisKeySlot(RedisObjectPrefix(name)) : 0].emplace_back(name,
                                                                                         epoch);
  }
  bool reached = true;
  for (const auto& [slot, group] : by_slot) {
    RedisScriptArgs args(token_, lease_ms_);
    std::vector<ipcd::v1::Call> calls(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      calls[i].set_object(group[i].first);
      args.Add(calls[i], "", kRedisOpRenew);
    }
    Result<RedisReply> reply = router_->Eval(args, deadline);
    if (!reply.ok() || reply->elements.size() != calls.size()) {
      reached = false;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < calls.size(); ++i) {
      ipcd::v1::Status status;
      ipcd::v1::Result result;
      RedisFlow flow;
      const bool ok =
          DecodeRedisCallReply(calls[i], reply->elements[i], &status, &result, &flow).ok();
      if (!ok || result.flag()) continue;
      // Released or lost, unless taken again since the snapshot.
      auto it = held_.find(group[i].first);
      if (it != held_.end() && it->second == group[i].second) held_.erase(it);
    }
  }
  return reached;
}

}  // namespace ipc::internal
