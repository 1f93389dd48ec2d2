// RedisCluster: a Redis Cluster of real redis-server processes on loopback
// ports for tests: three masters, each with one replica, made with
// `redis-cli --cluster create` and waited for until every node says
// cluster_state:ok.
//
//   auto cluster = ipc::testing::RedisCluster::Start();
//   auto manager = ipc::Manager::Connect(cluster.url());
//
// Thread safety: use one RedisCluster from one thread. Move-only.
#ifndef IPC_TESTS_SUPPORT_REDIS_CLUSTER_H_
#define IPC_TESTS_SUPPORT_REDIS_CLUSTER_H_

#include <string>
#include <vector>

#include "support/redis_server.h"

namespace ipc::testing {

class RedisCluster {
 public:
  // On failure a gtest failure is recorded and ok() is false.
  static RedisCluster Start();

  bool ok() const { return ok_; }
  // "redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3" (the masters
  // it was made with).
  std::string url() const;
  // SIGKILLs the master serving the slot of key; returns its port (0 when
  // none was found).
  int KillMasterOf(const std::string& key);
  // Waits (at most timeout_ms) until every live node says cluster_state:ok
  // with every slot served, and every replica's link to its master is up.
  bool AwaitHealthy(int timeout_ms);

 private:
  std::vector<int> ports_;
  std::vector<RedisServer> nodes_;
  bool ok_ = false;
};

}  // namespace ipc::testing

#endif  // IPC_TESTS_SUPPORT_REDIS_CLUSTER_H_
