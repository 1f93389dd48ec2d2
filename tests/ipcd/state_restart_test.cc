// Durable state across restarts: every persisted kind (dict, counter,
// queue, event) comes back after SIGTERM and after SIGKILL under each fsync
// policy; locks, holders and destroyed objects do not. Snapshots, the
// options (flags, config keys, STATE_DIRECTORY) and Stats.persistence.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "raw_client.h"
#include "spawn.h"
#include "state_support.h"
#include "support/daemon_process.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

enum class StopBy { kSigterm, kSigkill };

void PrintTo(StopBy by, std::ostream* os) {
  *os << (by == StopBy::kSigterm ? "SIGTERM" : "SIGKILL");
}

// A state dir of its own under a fresh temp dir.
class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("STATE_DIRECTORY");
    ASSERT_TRUE(MakeDir(state_)) << state_;
  }

  DaemonProcess Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--state-dir", state_};
    args.insert(args.end(), extra.begin(), extra.end());
    return DaemonProcess::Start(args);
  }

  // Stops daemon as asked; a SIGTERM must end it with status 0.
  static void StopDaemon(DaemonProcess& daemon, StopBy by) {
    if (by == StopBy::kSigterm) {
      EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
    } else {
      daemon.Kill();
    }
  }

  TempDir work_;
  const std::string state_ = work_.File("state");
};

v1::Response Do(RawClient& c, const std::string& name, v1::Kind kind, v1::Op op,
                const std::string& key = "",
                std::optional<v1::Value> value = std::nullopt) {
  v1::Call call = MakeCall(name, kind, op);
  call.set_key(key);
  if (value) *call.mutable_value() = *value;
  return c.Call(call);
}

// A list nested depth levels deep around a string (depth 30 is the most a
// call may carry).
v1::Value Nested(int depth) {
  v1::Value v = StringValue("core");
  for (int i = 0; i < depth; ++i) {
    v = (i % 2 == 0) ? ListValue({v, IntValue(i)}) : MapValue({{"d", v}});
  }
  return v;
}

// Makes one of everything that persists, plus things that must not come
// back. holder keeps a lock and an rlock until the daemon goes.
void Populate(RawClient& c, RawClient& holder) {
  // Dicts: every value type, nesting, many keys, deletions.
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "null", NullValue()))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "bool", BoolValue(true)))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "int", IntValue(INT64_MIN)))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "double", DoubleValue(-0.125e300)))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "string", StringValue("grüße ✓")))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "empty", StringValue("")))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "bytes", BytesValue(std::string("\0\xff\n\x01", 4))))),
            v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "empty-list", ListValue({})))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "empty-map", MapValue({})))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet(
                "cfg", "nested",
                MapValue({{"list", ListValue({IntValue(1), StringValue("two"),
                                              MapValue({{"three", DoubleValue(3.5)}}),
                                              ListValue({NullValue(), BoolValue(false)})})},
                          {"map", MapValue({{"a", BytesValue("b")}})}})))),
            v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "deep", Nested(30)))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "overwritten", IntValue(1)))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "overwritten", IntValue(2)))), v1::OK);
  for (int batch = 0; batch < 5; ++batch) {
    v1::Call update = MakeCall("many", v1::DICT, v1::UPDATE);
    for (int i = 0; i < 200; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "k%04d", batch * 200 + i);
      v1::Entry* e = update.add_items();
      e->set_key(key);
      *e->mutable_value() = IntValue(batch * 200 + i);
    }
    ASSERT_EQ(CodeOf(c.Call(update)), v1::OK);
  }
  for (int i = 0; i < 10; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%04d", i);
    ASSERT_EQ(CodeOf(Do(c, "many", v1::DICT, v1::DELETE, key)), v1::OK);
  }
  ASSERT_EQ(CodeOf(Do(c, "many", v1::DICT, v1::POP, "k0010")), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "many", v1::DICT, v1::SETDEFAULT, "sd", StringValue("dflt"))),
            v1::OK);
  v1::Call cas = MakeCall("many", v1::DICT, v1::COMPARE_AND_SET);
  cas.set_key("k0500");
  *cas.mutable_expected() = IntValue(500);
  *cas.mutable_value() = StringValue("swapped");
  ASSERT_TRUE(c.Call(cas).result().flag());
  ASSERT_EQ(CodeOf(c.Call(DictSet("cleared", "x", IntValue(1)))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "cleared", v1::DICT, v1::CLEAR)), v1::OK);
  // A batch: one record for several calls, one of which fails.
  v1::Batch batch;
  *batch.add_calls() = DictSet("batched", "a", IntValue(1));
  *batch.add_calls() = CounterAdd("batched", 1);  // Wrong kind: refused.
  *batch.add_calls() = DictSet("batched", "b", IntValue(2));
  *batch.add_calls() = CounterAdd("batch-counter", 7);
  const v1::Response br = c.Batch(batch);
  ASSERT_EQ(br.batch().replies_size(), 4);
  ASSERT_NE(br.batch().replies(1).status().code(), v1::OK);

  // Counters.
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("hits", 5))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("hits", -7))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "hits", v1::COUNTER, v1::SET, "", IntValue(40))), v1::OK);
  v1::Call ccas = MakeCall("hits", v1::COUNTER, v1::COMPARE_AND_SET);
  *ccas.mutable_expected() = IntValue(40);
  *ccas.mutable_value() = IntValue(2);
  ASSERT_TRUE(c.Call(ccas).result().flag());
  ASSERT_EQ(CodeOf(Do(c, "max", v1::COUNTER, v1::SET, "", IntValue(INT64_MAX))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("max", 1))), v1::INVALID_ARGUMENT);  // Overflow.
  ASSERT_EQ(CodeOf(Do(c, "min", v1::COUNTER, v1::SET, "", IntValue(INT64_MIN))), v1::OK);

  // Queues: a bounded one, a closed one with items left, a long one.
  v1::Call create = MakeCall("bounded", v1::QUEUE, v1::CREATE);
  create.set_capacity(5);
  ASSERT_EQ(CodeOf(c.Call(create)), v1::OK);
  for (const char* item : {"a", "b", "c"}) {
    ASSERT_EQ(CodeOf(c.Call(QueuePut("bounded", StringValue(item)))), v1::OK);
  }
  ASSERT_EQ(Do(c, "bounded", v1::QUEUE, v1::GET).result().value().string_value(), "a");
  ASSERT_EQ(CodeOf(c.Call(QueuePut("closed", StringValue("x")))), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(QueuePut("closed", MapValue({{"y", IntValue(1)}})))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "closed", v1::QUEUE, v1::CLOSE)), v1::OK);
  for (int i = 0; i < 100; ++i) {
    const v1::Value v = (i % 3 == 0) ? IntValue(i)
                        : (i % 3 == 1) ? StringValue("item-" + std::to_string(i))
                                       : ListValue({IntValue(i), BytesValue("b")});
    ASSERT_EQ(CodeOf(c.Call(QueuePut("long", v))), v1::OK);
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(CodeOf(Do(c, "long", v1::QUEUE, v1::GET)), v1::OK);
  }
  // A LIFO queue and a priority queue, each with a task done and one
  // taken but not done.
  for (const v1::QueueOrder order : {v1::ORDER_LIFO, v1::ORDER_PRIORITY}) {
    const std::string name = order == v1::ORDER_LIFO ? "lifo" : "prio";
    v1::Call make = MakeCall(name, v1::QUEUE, v1::CREATE);
    make.set_order(order);
    ASSERT_EQ(CodeOf(c.Call(make)), v1::OK);
    for (const int64_t i : {5, 1, 3, 1, 4}) {
      v1::Call put = QueuePut(name, IntValue(i * 10 + (order == v1::ORDER_PRIORITY ? 0 : 1)));
      if (order == v1::ORDER_PRIORITY) put.set_priority(i);
      ASSERT_EQ(CodeOf(c.Call(put)), v1::OK);
    }
    ASSERT_EQ(CodeOf(Do(c, name, v1::QUEUE, v1::GET)), v1::OK);
    ASSERT_EQ(CodeOf(Do(c, name, v1::QUEUE, v1::GET)), v1::OK);
    ASSERT_EQ(Do(c, name, v1::QUEUE, v1::TASK_DONE).result().count(), 4);
  }
  // Tasks done before their items were taken: fewer unfinished tasks (1)
  // than queued items (3), which a snapshot must carry as it is.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(CodeOf(c.Call(QueuePut("done-early", IntValue(i)))), v1::OK);
  }
  ASSERT_EQ(Do(c, "done-early", v1::QUEUE, v1::TASK_DONE).result().count(), 2);
  ASSERT_EQ(Do(c, "done-early", v1::QUEUE, v1::TASK_DONE).result().count(), 1);

  // Lists: every change a list logs.
  v1::Call extend = MakeCall("lst", v1::LIST, v1::EXTEND);
  *extend.mutable_value() =
      ListValue({IntValue(1), StringValue("a"), ListValue({IntValue(2)}), IntValue(1)});
  ASSERT_EQ(CodeOf(c.Call(extend)), v1::OK);
  v1::Call list_call = MakeCall("lst", v1::LIST, v1::APPEND);
  *list_call.mutable_value() = StringValue("end");
  ASSERT_EQ(CodeOf(c.Call(list_call)), v1::OK);
  list_call = MakeCall("lst", v1::LIST, v1::INSERT);
  list_call.set_index(1);
  *list_call.mutable_value() = StringValue("inserted");
  ASSERT_EQ(CodeOf(c.Call(list_call)), v1::OK);
  list_call = MakeCall("lst", v1::LIST, v1::SET);
  list_call.set_index(-1);
  *list_call.mutable_value() = StringValue("last");
  ASSERT_EQ(CodeOf(c.Call(list_call)), v1::OK);
  list_call = MakeCall("lst", v1::LIST, v1::REMOVE);
  *list_call.mutable_value() = IntValue(1);
  ASSERT_EQ(CodeOf(c.Call(list_call)), v1::OK);
  list_call = MakeCall("lst", v1::LIST, v1::POP);
  list_call.set_index(0);
  ASSERT_EQ(c.Call(list_call).result().value().string_value(), "inserted");
  ASSERT_EQ(CodeOf(c.Call(extend)), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "lst-cleared", v1::LIST, v1::APPEND, "", IntValue(1))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "lst-cleared", v1::LIST, v1::CLEAR)), v1::OK);

  // Values and namespaces.
  ASSERT_EQ(CodeOf(Do(c, "val", v1::VALUE, v1::SET, "", MapValue({{"a", IntValue(1)}}))), v1::OK);
  v1::Call vcas = MakeCall("val-cas", v1::VALUE, v1::COMPARE_AND_SET);
  *vcas.mutable_value() = StringValue("swapped");
  ASSERT_TRUE(c.Call(vcas).result().flag());
  v1::Call vcreate = MakeCall("val-created", v1::VALUE, v1::CREATE);
  *vcreate.mutable_value() = IntValue(5);
  ASSERT_EQ(CodeOf(c.Call(vcreate)), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "ns", v1::NAMESPACE, v1::SET, "x", IntValue(1))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "ns", v1::NAMESPACE, v1::SET, "y", StringValue("y"))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "ns", v1::NAMESPACE, v1::DELETE, "x")), v1::OK);

  // Events.
  ASSERT_EQ(CodeOf(Do(c, "ev-set", v1::EVENT, v1::SET)), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "ev-cleared", v1::EVENT, v1::SET)), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "ev-cleared", v1::EVENT, v1::CLEAR)), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "ev-created", v1::EVENT, v1::CREATE)), v1::OK);

  // Locks held when the daemon goes.
  v1::Call acquire = MakeCall("lk", v1::LOCK, v1::ACQUIRE);
  acquire.set_timeout_ms(0);
  ASSERT_EQ(CodeOf(holder.Call(acquire)), v1::OK);
  acquire = MakeCall("rlk", v1::RLOCK, v1::ACQUIRE);
  acquire.set_timeout_ms(0);
  ASSERT_EQ(CodeOf(holder.Call(acquire)), v1::OK);
  ASSERT_EQ(CodeOf(holder.Call(acquire)), v1::OK);

  // Destroyed objects, one of them made again as another kind.
  ASSERT_EQ(CodeOf(c.Call(DictSet("gone", "k", IntValue(1)))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "gone", v1::KIND_UNSPECIFIED, v1::DESTROY)), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(QueuePut("gone-queue", IntValue(1)))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "gone-queue", v1::QUEUE, v1::DESTROY)), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "gone-event", v1::EVENT, v1::SET)), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "gone-event", v1::EVENT, v1::DESTROY)), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(DictSet("reborn", "k", IntValue(1)))), v1::OK);
  ASSERT_EQ(CodeOf(Do(c, "reborn", v1::DICT, v1::DESTROY)), v1::OK);
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("reborn", 3))), v1::OK);
}

// What Populate left, checked through behaviour that a dump cannot show.
void CheckRestored(RawClient& c) {
  // Destroyed objects stay destroyed; "reborn" is a counter.
  const v1::Response list = c.List();
  for (const v1::ObjectInfo& info : list.objects().objects()) {
    EXPECT_NE(info.name(), "gone");
    EXPECT_NE(info.name(), "gone-queue");
    EXPECT_NE(info.name(), "gone-event");
  }
  EXPECT_EQ(Do(c, "reborn", v1::COUNTER, v1::GET).result().value().int_value(), 3);
  EXPECT_EQ(CodeOf(Do(c, "gone", v1::KIND_UNSPECIFIED, v1::DESTROY)), v1::NOT_FOUND);

  // Spot checks (the dump compares everything).
  EXPECT_EQ(Do(c, "many", v1::DICT, v1::LEN).result().count(), 1000 - 11 + 1);
  EXPECT_EQ(Do(c, "cfg", v1::DICT, v1::GET, "deep").result().value().ShortDebugString(),
            Nested(30).ShortDebugString());
  EXPECT_EQ(Do(c, "hits", v1::COUNTER, v1::GET).result().value().int_value(), 2);
  EXPECT_EQ(Do(c, "max", v1::COUNTER, v1::GET).result().value().int_value(), INT64_MAX);

  // The bounded queue kept its bound: the same CREATE is fine, another
  // bound is refused, and it fills up at 5.
  v1::Call create = MakeCall("bounded", v1::QUEUE, v1::CREATE);
  create.set_capacity(5);
  EXPECT_EQ(CodeOf(c.Call(create)), v1::OK);
  create.set_capacity(6);
  EXPECT_EQ(CodeOf(c.Call(create)), v1::INVALID_ARGUMENT);
  for (const char* item : {"d", "e", "f"}) {
    EXPECT_EQ(CodeOf(c.Call(QueuePut("bounded", StringValue(item)))), v1::OK);
  }
  EXPECT_EQ(CodeOf(c.Call(QueuePut("bounded", StringValue("g")))), v1::FULL);
  std::vector<std::string> got;
  for (const v1::Value& v : DrainQueue(c, "bounded")) got.push_back(v.string_value());
  EXPECT_EQ(got, (std::vector<std::string>{"b", "c", "d", "e", "f"}));

  // The closed queue: still closed, its items still there, in order.
  EXPECT_EQ(CodeOf(c.Call(QueuePut("closed", StringValue("z")))), v1::CLOSED);
  v1::Call get = MakeCall("closed", v1::QUEUE, v1::GET);
  get.set_timeout_ms(0);
  EXPECT_EQ(c.Call(get).result().value().string_value(), "x");
  EXPECT_EQ(c.Call(get).result().value().map_value().entries(0).key(), "y");
  EXPECT_EQ(CodeOf(c.Call(get)), v1::CLOSED);

  // The long queue: items 10..99, in order.
  const std::vector<v1::Value> items = DrainQueue(c, "long");
  ASSERT_EQ(items.size(), 90u);
  EXPECT_EQ(items.front().string_value(), "item-10");
  EXPECT_EQ(items[2].int_value(), 12);
  EXPECT_EQ(items.back().int_value(), 99);

  // Of the LIFO queue's 51, 11, 31, 11, 41, the last two were taken; of
  // the priority queue's 50, 10, 30, 10, 40, the two 10s. Four tasks are
  // unfinished in each: JOIN waits for four TASK_DONEs.
  for (const auto& [name, order, left] :
       {std::tuple{"lifo", v1::ORDER_LIFO, std::vector<int64_t>{31, 11, 51}},
        std::tuple{"prio", v1::ORDER_PRIORITY, std::vector<int64_t>{30, 40, 50}}}) {
    SCOPED_TRACE(name);
    v1::Call make = MakeCall(name, v1::QUEUE, v1::CREATE);
    EXPECT_EQ(CodeOf(c.Call(make)), v1::INVALID_ARGUMENT) << "the order was lost";
    make.set_order(order);
    EXPECT_EQ(CodeOf(c.Call(make)), v1::OK);
    std::vector<int64_t> got_items;
    for (const v1::Value& v : DrainQueue(c, name)) got_items.push_back(v.int_value());
    EXPECT_EQ(got_items, left);
    v1::Call join = MakeCall(name, v1::QUEUE, v1::JOIN);
    join.set_timeout_ms(0);
    EXPECT_EQ(CodeOf(c.Call(join)), v1::DEADLINE_EXCEEDED);
    for (int64_t n : {3, 2, 1, 0}) {
      EXPECT_EQ(Do(c, name, v1::QUEUE, v1::TASK_DONE).result().count(), n);
    }
    EXPECT_EQ(CodeOf(c.Call(join)), v1::OK);
  }

  // The queue whose tasks were done early: three items, one task.
  EXPECT_EQ(Do(c, "done-early", v1::QUEUE, v1::LEN).result().count(), 3);
  EXPECT_EQ(Do(c, "done-early", v1::QUEUE, v1::TASK_DONE).result().count(), 0);
  EXPECT_EQ(CodeOf(Do(c, "done-early", v1::QUEUE, v1::TASK_DONE)), v1::INVALID_ARGUMENT);

  // The list: ["a", [2], 1, "last", 1, "a", [2], 1] in that order.
  const v1::Response slice = Do(c, "lst", v1::LIST, v1::SLICE);
  ASSERT_EQ(slice.result().values_size(), 8);
  EXPECT_EQ(slice.result().values(0).string_value(), "a");
  EXPECT_EQ(slice.result().values(3).string_value(), "last");
  EXPECT_EQ(slice.result().values(7).int_value(), 1);
  EXPECT_EQ(Do(c, "lst-cleared", v1::LIST, v1::LEN).result().count(), 0);

  // Values and namespaces.
  EXPECT_EQ(Do(c, "val-cas", v1::VALUE, v1::GET).result().value().string_value(), "swapped");
  EXPECT_EQ(Do(c, "val-created", v1::VALUE, v1::GET).result().value().int_value(), 5);
  EXPECT_EQ(CodeOf(Do(c, "ns", v1::NAMESPACE, v1::GET, "x")), v1::NOT_FOUND);
  EXPECT_EQ(Do(c, "ns", v1::NAMESPACE, v1::GET, "y").result().value().string_value(), "y");

  // Events.
  EXPECT_TRUE(Do(c, "ev-set", v1::EVENT, v1::IS_SET).result().flag());
  EXPECT_FALSE(Do(c, "ev-cleared", v1::EVENT, v1::IS_SET).result().flag());
  EXPECT_FALSE(Do(c, "ev-created", v1::EVENT, v1::IS_SET).result().flag());
  v1::Call wait = MakeCall("ev-set", v1::EVENT, v1::WAIT);
  wait.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(c.Call(wait)), v1::OK);

  // Locks: not restored, so free for anyone.
  v1::Call acquire = MakeCall("lk", v1::LOCK, v1::ACQUIRE);
  acquire.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(c.Call(acquire)), v1::OK) << "a lock held before the restart is held after it";
  acquire = MakeCall("rlk", v1::RLOCK, v1::ACQUIRE);
  acquire.set_timeout_ms(0);
  const v1::Response r = c.Call(acquire);
  EXPECT_EQ(CodeOf(r), v1::OK);
  EXPECT_EQ(r.result().count(), 1) << "an rlock's holds came back";
}

class RestartTest : public StateTest,
                    public ::testing::WithParamInterface<std::tuple<std::string, StopBy>> {};

TEST_P(RestartTest, EveryPersistedKindSurvives) {
  const auto& [fsync, stop_by] = GetParam();
  std::string before;
  {
    DaemonProcess daemon = Start({"--fsync", fsync});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    RawClient holder = RawClient::Open(daemon.url());
    Populate(c, holder);
    if (HasFatalFailure()) return;
    before = DumpState(c);
    StopDaemon(daemon, stop_by);
  }
  std::string after_checks;
  {
    DaemonProcess daemon = Start({"--fsync", fsync});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    EXPECT_EQ(DumpState(c), before) << "log:\n" << daemon.Stderr();
    CheckRestored(c);
    // Writes after recovery are appended and survive the next restart too.
    ASSERT_EQ(CodeOf(c.Call(DictSet("cfg", "after-restart", IntValue(1)))), v1::OK);
    ASSERT_EQ(CodeOf(c.Call(CounterAdd("hits", 1))), v1::OK);
    after_checks = DumpState(c);
    StopDaemon(daemon, stop_by);
  }
  DaemonProcess daemon = Start({"--fsync", fsync});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(DumpState(c), after_checks) << "log:\n" << daemon.Stderr();
  EXPECT_EQ(daemon.Stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, RestartTest,
    ::testing::Combine(::testing::Values("always", "everysec", "no"),
                       ::testing::Values(StopBy::kSigterm, StopBy::kSigkill)),
    [](const auto& param_info) {
      return std::get<0>(param_info.param) +
             (std::get<1>(param_info.param) == StopBy::kSigterm ? "_Sigterm" : "_Sigkill");
    });

// Polls the daemon's stats until done(persistence) or 10 s pass.
bool WaitForPersistence(RawClient& c, const std::function<bool(const PersistenceView&)>& done) {
  const auto until = steady_clock::now() + seconds(10);
  while (steady_clock::now() < until) {
    if (done(PersistenceOf(c.Stats().stats()))) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

class SnapshotTest : public StateTest, public ::testing::WithParamInterface<StopBy> {};

TEST_P(SnapshotTest, WritesBeforeAndAfterASnapshotSurvive) {
  std::string before;
  const std::vector<std::string> flags = {"--snapshot-after-bytes", "4096"};
  {
    DaemonProcess daemon = Start(flags);
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    const std::string filler(100, 'v');
    for (int i = 0; i < 200; ++i) {
      ASSERT_EQ(CodeOf(c.Call(DictSet("big", "key-" + std::to_string(i),
                                      StringValue(filler + std::to_string(i))))),
                v1::OK);
      ASSERT_EQ(CodeOf(c.Call(CounterAdd("n", 1))), v1::OK);
      if (i % 2 == 0) {
        ASSERT_EQ(CodeOf(c.Call(QueuePut("q", IntValue(i)))), v1::OK);
      }
      if (i % 4 == 0) {
        ASSERT_EQ(CodeOf(Do(c, "q", v1::QUEUE, v1::GET)), v1::OK);
      }
    }
    // Over 30 KB of log with a 4 KiB threshold: a snapshot is taken.
    ASSERT_TRUE(WaitForPersistence(c, [&](const PersistenceView& p) {
      return p.snapshot_bytes > 0 && !p.snapshot_running &&
             PathExists(state_ + "/snapshot");
    })) << "no finished snapshot within 10 s; files: "
        << ::testing::PrintToString(ListDir(state_)) << "\nlog:\n"
        << daemon.Stderr();
    const PersistenceView p = PersistenceOf(c.Stats().stats());
    EXPECT_GT(p.last_snapshot_unix_ms, 0);
    EXPECT_FALSE(PathExists(state_ + "/snapshot.tmp"));
    const StateFile snapshot = ReadStateFile(state_ + "/snapshot");
    EXPECT_EQ(snapshot.magic, "IPCDSNP1");
    EXPECT_TRUE(snapshot.header_ok);
    EXPECT_EQ(snapshot.end, snapshot.bytes.size()) << "the snapshot does not end cleanly";
    // More changes after it, some to what the snapshot holds.
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(CodeOf(c.Call(DictSet("big", "late-" + std::to_string(i), IntValue(i)))),
                v1::OK);
    }
    ASSERT_EQ(CodeOf(Do(c, "big", v1::DICT, v1::DELETE, "key-0")), v1::OK);
    ASSERT_EQ(CodeOf(c.Call(CounterAdd("n", 1000))), v1::OK);
    ASSERT_EQ(CodeOf(c.Call(QueuePut("q", StringValue("late")))), v1::OK);
    ASSERT_EQ(CodeOf(Do(c, "ev", v1::EVENT, v1::SET)), v1::OK);
    before = DumpState(c);
    StopDaemon(daemon, GetParam());
  }
  EXPECT_TRUE(PathExists(state_ + "/snapshot"))
      << ::testing::PrintToString(ListDir(state_));
  DaemonProcess daemon = Start(flags);
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(DumpState(c), before) << "log:\n" << daemon.Stderr();
  EXPECT_EQ(Do(c, "n", v1::COUNTER, v1::GET).result().value().int_value(), 1200);
  const std::vector<v1::Value> items = DrainQueue(c, "q");
  ASSERT_EQ(items.size(), 51u);  // 100 put, 50 taken, then "late".
  EXPECT_EQ(items.front().int_value(), 100);
  EXPECT_EQ(items[49].int_value(), 198);
  EXPECT_EQ(items.back().string_value(), "late");
  EXPECT_EQ(daemon.Stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Stop, SnapshotTest,
                         ::testing::Values(StopBy::kSigterm, StopBy::kSigkill),
                         [](const auto& param_info) {
                           return param_info.param == StopBy::kSigterm ? "Sigterm" : "Sigkill";
                         });

// Every kind restored from a snapshot rather than from the log: Populate,
// then changes elsewhere until a snapshot holds all of it.
TEST_P(SnapshotTest, EveryPersistedKindSurvivesInASnapshot) {
  const std::vector<std::string> flags = {"--snapshot-after-bytes", "4096"};
  std::string before;
  {
    DaemonProcess daemon = Start(flags);
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    RawClient holder = RawClient::Open(daemon.url());
    Populate(c, holder);
    if (HasFatalFailure()) return;
    const uint64_t populated = static_cast<uint64_t>(PersistenceOf(c.Stats().stats()).last_seq);
    const auto until = steady_clock::now() + seconds(20);
    int i = 0;
    for (;;) {
      const StateFile snapshot = ReadStateFile(state_ + "/snapshot");
      const PersistenceView p = PersistenceOf(c.Stats().stats());
      if (snapshot.header_ok && snapshot.base_seq >= populated && !p.snapshot_running) break;
      ASSERT_LT(steady_clock::now(), until)
          << "no snapshot past record " << populated << " within 20 s; log:\n" << daemon.Stderr();
      ASSERT_EQ(CodeOf(c.Call(DictSet("zz-filler", "k" + std::to_string(i++ % 50),
                                      StringValue(std::string(200, 'f'))))),
                v1::OK);
    }
    before = DumpState(c);
    StopDaemon(daemon, GetParam());
  }
  DaemonProcess daemon = Start(flags);
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(DumpState(c), before) << "log:\n" << daemon.Stderr();
  CheckRestored(c);
  EXPECT_EQ(daemon.Stop(), 0);
}

// A crash between a snapshot's rename and the removal of the logs it made
// obsolete leaves those logs behind: their records are in the snapshot and
// must not be applied twice.
TEST_F(StateTest, ObsoleteLogsBesideASnapshotAreNotReplayedTwice) {
  const std::vector<std::string> flags = {"--snapshot-after-bytes", "4096"};
  {
    DaemonProcess daemon = Start(flags);
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    for (int i = 0; i < 10; ++i) {
      ASSERT_EQ(CodeOf(c.Call(CounterAdd("n", 1))), v1::OK);
      ASSERT_EQ(CodeOf(c.Call(QueuePut("q", IntValue(i)))), v1::OK);
    }
    EXPECT_EQ(daemon.Stop(), 0);
  }
  ASSERT_FALSE(PathExists(state_ + "/snapshot")) << "a snapshot came too early";
  const std::vector<std::string> old_logs = LogFiles(state_);
  ASSERT_FALSE(old_logs.empty());
  std::vector<std::string> saved;
  for (const std::string& log : old_logs) saved.push_back(ReadFile(log));
  std::string before;
  {
    DaemonProcess daemon = Start(flags);
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    const auto until = steady_clock::now() + seconds(20);
    for (int i = 0; !PathExists(state_ + "/snapshot") ||
                    PersistenceOf(c.Stats().stats()).snapshot_running;
         ++i) {
      ASSERT_LT(steady_clock::now(), until) << "no snapshot within 20 s";
      ASSERT_EQ(CodeOf(c.Call(DictSet("d", "k" + std::to_string(i % 40),
                                      StringValue(std::string(200, 'x'))))),
                v1::OK);
    }
    ASSERT_EQ(CodeOf(c.Call(CounterAdd("n", 100))), v1::OK);
    before = DumpState(c);
    EXPECT_EQ(daemon.Stop(), 0);
  }
  // The snapshot covers the old logs; put them back.
  const StateFile snapshot = ReadStateFile(state_ + "/snapshot");
  size_t put_back = 0;
  for (size_t i = 0; i < old_logs.size(); ++i) {
    if (!PathExists(old_logs[i])) {
      ASSERT_TRUE(WriteWholeFile(old_logs[i], saved[i]));
      ++put_back;
    }
    const StateFile restored = ReadStateFile(old_logs[i]);
    ASSERT_FALSE(restored.records.empty());
    ASSERT_LE(restored.records.back().seq, snapshot.base_seq)
        << old_logs[i] << " is not covered by the snapshot";
  }
  ASSERT_GT(put_back, 0u) << "the snapshot removed no log";
  DaemonProcess daemon = Start(flags);
  ASSERT_GT(daemon.pid(), 0) << "files: " << ::testing::PrintToString(ListDir(state_));
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(DumpState(c), before) << "log:\n" << daemon.Stderr();
  EXPECT_EQ(Do(c, "n", v1::COUNTER, v1::GET).result().value().int_value(), 110);
  EXPECT_EQ(DrainQueue(c, "q").size(), 10u);
  EXPECT_EQ(daemon.Stop(), 0);
}

// Limits do not apply while restoring: state made under a higher
// --max-objects comes back whole under a lower one, with a warning, and
// only changes that need more objects are refused.
TEST_F(StateTest, StateOverTodaysLimitsIsRestoredWhole) {
  {
    DaemonProcess daemon = Start();
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    for (int i = 0; i < 10; ++i) {
      ASSERT_EQ(CodeOf(c.Call(CounterAdd("c" + std::to_string(i), i))), v1::OK);
    }
    EXPECT_EQ(daemon.Stop(), 0);
  }
  DaemonProcess daemon = Start({"--max-objects", "5"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(c.List().objects().objects_size(), 10);
  EXPECT_NE(daemon.Stderr().find("max_objects"), std::string::npos)
      << "no warning that the state exceeds max_objects:\n" << daemon.Stderr();
  EXPECT_EQ(c.Call(CounterAdd("c9", 1)).result().value().int_value(), 10);
  EXPECT_EQ(CodeOf(c.Call(CounterAdd("new", 1))), v1::RESOURCE_EXHAUSTED);
  EXPECT_EQ(daemon.Stop(), 0);
}

// The log takes a change's Call as the client's bytes had it when those
// bytes parse to exactly the call that ran, and serializes the call
// otherwise. Requests whose bytes are not one Call each (a Call given in
// two pieces, which protobuf merges; a batch in two pieces; a Call
// overridden by a later batch; unknown fields) must replay as they ran.
TEST_F(StateTest, RequestsInUnusualEncodingsReplayAsTheyRan) {
  // Serialized Requests; concatenating two merges them.
  const auto request = [](uint64_t id, auto fill) {
    v1::Request r;
    if (id != 0) r.set_id(id);
    fill(r);
    return r.SerializeAsString();
  };
  const auto only_value = [](const std::string& v) {
    v1::Call call;
    *call.mutable_value() = StringValue(v);
    return call;
  };
  const std::vector<std::string> frames = {
      // 1. SET d/a given as two Calls: the key in one, the value in the other.
      request(1, [](v1::Request& r) { *r.mutable_call() = MakeCall("d", v1::DICT, v1::SET); }) +
          request(0, [&](v1::Request& r) {
            v1::Call call = only_value("merged");
            call.set_key("a");
            *r.mutable_call() = call;
          }),
      // 2. A batch in two pieces: SET d/b, then ADD n 5.
      request(2, [](v1::Request& r) {
        *r.mutable_batch()->add_calls() = DictSet("d", "b", StringValue("batch"));
      }) + request(0, [](v1::Request& r) { *r.mutable_batch()->add_calls() = CounterAdd("n", 5); }),
      // 3. A Call, then a batch in the same request: only the batch runs.
      request(3, [](v1::Request& r) { *r.mutable_call() = DictSet("d", "never", IntValue(1)); }) +
          request(0, [](v1::Request& r) {
            *r.mutable_batch()->add_calls() = DictSet("d", "c", StringValue("last"));
          }),
      // 4. A batch, then a Call: only the Call runs.
      request(4, [](v1::Request& r) {
        *r.mutable_batch()->add_calls() = DictSet("d", "never2", IntValue(1));
      }) + request(0, [](v1::Request& r) { *r.mutable_call() = CounterAdd("n", 2); }),
      // 5. A Call carrying an unknown field (99, a varint).
      request(5, [](v1::Request& r) {
        v1::Call call = DictSet("d", "e", StringValue("unknown"));
        std::string bytes = call.SerializeAsString() + std::string("\x98\x06\x07", 3);
        r.mutable_call()->ParseFromString(bytes);
      }),
      // 6. Plain ones.
      request(6, [](v1::Request& r) { *r.mutable_call() = DictSet("d", "f", IntValue(6)); }),
      request(7, [](v1::Request& r) {
        *r.mutable_batch()->add_calls() = CounterAdd("n", 10);
        *r.mutable_batch()->add_calls() = DictSet("d", "g", IntValue(7));
      }),
  };
  std::string before;
  {
    DaemonProcess daemon = Start({"--fsync", "everysec"});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    uint64_t id = 0;
    for (const std::string& frame : frames) {
      ASSERT_TRUE(c.SendBytes(frame).ok());
      auto r = c.Receive();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->id(), ++id);
      EXPECT_EQ(CodeOf(*r), v1::OK) << r->ShortDebugString();
    }
    before = DumpState(c);
    EXPECT_NE(before.find("merged"), std::string::npos) << before;
    EXPECT_EQ(before.find("never"), std::string::npos) << before;
    EXPECT_EQ(Do(c, "n", v1::COUNTER, v1::GET).result().value().int_value(), 17);
    daemon.Kill();  // What is written survives a SIGKILL under everysec.
  }
  DaemonProcess daemon = Start({"--fsync", "everysec"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(DumpState(c), before) << daemon.Stderr();
  EXPECT_EQ(daemon.Stop(), 0);
}

// An UPDATE of "big" with kBigUpdateItems new keys of 200 bytes each
// (batch makes them new): the log grows fast enough to start snapshots.
constexpr int64_t kBigUpdateItems = 500;
v1::Call BigUpdate(int batch) {
  v1::Call update = MakeCall("big", v1::DICT, v1::UPDATE);
  for (int i = 0; i < kBigUpdateItems; ++i) {
    v1::Entry* e = update.add_items();
    e->set_key("k" + std::to_string(batch) + "-" + std::to_string(i));
    *e->mutable_value() = StringValue(std::string(200, 'x'));
  }
  return update;
}

// SIGKILL while a snapshot is being written: the writer goes with the
// daemon, the dir is free for the restart at once, and everything
// acknowledged is restored (the half-written snapshot.tmp is not used).
TEST_F(StateTest, SigkillWhileASnapshotIsWritten) {
  const std::vector<std::string> flags = {"--snapshot-after-bytes", "2000000", "--fsync", "no"};
  int64_t items = 0;
  {
    DaemonProcess daemon = Start(flags);
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    const auto until = steady_clock::now() + seconds(30);
    bool running = false;
    for (int batch = 0; !running; ++batch) {
      ASSERT_LT(steady_clock::now(), until) << "no snapshot seen running within 30 s";
      ASSERT_EQ(CodeOf(c.Call(BigUpdate(batch))), v1::OK);
      items += kBigUpdateItems;
      running = PersistenceOf(c.Stats().stats()).snapshot_running;
    }
    daemon.Kill();
  }
  DaemonProcess daemon = Start(flags);
  ASSERT_GT(daemon.pid(), 0) << "the restart right after the SIGKILL was refused";
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(Do(c, "big", v1::DICT, v1::LEN).result().count(), items) << daemon.Stderr();
  EXPECT_EQ(daemon.Stop(), 0);
}

// The daemon's children (its snapshot writer, when one runs).
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) +
                   "/children");
  std::vector<pid_t> children;
  for (pid_t child; in >> child;) children.push_back(child);
  return children;
}

// SIGTERM while a snapshot writer is stopped half-way through its
// snapshot.tmp: the daemon kills it, and a clean stop leaves no
// snapshot.tmp behind; everything is restored.
TEST_F(StateTest, SigtermWhileASnapshotIsWrittenLeavesNothingBehind) {
  const std::vector<std::string> flags = {"--snapshot-after-bytes", "2000000", "--fsync", "no"};
  int64_t items = 0;
  {
    DaemonProcess daemon = Start(flags);
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    // The log passes the threshold again and again; catch a writer with
    // its file half written.
    const auto until = steady_clock::now() + seconds(30);
    bool caught = false;
    for (int batch = 0; !caught; ++batch) {
      ASSERT_LT(steady_clock::now(), until) << "no snapshot writer caught within 30 s";
      ASSERT_EQ(CodeOf(c.Call(BigUpdate(batch))), v1::OK);
      items += kBigUpdateItems;
      for (pid_t writer : ChildrenOf(daemon.pid())) {
        ::kill(writer, SIGSTOP);
        caught = PathExists(state_ + "/snapshot.tmp");
        if (!caught) ::kill(writer, SIGCONT);
      }
    }
    EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
  }
  EXPECT_FALSE(PathExists(state_ + "/snapshot.tmp")) << ::testing::PrintToString(ListDir(state_));
  DaemonProcess daemon = Start(flags);
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(Do(c, "big", v1::DICT, v1::LEN).result().count(), items) << daemon.Stderr();
  EXPECT_EQ(daemon.Stop(), 0);
}

// The files follow the documented framing: headers with their CRC, records
// with theirs, sequence numbers rising by one across the logs.
TEST_F(StateTest, FilesFollowTheFraming) {
  DaemonProcess daemon = Start({"--snapshot-after-bytes", "4096", "--fsync", "no"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(CodeOf(c.Call(DictSet("d", "k" + std::to_string(i), StringValue(std::string(64, 'x'))))),
              v1::OK);
  }
  const int64_t last_seq = PersistenceOf(c.Stats().stats()).last_seq;
  EXPECT_EQ(daemon.Stop(), 0);

  const std::vector<std::string> logs = LogFiles(state_);
  ASSERT_FALSE(logs.empty()) << ::testing::PrintToString(ListDir(state_));
  EXPECT_TRUE(PathExists(state_ + "/LOCK"));
  uint64_t expect_seq = 0;
  bool first = true;
  for (const std::string& path : logs) {
    const StateFile log = ReadStateFile(path);
    EXPECT_EQ(log.magic, "IPCDLOG1") << path;
    EXPECT_EQ(log.version, 1u) << path;
    EXPECT_TRUE(log.header_ok) << path;
    char name[32];
    std::snprintf(name, sizeof name, "log.%020llu", static_cast<unsigned long long>(log.base_seq));
    EXPECT_EQ(path.substr(path.rfind('/') + 1), name) << "the name is not the base seq";
    EXPECT_EQ(log.end, log.bytes.size()) << path << ": damage at " << log.end;
    if (first) {
      expect_seq = log.base_seq + 1;
      first = false;
    }
    EXPECT_EQ(log.base_seq + 1, expect_seq) << path << " does not follow the previous log";
    for (const StateRecordSpan& r : log.records) {
      EXPECT_EQ(r.seq, expect_seq) << path << " at " << r.offset;
      expect_seq = r.seq + 1;
    }
  }
  EXPECT_EQ(static_cast<int64_t>(expect_seq - 1), last_seq)
      << "Stats.persistence.last_seq is not the last record's seq";
  if (PathExists(state_ + "/snapshot")) {
    const StateFile snapshot = ReadStateFile(state_ + "/snapshot");
    EXPECT_EQ(snapshot.magic, "IPCDSNP1");
    EXPECT_TRUE(snapshot.header_ok);
    EXPECT_EQ(snapshot.end, snapshot.bytes.size());
    EXPECT_LE(ReadStateFile(logs.front()).base_seq, snapshot.base_seq)
        << "the oldest log starts after the snapshot's last record: records lost";
  }
}

// Many connections whose changes wait for the same sync in one loop
// iteration are all answered (the first one's sync serves the others):
// once, only the first of them got its answers.
TEST_F(StateTest, ConnectionsWaitingForOneSyncAreAllAnswered) {
  for (const char* policy : {"always", "everysec", "no"}) {
    SCOPED_TRACE(policy);
    const std::string dir = work_.File(std::string("state-") + policy);
    DaemonProcess daemon =
        DaemonProcess::Start({"--state-dir", dir, "--fsync", policy});
    ASSERT_GT(daemon.pid(), 0);
    constexpr int kClients = 4;
    constexpr int kEach = 50;
    std::vector<RawClient> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.push_back(RawClient::Open(daemon.url()));
      ASSERT_TRUE(clients.back().ok());
    }
    // Every client's requests are in flight before any answer is read,
    // so the daemon meets several of them in one iteration.
    for (int i = 0; i < kEach; ++i) {
      for (RawClient& client : clients) {
        v1::Call add = MakeCall("c", v1::COUNTER, v1::ADD);
        *add.mutable_value() = IntValue(1);
        client.SendCall(add);
      }
    }
    for (RawClient& client : clients) {
      for (int i = 0; i < kEach; ++i) {
        auto response = client.Receive(std::chrono::seconds(10));
        ASSERT_TRUE(response.ok()) << "answer " << i << ": " << response.status();
        EXPECT_EQ(CodeOf(*response), v1::OK);
      }
    }
    v1::Call get = MakeCall("c", v1::COUNTER, v1::GET);
    EXPECT_EQ(clients[0].Call(get).result().value().int_value(),
              kClients * kEach);
    EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
  }
}

TEST_F(StateTest, EverySecSyncsTheLogThatASnapshotStarted) {
  // The everysec thread opens the log by name: after a snapshot it must
  // find the new one.
  DaemonProcess daemon = Start({"--fsync", "everysec", "--snapshot-after-bytes", "4096"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("before", 1))), v1::OK);
  ASSERT_TRUE(WaitForPersistence(c, [](const PersistenceView& p) { return p.last_sync_unix_ms > 0; }))
      << "no sync of the first log within 10 s\n" << daemon.Stderr();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(CodeOf(c.Call(DictSet("d", "k" + std::to_string(i), IntValue(i)))), v1::OK);
  }
  ASSERT_TRUE(WaitForPersistence(c, [](const PersistenceView& p) {
    return p.snapshot_bytes > 0 && !p.snapshot_running;
  })) << daemon.Stderr();
  const int64_t snapshot_ms = PersistenceOf(c.Stats().stats()).last_snapshot_unix_ms;
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("after", 1))), v1::OK);
  EXPECT_TRUE(WaitForPersistence(c, [&](const PersistenceView& p) {
    return p.last_sync_unix_ms > snapshot_ms && p.last_write_error.empty();
  })) << "no sync of the new log within 10 s\n" << daemon.Stderr();
  EXPECT_EQ(daemon.Stderr().find("fdatasync of the log"), std::string::npos) << daemon.Stderr();
  // The snapshot removed the log it ended: no thread still holds (and
  // syncs) that one instead of the new one.
  for (const auto& task : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(daemon.pid()) + "/task")) {
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator(task.path() / "fd", ec)) {
      const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
      EXPECT_EQ(target.find("(deleted)"), std::string::npos) << task.path() << ": " << target;
    }
  }
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Stderr();
}

TEST_F(StateTest, StatsPersistenceIsFilledForEachPolicy) {
  for (const std::string fsync : {"always", "everysec", "no"}) {
    SCOPED_TRACE(fsync);
    DaemonProcess daemon = Start({"--fsync", fsync});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    const int64_t seq_at_start = PersistenceOf(c.Stats().stats()).last_seq;
    ASSERT_EQ(CodeOf(c.Call(CounterAdd("n", 1))), v1::OK);
    ASSERT_EQ(CodeOf(c.Call(DictSet("d", "k", IntValue(1)))), v1::OK);
    const PersistenceView p = PersistenceOf(c.Stats().stats());
    ASSERT_TRUE(p.present);
    EXPECT_EQ(p.state_dir, state_);
    EXPECT_EQ(p.fsync, fsync);
    EXPECT_EQ(p.last_seq, seq_at_start + 2) << "one record per change";
    EXPECT_GT(p.last_seq, 0);
    EXPECT_GT(p.log_bytes, 0);
    EXPECT_GT(p.records_since_snapshot, 0);
    EXPECT_FALSE(p.snapshot_running);
    EXPECT_EQ(p.last_write_error, "");
    if (fsync == "always") {
      EXPECT_GT(p.last_sync_unix_ms, 0) << "acknowledged under 'always' without a sync";
    }
    if (fsync == "everysec") {
      EXPECT_TRUE(WaitForPersistence(c, [](const PersistenceView& v) {
        return v.last_sync_unix_ms > 0;
      })) << "no sync within 10 s under everysec";
    }
    // A batch is one record, however many calls it has.
    v1::Batch batch;
    *batch.add_calls() = CounterAdd("n", 1);
    *batch.add_calls() = DictSet("d", "k2", IntValue(2));
    *batch.add_calls() = QueuePut("q", IntValue(3));
    ASSERT_EQ(c.Batch(batch).batch().replies_size(), 3);
    EXPECT_EQ(PersistenceOf(c.Stats().stats()).last_seq, p.last_seq + 1) << "a batch is not one record";
    // Reads make no records.
    ASSERT_EQ(CodeOf(Do(c, "d", v1::DICT, v1::ITEMS)), v1::OK);
    ASSERT_EQ(CodeOf(Do(c, "n", v1::COUNTER, v1::GET)), v1::OK);
    EXPECT_EQ(PersistenceOf(c.Stats().stats()).last_seq, p.last_seq + 1);
    EXPECT_EQ(daemon.Stop(), 0);
    // Sequence numbers go on from where they were.
    DaemonProcess again = Start({"--fsync", fsync});
    ASSERT_GT(again.pid(), 0);
    RawClient c2 = RawClient::Open(again.url());
    EXPECT_GE(PersistenceOf(c2.Stats().stats()).last_seq, p.last_seq);
    EXPECT_EQ(again.Stop(), 0);
  }
}

TEST_F(StateTest, IpcctlStatsShowsPersistence) {
  DaemonProcess daemon = Start({"--fsync", "always"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("n", 1))), v1::OK);
  const int64_t last_seq = PersistenceOf(c.Stats().stats()).last_seq;
  for (const bool json : {false, true}) {
    std::vector<std::string> args = {"--socket", daemon.socket_path(), "stats"};
    if (json) args.push_back("--json");
    const CommandResult r = RunIpcctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.all();
    for (const char* field : {"state_dir", "fsync", "log_bytes", "records_since_snapshot",
                              "snapshot_bytes", "last_sync_unix_ms", "last_snapshot_unix_ms",
                              "snapshot_running", "last_write_error", "last_seq"}) {
      EXPECT_NE(r.out.find(field), std::string::npos) << field << " missing:\n" << r.out;
    }
    EXPECT_NE(r.out.find(state_), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("always"), std::string::npos) << r.out;
    EXPECT_TRUE(ContainsNumber(r.out, static_cast<uint64_t>(last_seq))) << r.out;
  }
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST_F(StateTest, StartLogNamesWhatWasLoaded) {
  {
    DaemonProcess daemon = Start();
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    ASSERT_EQ(CodeOf(c.Call(CounterAdd("a", 1))), v1::OK);
    ASSERT_EQ(CodeOf(c.Call(DictSet("b", "k", IntValue(1)))), v1::OK);
    ASSERT_EQ(CodeOf(c.Call(QueuePut("c", IntValue(1)))), v1::OK);
    EXPECT_EQ(daemon.Stop(), 0);
  }
  DaemonProcess daemon = Start();
  ASSERT_GT(daemon.pid(), 0);
  const std::string log = daemon.Stderr();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("state: loaded (\\d+) objects? \\(")))
      << log;
  EXPECT_EQ(m[1], "3") << log;
  EXPECT_NE(log.find(state_), std::string::npos) << log;
  EXPECT_EQ(log.find("in memory only"), std::string::npos) << log;
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST(StateOptionsTest, WithoutAStateDirStateIsInMemoryOnly) {
  ::unsetenv("STATE_DIRECTORY");
  DaemonProcess daemon = DaemonProcess::Start();
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  ASSERT_EQ(CodeOf(c.Call(CounterAdd("n", 1))), v1::OK);
  const PersistenceView p = PersistenceOf(c.Stats().stats());
  EXPECT_FALSE(p.present) << "Stats.persistence is set without --state-dir";
  EXPECT_NE(daemon.Stderr().find("state: in memory only (no --state-dir)"), std::string::npos)
      << daemon.Stderr();
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST(StateOptionsTest, BadFsyncIsAUsageError) {
  TempDir dir;
  std::string log;
  EXPECT_EQ(RunIpcd({"--socket", dir.File("s.sock"), "--state-dir", dir.path(), "--fsync",
                     "sometimes"},
                    &log),
            2);
  EXPECT_NE(log.find("--fsync"), std::string::npos) << log;
  EXPECT_EQ(RunIpcd({"--socket", dir.File("s.sock"), "--snapshot-after-bytes", "lots"}, &log), 2);
  EXPECT_NE(log.find("--snapshot-after-bytes"), std::string::npos) << log;
}

TEST(StateOptionsTest, ConfigFileKeys) {
  TempDir dir;
  const std::string state = dir.File("state");
  ASSERT_TRUE(MakeDir(state));
  const std::string config = dir.File("ipcd.conf");
  WriteFile(config,
            "state_dir = " + state + "\nfsync = no\nsnapshot_after_bytes = 4096\n", 0644);
  {
    DaemonProcess daemon = DaemonProcess::Start({"--config", config});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    const PersistenceView p = PersistenceOf(c.Stats().stats());
    ASSERT_TRUE(p.present) << daemon.Stderr();
    EXPECT_EQ(p.state_dir, state);
    EXPECT_EQ(p.fsync, "no");
    // snapshot_after_bytes = 4096 takes effect: a snapshot comes soon.
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(CodeOf(c.Call(DictSet("d", "k" + std::to_string(i), StringValue(std::string(100, 'z'))))),
                v1::OK);
    }
    EXPECT_TRUE(WaitForPersistence(c, [](const PersistenceView& v) {
      return v.snapshot_bytes > 0;
    })) << "no snapshot with snapshot_after_bytes = 4096";
    EXPECT_EQ(daemon.Stop(), 0);
  }
  // A flag overrides the config file.
  DaemonProcess daemon = DaemonProcess::Start({"--config", config, "--fsync", "always"});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  EXPECT_EQ(PersistenceOf(c.Stats().stats()).fsync, "always");
  EXPECT_EQ(Do(c, "d", v1::DICT, v1::LEN).result().count(), 100);
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST(StateOptionsTest, StateDirectoryFromTheEnvironment) {
  TempDir dir;
  const std::string state = dir.File("state");
  ASSERT_TRUE(MakeDir(state));
  for (int round = 0; round < 2; ++round) {
    SpawnOptions options;
    options.args = {"--socket", dir.File("ipcd.sock")};
    options.env = {"STATE_DIRECTORY=" + state};
    options.stderr_file = dir.File("stderr");
    SpawnedIpcd daemon(options);
    RawClient c = RawClient::Open("unix://" + dir.File("ipcd.sock"));
    ASSERT_TRUE(c.ok()) << ReadFile(options.stderr_file);
    const PersistenceView p = PersistenceOf(c.Stats().stats());
    ASSERT_TRUE(p.present) << ReadFile(options.stderr_file);
    EXPECT_EQ(p.state_dir, state);
    EXPECT_EQ(p.fsync, "everysec") << "the default policy";
    const v1::Response r = c.Call(CounterAdd("n", 1));
    EXPECT_EQ(r.result().value().int_value(), round + 1) << "not restored from STATE_DIRECTORY";
    EXPECT_EQ(daemon.Stop(), 0);
  }
  ::unsetenv("STATE_DIRECTORY");  // SpawnIpcd set it in the child only.
}

}  // namespace
}  // namespace ipc::testing
