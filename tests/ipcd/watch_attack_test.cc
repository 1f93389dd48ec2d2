// Adversarial tests of Watch: slow and vanishing watchers, events and
// resyncs over the frame limit, state changes that parked requests make,
// and the accounting promise (events with an op that are not resyncs, plus
// the sum of `missed`, equals the changes made).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "ipc/manager.h"
#include "ipc/watcher.h"
#include "ipcd_fixture.h"

namespace ipc::testing {
namespace {

constexpr uint64_t kWatchIds = 1000000;

// Sends a Watch with id kWatchIds + n on c (not waiting for its answer).
void SendWatch(RawClient& c, uint64_t n, const std::string& object,
               std::optional<std::string> key = std::nullopt) {
  v1::Request request;
  request.set_id(kWatchIds + n);
  request.mutable_watch()->set_object(object);
  if (key) request.mutable_watch()->set_key(*key);
  ASSERT_TRUE(c.Send(request).ok());
}

// Sends a Watch and returns its first answer.
v1::Response Watch(RawClient& c, uint64_t n, const std::string& object,
                   std::optional<std::string> key = std::nullopt) {
  SendWatch(c, n, object, key);
  auto r = c.Receive();
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : v1::Response();
}

v1::Call Add(const std::string& name, int64_t n) {
  v1::Call call = MakeCall(name, v1::COUNTER, v1::ADD);
  *call.mutable_value() = IntValue(n);
  return call;
}

v1::Call Set(const std::string& name, const std::string& key,
             const v1::Value& value) {
  v1::Call call = MakeCall(name, v1::DICT, v1::SET);
  call.set_key(key);
  *call.mutable_value() = value;
  return call;
}

// The ObjectInfo of name, as a fresh ListObjects shows it (kind
// unspecified when there is no such object).
v1::ObjectInfo InfoOf(RawClient& c, const std::string& name) {
  v1::Request request;
  request.mutable_list_objects()->set_prefix(name);
  const v1::Response r = c.Roundtrip(request);
  for (const v1::ObjectInfo& info : r.objects().objects()) {
    if (info.name() == name) return info;
  }
  return v1::ObjectInfo();
}

// Waits (bounded) until name has `waiters` parked requests.
bool WaitForWaiters(RawClient& c, const std::string& name, int64_t waiters) {
  for (int i = 0; i < 20000; ++i) {
    if (InfoOf(c, name).waiters() == waiters) return true;
  }
  return false;
}

bool WaitForWatches(RawClient& c, int64_t watches) {
  for (int i = 0; i < 20000; ++i) {
    if (c.Stats().stats().watches() == watches) return true;
  }
  return false;
}

// Sends call on c and returns everything c receives up to and including
// the call's answer (events that came first, in order).
std::vector<v1::Response> CallCollecting(RawClient& c, const v1::Call& call) {
  const uint64_t id = c.SendCall(call);
  std::vector<v1::Response> got;
  for (;;) {
    auto r = c.Receive();
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) break;
    got.push_back(*r);
    if (r->id() == id) break;
  }
  return got;
}

// What one watch was sent.
struct Tally {
  int64_t changes = 0;     // Events with an op that are not resyncs.
  int64_t missed = 0;      // Sum of missed.
  int64_t resyncs = 0;
  int64_t errors = 0;      // Status responses carrying the watch's id.
  uint64_t last_version = 0;
  bool versions_grow = true;
  v1::WatchEvent last;
};

void Count(Tally& t, const v1::Response& r) {
  if (r.has_status() && r.status().code() != v1::OK) {
    ++t.errors;
    return;
  }
  const v1::WatchEvent& e = r.event();
  if (e.resync()) ++t.resyncs;
  if (!e.resync() && e.op() != v1::OP_UNSPECIFIED) ++t.changes;
  t.missed += e.missed();
  if (e.version() < t.last_version) t.versions_grow = false;
  if (!e.resync() && e.version() == t.last_version && t.last_version != 0) {
    t.versions_grow = false;
  }
  t.last_version = e.version();
  t.last = e;
}

// --------------------------------------------------------------------------
// Over the frame limit.

class WatchFrameLimitTest : public IpcdTest {
 protected:
  std::vector<std::string> DaemonArgs() const override {
    return {"--max-frame-bytes", "2048"};
  }
  // Grows dict `name` past the frame limit, one small SET at a time
  // (returns the number of SETs).
  int Grow(const std::string& name) {
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(CodeOf(other_.Call(Set(name, "k" + std::to_string(i),
                                       StringValue(std::string(500, 'x'))))),
                v1::OK);
    }
    return 6;
  }
  void SetUp() override {
    IpcdTest::SetUp();
    other_ = RawClient::Open(daemon_.url());
    ASSERT_TRUE(other_.ok());
  }
  RawClient other_;
};

// A Watch whose first event does not fit in a frame is answered
// MESSAGE_TOO_LARGE. Then either there is no watch (no events, not
// counted in Stats.watches), or the client was told otherwise: an error
// answer to the Watch must not leave a watch running that the client
// believes was refused.
TEST_F(WatchFrameLimitTest, AWatchRefusedAsTooLargeLeavesNoWatchBehind) {
  Grow("big");
  const v1::Response first = Watch(client_, 1, "big");
  ASSERT_EQ(CodeOf(first), v1::MESSAGE_TOO_LARGE) << first.DebugString();
  EXPECT_EQ(other_.Stats().stats().watches(), 0)
      << "the refused Watch is still counted as a watch";
  // A change of the dict: no event may come for the refused watch before
  // the answer to the next call on its connection.
  ASSERT_EQ(CodeOf(other_.Call(Set("big", "k0", IntValue(1)))), v1::OK);
  const std::vector<v1::Response> got =
      CallCollecting(client_, MakeCall("big", v1::DICT, v1::LEN));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.size(), 1u) << "an event came for a watch that was refused: "
                            << got.front().DebugString();
}

// A watcher that fell behind is owed a resync with `missed` set. When the
// whole state is over the frame limit it cannot be sent, and deltas on top
// of a state the watcher never had would mislead it: the watch ends with
// MESSAGE_TOO_LARGE naming how many changes it was not sent, so that
// (events with an op) + (that count) == changes made, and nothing of it
// follows.
TEST_F(WatchFrameLimitTest, AResyncOverTheFrameLimitEndsTheWatchCountingWhatWasMissed) {
  // Watch 1 on the dict while it is small; watches 2..1024 on a counter,
  // so that one batch can send 1024 events in one turn of the loop.
  ASSERT_TRUE(Watch(client_, 1, "big").has_event());
  for (uint64_t n = 2; n <= 1024; ++n) {
    ASSERT_TRUE(Watch(client_, n, "c").has_event()) << n;
  }
  const int grown = Grow("big");
  Tally dict;
  for (int i = 0; i < grown; ++i) {
    auto r = client_.Receive();
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->id(), kWatchIds + 1);
    Count(dict, *r);
  }
  // One turn: 1023 counter events and one dict event fill the turn's
  // quota, the second SET of the dict is missed.
  v1::Batch batch;
  *batch.add_calls() = Add("c", 1);
  *batch.add_calls() = Set("big", "a", IntValue(1));
  *batch.add_calls() = Set("big", "b", IntValue(2));
  ASSERT_EQ(CodeOf(other_.Batch(batch)), v1::OK);
  // Read until the dict watch's resync would come: its end instead.
  std::string ended;
  for (int i = 0; i < 1100 && ended.empty(); ++i) {
    auto r = client_.Receive(std::chrono::seconds(5));
    ASSERT_TRUE(r.ok()) << r.status() << " after " << i;
    if (r->id() != kWatchIds + 1) continue;
    ASSERT_FALSE(r->event().resync()) << "a resync over the frame limit";
    if (CodeOf(*r) == v1::MESSAGE_TOO_LARGE) {
      ended = r->status().message();
    } else {
      Count(dict, *r);
    }
  }
  ASSERT_NE(ended, "") << "the watch neither resynced nor ended";
  EXPECT_NE(ended.find("the watch ended (1 changes not sent)"), std::string::npos)
      << ended;
  EXPECT_EQ(dict.changes + 1, grown + 2);
  EXPECT_EQ(other_.Stats().stats().watches(), 1023);
  // Nothing of the ended watch follows a later change.
  ASSERT_EQ(CodeOf(other_.Call(Set("big", "z", IntValue(3)))), v1::OK);
  for (const v1::Response& r :
       CallCollecting(client_, MakeCall("big", v1::DICT, v1::LEN))) {
    EXPECT_NE(r.id(), kWatchIds + 1) << r.DebugString();
  }
  ExpectServing();
}

// --------------------------------------------------------------------------
// State changed by requests that park.

class WatchParkedTest : public IpcdTest {
 protected:
  void SetUp() override {
    IpcdTest::SetUp();
    observer_ = RawClient::Open(daemon_.url());
    ASSERT_TRUE(observer_.ok());
  }
  // The events client_ was sent for watch n before the answer to a fence
  // call on client_.
  std::vector<v1::WatchEvent> EventsBeforeFence(uint64_t n) {
    std::vector<v1::WatchEvent> events;
    for (const v1::Response& r :
         CallCollecting(client_, MakeCall("fence", v1::COUNTER, v1::GET))) {
      if (r.id() == kWatchIds + n) events.push_back(r.event());
    }
    return events;
  }
  RawClient observer_;
};

// A barrier's watched state is the number of parties waiting (as
// ListObjects' size says). A party that arrives and parks changes it.
TEST_F(WatchParkedTest, ABarrierWatchSeesAPartyArrive) {
  v1::Call create = MakeCall("b", v1::BARRIER, v1::CREATE);
  create.set_capacity(3);
  ASSERT_EQ(CodeOf(observer_.Call(create)), v1::OK);
  const v1::Response first = Watch(client_, 1, "b");
  ASSERT_TRUE(first.has_event());
  EXPECT_EQ(first.event().value().int_value(), 0);

  RawClient party = RawClient::Open(daemon_.url());
  v1::Call wait = MakeCall("b", v1::BARRIER, v1::WAIT);
  wait.set_capacity(3);
  party.SendCall(wait);
  ASSERT_TRUE(WaitForWaiters(observer_, "b", 1));
  ASSERT_EQ(InfoOf(observer_, "b").size(), 1) << "ListObjects: one waiting";
  const std::vector<v1::WatchEvent> events = EventsBeforeFence(1);
  ASSERT_EQ(events.size(), 1u) << "no event for the party that arrived";
  EXPECT_EQ(events[0].value().int_value(), 1);
}

// A round broken by a party's timeout empties the barrier: a change too.
TEST_F(WatchParkedTest, ABarrierBrokenByATimeoutIsAChange) {
  v1::Call create = MakeCall("b", v1::BARRIER, v1::CREATE);
  create.set_capacity(3);
  ASSERT_EQ(CodeOf(observer_.Call(create)), v1::OK);
  RawClient party = RawClient::Open(daemon_.url());
  v1::Call wait = MakeCall("b", v1::BARRIER, v1::WAIT);
  wait.set_capacity(3);
  const uint64_t parked = party.SendCall(wait);
  ASSERT_TRUE(WaitForWaiters(observer_, "b", 1));
  ASSERT_EQ(Watch(client_, 1, "b").event().value().int_value(), 1);
  // A second party that gives up at once breaks the round.
  v1::Call quick = wait;
  quick.set_timeout_ms(0);
  EXPECT_EQ(CodeOf(observer_.Call(quick)), v1::DEADLINE_EXCEEDED);
  auto answer = party.Receive();
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->id(), parked);
  EXPECT_EQ(CodeOf(*answer), v1::CLOSED);
  ASSERT_EQ(InfoOf(observer_, "b").size(), 0);
  const std::vector<v1::WatchEvent> events = EventsBeforeFence(1);
  ASSERT_FALSE(events.empty()) << "the broken round sent no event";
  EXPECT_EQ(events.back().value().int_value(), 0);
}

// A condition's watched state is the number of connections waiting for a
// NOTIFY; a WAIT (which parks) changes it.
TEST_F(WatchParkedTest, AConditionWatchSeesAWaiter) {
  ASSERT_EQ(CodeOf(observer_.Call(MakeCall("l", v1::LOCK, v1::CREATE))), v1::OK);
  v1::Call make = MakeCall("cv", v1::CONDITION, v1::CREATE);
  make.set_lock("l");
  ASSERT_EQ(CodeOf(observer_.Call(make)), v1::OK);
  ASSERT_EQ(Watch(client_, 1, "cv").event().value().int_value(), 0);
  RawClient waiter = RawClient::Open(daemon_.url());
  ASSERT_EQ(CodeOf(waiter.Call(MakeCall("l", v1::LOCK, v1::ACQUIRE))), v1::OK);
  v1::Call wait = MakeCall("cv", v1::CONDITION, v1::WAIT);
  wait.set_lock("l");
  waiter.SendCall(wait);
  ASSERT_TRUE(WaitForWaiters(observer_, "cv", 1));
  ASSERT_EQ(InfoOf(observer_, "cv").size(), 1);
  const std::vector<v1::WatchEvent> events = EventsBeforeFence(1);
  ASSERT_EQ(events.size(), 1u) << "no event for the WAIT that parked";
  EXPECT_EQ(events[0].value().int_value(), 1);
}

// Semaphore units held by a connection that is reset come back, and a
// parked ACQUIRE then takes one: the watcher sees RELEASE then ACQUIRE.
TEST_F(WatchParkedTest, ASemaphoreHolderThatDiesIsSeenReleasing) {
  v1::Call make = MakeCall("s", v1::SEMAPHORE, v1::CREATE);
  *make.mutable_value() = IntValue(2);
  ASSERT_EQ(CodeOf(observer_.Call(make)), v1::OK);
  ASSERT_EQ(Watch(client_, 1, "s").event().value().int_value(), 2);
  std::optional<RawClient> holder = RawClient::Open(daemon_.url());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(CodeOf(holder->Call(MakeCall("s", v1::SEMAPHORE, v1::ACQUIRE))), v1::OK);
  }
  RawClient next = RawClient::Open(daemon_.url());
  const uint64_t parked = next.SendCall(MakeCall("s", v1::SEMAPHORE, v1::ACQUIRE));
  ASSERT_TRUE(WaitForWaiters(observer_, "s", 1));
  linger reset{1, 0};
  ASSERT_EQ(::setsockopt(holder->channel().fd(), SOL_SOCKET, SO_LINGER, &reset,
                         sizeof(reset)),
            0);
  holder.reset();
  auto granted = next.Receive();
  ASSERT_TRUE(granted.ok());
  EXPECT_EQ(granted->id(), parked);
  EXPECT_EQ(CodeOf(*granted), v1::OK);
  const std::vector<v1::WatchEvent> events = EventsBeforeFence(1);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].value().int_value(), 1);
  EXPECT_EQ(events[1].value().int_value(), 0);
  EXPECT_EQ(events[2].op(), v1::RELEASE);
  EXPECT_EQ(events[2].value().int_value(), 2);
  EXPECT_EQ(events[3].op(), v1::ACQUIRE);
  EXPECT_EQ(events[3].value().int_value(), 1);
}

// A barrier party that goes away breaks the round: a RELEASE event.
TEST_F(WatchParkedTest, ABarrierPartyThatDiesIsSeen) {
  v1::Call create = MakeCall("b", v1::BARRIER, v1::CREATE);
  create.set_capacity(2);
  ASSERT_EQ(CodeOf(observer_.Call(create)), v1::OK);
  std::optional<RawClient> party = RawClient::Open(daemon_.url());
  v1::Call wait = MakeCall("b", v1::BARRIER, v1::WAIT);
  wait.set_capacity(2);
  party->SendCall(wait);
  ASSERT_TRUE(WaitForWaiters(observer_, "b", 1));
  ASSERT_EQ(Watch(client_, 1, "b").event().value().int_value(), 1);
  party.reset();
  ASSERT_TRUE(WaitForWaiters(observer_, "b", 0));
  const std::vector<v1::WatchEvent> events = EventsBeforeFence(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].op(), v1::RELEASE);
  EXPECT_EQ(events[0].value().int_value(), 0);
}

// --------------------------------------------------------------------------
// Slow, vanishing and many watchers.

class WatchStormTest : public IpcdTest {};

// Four connections with 1024 watches each on one counter read nothing
// while 3000 changes are made; then each reads, and every watch's
// events + missed add up to the changes, with growing versions, ending on
// the final value.
TEST_F(WatchStormTest, ManySilentWatchersAccountForEveryChange) {
  constexpr int kConnections = 2;
  constexpr int kBatches = 6;
  constexpr int kPerBatch = 200;
  std::vector<RawClient> watchers;
  for (int i = 0; i < kConnections; ++i) {
    watchers.push_back(RawClient::Open(daemon_.url()));
    RawClient& w = watchers.back();
    for (uint64_t n = 1; n <= 1024; ++n) SendWatch(w, n, "c");
    for (uint64_t n = 1; n <= 1024; ++n) {
      auto r = w.Receive();
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_TRUE(r->has_event());
    }
  }
  for (int b = 0; b < kBatches; ++b) {
    v1::Batch batch;
    for (int i = 0; i < kPerBatch; ++i) *batch.add_calls() = Add("c", 1);
    ASSERT_EQ(CodeOf(client_.Batch(batch)), v1::OK);
  }
  const int64_t made = int64_t{kBatches} * kPerBatch;
  for (RawClient& w : watchers) {
    std::map<uint64_t, Tally> tallies;
    int done = 0;
    while (done < 1024) {
      auto r = w.Receive(std::chrono::seconds(5));
      ASSERT_TRUE(r.ok()) << r.status() << " with " << done << " done";
      Tally& t = tallies[r->id()];
      const bool was_done = t.last.value().int_value() == made;
      Count(t, *r);
      if (!was_done && t.last.value().int_value() == made) ++done;
    }
    ASSERT_EQ(tallies.size(), 1024u);
    for (const auto& [id, t] : tallies) {
      EXPECT_EQ(t.changes + t.missed, made) << "watch " << id;
      EXPECT_TRUE(t.versions_grow) << "watch " << id;
      EXPECT_EQ(t.errors, 0) << "watch " << id;
    }
  }
  EXPECT_EQ(client_.Stats().stats().watches(), kConnections * 1024);
  watchers.clear();
  EXPECT_TRUE(WaitForWatches(client_, 0));
}

// The daemon's resident memory, in KiB (/proc/PID/status VmRSS).
int64_t RssKib(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kib = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::atoll(line + 6);
  }
  std::fclose(f);
  return kib;
}

// Silent watchers of a big list (every event of a list holds all its
// items): a connection with 1024 watches of a 64 KiB list reads nothing while a
// client appends. A watcher that does not read must not cost the daemon
// memory (a copy of the list per pending event), and later accounts for
// every append.
// Under ASan, freed memory sits in a quarantine that counts in RSS: the
// daemon of these tests runs without one, so that RSS shows what it keeps.
class WatchMemoryTest : public IpcdTest {
 protected:
  void SetUp() override {
    const char* old = std::getenv("ASAN_OPTIONS");
    const std::string saved = old != nullptr ? old : "";
    ::setenv("ASAN_OPTIONS",
             (saved + (saved.empty() ? "" : ":") +
              "quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
                 .c_str(),
             1);
    IpcdTest::SetUp();
    if (old != nullptr) {
      ::setenv("ASAN_OPTIONS", saved.c_str(), 1);
    } else {
      ::unsetenv("ASAN_OPTIONS");
    }
  }
};

TEST_F(WatchMemoryTest, SilentWatchersOfABigListCostNoMemory) {
  // A list of 64 KiB: 64 items of 1 KiB.
  for (int i = 0; i < 64; ++i) {
    v1::Call append = MakeCall("L", v1::LIST, v1::APPEND);
    *append.mutable_value() = BytesValue(std::string(1024, 'a'));
    ASSERT_EQ(CodeOf(client_.Call(append)), v1::OK);
  }
  v1::Call append = MakeCall("L", v1::LIST, v1::APPEND);
  *append.mutable_value() = IntValue(1);
  auto time_appends = [&](int n) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) EXPECT_EQ(CodeOf(client_.Call(append)), v1::OK);
    return std::chrono::steady_clock::now() - start;
  };
  // The baseline: the same appends with no watcher.
  const auto alone = time_appends(30);
  std::vector<RawClient> watchers;
  watchers.push_back(RawClient::Open(daemon_.url()));
  for (uint64_t n = 1; n <= 1024; ++n) {
    ASSERT_TRUE(Watch(watchers.back(), n, "L").has_event()) << n;
  }
  const int64_t before = RssKib(daemon_.pid());
  // Watchers that stop reading: the first append fills their backlog.
  const auto took = time_appends(30);
  const int64_t after = RssKib(daemon_.pid());
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::printf("RSS %lld KiB -> %lld KiB; 30 appends took %lld ms (%lld ms "
              "with no silent watcher)\n",
              static_cast<long long>(before), static_cast<long long>(after),
              static_cast<long long>(duration_cast<milliseconds>(took).count()),
              static_cast<long long>(duration_cast<milliseconds>(alone).count()));
  EXPECT_LT(after - before, 16 * 1024)
      << "silent watchers made the daemon grow by " << (after - before) << " KiB";
  // (How long the appends took is printed, not asserted: timings are for
  // benchmarks.) What the daemon kept is only a count: once read, each
  // watch accounts for the 30 appends, sent or missed.
  std::vector<Tally> tallies(1025);
  int resynced = 0;
  while (resynced < 1024) {
    auto r = watchers.back().Receive(std::chrono::seconds(10));
    ASSERT_TRUE(r.ok()) << r.status() << " with " << resynced << " resynced";
    const uint64_t n = r->id() - kWatchIds;
    ASSERT_TRUE(n >= 1 && n <= 1024) << r->DebugString();
    Count(tallies[n], *r);
    if (tallies[n].changes + tallies[n].missed == 30) ++resynced;
  }
  for (uint64_t n = 1; n <= 1024; ++n) {
    EXPECT_EQ(tallies[n].changes + tallies[n].missed, 30) << "watch " << n;
  }
  watchers.clear();
  EXPECT_TRUE(WaitForWatches(client_, 0));
}

// The daemon's CPU time so far, in clock ticks (utime + stime).
int64_t CpuTicks(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return -1;
  char buf[2048];
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  // Fields after the name: state is field 3; utime 14, stime 15.
  int field = 2;
  long long utime = 0, stime = 0;
  for (const char* q = p + 1; *q != 0; ++q) {
    if (*q == ' ') {
      ++field;
      if (field == 14) utime = std::atoll(q + 1);
      if (field == 15) stime = std::atoll(q + 1);
    }
  }
  return utime + stime;
}

// Measurement (run with --gtest_also_run_disabled_tests): 16 silent
// connections with 1024 watches each on one counter.
TEST_F(WatchMemoryTest, DISABLED_MeasureManySilentConnections) {
  RawClient other = RawClient::Open(daemon_.url());
  auto time_adds = [&](int n) {
    const auto start = std::chrono::steady_clock::now();
    auto worst = std::chrono::steady_clock::duration::zero();
    for (int i = 0; i < n; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      EXPECT_EQ(CodeOf(other.Call(Add("c", 1))), v1::OK);
      worst = std::max(worst, std::chrono::steady_clock::now() - t0);
    }
    std::printf("%d adds: %lld ms, worst %lld us\n", n,
                (long long)std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start).count(),
                (long long)std::chrono::duration_cast<std::chrono::microseconds>(worst).count());
  };
  time_adds(200);
  std::vector<RawClient> watchers;
  for (int i = 0; i < 16; ++i) {
    watchers.push_back(RawClient::Open(daemon_.url()));
    for (uint64_t n = 1; n <= 1024; ++n) SendWatch(watchers.back(), n, "c");
    for (uint64_t n = 1; n <= 1024; ++n) ASSERT_TRUE(watchers.back().Receive().ok());
  }
  const int64_t rss0 = RssKib(daemon_.pid());
  time_adds(200);
  time_adds(2000);
  const int64_t rss1 = RssKib(daemon_.pid());
  const int64_t cpu0 = CpuTicks(daemon_.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t cpu1 = CpuTicks(daemon_.pid());
  std::printf("RSS %lld -> %lld KiB; idle 500 ms used %lld ticks\n", (long long)rss0,
              (long long)rss1, (long long)(cpu1 - cpu0));
  // Let them read: all 16 x 1024 watches end on the final value.
  const int64_t final_value = 2400;
  for (RawClient& w : watchers) {
    std::map<uint64_t, Tally> tallies;
    int done = 0;
    while (done < 1024) {
      auto r = w.Receive(std::chrono::seconds(5));
      ASSERT_TRUE(r.ok()) << r.status();
      Tally& t = tallies[r->id()];
      const bool was = t.last.value().int_value() == final_value;
      Count(t, *r);
      if (!was && t.last.value().int_value() == final_value) ++done;
    }
    for (const auto& [id, t] : tallies) {
      EXPECT_EQ(t.changes + t.missed, 2200) << id;
      EXPECT_TRUE(t.versions_grow) << id;
    }
  }
  std::printf("RSS after reading %lld KiB\n", (long long)RssKib(daemon_.pid()));
  time_adds(200);
  watchers.clear();
  EXPECT_TRUE(WaitForWatches(client_, 0));
}

class WatchDurableTest : public IpcdTest {
 protected:
  std::vector<std::string> DaemonArgs() const override {
    return {"--state-dir", dir_, "--fsync", "always"};
  }
  void SetUp() override {
    char tmpl[] = "/tmp/watch-attack-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    IpcdTest::SetUp();
  }
  void TearDown() override {
    IpcdTest::TearDown();
    std::system(("rm -rf " + dir_).c_str());
  }
  std::string dir_;
};

// Under --fsync always, a silent watcher's accounting holds too, and a
// dict watch follows batches, clears and destroys in order.
TEST_F(WatchDurableTest, AccountingHoldsUnderFsyncAlways) {
  RawClient w = RawClient::Open(daemon_.url());
  for (uint64_t n = 1; n <= 1024; ++n) SendWatch(w, n, n % 2 ? "c" : "d");
  for (uint64_t n = 1; n <= 1024; ++n) ASSERT_TRUE(w.Receive().ok());
  int64_t made_c = 0, made_d = 0;
  for (int b = 0; b < 4; ++b) {
    v1::Batch batch;
    for (int i = 0; i < 300; ++i) {
      if (i % 3 == 0) {
        *batch.add_calls() = Set("d", "k" + std::to_string(i % 7), IntValue(i));
        ++made_d;
      } else {
        *batch.add_calls() = Add("c", 1);
        ++made_c;
      }
    }
    ASSERT_EQ(CodeOf(client_.Batch(batch)), v1::OK);
  }
  ASSERT_EQ(CodeOf(client_.Call(Set("d", "end", IntValue(1)))), v1::OK);
  ++made_d;
  std::map<uint64_t, Tally> tallies;
  int done = 0;
  auto finished = [&](uint64_t id, const Tally& t) {
    if (id % 2) return t.last.value().int_value() == made_c;
    for (const v1::Entry& e : t.last.items()) {
      if (e.key() == "end") return true;
    }
    return false;
  };
  while (done < 1024) {
    auto r = w.Receive(std::chrono::seconds(5));
    ASSERT_TRUE(r.ok()) << r.status() << " done " << done;
    const uint64_t id = r->id() - kWatchIds;
    Tally& t = tallies[id];
    const bool was = finished(id, t);
    Count(t, *r);
    if (!was && finished(id, t)) ++done;
  }
  for (const auto& [id, t] : tallies) {
    EXPECT_EQ(t.changes + t.missed, id % 2 ? made_c : made_d) << id;
    EXPECT_TRUE(t.versions_grow) << id;
  }
}

// Watchers that vanish in the middle of a storm of changes (an orderly
// close, a reset, a half-read backlog) free their watches and leave the
// daemon serving.
TEST_F(WatchStormTest, WatchersThatVanishMidStormFreeTheirWatches) {
  std::vector<RawClient> watchers;
  for (int i = 0; i < 3; ++i) {
    watchers.push_back(RawClient::Open(daemon_.url()));
    for (uint64_t n = 1; n <= 256; ++n) SendWatch(watchers.back(), n, "c");
    for (uint64_t n = 1; n <= 256; ++n) ASSERT_TRUE(watchers.back().Receive().ok());
  }
  v1::Batch batch;
  for (int i = 0; i < 1000; ++i) *batch.add_calls() = Add("c", 1);
  ASSERT_EQ(CodeOf(client_.Batch(batch)), v1::OK);
  // 0: read a little, then close. 1: reset (SO_LINGER 0). 2: plain close.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(watchers[0].Receive().ok());
  linger reset{1, 0};
  ASSERT_EQ(::setsockopt(watchers[1].channel().fd(), SOL_SOCKET, SO_LINGER,
                         &reset, sizeof(reset)),
            0);
  ASSERT_EQ(CodeOf(client_.Batch(batch)), v1::OK);
  watchers.clear();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(CodeOf(client_.Batch(batch)), v1::OK);
  EXPECT_TRUE(WaitForWatches(client_, 0));
  ExpectServing();
}

// Unwatch while events of that watch are still on their way: after its
// answer, nothing more of that watch comes.
TEST_F(WatchStormTest, NothingOfAWatchFollowsItsUnwatch) {
  for (uint64_t n = 1; n <= 1024; ++n) SendWatch(client_, n, "c");
  for (uint64_t n = 1; n <= 1024; ++n) ASSERT_TRUE(client_.Receive().ok());
  RawClient other = RawClient::Open(daemon_.url());
  v1::Batch batch;
  for (int i = 0; i < 300; ++i) *batch.add_calls() = Add("c", 1);
  ASSERT_EQ(CodeOf(other.Batch(batch)), v1::OK);
  v1::Request unwatch;
  unwatch.set_id(7);
  unwatch.mutable_unwatch()->set_watch_id(kWatchIds + 5);
  ASSERT_TRUE(client_.Send(unwatch).ok());
  bool answered = false;
  for (int i = 0; i < 2000000; ++i) {
    auto r = client_.Receive(std::chrono::seconds(5));
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->id() == 7) {
      EXPECT_EQ(CodeOf(*r), v1::OK);
      answered = true;
      ASSERT_EQ(CodeOf(other.Batch(batch)), v1::OK);
      continue;
    }
    if (answered) {
      EXPECT_NE(r->id(), kWatchIds + 5) << "an event after the Unwatch";
      // Done once watch 6 has seen the last change.
      if (r->id() == kWatchIds + 6 && r->event().value().int_value() == 600) break;
    }
  }
  EXPECT_TRUE(answered);
  EXPECT_EQ(other.Stats().stats().watches(), 1023);
}

// --------------------------------------------------------------------------
// Names, kinds and keys.

class WatchNamesTest : public IpcdTest {};

// A Watch pipelined behind a parked ACQUIRE is answered in its turn, after
// the ACQUIRE: its first event shows the state then, and the change made
// while it waited is in that state, not sent as an event.
TEST_F(WatchNamesTest, AWatchBehindAParkedRequestStartsInItsTurn) {
  RawClient holder = RawClient::Open(daemon_.url());
  ASSERT_EQ(CodeOf(holder.Call(MakeCall("L", v1::LOCK, v1::ACQUIRE))), v1::OK);
  const uint64_t acquire = client_.SendCall(MakeCall("L", v1::LOCK, v1::ACQUIRE));
  SendWatch(client_, 1, "c");
  ASSERT_TRUE(WaitForWaiters(holder, "L", 1));
  ASSERT_EQ(CodeOf(holder.Call(Add("c", 5))), v1::OK);
  ASSERT_EQ(CodeOf(holder.Call(MakeCall("L", v1::LOCK, v1::RELEASE))), v1::OK);
  auto a = client_.Receive();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->id(), acquire);
  EXPECT_EQ(CodeOf(*a), v1::OK);
  auto w = client_.Receive();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->id(), kWatchIds + 1);
  EXPECT_TRUE(w->event().resync());
  EXPECT_EQ(w->event().value().int_value(), 5);
}

// An object watch follows its name through a destroy and a remaking as
// another kind; a key watch sees its dict go and ignores the counter.
TEST_F(WatchNamesTest, DestroyAndRemakeAsAnotherKind) {
  ASSERT_EQ(CodeOf(client_.Call(Set("n", "k", IntValue(1)))), v1::OK);
  RawClient w = RawClient::Open(daemon_.url());
  ASSERT_TRUE(Watch(w, 1, "n").event().exists());
  ASSERT_EQ(Watch(w, 2, "n", "k").event().value().int_value(), 1);
  ASSERT_EQ(CodeOf(client_.Call(MakeCall("n", v1::KIND_UNSPECIFIED, v1::DESTROY))),
            v1::OK);
  ASSERT_EQ(CodeOf(client_.Call(Add("n", 7))), v1::OK);
  ASSERT_EQ(CodeOf(client_.Call(MakeCall("n", v1::KIND_UNSPECIFIED, v1::DESTROY))),
            v1::OK);
  ASSERT_EQ(CodeOf(client_.Call(Set("n", "k", IntValue(2)))), v1::OK);
  std::map<uint64_t, std::vector<v1::WatchEvent>> got;
  for (const v1::Response& r : CallCollecting(w, MakeCall("x", v1::COUNTER, v1::GET))) {
    if (r.has_event()) got[r.id()].push_back(r.event());
  }
  const auto& whole = got[kWatchIds + 1];
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole[0].op(), v1::DESTROY);
  EXPECT_FALSE(whole[0].exists());
  EXPECT_EQ(whole[1].kind(), v1::COUNTER);
  EXPECT_EQ(whole[1].value().int_value(), 7);
  EXPECT_EQ(whole[2].op(), v1::DESTROY);
  EXPECT_EQ(whole[3].kind(), v1::DICT);
  const auto& key = got[kWatchIds + 2];
  ASSERT_EQ(key.size(), 3u);
  EXPECT_FALSE(key[0].exists());
  EXPECT_EQ(key[0].op(), v1::DESTROY);
  EXPECT_EQ(key[1].op(), v1::DESTROY) << "the counter's destroy frees the name";
  EXPECT_EQ(key[2].value().int_value(), 2);
}

// A key watch of a namespace sees its key only.
TEST_F(WatchNamesTest, AKeyWatchOfANamespace) {
  v1::Call set = MakeCall("ns", v1::NAMESPACE, v1::SET);
  set.set_key("a");
  *set.mutable_value() = IntValue(1);
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  RawClient w = RawClient::Open(daemon_.url());
  ASSERT_EQ(Watch(w, 1, "ns", "b").event().exists(), false);
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  set.set_key("b");
  *set.mutable_value() = IntValue(2);
  ASSERT_EQ(CodeOf(client_.Call(set)), v1::OK);
  const std::vector<v1::Response> got =
      CallCollecting(w, MakeCall("x", v1::COUNTER, v1::GET));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event().op(), v1::SET);
  EXPECT_EQ(got[0].event().value().int_value(), 2);
}

// --------------------------------------------------------------------------
// The C++ client: ipc::Watcher after Close and after the daemon died.

class WatcherClientTest : public IpcdTest {};

TEST_F(WatcherClientTest, AClosedWatcherSaysSoAndHasNoDescriptor) {
  Result<Manager> m = Manager::Connect(daemon_.url());
  ASSERT_TRUE(m.ok()) << m.status();
  Result<Watcher> w = m->Watch("c");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_GE(w->fd(), 0);
  ASSERT_TRUE(w->Next(Deadline::After(std::chrono::seconds(5))).ok());
  w->Close();
  EXPECT_EQ(w->fd(), -1);
  EXPECT_EQ(w->Next(Deadline::After(std::chrono::seconds(5))).status().code(),
            ErrorCode::kClosed);
  EXPECT_EQ(w->Poll().status().code(), ErrorCode::kClosed);
  w->Close();  // Twice is fine.
  EXPECT_TRUE(WaitForWatches(client_, 0));
}

// The daemon killed under a watcher: kClosed once, then the next call
// tries to reconnect and fails (no daemon) without hanging past its
// deadline.
TEST_F(WatcherClientTest, AWatcherWhoseDaemonWasKilledFailsPromptly) {
  Result<Manager> m = Manager::Connect(daemon_.url());
  ASSERT_TRUE(m.ok()) << m.status();
  Result<Watcher> w = m->Watch("c");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Next(Deadline::After(std::chrono::seconds(5))).ok());
  daemon_.Kill();
  Result<WatchEvent> lost = w->Next(Deadline::After(std::chrono::seconds(5)));
  EXPECT_EQ(lost.status().code(), ErrorCode::kClosed) << lost.status();
  // No daemon to reconnect to: no socket file, so no wait either.
  Result<WatchEvent> again = w->Next(Deadline::After(std::chrono::seconds(2)));
  EXPECT_EQ(again.status().code(), ErrorCode::kNotFound) << again.status();
  (void)w->Poll();
  (void)w->fd();
}

}  // namespace
}  // namespace ipc::testing
