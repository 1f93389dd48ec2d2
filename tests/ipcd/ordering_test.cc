// Hand-overs between parked requests and the connections around them: a
// lock freed by a connection that died while the daemon wrote to it, batches
// against parked waiters, queue items offered to a getter that hung up.
// Deterministic: the daemon is paused (SIGSTOP) where the order of events
// matters.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <thread>

#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class OrderingTest : public IpcdTest {
 protected:
  // No spinning: a spinning loop passes through its wake-up code after
  // every poll and would hide a wake-up left undone before a real sleep.
  std::vector<std::string> DaemonArgs() const override {
    return {"--spin-us", "0"};
  }
};

TEST_F(OrderingTest, LockFreedByAFailedWriteGoesToTheParkedWaiterAtOnce) {
  RawClient holder = RawClient::Open(daemon_.url());
  RawClient waiter = RawClient::Open(daemon_.url());
  v1::Call acquire = MakeCall("L", v1::LOCK, v1::ACQUIRE);
  ASSERT_EQ(CodeOf(holder.Call(acquire)), v1::OK);
  const uint64_t id = waiter.SendCall(acquire);
  WaitParked(1);
  // The holder stops reading, then asks something: the daemon's answer
  // fails with EPIPE while it flushes, and that is how it learns the holder
  // is gone.
  ASSERT_EQ(::shutdown(holder.channel().fd(), SHUT_RD), 0);
  holder.SendCall(MakeCall("c", v1::COUNTER, v1::GET));
  auto r = waiter.Receive(seconds(3));
  ASSERT_TRUE(r.ok()) << "the freed lock was not handed over: " << r.status();
  EXPECT_EQ(r->id(), id);
  EXPECT_EQ(CodeOf(*r), v1::OK);
  // And a newcomer finds it taken.
  v1::Call try_acquire = acquire;
  try_acquire.set_timeout_ms(0);
  RawClient newcomer = RawClient::Open(daemon_.url());
  EXPECT_EQ(CodeOf(newcomer.Call(try_acquire)), v1::DEADLINE_EXCEEDED);
}

TEST_F(OrderingTest, NewcomerDoesNotOvertakeTheWaiterOfALockFreedInAFlush) {
  RawClient holder = RawClient::Open(daemon_.url());
  RawClient waiter = RawClient::Open(daemon_.url());
  RawClient newcomer = RawClient::Open(daemon_.url());
  v1::Call acquire = MakeCall("L", v1::LOCK, v1::ACQUIRE);
  ASSERT_EQ(CodeOf(holder.Call(acquire)), v1::OK);
  waiter.SendCall(acquire);
  WaitParked(1);
  ASSERT_EQ(::shutdown(holder.channel().fd(), SHUT_RD), 0);
  ASSERT_EQ(::kill(daemon_.pid(), SIGSTOP), 0);
  holder.SendCall(MakeCall("c", v1::COUNTER, v1::GET));
  ASSERT_EQ(::kill(daemon_.pid(), SIGCONT), 0);
  std::this_thread::sleep_for(milliseconds(200));
  v1::Call try_acquire = acquire;
  try_acquire.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(newcomer.Call(try_acquire)), v1::DEADLINE_EXCEEDED);
  auto r = waiter.Receive(seconds(3));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CodeOf(*r), v1::OK);
}

TEST_F(OrderingTest, BatchIsAtomicAgainstAParkedQueueGetter) {
  RawClient getter = RawClient::Open(daemon_.url());
  getter.SendCall(MakeCall("q", v1::QUEUE, v1::GET));
  WaitParked(1);
  v1::Batch batch;
  v1::Call put = MakeCall("q", v1::QUEUE, v1::PUT);
  *put.mutable_value() = StringValue("x");
  *batch.add_calls() = put;
  *batch.add_calls() = MakeCall("q", v1::QUEUE, v1::LEN);
  *batch.add_calls() = MakeCall("q", v1::QUEUE, v1::GET);
  v1::Response r = client_.Batch(batch);
  ASSERT_EQ(r.batch().replies_size(), 3);
  EXPECT_EQ(CodeOf(r), v1::OK);
  EXPECT_EQ(r.batch().replies(1).result().count(), 1)
      << "another client's GET ran inside the batch";
  EXPECT_EQ(r.batch().replies(2).status().code(), v1::OK);
  EXPECT_EQ(r.batch().replies(2).result().value().string_value(), "x");
  // The parked getter is still waiting, and gets the next item.
  EXPECT_EQ(client_.Stats().stats().parked(), 1);
  ASSERT_EQ(CodeOf(client_.Call(put)), v1::OK);
  auto got = getter.Receive(seconds(3));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->result().value().string_value(), "x");
}

TEST_F(OrderingTest, ReleaseAndAcquireInOneBatchLetNobodyIn) {
  RawClient waiter = RawClient::Open(daemon_.url());
  v1::Call acquire = MakeCall("L", v1::LOCK, v1::ACQUIRE);
  ASSERT_EQ(CodeOf(client_.Call(acquire)), v1::OK);
  waiter.SendCall(acquire);
  WaitParked(1);
  v1::Batch batch;
  *batch.add_calls() = MakeCall("L", v1::LOCK, v1::RELEASE);
  *batch.add_calls() = acquire;
  v1::Response r = client_.Batch(batch);
  ASSERT_EQ(r.batch().replies_size(), 2);
  EXPECT_EQ(r.batch().replies(0).status().code(), v1::OK);
  EXPECT_EQ(r.batch().replies(1).status().code(), v1::OK)
      << r.batch().replies(1).status().message();
  auto early = waiter.Receive(milliseconds(300));
  EXPECT_FALSE(early.ok()) << "the waiter got the lock inside the batch";
  // A batch that only releases hands the lock over once it has finished.
  v1::Batch release;
  *release.add_calls() = MakeCall("L", v1::LOCK, v1::RELEASE);
  ASSERT_EQ(client_.Batch(release).batch().replies(0).status().code(), v1::OK);
  auto got = waiter.Receive(seconds(3));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(CodeOf(*got), v1::OK);
}

TEST_F(OrderingTest, QueueItemIsNotLostToAGetterThatHungUp) {
  RawClient getter = RawClient::Open(daemon_.url());
  RawClient putter = RawClient::Open(daemon_.url());
  getter.SendCall(MakeCall("q", v1::QUEUE, v1::GET));
  WaitParked(1);
  // The PUT arrives first, the getter's hang-up second, and the daemon sees
  // both in one wake-up.
  ASSERT_EQ(::kill(daemon_.pid(), SIGSTOP), 0);
  v1::Call put = MakeCall("q", v1::QUEUE, v1::PUT);
  *put.mutable_value() = StringValue("precious");
  putter.SendCall(put);
  std::this_thread::sleep_for(milliseconds(50));
  getter.channel().Close();
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_EQ(::kill(daemon_.pid(), SIGCONT), 0);
  auto put_reply = putter.Receive(seconds(3));
  ASSERT_TRUE(put_reply.ok()) << put_reply.status();
  EXPECT_EQ(CodeOf(*put_reply), v1::OK);
  v1::Call get = MakeCall("q", v1::QUEUE, v1::GET);
  get.set_timeout_ms(1000);
  v1::Response r = client_.Call(get);
  EXPECT_EQ(CodeOf(r), v1::OK) << "the item was lost: " << r.status().message();
  EXPECT_EQ(r.result().value().string_value(), "precious");
}

TEST_F(OrderingTest, QueueItemIsNotLostToAGetterThatStoppedReading) {
  RawClient getter = RawClient::Open(daemon_.url());
  RawClient putter = RawClient::Open(daemon_.url());
  getter.SendCall(MakeCall("q", v1::QUEUE, v1::GET));
  WaitParked(1);
  // The getter can no longer receive: the hand-off's write fails.
  ASSERT_EQ(::shutdown(getter.channel().fd(), SHUT_RD), 0);
  v1::Call put = MakeCall("q", v1::QUEUE, v1::PUT);
  *put.mutable_value() = StringValue("precious");
  ASSERT_EQ(CodeOf(putter.Call(put)), v1::OK);
  v1::Call get = MakeCall("q", v1::QUEUE, v1::GET);
  get.set_timeout_ms(1000);
  v1::Response r = client_.Call(get);
  EXPECT_EQ(CodeOf(r), v1::OK) << "the item was lost: " << r.status().message();
  EXPECT_EQ(r.result().value().string_value(), "precious");
}

}  // namespace
}  // namespace ipc::testing
