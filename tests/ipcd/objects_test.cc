// Every operation of every object kind, through the raw protocol.
#include <gtest/gtest.h>

#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

class ObjectsTest : public IpcdTest {
 protected:
  v1::Response Do(const std::string& name, v1::Kind kind, v1::Op op,
                  const std::string& key = "",
                  std::optional<v1::Value> value = std::nullopt) {
    v1::Call call = MakeCall(name, kind, op);
    call.set_key(key);
    if (value) *call.mutable_value() = *value;
    return client_.Call(call);
  }
};

TEST_F(ObjectsTest, CounterAddGetSetCompareAndSet) {
  v1::Response r = Do("hits", v1::COUNTER, v1::GET);
  EXPECT_EQ(CodeOf(r), v1::OK);
  EXPECT_EQ(r.result().value().int_value(), 0);
  r = Do("hits", v1::COUNTER, v1::ADD, "", IntValue(5));
  EXPECT_EQ(r.result().value().int_value(), 5);
  r = Do("hits", v1::COUNTER, v1::ADD, "", IntValue(-7));
  EXPECT_EQ(r.result().value().int_value(), -2);
  r = Do("hits", v1::COUNTER, v1::SET, "", IntValue(40));
  EXPECT_EQ(CodeOf(r), v1::OK);
  EXPECT_EQ(Do("hits", v1::COUNTER, v1::GET).result().value().int_value(), 40);

  v1::Call cas = MakeCall("hits", v1::COUNTER, v1::COMPARE_AND_SET);
  *cas.mutable_expected() = IntValue(1);
  *cas.mutable_value() = IntValue(2);
  r = client_.Call(cas);
  EXPECT_FALSE(r.result().flag());
  EXPECT_EQ(r.result().value().int_value(), 40);
  *cas.mutable_expected() = IntValue(40);
  r = client_.Call(cas);
  EXPECT_TRUE(r.result().flag());
  EXPECT_EQ(r.result().value().int_value(), 2);
}

TEST_F(ObjectsTest, CounterOverflowIsRefusedAndChangesNothing) {
  ASSERT_EQ(CodeOf(Do("big", v1::COUNTER, v1::SET, "", IntValue(INT64_MAX))),
            v1::OK);
  v1::Response r = Do("big", v1::COUNTER, v1::ADD, "", IntValue(1));
  EXPECT_EQ(CodeOf(r), v1::INVALID_ARGUMENT);
  EXPECT_NE(r.status().message().find("overflow"), std::string::npos);
  EXPECT_EQ(Do("big", v1::COUNTER, v1::GET).result().value().int_value(),
            INT64_MAX);
}

TEST_F(ObjectsTest, DictOperations) {
  EXPECT_EQ(CodeOf(Do("cfg", v1::DICT, v1::SET, "b", StringValue("two"))),
            v1::OK);
  EXPECT_EQ(CodeOf(Do("cfg", v1::DICT, v1::SET, "a", IntValue(1))), v1::OK);
  EXPECT_EQ(Do("cfg", v1::DICT, v1::GET, "b").result().value().string_value(),
            "two");
  EXPECT_EQ(CodeOf(Do("cfg", v1::DICT, v1::GET, "zz")), v1::NOT_FOUND);
  // GET with a default.
  EXPECT_EQ(Do("cfg", v1::DICT, v1::GET, "zz", IntValue(9))
                .result()
                .value()
                .int_value(),
            9);
  EXPECT_TRUE(Do("cfg", v1::DICT, v1::CONTAINS, "a").result().flag());
  EXPECT_FALSE(Do("cfg", v1::DICT, v1::CONTAINS, "zz").result().flag());
  EXPECT_EQ(Do("cfg", v1::DICT, v1::LEN).result().count(), 2);

  v1::Response keys = Do("cfg", v1::DICT, v1::KEYS);
  ASSERT_EQ(keys.result().keys_size(), 2);
  EXPECT_EQ(keys.result().keys(0), "a");  // Key order.
  EXPECT_EQ(keys.result().keys(1), "b");
  v1::Response values = Do("cfg", v1::DICT, v1::VALUES);
  ASSERT_EQ(values.result().values_size(), 2);
  EXPECT_EQ(values.result().values(0).int_value(), 1);
  v1::Response items = Do("cfg", v1::DICT, v1::ITEMS);
  ASSERT_EQ(items.result().items_size(), 2);
  EXPECT_EQ(items.result().items(1).key(), "b");
  EXPECT_EQ(items.result().items(1).value().string_value(), "two");

  v1::Call update = MakeCall("cfg", v1::DICT, v1::UPDATE);
  auto* e = update.add_items();
  e->set_key("c");
  *e->mutable_value() = IntValue(3);
  e = update.add_items();
  e->set_key("a");
  *e->mutable_value() = IntValue(10);
  EXPECT_EQ(CodeOf(client_.Call(update)), v1::OK);
  EXPECT_EQ(Do("cfg", v1::DICT, v1::LEN).result().count(), 3);
  EXPECT_EQ(Do("cfg", v1::DICT, v1::GET, "a").result().value().int_value(), 10);

  EXPECT_EQ(Do("cfg", v1::DICT, v1::POP, "c").result().value().int_value(), 3);
  EXPECT_EQ(CodeOf(Do("cfg", v1::DICT, v1::POP, "c")), v1::NOT_FOUND);
  EXPECT_EQ(Do("cfg", v1::DICT, v1::POP, "c", IntValue(-1))
                .result()
                .value()
                .int_value(),
            -1);

  EXPECT_EQ(Do("cfg", v1::DICT, v1::SETDEFAULT, "d", IntValue(4))
                .result()
                .value()
                .int_value(),
            4);
  EXPECT_EQ(Do("cfg", v1::DICT, v1::SETDEFAULT, "d", IntValue(5))
                .result()
                .value()
                .int_value(),
            4);

  EXPECT_EQ(CodeOf(Do("cfg", v1::DICT, v1::DELETE, "d")), v1::OK);
  EXPECT_EQ(CodeOf(Do("cfg", v1::DICT, v1::DELETE, "d")), v1::NOT_FOUND);

  EXPECT_EQ(CodeOf(Do("cfg", v1::DICT, v1::CLEAR)), v1::OK);
  EXPECT_EQ(Do("cfg", v1::DICT, v1::LEN).result().count(), 0);
  EXPECT_EQ(client_.Stats().stats().bytes_held(), 0);
}

TEST_F(ObjectsTest, DictCompareAndSet) {
  v1::Call cas = MakeCall("d", v1::DICT, v1::COMPARE_AND_SET);
  cas.set_key("k");
  *cas.mutable_value() = StringValue("first");
  // Unset expected: "absent".
  v1::Response r = client_.Call(cas);
  EXPECT_TRUE(r.result().flag());
  EXPECT_EQ(r.result().value().string_value(), "first");
  r = client_.Call(cas);  // Now present: no swap.
  EXPECT_FALSE(r.result().flag());
  EXPECT_EQ(r.result().value().string_value(), "first");
  *cas.mutable_expected() = StringValue("first");
  *cas.mutable_value() = StringValue("second");
  r = client_.Call(cas);
  EXPECT_TRUE(r.result().flag());
  EXPECT_EQ(r.result().value().string_value(), "second");
}

TEST_F(ObjectsTest, NestedValuesRoundTrip) {
  v1::Value v;
  auto* list = v.mutable_list_value();
  *list->add_items() = IntValue(1);
  auto* map = list->add_items()->mutable_map_value();
  auto* entry = map->add_entries();
  entry->set_key("x");
  entry->mutable_value()->set_double_value(2.5);
  list->add_items()->set_bytes_value(std::string("\0\1", 2));
  list->add_items()->set_null_value(v1::NULL_VALUE);
  ASSERT_EQ(CodeOf(Do("nest", v1::DICT, v1::SET, "k", v)), v1::OK);
  v1::Response r = Do("nest", v1::DICT, v1::GET, "k");
  EXPECT_EQ(r.result().value().SerializeAsString(), v.SerializeAsString());
}

TEST_F(ObjectsTest, ReadsOfMissingObjectsDoNotCreateThem) {
  EXPECT_EQ(Do("m1", v1::DICT, v1::LEN).result().count(), 0);
  EXPECT_FALSE(Do("m2", v1::DICT, v1::CONTAINS, "k").result().flag());
  EXPECT_FALSE(Do("m3", v1::EVENT, v1::IS_SET).result().flag());
  EXPECT_EQ(Do("m4", v1::COUNTER, v1::GET).result().value().int_value(), 0);
  EXPECT_EQ(CodeOf(Do("m5", v1::DICT, v1::GET, "k")), v1::NOT_FOUND);
  EXPECT_EQ(Do("m6", v1::QUEUE, v1::LEN).result().count(), 0);
  EXPECT_EQ(client_.List().objects().objects_size(), 0);
}

TEST_F(ObjectsTest, CreateDestroyAndList) {
  v1::Call create = MakeCall("q", v1::QUEUE, v1::CREATE);
  create.set_capacity(3);
  EXPECT_EQ(CodeOf(client_.Call(create)), v1::OK);
  EXPECT_EQ(CodeOf(client_.Call(create)), v1::OK);  // Same bound: fine.
  create.set_capacity(4);
  EXPECT_EQ(CodeOf(client_.Call(create)), v1::INVALID_ARGUMENT);
  EXPECT_EQ(CodeOf(Do("c", v1::COUNTER, v1::CREATE)), v1::OK);
  EXPECT_EQ(CodeOf(Do("c", v1::DICT, v1::CREATE)), v1::INVALID_ARGUMENT);
  EXPECT_EQ(CodeOf(Do("a", v1::DICT, v1::SET, "k", StringValue("v"))), v1::OK);

  v1::Response list = client_.List();
  ASSERT_EQ(list.objects().objects_size(), 3);
  EXPECT_EQ(list.objects().objects(0).name(), "a");  // Name order.
  EXPECT_EQ(list.objects().objects(0).kind(), v1::DICT);
  EXPECT_EQ(list.objects().objects(0).size(), 1);
  EXPECT_GT(list.objects().objects(0).bytes(), 0);
  EXPECT_EQ(list.objects().objects(2).name(), "q");
  EXPECT_EQ(list.objects().objects(2).kind(), v1::QUEUE);

  EXPECT_EQ(CodeOf(Do("c", v1::KIND_UNSPECIFIED, v1::DESTROY)), v1::OK);
  EXPECT_EQ(CodeOf(Do("c", v1::KIND_UNSPECIFIED, v1::DESTROY)), v1::NOT_FOUND);
  EXPECT_EQ(CodeOf(Do("a", v1::COUNTER, v1::DESTROY)), v1::INVALID_ARGUMENT);
  EXPECT_EQ(CodeOf(Do("a", v1::DICT, v1::DESTROY)), v1::OK);
  EXPECT_EQ(client_.List().objects().objects_size(), 1);
  v1::Response stats = client_.Stats();
  EXPECT_EQ(stats.stats().objects(), 1);
  EXPECT_EQ(stats.stats().bytes_held(), 0);
}

TEST_F(ObjectsTest, BatchRunsEveryCallAndReportsEach) {
  v1::Batch batch;
  v1::Call add = MakeCall("n", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(2);
  *batch.add_calls() = add;
  *batch.add_calls() = add;
  *batch.add_calls() = MakeCall("n", v1::DICT, v1::LEN);  // Wrong kind.
  *batch.add_calls() =
      MakeCall("emptyq", v1::QUEUE, v1::GET);  // Does not wait.
  v1::Response r = client_.Batch(batch);
  ASSERT_EQ(CodeOf(r), v1::OK);
  ASSERT_EQ(r.batch().replies_size(), 4);
  EXPECT_EQ(r.batch().replies(1).result().value().int_value(), 4);
  EXPECT_EQ(r.batch().replies(2).status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(r.batch().replies(3).status().code(), v1::EMPTY);
}

TEST_F(ObjectsTest, PipelinedRequestsAreAnsweredInOrder) {
  v1::Call add = MakeCall("p", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(client_.SendCall(add));
  for (int i = 0; i < 200; ++i) {
    auto r = client_.Receive();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->id(), ids[i]);
    EXPECT_EQ(r->result().value().int_value(), i + 1);
  }
}

TEST_F(ObjectsTest, LockAcquireReleaseAndWaiterGetsItOnRelease) {
  v1::Call acquire = MakeCall("L", v1::LOCK, v1::ACQUIRE);
  v1::Call release = MakeCall("L", v1::LOCK, v1::RELEASE);
  ASSERT_EQ(CodeOf(client_.Call(acquire)), v1::OK);
  // A lock's holder acquiring again would deadlock itself.
  EXPECT_EQ(CodeOf(client_.Call(acquire)), v1::INVALID_ARGUMENT);

  RawClient other = RawClient::Open(daemon_.url());
  v1::Call try_acquire = acquire;
  try_acquire.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(other.Call(try_acquire)), v1::DEADLINE_EXCEEDED);
  EXPECT_EQ(CodeOf(other.Call(release)),
            v1::INVALID_ARGUMENT);  // Not its lock.

  const uint64_t id = other.SendCall(acquire);  // Parks in the daemon.
  // A request queued behind the parked one waits for it.
  v1::Call add = MakeCall("after", v1::COUNTER, v1::ADD);
  *add.mutable_value() = IntValue(1);
  const uint64_t id2 = other.SendCall(add);
  EXPECT_EQ(CodeOf(client_.Call(release)), v1::OK);
  auto r = other.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), id);
  EXPECT_EQ(CodeOf(*r), v1::OK);
  r = other.Receive();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(), id2);
  EXPECT_EQ(r->result().value().int_value(), 1);
  EXPECT_EQ(CodeOf(client_.Call(try_acquire)), v1::DEADLINE_EXCEEDED);
}

TEST_F(ObjectsTest, LockWaitersAreServedInFifoOrder) {
  v1::Call acquire = MakeCall("fair", v1::LOCK, v1::ACQUIRE);
  v1::Call release = MakeCall("fair", v1::LOCK, v1::RELEASE);
  ASSERT_EQ(CodeOf(client_.Call(acquire)), v1::OK);
  std::vector<RawClient> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(RawClient::Open(daemon_.url()));
    waiters.back().SendCall(acquire);
    // Parked in this order: wait until the daemon shows it.
    for (;;) {
      v1::Response list = client_.List();
      if (list.objects().objects_size() == 1 &&
          list.objects().objects(0).waiters() == i + 1) {
        break;
      }
    }
  }
  EXPECT_EQ(CodeOf(client_.Call(release)), v1::OK);
  for (int i = 0; i < 3; ++i) {
    auto r = waiters[i].Receive();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(CodeOf(*r), v1::OK) << "waiter " << i;
    EXPECT_EQ(CodeOf(waiters[i].Call(release)), v1::OK);
  }
}

TEST_F(ObjectsTest, LockAcquireTimesOutInTheDaemon) {
  v1::Call acquire = MakeCall("T", v1::LOCK, v1::ACQUIRE);
  ASSERT_EQ(CodeOf(client_.Call(acquire)), v1::OK);
  RawClient other = RawClient::Open(daemon_.url());
  acquire.set_timeout_ms(50);
  v1::Response r = other.Call(acquire);
  EXPECT_EQ(CodeOf(r), v1::DEADLINE_EXCEEDED);
  EXPECT_EQ(client_.Stats().stats().parked(), 0);
}

TEST_F(ObjectsTest, RLockCountsHolds) {
  v1::Call acquire = MakeCall("R", v1::RLOCK, v1::ACQUIRE);
  v1::Call release = MakeCall("R", v1::RLOCK, v1::RELEASE);
  EXPECT_EQ(CodeOf(client_.Call(acquire)), v1::OK);
  EXPECT_EQ(CodeOf(client_.Call(acquire)), v1::OK);
  EXPECT_EQ(client_.List().objects().objects(0).size(), 2);
  RawClient other = RawClient::Open(daemon_.url());
  v1::Call try_acquire = acquire;
  try_acquire.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(client_.Call(release)), v1::OK);
  EXPECT_EQ(CodeOf(other.Call(try_acquire)), v1::DEADLINE_EXCEEDED);
  EXPECT_EQ(CodeOf(client_.Call(release)), v1::OK);
  EXPECT_EQ(CodeOf(client_.Call(release)), v1::INVALID_ARGUMENT);
  EXPECT_EQ(CodeOf(other.Call(try_acquire)), v1::OK);
}

TEST_F(ObjectsTest, LockHeldByAClosedConnectionIsReleased) {
  v1::Call acquire = MakeCall("lease", v1::LOCK, v1::ACQUIRE);
  {
    RawClient holder = RawClient::Open(daemon_.url());
    ASSERT_EQ(CodeOf(holder.Call(acquire)), v1::OK);
  }                                                  // Closes the connection.
  EXPECT_EQ(CodeOf(client_.Call(acquire)), v1::OK);  // Waits for the release.
}

TEST_F(ObjectsTest, QueuePutGetLenAndBounds) {
  v1::Call create = MakeCall("q", v1::QUEUE, v1::CREATE);
  create.set_capacity(2);
  ASSERT_EQ(CodeOf(client_.Call(create)), v1::OK);
  v1::Call put = MakeCall("q", v1::QUEUE, v1::PUT);
  *put.mutable_value() = IntValue(1);
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::OK);
  *put.mutable_value() = IntValue(2);
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::OK);
  put.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::FULL);
  put.set_timeout_ms(30);
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::FULL);  // Timed out in the daemon.
  EXPECT_EQ(client_.Call(MakeCall("q", v1::QUEUE, v1::LEN)).result().count(),
            2);
  v1::Call get = MakeCall("q", v1::QUEUE, v1::GET);
  EXPECT_EQ(client_.Call(get).result().value().int_value(), 1);
  EXPECT_EQ(client_.Call(get).result().value().int_value(), 2);
  get.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(client_.Call(get)), v1::EMPTY);
  get.set_timeout_ms(30);
  EXPECT_EQ(CodeOf(client_.Call(get)), v1::EMPTY);
}

TEST_F(ObjectsTest, ParkedGetIsWokenByPut) {
  RawClient getter = RawClient::Open(daemon_.url());
  const uint64_t id = getter.SendCall(MakeCall("work", v1::QUEUE, v1::GET));
  for (;;) {  // Until the GET is parked.
    if (client_.Stats().stats().parked() == 1) break;
  }
  v1::Call put = MakeCall("work", v1::QUEUE, v1::PUT);
  *put.mutable_value() = StringValue("job-1");
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::OK);
  auto r = getter.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), id);
  EXPECT_EQ(r->result().value().string_value(), "job-1");
  EXPECT_EQ(client_.Call(MakeCall("work", v1::QUEUE, v1::LEN)).result().count(),
            0);
}

TEST_F(ObjectsTest, ParkedPutIsWokenByGet) {
  v1::Call create = MakeCall("b", v1::QUEUE, v1::CREATE);
  create.set_capacity(1);
  ASSERT_EQ(CodeOf(client_.Call(create)), v1::OK);
  v1::Call put = MakeCall("b", v1::QUEUE, v1::PUT);
  *put.mutable_value() = IntValue(1);
  ASSERT_EQ(CodeOf(client_.Call(put)), v1::OK);
  RawClient putter = RawClient::Open(daemon_.url());
  *put.mutable_value() = IntValue(2);
  const uint64_t id = putter.SendCall(put);
  for (;;) {
    if (client_.Stats().stats().parked() == 1) break;
  }
  v1::Call get = MakeCall("b", v1::QUEUE, v1::GET);
  EXPECT_EQ(client_.Call(get).result().value().int_value(), 1);
  auto r = putter.Receive();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(), id);
  EXPECT_EQ(CodeOf(*r), v1::OK);
  EXPECT_EQ(client_.Call(get).result().value().int_value(), 2);
}

TEST_F(ObjectsTest, QueueCloseWakesWaitersAndDrains) {
  std::vector<RawClient> getters;
  for (int i = 0; i < 2; ++i) {
    getters.push_back(RawClient::Open(daemon_.url()));
    getters.back().SendCall(MakeCall("cq", v1::QUEUE, v1::GET));
  }
  for (;;) {
    if (client_.Stats().stats().parked() == 2) break;
  }
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("cq", v1::QUEUE, v1::CLOSE))), v1::OK);
  for (auto& g : getters) {
    auto r = g.Receive();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(CodeOf(*r), v1::CLOSED);
  }
  v1::Call put = MakeCall("cq", v1::QUEUE, v1::PUT);
  *put.mutable_value() = IntValue(1);
  EXPECT_EQ(CodeOf(client_.Call(put)), v1::CLOSED);
}

TEST_F(ObjectsTest, ClosedQueueStillHandsOutItsItems) {
  v1::Call put = MakeCall("dq", v1::QUEUE, v1::PUT);
  *put.mutable_value() = IntValue(7);
  ASSERT_EQ(CodeOf(client_.Call(put)), v1::OK);
  ASSERT_EQ(CodeOf(client_.Call(MakeCall("dq", v1::QUEUE, v1::CLOSE))), v1::OK);
  EXPECT_EQ(client_.Call(MakeCall("dq", v1::QUEUE, v1::GET))
                .result()
                .value()
                .int_value(),
            7);
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("dq", v1::QUEUE, v1::GET))),
            v1::CLOSED);
}

TEST_F(ObjectsTest, DestroyAnswersParkedWaitersClosed) {
  RawClient getter = RawClient::Open(daemon_.url());
  getter.SendCall(MakeCall("gone", v1::QUEUE, v1::GET));
  for (;;) {
    if (client_.Stats().stats().parked() == 1) break;
  }
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("gone", v1::QUEUE, v1::DESTROY))),
            v1::OK);
  auto r = getter.Receive();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(CodeOf(*r), v1::CLOSED);
}

TEST_F(ObjectsTest, EventSetClearWaitAndTimeout) {
  v1::Call wait = MakeCall("ev", v1::EVENT, v1::WAIT);
  wait.set_timeout_ms(30);
  EXPECT_EQ(CodeOf(client_.Call(wait)), v1::DEADLINE_EXCEEDED);

  std::vector<RawClient> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(RawClient::Open(daemon_.url()));
    waiters.back().SendCall(MakeCall("ev", v1::EVENT, v1::WAIT));
  }
  for (;;) {
    if (client_.Stats().stats().parked() == 3) break;
  }
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("ev", v1::EVENT, v1::SET))), v1::OK);
  for (auto& w : waiters) {
    auto r = w.Receive();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(CodeOf(*r), v1::OK);
    EXPECT_TRUE(r->result().flag());
  }
  EXPECT_TRUE(
      client_.Call(MakeCall("ev", v1::EVENT, v1::IS_SET)).result().flag());
  EXPECT_EQ(CodeOf(client_.Call(wait)), v1::OK);  // Already set.
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("ev", v1::EVENT, v1::CLEAR))), v1::OK);
  EXPECT_FALSE(
      client_.Call(MakeCall("ev", v1::EVENT, v1::IS_SET)).result().flag());
}

// A batch is atomic, parked requests included: its waiters are woken once
// it has finished, and an event set and cleared within it was never seen set.
TEST_F(ObjectsTest, EventSetThenClearInOneBatchIsNotSeenByWaiters) {
  RawClient waiter = RawClient::Open(daemon_.url());
  waiter.SendCall(MakeCall("pulse", v1::EVENT, v1::WAIT));
  for (;;) {
    if (client_.Stats().stats().parked() == 1) break;
  }
  v1::Batch batch;
  *batch.add_calls() = MakeCall("pulse", v1::EVENT, v1::SET);
  *batch.add_calls() = MakeCall("pulse", v1::EVENT, v1::CLEAR);
  EXPECT_EQ(CodeOf(client_.Batch(batch)), v1::OK);
  EXPECT_FALSE(waiter.Receive(std::chrono::milliseconds(200)).ok());
  EXPECT_EQ(client_.Stats().stats().parked(), 1);
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("pulse", v1::EVENT, v1::SET))), v1::OK);
  auto r = waiter.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(CodeOf(*r), v1::OK);
}

TEST_F(ObjectsTest, HugeTimeoutMeansForever) {
  RawClient waiter = RawClient::Open(daemon_.url());
  v1::Call wait = MakeCall("later", v1::EVENT, v1::WAIT);
  wait.set_timeout_ms(INT64_MAX);
  const uint64_t id = waiter.SendCall(wait);
  for (;;) {
    if (client_.Stats().stats().parked() == 1) break;
  }
  EXPECT_EQ(CodeOf(client_.Call(MakeCall("later", v1::EVENT, v1::SET))),
            v1::OK);
  auto r = waiter.Receive();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), id);
  EXPECT_EQ(CodeOf(*r), v1::OK);
}

}  // namespace
}  // namespace ipc::testing
