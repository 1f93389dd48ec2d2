// The kill sweep (kill_sweep.h) over ipc::Condition and ipc::RecursiveMutex:
// a notifier killed at every instruction of lock / set the predicate /
// NotifyOne or NotifyAll / unlock, with waiters asleep in Wait; a waiter
// killed at every instruction of Wait, with a notifier blocked on the lock
// and another waiter asleep; a RecursiveMutex locked twice (nested) and
// unlocked twice, killed at every instruction.
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "ipc/condition.h"
#include "ipc/mutex.h"
#include "kill_sweep.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using namespace std::chrono_literals;

std::string Describe(const Outcome& o) {
  if (!o.finished()) return "no report";
  return CodeName(o.error()) + " (" + std::to_string(o.value) + ")" +
         (o.message().empty() ? "" : ": " + std::string(o.message()));
}

// Words shared by the parent, the traced child and the helpers (all forked
// after this mapping): the predicate the waiters wait for, and per waiter
// the number of times it evaluated it (under the lock: once per retake).
class SharedWords {
 public:
  SharedWords() {
    void* mem = ::mmap(nullptr, sizeof(Words), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) std::abort();
    words_ = new (mem) Words{};
  }
  ~SharedWords() { ::munmap(words_, sizeof(Words)); }
  SharedWords(const SharedWords&) = delete;
  SharedWords& operator=(const SharedWords&) = delete;

  bool set() const { return words_->flag.load(std::memory_order_seq_cst) != 0; }
  void Set() { words_->flag.store(1, std::memory_order_seq_cst); }
  void Reset() {
    words_->flag.store(0);
    for (auto& c : words_->checks) c.store(0);
  }
  // The predicate as waiter slot evaluates it.
  bool Check(int slot) {
    words_->checks[slot].fetch_add(1, std::memory_order_seq_cst);
    return set();
  }
  uint32_t checks(int slot) const { return words_->checks[slot].load(); }

 private:
  struct Words {
    std::atomic<uint32_t> flag;
    std::atomic<uint32_t> checks[2];
  };
  Words* words_;
};

// The parent takes the mutex as the next locker after the kill: within the
// wake bound, told that the owner died where the dead process (or none we
// know of) held it; with MarkConsistent the mutex is usable again. Returns
// the lock, or an empty one after a Fail.
MutexLock TakeAsNextLocker(Trial& t, Mutex& mutex, bool expect_owner_died,
                           bool* owner_died = nullptr) {
  Result<MutexLock> lock = mutex.Lock(std::chrono::milliseconds(t.wake_bound_ms()));
  if (!lock.ok()) {
    t.Fail("the next locker could not acquire the mutex within the wake bound",
           lock.status().ToString());
    return MutexLock();
  }
  if (owner_died) *owner_died = lock->previous_owner_died();
  if (expect_owner_died && !lock->previous_owner_died()) {
    t.Fail("the holder died holding the mutex, but the next locker was not told");
  }
  if (lock->previous_owner_died() && !lock->MarkConsistent().ok()) {
    t.Fail("MarkConsistent failed after an owner's death");
  }
  return std::move(*lock);
}

// The mutex is free and healthy: TryLock succeeds without an owner death.
void CheckUsable(Trial& t, Mutex& mutex) {
  Result<MutexLock> again = mutex.TryLock();
  if (!again.ok() || again->previous_owner_died()) {
    t.Fail("the mutex is not usable after the kill",
           again.ok() ? "owner death reported again" : again.status().ToString());
  }
}

// ---------------------------------------------------------------------------
// Condition: the notifier killed.

// The notifier's operation, killed at every instruction: Lock, set the
// predicate, notify, Unlock; NotifyOne is called holding the lock, NotifyAll
// after unlocking (both orders are common). One or two waiters are asleep
// in the predicate form of Wait. After the kill: if the predicate is set
// (the commit is visible), every waiter must return OK within the wake
// bound (the predicate form re-checks every slice, so a notifier killed
// before or in its notify does not strand them; one killed holding the
// lock hands it over as an owner death). Then the mutex must be usable by
// the next locker (the parent), which stands in for the notifier where the
// commit was not visible; the waiters then must return OK.
class ConditionNotifyCase : public SweepCase {
 public:
  explicit ConditionNotifyCase(bool all) : all_(all) {}

  void Setup(Trial& t) override {
    flag_.Reset();
    mutex_name_ = UniqueName("ksweep-cvm");
    cond_name_ = UniqueName("ksweep-cv");
    auto m = Mutex::Create(mutex_name_);
    if (!m.ok()) return t.Fail("setup: create mutex", m.status().ToString());
    mutex_ = std::move(*m);
    auto c = Condition::Create(cond_name_);
    if (!c.ok()) return t.Fail("setup: create condition", c.status().ToString());
    cond_ = std::move(*c);
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Result<MutexLock> lock = mutex_.Lock(5s);
    if (!lock.ok()) {
      page.op.Report(lock.status().code(), 0, "lock");
      return 0;
    }
    flag_.Set();
    Status s;
    if (all_) {
      s = lock->Unlock();
      if (s.ok()) s = cond_.NotifyAll();
    } else {
      s = cond_.NotifyOne();
      Status u = lock->Unlock();
      if (s.ok()) s = u;
    }
    page.op.Report(s.code());
    return 0;
  }

  void Stopped(Trial& t) override {
    for (int slot = 0; slot < waiters(); ++slot) {
      t.StartHelper(slot, [this, &t, slot] { return Waiter(slot, t.page().helpers[slot]); });
      t.WaitHelperAsleep(slot, "waiter " + std::to_string(slot) + " in Wait");
    }
  }

  void Check(Trial& t) override {
    const Outcome& op = t.page().op;
    const bool committed = flag_.set();
    if (!t.killed() && (op.error() != ErrorCode::kOk || !committed)) {
      t.Fail("the notify sequence failed when not killed", Describe(op));
    }
    bool asleep[2] = {false, false};
    for (int slot = 0; slot < waiters(); ++slot) {
      const HelperState state = t.WaitHelper(slot, [this] { return !flag_.set(); });
      const Outcome& h = t.page().helpers[slot];
      if (state == HelperState::kStuck) {
        t.Fail("a waiter asleep in Wait was not woken although the predicate was set",
               "waiter " + std::to_string(slot));
      } else if (state == HelperState::kExited &&
                 (!h.finished() || h.error() != ErrorCode::kOk)) {
        t.Fail("a waiter's Wait failed", Describe(h));
      } else if (state == HelperState::kAsleep) {
        asleep[slot] = true;
      }
    }
    if (!committed && t.killed()) {
      // Let each sleeping waiter retake the lock once (getting kOwnerDead
      // where the notifier died holding it, then repairing and waiting
      // again) and re-check the predicate, which is still false, before
      // the parent locks.
      for (int slot = 0; slot < waiters(); ++slot) {
        if (!asleep[slot]) continue;
        const uint32_t seen = flag_.checks(slot);
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::milliseconds(t.wake_bound_ms());
        const Outcome& h = t.page().helpers[slot];
        while (flag_.checks(slot) == seen && !h.finished() &&
               std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(200us);
        }
        if (flag_.checks(slot) == seen && !h.finished()) {
          t.Fail("a waiter asleep in Wait(pred) did not re-check its predicate within the "
                 "wake bound");
        }
        const HelperState state = t.WaitHelper(slot, [] { return true; });
        if (state == HelperState::kExited) {
          asleep[slot] = false;
          t.Fail("a waiter's Wait failed while the predicate stayed false after the "
                 "notifier died",
                 Describe(t.page().helpers[slot]));
        }
      }
    }
    {
      // The parent is the next locker; where the commit was not visible it
      // stands in for the notifier.
      MutexLock lock = TakeAsNextLocker(t, mutex_, /*expect_owner_died=*/false);
      if (!lock.owns_lock()) return t.KillHelpers();
      flag_.Set();
      if (!cond_.NotifyAll().ok()) t.Fail("NotifyAll failed after the kill");
      (void)lock.Unlock();
    }
    for (int slot = 0; slot < waiters(); ++slot) {
      if (!asleep[slot]) continue;
      const HelperState state = t.WaitHelper(slot, [] { return false; });
      const Outcome& h = t.page().helpers[slot];
      if (state == HelperState::kStuck) {
        t.Fail("a waiter stays asleep after the next locker set the predicate and notified",
               "waiter " + std::to_string(slot));
      } else if (!h.finished() || h.error() != ErrorCode::kOk) {
        t.Fail("a waiter's Wait failed after the next locker notified", Describe(h));
      }
    }
    t.KillHelpers();
    CheckUsable(t, mutex_);
  }

  void Teardown(Trial&) override {
    mutex_ = Mutex();
    cond_ = Condition();
    (void)Mutex::Unlink(mutex_name_);
    (void)Condition::Unlink(cond_name_);
  }

 private:
  int waiters() const { return all_ ? 2 : 1; }

  // A helper: Lock, Wait(pred), report (value 1: the owner death was
  // reported on the way), MarkConsistent where needed, Unlock.
  int Waiter(int slot, Outcome& out) {
    Result<MutexLock> lock = mutex_.Lock(30s);
    if (!lock.ok()) {
      out.Report(lock.status().code(), 0, "lock: " + lock.status().ToString());
      return 0;
    }
    // kOwnerDead: the notifier died holding the lock while we waited. The
    // lock is ours: repair (nothing to repair here) and wait on.
    bool died = false;
    Status s;
    do {
      s = cond_.Wait(*lock, 30s, [this, slot] { return flag_.Check(slot); });
      if (lock->previous_owner_died()) {
        died = true;
        if (lock->owns_lock()) (void)lock->MarkConsistent();
      }
    } while (s.code() == ErrorCode::kOwnerDead);
    out.Report(s.code(), died ? 1 : 0, s.ok() ? "" : s.ToString());
    return 0;
  }

  const bool all_;
  SharedWords flag_;
  std::string mutex_name_;
  std::string cond_name_;
  Mutex mutex_;
  Condition cond_;
};

// ---------------------------------------------------------------------------
// Condition: the waiter killed.

// Wait killed at every instruction: the traced child holds the lock and
// waits (plain form, or the predicate form) on the predicate; a notifier
// (helper 1) is blocked in Lock, and will set the predicate, unlock and
// NotifyOne once it has the lock; another waiter (helper 0, a loop of plain
// Waits) sleeps since before the child locked. After the kill: the notifier
// must get the lock within the wake bound (told of the owner death where
// the child died holding it) — never a lock held by nobody alive; the other
// waiter must return OK within the wake bound even where the child took
// the only notification and died; the next locker (the parent) acquires.
class ConditionWaitCase : public SweepCase {
 public:
  explicit ConditionWaitCase(bool predicate) : predicate_(predicate) {}

  void Setup(Trial& t) override {
    flag_.Reset();
    mutex_name_ = UniqueName("ksweep-cwm");
    cond_name_ = UniqueName("ksweep-cw");
    auto m = Mutex::Create(mutex_name_);
    if (!m.ok()) return t.Fail("setup: create mutex", m.status().ToString());
    mutex_ = std::move(*m);
    auto c = Condition::Create(cond_name_);
    if (!c.ok()) return t.Fail("setup: create condition", c.status().ToString());
    cond_ = std::move(*c);
    // The other waiter sleeps before the child takes the lock.
    t.StartHelper(0, [this, &t] { return OtherWaiter(t.page().helpers[0]); });
    t.WaitHelperAsleep(0, "the other waiter in Wait");
  }

  int Child(SweepPage& page) override {
    Result<MutexLock> lock = mutex_.Lock(5s);
    if (!lock.ok()) return 2;
    SweepBegin();
    Status s = predicate_ ? cond_.Wait(*lock, 5s, [this] { return flag_.set(); })
                          : cond_.Wait(*lock, 5s);
    page.op.Report(s.code(), lock->owns_lock() ? 1 : 0);
    return 0;  // The guard unlocks.
  }

  void Stopped(Trial& t) override {
    t.StartHelper(1, [this, &t] {
      Outcome& out = t.page().helpers[1];
      Result<MutexLock> lock = mutex_.Lock(30s);
      if (!lock.ok()) {
        out.Report(lock.status().code(), 0, "lock: " + lock.status().ToString());
        return 0;
      }
      const bool died = lock->previous_owner_died();
      if (died) (void)lock->MarkConsistent();
      flag_.Set();
      Status s = lock->Unlock();
      if (s.ok()) s = cond_.NotifyOne();
      out.Report(s.code(), died ? 1 : 0, s.ok() ? "" : s.ToString());
      return 0;
    });
    t.WaitHelperAsleep(1, "the notifier in Lock");
  }

  void Check(Trial& t) override {
    const Outcome& op = t.page().op;
    if (!t.killed() && (op.error() != ErrorCode::kOk || op.value != 1 || !flag_.set())) {
      t.Fail("Wait failed when not killed", Describe(op));
    }
    const HelperState notifier = t.WaitHelper(1, [] { return false; });
    const Outcome& n = t.page().helpers[1];
    if (notifier == HelperState::kStuck) {
      t.Fail("the notifier blocked in Lock did not get the mutex within the wake bound "
             "after the waiter was killed");
    } else if (!n.finished() || n.error() != ErrorCode::kOk) {
      t.Fail("the notifier's Lock or NotifyOne failed after the waiter was killed",
             Describe(n));
    }
    const HelperState other = t.WaitHelper(0, [this] { return !flag_.set(); });
    const Outcome& o = t.page().helpers[0];
    if (other == HelperState::kStuck) {
      t.Fail("the other waiter was not woken although the predicate was set and notified");
    } else if (other == HelperState::kExited &&
               (!o.finished() || o.error() != ErrorCode::kOk)) {
      t.Fail("the other waiter's Wait failed", Describe(o));
    }
    t.KillHelpers();
    {
      MutexLock lock = TakeAsNextLocker(t, mutex_, /*expect_owner_died=*/false);
      if (!lock.owns_lock()) return;
      if (!cond_.NotifyAll().ok()) t.Fail("NotifyAll failed after the kill");
    }
    CheckUsable(t, mutex_);
  }

  void Teardown(Trial&) override {
    mutex_ = Mutex();
    cond_ = Condition();
    (void)Mutex::Unlink(mutex_name_);
    (void)Condition::Unlink(cond_name_);
  }

 private:
  // Plain Waits until the predicate holds, repairing an owner death itself
  // (as a user's loop does); value 1: an owner death was reported.
  int OtherWaiter(Outcome& out) {
    const Deadline deadline(30s);
    Result<MutexLock> lock = mutex_.Lock(deadline);
    if (!lock.ok()) {
      out.Report(lock.status().code(), 0, "lock: " + lock.status().ToString());
      return 0;
    }
    bool died = false;
    Status s;
    while (!flag_.set()) {
      s = cond_.Wait(*lock, deadline);
      if (lock->previous_owner_died()) {
        died = true;
        (void)lock->MarkConsistent();
      }
      if (!s.ok() && s.code() != ErrorCode::kOwnerDead) break;
      if (s.code() == ErrorCode::kOwnerDead) s = Status::Ok();
    }
    out.Report(s.code(), died ? 1 : 0, s.ok() ? "" : s.ToString());
    return 0;
  }

  const bool predicate_;
  SharedWords flag_;
  std::string mutex_name_;
  std::string cond_name_;
  Mutex mutex_;
  Condition cond_;
};

// ---------------------------------------------------------------------------
// RecursiveMutex.

// After the kill: the parent, as the next locker, acquires within the wake
// bound (owner death reported where expected), MarkConsistent, locks again
// nested; after both unlocks another process gets the lock at once, with
// no owner death (the nesting count went back to zero).
void CheckRecursiveNextLocker(Trial& t, RecursiveMutex& mutex, bool expect_owner_died) {
  {
    MutexLock outer = TakeAsNextLocker(t, mutex, expect_owner_died);
    if (!outer.owns_lock()) return;
    Result<MutexLock> inner = mutex.TryLock();
    if (!inner.ok() || inner->previous_owner_died()) {
      return t.Fail("a nested lock fails after the kill",
                    inner.ok() ? "owner death reported" : inner.status().ToString());
    }
    if (!inner->Unlock().ok() || !outer.Unlock().ok()) {
      return t.Fail("the nested unlocks fail after the kill");
    }
  }
  t.StartHelper(1, [&mutex, &t] {
    Result<MutexLock> lock = mutex.TryLock();
    t.page().helpers[1].Report(lock.status().code(),
                               lock.ok() && lock->previous_owner_died() ? 1 : 0);
    return 0;
  });
  const HelperState other = t.WaitHelper(1, [] { return false; });
  const Outcome& h = t.page().helpers[1];
  if (other != HelperState::kExited || !h.finished() || h.error() != ErrorCode::kOk ||
      h.value != 0) {
    t.Fail("another process cannot take the recursive mutex after the kill and two unlocks",
           Describe(h));
  }
}

// Two nested locks of a free recursive mutex, killed at every instruction;
// the child that gets them exits holding both. Owner death must be reported
// at least from the child's mark after its first lock on.
class RecursiveLockCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    held_.Reset();
    name_ = UniqueName("ksweep-rml");
    auto m = RecursiveMutex::Create(name_);
    if (!m.ok()) return t.Fail("setup: create", m.status().ToString());
    mutex_ = std::move(*m);
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    auto first = mutex_.Acquire(5s);
    if (first.ok()) held_.Set();
    auto second = first.ok() ? mutex_.Acquire(5s) : first;
    page.op.Report(second.ok() ? ErrorCode::kOk : second.status().code());
    return 0;  // Exits holding it (twice).
  }

  void Check(Trial& t) override {
    if (!t.killed() && t.page().op.error() != ErrorCode::kOk) {
      t.Fail("the nested Locks failed when not killed", Describe(t.page().op));
    }
    CheckRecursiveNextLocker(t, mutex_, /*expect_owner_died=*/!t.killed() || held_.set());
  }

  void Teardown(Trial&) override {
    mutex_ = RecursiveMutex();
    (void)RecursiveMutex::Unlink(name_);
  }

 private:
  SharedWords held_;  // Set by the child once its first lock is held.
  std::string name_;
  RecursiveMutex mutex_;
};

// The two unlocks of a recursive mutex locked twice, killed at every
// instruction, a locker (another process) asleep in Lock: it must get the
// mutex within the wake bound, with an owner death exactly where the child
// still held it (not after the finished run).
class RecursiveUnlockCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-rmu");
    auto m = RecursiveMutex::Create(name_);
    if (!m.ok()) return t.Fail("setup: create", m.status().ToString());
    mutex_ = std::move(*m);
  }

  int Child(SweepPage& page) override {
    if (!mutex_.Acquire(5s).ok() || !mutex_.Acquire(5s).ok()) return 2;
    SweepBegin();
    Status s = mutex_.Release();
    if (s.ok()) s = mutex_.Release();
    page.op.Report(s.code());
    return 0;
  }

  void Stopped(Trial& t) override {
    t.StartHelper(0, [this, &t] {
      Result<MutexLock> lock = mutex_.Lock(30s);
      const bool died = lock.ok() && lock->previous_owner_died();
      if (died) (void)lock->MarkConsistent();
      t.page().helpers[0].Report(lock.status().code(), died);
      return 0;
    });
    t.WaitHelperAsleep(0, "the locker in Lock");
  }

  void Check(Trial& t) override {
    if (!t.killed() && t.page().op.error() != ErrorCode::kOk) {
      t.Fail("the Unlocks failed when not killed", Describe(t.page().op));
    }
    const HelperState locker = t.WaitHelper(0, [] { return false; });
    const Outcome& h = t.page().helpers[0];
    if (locker == HelperState::kStuck) {
      t.Fail("a locker asleep in Lock was not woken after the holder unlocked twice or died");
    } else if (!h.finished() || h.error() != ErrorCode::kOk) {
      t.Fail("the sleeping locker's Lock failed", Describe(h));
    } else if (!t.killed() && h.value != 0) {
      t.Fail("owner death reported although the holder had unlocked twice");
    }
    t.KillHelpers();
    if (locker != HelperState::kStuck) CheckRecursiveNextLocker(t, mutex_, false);
  }

  void Teardown(Trial&) override {
    mutex_ = RecursiveMutex();
    (void)RecursiveMutex::Unlink(name_);
  }

 private:
  std::string name_;
  RecursiveMutex mutex_;
};

TEST(KillSweepCondition, NotifyOne) {
  ConditionNotifyCase c(/*all=*/false);
  ExpectCleanSweep(c);
}

TEST(KillSweepCondition, NotifyAll) {
  ConditionNotifyCase c(/*all=*/true);
  ExpectCleanSweep(c);
}

TEST(KillSweepCondition, Wait) {
  ConditionWaitCase c(/*predicate=*/false);
  ExpectCleanSweep(c);
}

TEST(KillSweepCondition, WaitPredicate) {
  ConditionWaitCase c(/*predicate=*/true);
  ExpectCleanSweep(c);
}

TEST(KillSweepRecursiveMutex, NestedLock) {
  RecursiveLockCase c;
  ExpectCleanSweep(c);
}

TEST(KillSweepRecursiveMutex, NestedUnlock) {
  RecursiveUnlockCase c;
  ExpectCleanSweep(c);
}

}  // namespace
}  // namespace ipc::testing
