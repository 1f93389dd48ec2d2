#include "support/redis_cluster.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>
#include <thread>

namespace ipc::testing {
namespace {

bool Bindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A port whose cluster bus port (port + 10000) is free too.
int FreeClusterPort(std::vector<int>* taken) {
  static std::mt19937 rng(std::random_device{}());
  for (;;) {
    const int port = 20000 + static_cast<int>(rng() % 10000);
    bool used = false;
    for (int t : *taken) used = used || t == port;
    if (!used && Bindable(port) && Bindable(port + 10000)) {
      taken->push_back(port);
      return port;
    }
  }
}

// What redis-cli prints for args against 127.0.0.1:port.
std::string Cli(int port, const std::string& args) {
  const std::string command =
      "redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " " + args + " 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

}  // namespace

RedisCluster RedisCluster::Start() {
  RedisCluster cluster;
  std::string nodes;
  for (int i = 0; i < 6; ++i) {
    const int port = FreeClusterPort(&cluster.ports_);
    cluster.nodes_.push_back(RedisServer::Start(
        {.port = port,
         .extra_args = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "1000",
                        // A replica must have synced before its master is
                        // killed, or it may not take over: no waiting for
                        // more replicas before a full sync.
                        "--repl-diskless-sync-delay", "0"}}));
    if (cluster.nodes_.back().pid() <= 0) return cluster;
    nodes += " 127.0.0.1:" + std::to_string(port);
  }
  const std::string create =
      "redis-cli --cluster create" + nodes + " --cluster-replicas 1 --cluster-yes >/dev/null 2>&1";
  if (std::system(create.c_str()) != 0) {
    ADD_FAILURE() << "redis-cli --cluster create failed";
    return cluster;
  }
  cluster.ok_ = cluster.AwaitHealthy(30000);
  if (!cluster.ok_) ADD_FAILURE() << "the cluster did not become healthy within 30 s";
  return cluster;
}

std::string RedisCluster::url() const {
  std::string url = "redis+cluster://";
  for (size_t i = 0; i < 3 && i < ports_.size(); ++i) {
    url += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(ports_[i]);
  }
  return url;
}

bool RedisCluster::AwaitHealthy(int timeout_ms) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    bool healthy = true;
    for (size_t i = 0; i < nodes_.size() && healthy; ++i) {
      if (nodes_[i].pid() <= 0) continue;
      const std::string info = Cli(ports_[i], "cluster info");
      const std::string replication = Cli(ports_[i], "info replication");
      healthy = info.find("cluster_state:ok") != std::string::npos &&
                info.find("cluster_slots_ok:16384") != std::string::npos &&
                (replication.find("role:slave") == std::string::npos ||
                 replication.find("master_link_status:up") != std::string::npos);
    }
    if (healthy) return true;
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // Polls the cluster's state.
  }
}

int RedisCluster::KillMasterOf(const std::string& key) {
  const int slot = std::atoi(Cli(ports_[0], "cluster keyslot '" + key + "'").c_str());
  std::istringstream lines(Cli(ports_[0], "cluster nodes"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("master") == std::string::npos || line.find("fail") != std::string::npos) {
      continue;
    }
    std::istringstream fields(line);
    std::string id, address, flags, master, ping, pong, epoch, link, range;
    fields >> id >> address >> flags >> master >> ping >> pong >> epoch >> link;
    const int port = std::atoi(address.substr(address.find(':') + 1).c_str());
    while (fields >> range) {
      const size_t dash = range.find('-');
      const int first = std::atoi(range.c_str());
      const int last = dash == std::string::npos ? first : std::atoi(range.c_str() + dash + 1);
      if (slot < first || slot > last) continue;
      for (size_t i = 0; i < ports_.size(); ++i) {
        if (ports_[i] == port) nodes_[i].Kill();
      }
      return port;
    }
  }
  return 0;
}

}  // namespace ipc::testing
