// A fixture for the Manager tests: a fresh ipcd per test (DaemonProcess)
// and a Manager connected to it, plus assertions on exact error codes and a
// wait for calls parked in the daemon.
//
// The same test sources build twice: manager_test runs them against ipcd,
// manager_redis_test (compiled with IPC_TEST_REDIS) against a redis-server
// started per test (RedisServer), through the Manager's Redis backend.
// A test of something only ipcd has (its limits, flags) says so with
// IPC_SKIP_ON_REDIS.
#ifndef IPC_TESTS_MANAGER_MANAGER_FIXTURE_H_
#define IPC_TESTS_MANAGER_MANAGER_FIXTURE_H_

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ipc/manager.h"
#include "support/daemon_process.h"
#include "support/redis_server.h"
#include "support/test_util.h"

// The exact code of a Status or of a Result's status, printing the message
// when it differs.
#define EXPECT_CODE(expr, expected_code)                              \
  do {                                                                \
    const ::ipc::Status ipc_status_ = ::ipc::testing::StatusOf(expr); \
    EXPECT_EQ(ipc_status_.code(), expected_code) << ipc_status_;      \
  } while (0)

#define ASSERT_OK(expr)                                               \
  do {                                                                \
    const ::ipc::Status ipc_status_ = ::ipc::testing::StatusOf(expr); \
    ASSERT_TRUE(ipc_status_.ok()) << ipc_status_;                     \
  } while (0)

namespace ipc::testing {

#ifdef IPC_TEST_REDIS
inline constexpr bool kOnRedis = true;
using BackendProcess = RedisServer;
#else
inline constexpr bool kOnRedis = false;
using BackendProcess = DaemonProcess;
#endif

#define IPC_SKIP_ON_REDIS(why) \
  if (::ipc::testing::kOnRedis) GTEST_SKIP() << "an ipcd feature: " << why

inline Status StatusOf(const Status& status) { return status; }
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

// Waits, without sleeping in place of a condition, until the daemon reports
// a request parked on object: the blocking call of another thread or
// process has reached it.
inline void AwaitParked(Manager& observer, const std::string& object) {
  for (;;) {
    auto objects = observer.ListObjects();
    ASSERT_OK(objects);
    for (const ManagedObject& o : *objects) {
      if (o.name == object && o.waiters > 0) return;
    }
    std::this_thread::yield();
  }
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon({}); }

  // (Re)starts the daemon with extra flags (ipcd only) and connects
  // manager() to it.
  void StartDaemon(std::vector<std::string> extra_args) {
#ifdef IPC_TEST_REDIS
    ASSERT_TRUE(extra_args.empty()) << "ipcd flags on the Redis backend";
    daemon_ = RedisServer::Start();
#else
    daemon_ = DaemonProcess::Start(std::move(extra_args));
#endif
    ASSERT_GT(daemon_.pid(), 0) << "ipcd did not start";
    manager_ = Connect();
    ASSERT_TRUE(manager_.has_value());
  }

  // Another client of the same daemon, with its own connection.
  std::optional<Manager> Connect(ManagerOptions options = {}) {
    auto manager = Manager::Connect(daemon_.url(), std::move(options));
    EXPECT_TRUE(manager.ok()) << manager.status();
    if (!manager.ok()) return std::nullopt;
    return std::move(*manager);
  }

  Manager& manager() { return *manager_; }
  static std::string Name(const std::string& prefix) {
    return UniqueName(prefix);
  }

  BackendProcess daemon_;
  std::optional<Manager> manager_;
};

}  // namespace ipc::testing

#endif  // IPC_TESTS_MANAGER_MANAGER_FIXTURE_H_
