// The kill sweep (kill_sweep.h) over the shm:// channel: the sending child
// killed at every instruction of Send, while this process already sleeps
// in Receive on the other end.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "ipc/channel.h"
#include "kill_sweep.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using namespace std::chrono_literals;

// The receiver gets the whole message or kClosed, never a torn message and
// never a hang: it must return within the wake bound of the sender's death,
// and then report kClosed. ?spin_us=0 keeps the sender from spinning (the
// instruction count would depend on time); a 4 KiB ring cuts a message of
// more than 1016 bytes into fragments, so kills between them are covered.
class ShmSendCase : public SweepCase {
 public:
  explicit ShmSendCase(size_t size) : message_(size, '\0') {
    for (size_t i = 0; i < size; ++i) message_[i] = static_cast<char>('a' + i % 23);
  }

  void Setup(Trial& t) override {
    url_ = "shm://" + UniqueName("ksweep-shm") + "?capacity=4096&spin_us=0";
    auto l = Listen(url_);
    if (!l.ok()) return t.Fail("setup: listen", l.status().ToString());
    listener_ = std::move(*l);
  }

  int Child(SweepPage& page) override {
    Result<Channel> ch = Connect(url_, 5s);
    if (!ch.ok()) return 2;
    SweepBegin();
    Status s = ch->Send(message_, 5s);
    page.op.Report(s.code());
    return 0;
  }

  void Stopped(Trial& t) override {
    auto ch = listener_.Accept(5s);
    if (!ch.ok()) return t.Fail("setup: accept", ch.status().ToString());
    channel_ = std::move(*ch);
    done_ = false;
    tid_ = 0;
    receiver_ = std::thread([this] {
      tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
      received_ = channel_.Receive(3s);
      done_ = true;
    });
    while (tid_ == 0) std::this_thread::yield();
    t.WaitAsleep(::getpid(), tid_, "the receiver in Receive");
  }

  void Check(Trial& t) override {
    if (!receiver_.joinable()) return;
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(t.wake_bound_ms());
    while (!done_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(200us);
    }
    if (!done_) t.Fail("the receiver was not woken by the sender's death");
    receiver_.join();  // Within its own 3 s deadline.
    if (!t.killed() && t.page().op.error() != ErrorCode::kOk) {
      t.Fail("Send failed when not killed", CodeName(t.page().op.error()));
    }
    if (received_.ok()) {
      if (*received_ != message_) {
        t.Fail("the receiver got a torn message",
               std::to_string(received_->size()) + " of " + std::to_string(message_.size()) +
                   " bytes");
      }
    } else if (!t.killed() || received_.status().code() != ErrorCode::kClosed) {
      t.Fail(t.killed() ? "Receive ended with neither the message nor kClosed"
                        : "Send returned OK but the message did not arrive",
             received_.status().ToString());
    }
    Result<std::string> next = channel_.Receive(100ms);
    if (next.ok() || next.status().code() != ErrorCode::kClosed) {
      t.Fail("after the sender's death, the next Receive is not kClosed",
             next.ok() ? std::to_string(next->size()) + " more bytes" : next.status().ToString());
    }
  }

  void Teardown(Trial&) override {
    if (receiver_.joinable()) receiver_.join();
    channel_.Close();
    listener_.Close();
  }

 private:
  std::string message_;
  std::string url_;
  Listener listener_;
  Channel channel_;
  std::thread receiver_;
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> done_{false};
  Result<std::string> received_{Status(ErrorCode::kInternal, "not received")};
};

TEST(KillSweepShm, SendOneFragment) {
  ShmSendCase c(200);
  ExpectCleanSweep(c);
}

TEST(KillSweepShm, SendThreeFragments) {
  ShmSendCase c(2500);
  ExpectCleanSweep(c);
}

}  // namespace
}  // namespace ipc::testing
