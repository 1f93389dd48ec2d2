// Manager::Watch against a real daemon: the first event is the current
// state, changes come in order with growing versions, dict changes come as
// entries set and keys removed, a key watch sees only its key, each kind
// reports its state, a watcher that does not read misses changes without
// losing count, and a lost connection is reported once.
#include <poll.h>

#include <thread>

#include "manager_fixture.h"

namespace ipc::testing {
namespace {

using Items = std::vector<std::pair<std::string, ipc::Value>>;

class WatchTest : public ManagerTest {
 protected:
  // The next event within 10 s (a test failure, and an empty event, if
  // none comes).
  static WatchEvent Next(Watcher& watcher) {
    auto event = watcher.Next(Deadline::After(std::chrono::seconds(10)));
    EXPECT_TRUE(event.ok()) << event.status();
    return event.ok() ? std::move(*event) : WatchEvent{};
  }
  static Watcher Watch(Manager& m, const std::string& name,
                       std::optional<std::string> key = std::nullopt) {
    auto watcher = m.Watch(name, std::move(key));
    EXPECT_TRUE(watcher.ok()) << watcher.status();
    return std::move(*watcher);
  }
  // No event has arrived (the ones before were all read).
  static void ExpectNone(Watcher& watcher) {
    auto none = watcher.Poll();
    ASSERT_OK(none);
    EXPECT_FALSE(none->has_value()) << "unexpected " << (*none)->op;
  }
};

TEST_F(WatchTest, TheFirstEventIsTheCurrentState) {
  const std::string name = Name("w-first");
  ASSERT_OK(manager().Counter(name).Set(5));
  Watcher watcher = Watch(manager(), name);
  const WatchEvent first = Next(watcher);
  EXPECT_TRUE(first.resync);
  EXPECT_TRUE(first.exists);
  EXPECT_EQ(first.kind, "counter");
  EXPECT_EQ(first.op, "");
  EXPECT_EQ(first.value, ipc::Value(5));
  EXPECT_EQ(first.missed, 0);
  ExpectNone(watcher);
}

TEST_F(WatchTest, ChangesComeInOrderWithGrowingVersions) {
  const std::string name = Name("w-order");
  Watcher watcher = Watch(manager(), name);
  const WatchEvent first = Next(watcher);
  EXPECT_FALSE(first.exists);
  EXPECT_EQ(first.kind, "");
  auto counter = manager().Counter(name);
  for (int i = 0; i < 100; ++i) ASSERT_OK(counter.Add(1));
  uint64_t version = first.version;
  for (int i = 1; i <= 100; ++i) {
    const WatchEvent e = Next(watcher);
    EXPECT_FALSE(e.resync);
    EXPECT_EQ(e.op, "ADD");
    EXPECT_EQ(e.value, ipc::Value(i));
    EXPECT_GT(e.version, version);
    version = e.version;
  }
  ASSERT_OK(manager().Destroy(name));
  const WatchEvent gone = Next(watcher);
  EXPECT_EQ(gone.op, "DESTROY");
  EXPECT_FALSE(gone.exists);
  EXPECT_TRUE(gone.value.is_null());
  ExpectNone(watcher);
}

TEST_F(WatchTest, ADictSendsTheEntriesSetAndTheKeysRemoved) {
  const std::string name = Name("w-dict");
  auto dict = manager().Dict(name);
  ASSERT_OK(dict.Set("a", 1));
  Watcher watcher = Watch(manager(), name);
  EXPECT_EQ(Next(watcher).items, (Items{{"a", 1}}));

  ASSERT_OK(dict.Set("b", "two"));
  WatchEvent e = Next(watcher);
  EXPECT_EQ(e.op, "SET");
  EXPECT_EQ(e.items, (Items{{"b", "two"}}));
  EXPECT_TRUE(e.removed.empty());

  ASSERT_OK(dict.Update(ipc::Value::Map{{"c", 3}, {"a", 10}}));
  e = Next(watcher);
  EXPECT_EQ(e.op, "UPDATE");
  EXPECT_EQ(e.items, (Items{{"a", 10}, {"c", 3}}));

  ASSERT_OK(dict.Delete("b"));
  e = Next(watcher);
  EXPECT_EQ(e.op, "DELETE");
  EXPECT_TRUE(e.items.empty());
  EXPECT_EQ(e.removed, std::vector<std::string>{"b"});

  ASSERT_OK(dict.Clear());
  e = Next(watcher);
  EXPECT_EQ(e.op, "CLEAR");
  EXPECT_TRUE(e.resync) << "a cleared dict is sent whole";
  EXPECT_TRUE(e.exists);
  EXPECT_TRUE(e.items.empty());
  ExpectNone(watcher);
}

TEST_F(WatchTest, AKeyWatchSeesOnlyItsKey) {
  const std::string name = Name("w-key");
  auto dict = manager().Dict(name);
  Watcher watcher = Watch(manager(), name, "mode");
  EXPECT_FALSE(Next(watcher).exists);
  ASSERT_OK(dict.Set("other", 1));
  ASSERT_OK(dict.Set("mode", "fast"));
  WatchEvent e = Next(watcher);
  EXPECT_EQ(e.op, "SET") << "the change of another key was not sent";
  EXPECT_FALSE(e.resync) << "a change, not the whole state again";
  EXPECT_TRUE(e.exists);
  EXPECT_EQ(e.value, ipc::Value("fast"));
  ASSERT_OK(dict.Update(ipc::Value::Map{{"x", 1}, {"mode", "slow"}}));
  EXPECT_EQ(Next(watcher).value, ipc::Value("slow"));
  ASSERT_OK(dict.Delete("mode"));
  e = Next(watcher);
  EXPECT_EQ(e.op, "DELETE");
  EXPECT_FALSE(e.exists);
  ASSERT_OK(dict.Delete("other"));
  ExpectNone(watcher);
}

TEST_F(WatchTest, EachKindReportsItsState) {
  const std::string event_name = Name("w-event");
  Watcher event_watch = Watch(manager(), event_name);
  (void)Next(event_watch);
  ASSERT_OK(manager().Event(event_name).Set());
  EXPECT_EQ(Next(event_watch).value, ipc::Value(true));
  ASSERT_OK(manager().Event(event_name).Clear());
  EXPECT_EQ(Next(event_watch).value, ipc::Value(false));

  const std::string list_name = Name("w-list");
  Watcher list_watch = Watch(manager(), list_name);
  (void)Next(list_watch);
  ASSERT_OK(manager().List(list_name).Append("x"));
  ASSERT_OK(manager().List(list_name).Append(2));
  (void)Next(list_watch);
  EXPECT_EQ(Next(list_watch).value, ipc::Value(ipc::Value::List{"x", 2}));

  const std::string queue_name = Name("w-queue");
  Watcher queue_watch = Watch(manager(), queue_name);
  (void)Next(queue_watch);
  ASSERT_OK(manager().Queue(queue_name).Put("job", Deadline::Now()));
  EXPECT_EQ(Next(queue_watch).value, ipc::Value(1));
  ASSERT_OK(manager().Queue(queue_name).Get(Deadline::Now()));
  const WatchEvent taken = Next(queue_watch);
  EXPECT_EQ(taken.op, "GET");
  EXPECT_EQ(taken.value, ipc::Value(0));

  // A lock held by a client that goes away is released, and watchers see
  // it.
  const std::string lock_name = Name("w-lock");
  Watcher lock_watch = Watch(manager(), lock_name);
  (void)Next(lock_watch);
  {
    std::optional<Manager> holder = Connect();
    ASSERT_TRUE(holder.has_value());
    ASSERT_OK(holder->Lock(lock_name).AcquireRaw(Deadline::Now()));
    const WatchEvent held = Next(lock_watch);
    EXPECT_EQ(held.op, "ACQUIRE");
    EXPECT_EQ(held.value, ipc::Value(1));
    holder->Close();
  }
  const WatchEvent released = Next(lock_watch);
  EXPECT_EQ(released.op, "RELEASE");
  EXPECT_EQ(released.value, ipc::Value(0));
}

TEST_F(WatchTest, BadWatchesAreRefusedAndNamed) {
  const std::string name = Name("w-bad");
  ASSERT_OK(manager().Counter(name).Set(1));
  auto keyed = manager().Watch(name, "k");
  EXPECT_CODE(keyed, ErrorCode::kInvalidArgument);
  EXPECT_NE(keyed.status().message().find("counter"), std::string::npos)
      << keyed.status();
  EXPECT_CODE(manager().Watch(""), ErrorCode::kInvalidArgument);
  EXPECT_CODE(manager().Watch(Name("w-dict"), ""), ErrorCode::kInvalidArgument);
  EXPECT_CODE(manager().Watch(std::string(300, 'x')), ErrorCode::kInvalidArgument);
  auto stats = manager().Stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->watches, 0) << "refused watches hold nothing";
}

TEST_F(WatchTest, TheDescriptorTurnsReadableWhenAChangeArrives) {
  const std::string name = Name("w-fd");
  Watcher watcher = Watch(manager(), name);
  (void)Next(watcher);
  ExpectNone(watcher);
  std::thread changer([&] {
    std::optional<Manager> other = Connect();
    if (other) {
      EXPECT_TRUE(other->Counter(name).Add(7).ok());
    }
  });
  pollfd p{.fd = watcher.fd(), .events = POLLIN, .revents = 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1) << "no change arrived within 10 s";
  changer.join();
  auto event = watcher.Poll();
  ASSERT_OK(event);
  ASSERT_TRUE(event->has_value());
  EXPECT_EQ((*event)->value, ipc::Value(7));
  ExpectNone(watcher);
  auto stats = manager().Stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->watches, 1);
}

// A watcher that does not read while 40,000 changes are made: the daemon
// goes on, the watcher later gets what fit, then a resync counting the
// changes it missed; every change is accounted for, none twice.
TEST_F(WatchTest, ASlowWatcherMissesChangesButNotTheirCount) {
  const std::string name = Name("w-slow");
  Watcher watcher = Watch(manager(), name);
  (void)Next(watcher);
  constexpr int kBatches = 40, kPerBatch = 1000;
  for (int b = 0; b < kBatches; ++b) {
    ManagerBatch batch = manager().Batch();
    for (int i = 0; i < kPerBatch; ++i) batch.CounterAdd(name, 1);
    ASSERT_OK(batch.Run());
  }
  constexpr int64_t kChanges = int64_t{kBatches} * kPerBatch;
  int64_t sent = 0, missed = 0, resyncs = 0;
  ipc::Value last;
  while (last != ipc::Value(kChanges)) {
    const WatchEvent e = Next(watcher);
    if (HasFailure()) {
      ADD_FAILURE() << "after " << sent << " events and " << resyncs
                    << " resyncs (missed " << missed << "), the last showing "
                    << last.ToJson();
      return;
    }
    if (e.resync) {
      ++resyncs;
      missed += e.missed;
      EXPECT_GT(e.missed, 0);
    } else {
      ++sent;
      EXPECT_EQ(e.value, ipc::Value(last.if_int() ? *last.if_int() + 1 : 1))
          << "events between resyncs are consecutive";
    }
    last = e.value;
  }
  EXPECT_GT(resyncs, 0) << "40,000 unread changes should overflow the backlog";
  EXPECT_EQ(sent + missed, kChanges);
  ExpectNone(watcher);
}

// With a state log synced before every acknowledgement, watchers still see
// every change, each once it is on disk.
TEST_F(WatchTest, WatchesWorkOverADurableDaemon) {
  TempDir state;
  StartDaemon({"--state-dir", state.File("s"), "--fsync", "always"});
  const std::string name = Name("w-durable");
  Watcher watcher = Watch(manager(), name, "k");
  (void)Next(watcher);
  ManagerBatch batch = manager().Batch();
  for (int i = 0; i < 50; ++i) batch.DictSet(name, "k", i);
  ASSERT_OK(batch.RunPipelined());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Next(watcher).value, ipc::Value(i));
  ExpectNone(watcher);
}

TEST_F(WatchTest, ALostConnectionIsReportedOnceAndNamed) {
  const std::string name = Name("w-lost");
  Watcher watcher = Watch(manager(), name);
  (void)Next(watcher);
  daemon_.Kill();
  auto lost = watcher.Next(Deadline::After(std::chrono::seconds(10)));
  EXPECT_CODE(lost, ErrorCode::kClosed);
  EXPECT_NE(lost.status().message().find(name), std::string::npos) << lost.status();
  // No daemon to reconnect to: the next call says so at once.
  EXPECT_CODE(watcher.Next(Deadline::After(std::chrono::seconds(10))),
              ErrorCode::kNotFound);
  watcher.Close();
  EXPECT_CODE(watcher.Poll(), ErrorCode::kClosed);
}

TEST_F(WatchTest, AMovedFromWatcherSaysSo) {
  Watcher watcher = Watch(manager(), Name("w-moved"));
  Watcher moved = std::move(watcher);
  EXPECT_TRUE(Next(moved).resync);
  // NOLINTNEXTLINE(bugprone-use-after-move): what this test is about.
  EXPECT_CODE(watcher.Next(Deadline::Now()), ErrorCode::kClosed);
  EXPECT_CODE(watcher.Poll(), ErrorCode::kClosed);
  EXPECT_EQ(watcher.fd(), -1);
  watcher.Close();
}

}  // namespace
}  // namespace ipc::testing
