// The condition kind through the raw protocol: what making one needs, a
// WAIT that cannot wait, a notified waiter that hangs up while it queues
// for the lock, and requests pipelined behind a parked WAIT.
#include <gtest/gtest.h>

#include <thread>

#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

class ConditionTest : public IpcdTest {
 protected:
  static v1::Call Cond(v1::Op op, const std::string& lock = "l") {
    v1::Call call = MakeCall("c", v1::CONDITION, op);
    call.set_lock(lock);
    return call;
  }
  static v1::Call Lock(v1::Op op) { return MakeCall("l", v1::LOCK, op); }

  // What the daemon lists for name: {size, waiters}; {-1, -1} if absent.
  std::pair<int64_t, int64_t> Info(const std::string& name) {
    const v1::Response r = client_.List();
    for (const v1::ObjectInfo& o : r.objects().objects()) {
      if (o.name() == name) return {o.size(), o.waiters()};
    }
    return {-1, -1};
  }
  // Waits, on the daemon's answers, until n requests are parked on name.
  void AwaitWaiters(const std::string& name, int64_t n) {
    while (Info(name).second != n) std::this_thread::yield();
  }
};

TEST_F(ConditionTest, MakingOneNeedsTheNameOfItsLock) {
  for (v1::Op op : {v1::CREATE, v1::WAIT, v1::NOTIFY, v1::NOTIFY_ALL}) {
    const v1::Response r = client_.Call(Cond(op, ""));
    EXPECT_EQ(CodeOf(r), v1::INVALID_ARGUMENT) << v1::Op_Name(op);
    EXPECT_NE(r.status().message().find("needs Call.lock"), std::string::npos)
        << r.status().message();
  }
  const v1::Response get = client_.Call(Cond(v1::GET, ""));
  EXPECT_EQ(CodeOf(get), v1::NOT_FOUND);
  EXPECT_EQ(get.status().message(), "no condition 'c'");
  EXPECT_EQ(client_.List().objects().objects_size(), 0) << "nothing was made";
  EXPECT_EQ(CodeOf(client_.Call(Cond(v1::ADD))), v1::UNSUPPORTED);
}

TEST_F(ConditionTest, AWaitWithNoTimeToWaitAnswersAtOnceKeepingTheLock) {
  ASSERT_EQ(CodeOf(client_.Call(Lock(v1::ACQUIRE))), v1::OK);
  v1::Call now = Cond(v1::WAIT);
  now.set_timeout_ms(0);
  const v1::Response r = client_.Call(now);
  EXPECT_EQ(CodeOf(r), v1::DEADLINE_EXCEEDED);
  EXPECT_NE(r.status().message().find("still held"), std::string::npos)
      << r.status().message();
  v1::Batch batch;
  *batch.add_calls() = Cond(v1::WAIT);
  *batch.add_calls() = Cond(v1::NOTIFY_ALL);
  const v1::Response b = client_.Batch(batch);
  ASSERT_EQ(b.batch().replies_size(), 2);
  EXPECT_EQ(b.batch().replies(0).status().code(), v1::DEADLINE_EXCEEDED);
  EXPECT_EQ(b.batch().replies(1).status().code(), v1::OK);
  EXPECT_EQ(b.batch().replies(1).result().count(), 0);
  const v1::Response released = client_.Call(Lock(v1::RELEASE));
  EXPECT_EQ(CodeOf(released), v1::OK) << "the lock was still held";
  EXPECT_EQ(released.result().count(), 0);
}

TEST_F(ConditionTest, ANotifiedWaiterThatHangsUpInTheLockLineNeverGetsIt) {
  {
    RawClient waiter = RawClient::Open(daemon_.url());
    ASSERT_EQ(CodeOf(waiter.Call(Lock(v1::ACQUIRE))), v1::OK);
    waiter.SendCall(Cond(v1::WAIT));
    AwaitWaiters("c", 1);
    ASSERT_EQ(CodeOf(client_.Call(Lock(v1::ACQUIRE))), v1::OK);
    const v1::Response notified = client_.Call(Cond(v1::NOTIFY));
    ASSERT_EQ(CodeOf(notified), v1::OK);
    EXPECT_EQ(notified.result().count(), 1);
    AwaitWaiters("l", 1);  // Moved from the condition to the lock's line.
    EXPECT_EQ(Info("c"), std::make_pair(int64_t{0}, int64_t{0}));
  }  // The waiter hangs up.
  AwaitWaiters("l", 0);
  ASSERT_EQ(CodeOf(client_.Call(Lock(v1::RELEASE))), v1::OK);
  EXPECT_EQ(Info("l").first, 0) << "nobody holds the lock";
  ExpectServing();
}

TEST_F(ConditionTest, RequestsPipelinedBehindAWaitRunOnceItHasTheLock) {
  RawClient waiter = RawClient::Open(daemon_.url());
  ASSERT_EQ(CodeOf(waiter.Call(Lock(v1::ACQUIRE))), v1::OK);
  const uint64_t wait_id = waiter.SendCall(Cond(v1::WAIT));
  const uint64_t get_id = waiter.SendCall(Cond(v1::GET, ""));
  AwaitWaiters("c", 1);
  const v1::Response get = client_.Call(Cond(v1::GET, ""));
  EXPECT_EQ(get.result().value().string_value(), "l");
  EXPECT_EQ(get.result().count(), 1);
  ASSERT_EQ(CodeOf(client_.Call(Lock(v1::ACQUIRE))), v1::OK);
  ASSERT_EQ(CodeOf(client_.Call(Cond(v1::NOTIFY_ALL))), v1::OK);
  ASSERT_EQ(CodeOf(client_.Call(Lock(v1::RELEASE))), v1::OK);
  auto woke = waiter.Receive();
  ASSERT_TRUE(woke.ok()) << woke.status();
  EXPECT_EQ(woke->id(), wait_id);
  EXPECT_EQ(CodeOf(*woke), v1::OK);
  EXPECT_TRUE(woke->result().flag());
  EXPECT_EQ(woke->result().count(), 1) << "its one hold is back";
  auto after = waiter.Receive();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->id(), get_id);
  EXPECT_EQ(after->result().count(), 0);
  v1::Call try_lock = Lock(v1::ACQUIRE);
  try_lock.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(client_.Call(try_lock)), v1::DEADLINE_EXCEEDED)
      << "the waiter holds it";
}

}  // namespace
}  // namespace ipc::testing
