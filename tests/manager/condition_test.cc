// Manager against a real ipcd: conditions bound to a daemon lock — wait
// and notify across connections and processes, timeouts that re-acquire
// the lock, waiters that die, and the errors for misuse.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "manager/manager_fixture.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ManagerConditionTest = ManagerTest;

// What the daemon lists for name (a default ManagedObject when absent).
ManagedObject InfoOf(Manager& observer, const std::string& name) {
  auto objects = observer.ListObjects(name);
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (objects.ok()) {
    for (const ManagedObject& o : *objects) {
      if (o.name == name) return o;
    }
  }
  return ManagedObject{};
}

// Waits, on the daemon's answers, until its listing of name satisfies done.
void AwaitInfo(Manager& observer, const std::string& name,
               const std::function<bool(const ManagedObject&)>& done) {
  while (!done(InfoOf(observer, name))) std::this_thread::yield();
}

// Waits until n requests are parked on name.
void AwaitWaiters(Manager& observer, const std::string& name, int64_t n) {
  AwaitInfo(observer, name,
            [n](const ManagedObject& o) { return o.waiters == n; });
}

// A client of its own that takes the lock, waits on the condition and
// releases the lock again, on a thread.
class Waiter {
 public:
  Waiter(std::optional<Manager> manager, std::string condition,
         std::string lock, Deadline deadline = Deadline::After(seconds(30)))
      : manager_(std::move(manager)) {
    thread_ = std::thread([this, condition, lock, deadline] {
      auto guard = manager_->Lock(lock).Acquire(seconds(30));
      if (!guard.ok()) {
        status_ = guard.status();
        done_ = true;
        return;
      }
      status_ = manager_->Condition(condition, lock).Wait(deadline);
      // The lock is held again after any Wait but a failed one.
      held_after_ = guard->Release().ok();
      done_ = true;
    });
  }
  ~Waiter() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  // After Join().
  const Status& status() const { return status_; }
  bool held_after() const { return held_after_; }
  bool done() const { return done_; }
  Manager& manager() { return *manager_; }

 private:
  std::optional<Manager> manager_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Status status_ = Status(ErrorCode::kInternal, "not run");
  bool held_after_ = false;
};

TEST_F(ManagerConditionTest, AConsumerProcessWaitsForWhatAProducerMakes) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond"),
                    jobs = Name("jobs");
  const pid_t consumer = ForkChild([&] {
    auto lock = manager().Lock(lock_name);  // The child's own connection.
    auto ready = manager().Condition(cond_name, lock);
    auto count = manager().Counter(jobs);
    auto guard = lock.Acquire(seconds(30));
    if (!guard.ok()) return 1;
    Status got = ready.WaitFor(
        [&]() -> Result<bool> {
          IPC_ASSIGN_OR_RETURN(int64_t n, count.Get());
          return n >= 3;
        },
        seconds(30));
    if (!got.ok()) return 2;
    // Still holding the lock: the producer cannot have added a fourth.
    if (count.Get().value_or(-1) != 3) return 3;
    (void)count.Add(100);
    return guard->Release().ok() ? 0 : 4;
  });
  auto lock = manager().Lock(lock_name);
  auto ready = manager().Condition(cond_name, lock);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  ASSERT_OK(ready.Create());
  ASSERT_OK(lock.Release());
  AwaitWaiters(manager(), cond_name, 1);
  for (int i = 0; i < 3; ++i) {
    auto guard = lock.Acquire(seconds(30));
    ASSERT_OK(guard);
    ASSERT_OK(manager().Counter(jobs).Add(1));
    ASSERT_OK(ready.Notify());
  }
  EXPECT_EQ(WaitChild(consumer), 0);
  EXPECT_EQ(*manager().Counter(jobs).Get(), 103);
}

TEST_F(ManagerConditionTest,
       NotifyOneWakesTheOldestWaiterOnlyAndNotifyAllTheRest) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond");
  Waiter first(Connect(), cond_name, lock_name);
  AwaitWaiters(manager(), cond_name, 1);
  Waiter second(Connect(), cond_name, lock_name);
  Waiter third(Connect(), cond_name, lock_name);
  AwaitWaiters(manager(), cond_name, 3);
  auto lock = manager().Lock(lock_name);
  auto cond = manager().Condition(cond_name, lock);
  {
    auto guard = lock.Acquire(seconds(30));
    ASSERT_OK(guard);
    auto woken = cond.Notify(1);
    ASSERT_OK(woken);
    EXPECT_EQ(*woken, 1);
  }
  first.Join();
  ASSERT_OK(first.status());
  EXPECT_TRUE(first.held_after());
  const ManagedObject info = InfoOf(manager(), cond_name);
  EXPECT_EQ(info.kind, "condition");
  EXPECT_EQ(info.waiters, 2) << "one notify woke one waiter";
  EXPECT_EQ(info.size, 2);
  {
    auto guard = lock.Acquire(seconds(30));
    ASSERT_OK(guard);
    auto woken = cond.NotifyAll();
    ASSERT_OK(woken);
    EXPECT_EQ(*woken, 2);
    EXPECT_EQ(*cond.NotifyAll(), 0) << "nobody waits for a notify any more";
  }
  second.Join();
  third.Join();
  ASSERT_OK(second.status());
  ASSERT_OK(third.status());
  EXPECT_TRUE(second.held_after() && third.held_after());
}

TEST_F(ManagerConditionTest, NotifyWithNWakesNInOneCall) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond");
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(
        std::make_unique<Waiter>(Connect(), cond_name, lock_name));
    AwaitWaiters(manager(), cond_name, i + 1);
  }
  auto lock = manager().Lock(lock_name);
  auto guard = lock.Acquire(seconds(30));
  ASSERT_OK(guard);
  EXPECT_EQ(*manager().Condition(cond_name, lock).Notify(2), 2);
  ASSERT_OK(guard->Release());
  waiters[0]->Join();
  waiters[1]->Join();
  ASSERT_OK(waiters[0]->status());
  ASSERT_OK(waiters[1]->status());
  EXPECT_EQ(InfoOf(manager(), cond_name).waiters, 1);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  EXPECT_EQ(*manager().Condition(cond_name, lock).Notify(5), 1);
  ASSERT_OK(lock.Release());
  waiters[2]->Join();
  ASSERT_OK(waiters[2]->status());
}

TEST_F(ManagerConditionTest, ATimedOutWaitGetsTheLockBackBeforeItAnswers) {
  auto lock = manager().Lock(Name("lock"));
  auto cond = manager().Condition(Name("cond"), lock);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  EXPECT_CODE(cond.Wait(Deadline::Now()), ErrorCode::kDeadlineExceeded);
  EXPECT_CODE(cond.Wait(milliseconds(50)), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(InfoOf(manager(), lock.name()).size, 1) << "held again";
  ASSERT_OK(lock.Release());

  // The lock is taken by someone else while the waiter waits: its timeout
  // passes, and it is answered only once that one lets the lock go. (On a
  // machine so slow that the timeout passed before the lock was taken
  // here, the waiter is done already and only its answer is checked.)
  Waiter waiter(Connect(), cond.name(), lock.name(),
                Deadline::After(milliseconds(200)));
  AwaitWaiters(manager(), cond.name(), 1);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  AwaitInfo(manager(), lock.name(), [&](const ManagedObject& o) {
    return o.waiters == 1 || waiter.done();
  });
  if (!waiter.done()) {
    EXPECT_EQ(InfoOf(manager(), cond.name()).waiters, 0)
        << "timed out, queued for the lock";
    EXPECT_FALSE(waiter.done()) << "not answered without the lock";
  }
  ASSERT_OK(lock.Release());
  waiter.Join();
  EXPECT_CODE(waiter.status(), ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(waiter.held_after());
}

TEST_F(ManagerConditionTest,
       ANotifiedWaiterQueuesBehindThoseAlreadyWaitingForTheLock) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond");
  auto order = manager().List(Name("order"));
  auto waiter_manager = Connect();
  Status waited = Status(ErrorCode::kInternal, "not run");
  std::thread waiter([&] {
    auto lock = waiter_manager->Lock(lock_name);
    if (!lock.AcquireRaw(seconds(30)).ok()) return;
    waited = waiter_manager->Condition(cond_name, lock).Wait(seconds(30));
    (void)waiter_manager->List(order.name()).Append("waiter");
    (void)lock.Release();
  });
  AwaitWaiters(manager(), cond_name, 1);
  auto lock = manager().Lock(lock_name);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  auto acquirer_manager = Connect();
  std::thread acquirer([&] {
    auto other = acquirer_manager->Lock(lock_name);
    if (!other.AcquireRaw(seconds(30)).ok()) return;
    (void)acquirer_manager->List(order.name()).Append("acquirer");
    (void)other.Release();
  });
  AwaitWaiters(manager(), lock_name, 1);
  EXPECT_EQ(*manager().Condition(cond_name, lock).Notify(), 1);
  AwaitWaiters(manager(), lock_name,
               2);  // The notified waiter joined the line.
  ASSERT_OK(lock.Release());
  acquirer.join();
  waiter.join();
  ASSERT_OK(waited);
  auto items = order.Slice();
  ASSERT_OK(items);
  EXPECT_EQ(*items, (Value::List{"acquirer", "waiter"}));
}

TEST_F(ManagerConditionTest, WaitAndNotifyNeedTheLockHeldByTheCaller) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond");
  auto lock = manager().Lock(lock_name);
  auto cond = manager().Condition(cond_name, lock);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  ASSERT_OK(cond.Create());
  ASSERT_OK(lock.Release());
  const Status free_wait = cond.Wait(seconds(5));
  EXPECT_CODE(free_wait, ErrorCode::kInvalidArgument);
  EXPECT_NE(free_wait.message().find("condition '" + cond_name + "'"),
            std::string::npos)
      << free_wait;
  EXPECT_NE(free_wait.message().find("'" + lock_name + "'"), std::string::npos)
      << free_wait;
  EXPECT_NE(free_wait.message().find("it is free"), std::string::npos)
      << free_wait;
  EXPECT_CODE(cond.Notify(), ErrorCode::kInvalidArgument);
  EXPECT_CODE(cond.NotifyAll(), ErrorCode::kInvalidArgument);
  EXPECT_CODE(cond.WaitFor([] { return false; }, seconds(5)),
              ErrorCode::kInvalidArgument);

  auto other = Connect();
  ASSERT_TRUE(other);
  ASSERT_OK(other->Lock(lock_name).AcquireRaw(seconds(30)));
  const Status held_elsewhere = cond.Wait(seconds(5));
  EXPECT_CODE(held_elsewhere, ErrorCode::kInvalidArgument);
  EXPECT_NE(held_elsewhere.message().find("another connection holds it"),
            std::string::npos)
      << held_elsewhere;
}

TEST_F(ManagerConditionTest,
       WaitForReturnsAtOnceWhenThePredicateHoldsAndStopsOnItsError) {
  auto lock = manager().Lock(Name("lock"));
  auto cond = manager().Condition(Name("cond"), lock);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  ASSERT_OK(cond.WaitFor([] { return true; }, Deadline::Now()));
  EXPECT_CODE(cond.WaitFor([] { return false; }, Deadline::Now()),
              ErrorCode::kDeadlineExceeded);
  int asked = 0;
  EXPECT_CODE(cond.WaitFor(
                  [&] {
                    ++asked;
                    return false;
                  },
                  milliseconds(50)),
              ErrorCode::kDeadlineExceeded);
  EXPECT_GE(asked, 2) << "asked before waiting and once more after the timeout";
  EXPECT_CODE(
      cond.WaitFor(
          []() -> Result<bool> { return Status(ErrorCode::kNotFound, "x"); },
          seconds(5)),
      ErrorCode::kNotFound);
  ASSERT_OK(lock.Release());
}

TEST_F(ManagerConditionTest, AKilledWaiterIsDroppedAndTheNotifyGoesToALiveOne) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond");
  const pid_t child = ForkChild([&] {
    auto lock = manager().Lock(lock_name);
    if (!lock.AcquireRaw(seconds(30)).ok()) return 1;
    (void)manager().Condition(cond_name, lock).Wait(seconds(60));
    return 2;  // Killed before.
  });
  AwaitWaiters(manager(), cond_name, 1);
  Waiter live(Connect(), cond_name, lock_name);
  AwaitWaiters(manager(), cond_name, 2);
  ::kill(child, SIGKILL);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  auto lock = manager().Lock(lock_name);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  ASSERT_OK(manager().Condition(cond_name, lock).Notify(1));
  ASSERT_OK(lock.Release());
  live.Join();
  ASSERT_OK(live.status());
  EXPECT_TRUE(live.held_after());
  const ManagedObject info = InfoOf(manager(), cond_name);
  EXPECT_EQ(info.waiters, 0);
  EXPECT_EQ(info.size, 0) << "the dead waiter is gone too";
}

TEST_F(ManagerConditionTest, AWaiterWhoseConnectionClosesNeverGetsTheLock) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond");
  const pid_t child = ForkChild([&] {
    auto lock = manager().Lock(lock_name);
    if (!lock.AcquireRaw(seconds(30)).ok()) return 1;
    (void)manager().Condition(cond_name, lock).Wait(seconds(60));
    return 2;
  });
  AwaitWaiters(manager(), cond_name, 1);
  auto lock = manager().Lock(lock_name);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  ::kill(child, SIGKILL);
  EXPECT_EQ(WaitChild(child), 128 + SIGKILL);
  // The daemon notices the closed connection by itself.
  AwaitWaiters(manager(), cond_name, 0);
  EXPECT_EQ(*manager().Condition(cond_name, lock).NotifyAll(), 0);
  ASSERT_OK(lock.Release());
  EXPECT_EQ(InfoOf(manager(), lock_name).size, 0) << "nobody took the lock";
}

TEST_F(ManagerConditionTest, AMissingLockOrAnotherKindIsAClearError) {
  const std::string cond_name = Name("cond");
  const Status missing =
      manager().Condition(cond_name, Name("nolock")).Create();
  EXPECT_CODE(missing, ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos)
      << missing;
  EXPECT_CODE(manager().Condition(cond_name, Name("nolock")).Notify(),
              ErrorCode::kNotFound);
  EXPECT_CODE(manager().Condition(cond_name, Name("nolock")).Wait(seconds(5)),
              ErrorCode::kNotFound);
  EXPECT_TRUE(InfoOf(manager(), cond_name).name.empty())
      << "a failed first use made nothing";

  const std::string dict = Name("dict");
  ASSERT_OK(manager().Dict(dict).Set("k", 1));
  const Status wrong = manager().Condition(cond_name, dict).Create();
  EXPECT_CODE(wrong, ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("is a dict, not a lock or rlock"),
            std::string::npos)
      << wrong;

  const std::string lock_name = Name("lock");
  ASSERT_OK(manager().Lock(lock_name).AcquireRaw(seconds(30)));
  ASSERT_OK(manager().Condition(cond_name, lock_name).Create());
  const std::string other_name = Name("other");
  ASSERT_OK(manager().Lock(other_name).AcquireRaw(seconds(30)));
  const Status rebound =
      manager().Condition(cond_name, other_name).Notify().status();
  EXPECT_CODE(rebound, ErrorCode::kInvalidArgument);
  EXPECT_NE(rebound.message().find("is bound to lock '" + lock_name + "'"),
            std::string::npos)
      << rebound;
  EXPECT_CODE(manager().Counter(cond_name).Get(), ErrorCode::kInvalidArgument);
  // Named without its lock, an existing condition says which it has.
  auto unbound = manager().Condition(cond_name, "");
  EXPECT_EQ(unbound.BoundLock().value_or(""), lock_name);
  EXPECT_EQ(unbound.Waiting().value_or(-1), 0);
  EXPECT_CODE(manager().Condition(Name("none"), "").BoundLock(),
              ErrorCode::kNotFound);
}

TEST_F(ManagerConditionTest, NotifyCountsBelowOneAreRefused) {
  auto lock = manager().Lock(Name("lock"));
  auto cond = manager().Condition(Name("cond"), lock);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  for (int64_t n : {0, -1}) {
    const Status refused = cond.Notify(n).status();
    EXPECT_CODE(refused, ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.message().find("count >= 1, not " + std::to_string(n)),
              std::string::npos)
        << refused;
  }
  ASSERT_OK(lock.Release());
}

TEST_F(ManagerConditionTest, AnRLockComesBackWithAllItsHolds) {
  auto rlock = manager().RLock(Name("rlock"));
  auto cond = manager().Condition(Name("cond"), rlock);
  ASSERT_OK(rlock.AcquireRaw(seconds(30)));
  ASSERT_OK(rlock.AcquireRaw(seconds(30)));
  EXPECT_CODE(cond.Wait(milliseconds(20)), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(InfoOf(manager(), rlock.name()).size, 2);
  ASSERT_OK(rlock.Release());
  ASSERT_OK(rlock.Release());
  EXPECT_CODE(rlock.Release(), ErrorCode::kInvalidArgument);
}

TEST_F(ManagerConditionTest, AWaiterWhoseLockIsDestroyedGetsClosed) {
  const std::string lock_name = Name("lock"), cond_name = Name("cond");
  Waiter waiter(Connect(), cond_name, lock_name);
  AwaitWaiters(manager(), cond_name, 1);
  auto lock = manager().Lock(lock_name);
  ASSERT_OK(lock.AcquireRaw(seconds(30)));
  ASSERT_OK(manager().Condition(cond_name, lock).Notify());
  AwaitWaiters(manager(), lock_name, 1);  // Notified, queued for the lock.
  ASSERT_OK(manager().Destroy(lock_name));
  waiter.Join();
  EXPECT_CODE(waiter.status(), ErrorCode::kClosed);
  EXPECT_FALSE(waiter.held_after());

  // The same connection waits anew on a new lock of that name.
  Manager& again = waiter.manager();
  auto new_lock = again.Lock(lock_name);
  EXPECT_CODE(again.Condition(cond_name, new_lock).Wait(seconds(5)),
              ErrorCode::kNotFound);
  ASSERT_OK(new_lock.AcquireRaw(seconds(30)));
  EXPECT_CODE(again.Condition(cond_name, new_lock).Wait(milliseconds(20)),
              ErrorCode::kDeadlineExceeded);
  ASSERT_OK(new_lock.Release());
}

}  // namespace
}  // namespace ipc::testing
