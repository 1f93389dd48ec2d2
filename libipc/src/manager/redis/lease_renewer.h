// RedisLeaseRenewer: keeps a Redis backend's holds (locks, semaphore
// units) alive. A hold on Redis is a lease that ends lease_ms after it was
// last renewed; this thread renews every hold of its token every third of
// the lease, on a connection of its own (the main one may be waiting in a
// blocking call). So a hold lasts as long as its process runs this thread,
// and a process that dies (or stops, e.g. SIGSTOP, past the lease) loses
// its holds when their lease runs out. A renewal that finds the hold gone
// (released, or lost) forgets it.
//
// Thread safety: Hold() and Held() may be called from any thread. The
// thread starts at the first Hold(); the destructor stops and joins it.
// After fork() the child must not destroy a renewer made before (its
// thread is not in the child): RedisBackend leaks it there.
#ifndef IPC_SRC_MANAGER_REDIS_LEASE_RENEWER_H_
#define IPC_SRC_MANAGER_REDIS_LEASE_RENEWER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "manager/redis/redis_router.h"

namespace ipc::internal {

class RedisLeaseRenewer {
 public:
  // Renews through router (its own connections).
  RedisLeaseRenewer(std::unique_ptr<RedisRouter> router, std::string token, int64_t lease_ms);
  ~RedisLeaseRenewer();
  RedisLeaseRenewer(const RedisLeaseRenewer&) = delete;
  RedisLeaseRenewer& operator=(const RedisLeaseRenewer&) = delete;

  // Renews this token's hold on object (a lock, rlock or semaphore) from
  // now on, until a renewal finds it gone.
  void Hold(const std::string& object);
  // The objects it renews now.
  std::vector<std::string> Held() const;
  // Forgets everything (after the holds were given back).
  void Clear();

 private:
  void Run();
  // One renewal of every hold; false when Redis could not be reached.
  bool RenewAll();

  const std::string token_;
  const int64_t lease_ms_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  // Object -> the Hold() that last named it: a renewal that found the
  // hold gone forgets it only if it was not taken again meanwhile.
  std::map<std::string, uint64_t> held_;
  uint64_t next_epoch_ = 1;
  std::thread thread_;

  std::unique_ptr<RedisRouter> router_;  // Used by the thread only.
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_LEASE_RENEWER_H_
