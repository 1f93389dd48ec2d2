// A fixture that starts a fresh ipcd for each test and opens one raw
// client to it, so each test sees a daemon no other test has touched.
//
// Thread safety: gtest's fixture rules (the test's own thread).
#ifndef IPC_TESTS_IPCD_IPCD_FIXTURE_H_
#define IPC_TESTS_IPCD_IPCD_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "raw_client.h"
#include "support/daemon_process.h"

namespace ipc::testing {

class IpcdTest : public ::testing::Test {
 protected:
  // Extra daemon flags; override to change limits.
  virtual std::vector<std::string> DaemonArgs() const { return {}; }

  void SetUp() override {
    daemon_ = DaemonProcess::Start(DaemonArgs());
    ASSERT_GT(daemon_.pid(), 0);
    client_ = RawClient::Open(daemon_.url());
    ASSERT_TRUE(client_.ok());
  }
  void TearDown() override {
    if (daemon_.pid() > 0) {
      EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Stderr();
    }
  }

  // The daemon is alive and serving: a fresh client can use it.
  void ExpectServing() {
    RawClient other = RawClient::Open(daemon_.url());
    ASSERT_TRUE(other.ok());
    v1::Call call = MakeCall("alive-check", v1::COUNTER, v1::ADD);
    *call.mutable_value() = IntValue(1);
    EXPECT_EQ(CodeOf(other.Call(call)), v1::OK);
  }

  // Waits (polling Stats, at most 1 s) until the daemon reports n parked
  // requests.
  void WaitParked(int64_t n) {
    for (int i = 0; i < 500; ++i) {
      if (client_.Stats().stats().parked() == n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ADD_FAILURE() << "never saw " << n << " parked requests";
  }

  DaemonProcess daemon_;
  RawClient client_;
};

}  // namespace ipc::testing

#endif  // IPC_TESTS_IPCD_IPCD_FIXTURE_H_
