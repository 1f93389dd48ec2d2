// The kill sweep (kill_sweep.h) over the synchronization objects: Barrier
// Wait, Semaphore Acquire and Release, Event Set, Mutex lock and unlock,
// each killed at every instruction, with a waiter already asleep where the
// operation should wake one.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "ipc/barrier.h"
#include "ipc/event.h"
#include "ipc/mutex.h"
#include "ipc/semaphore.h"
#include "kill_sweep.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using namespace std::chrono_literals;

std::string Describe(const Outcome& o) {
  if (!o.finished()) return "no report";
  return CodeName(o.error()) + " (" + std::to_string(o.value) + ")";
}

// Barrier Wait of the second party killed at every instruction, the first
// party (the survivor) asleep in Wait. The survivor must end with an
// arrival index or kClosed (broken), never sleep on: within the wake bound
// if the dead party released the round, else once a stand-in party (this
// process) arrives in its place. Indices are distinct; Reset() makes the
// barrier usable again.
class BarrierWaitCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-bar");
    auto b = Barrier::Create(name_, 2);
    if (!b.ok()) return t.Fail("setup: create", b.status().ToString());
    barrier_ = std::move(*b);
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Result<uint32_t> index = barrier_.Wait(5s);
    page.op.Report(index.status().code(), index.ok() ? *index : -1);
    return 0;
  }

  void Stopped(Trial& t) override {
    t.StartHelper(0, [this, &t] {
      Result<uint32_t> index = barrier_.Wait(30s);
      t.page().helpers[0].Report(index.status().code(), index.ok() ? *index : -1);
      return 0;
    });
    t.WaitHelperAsleep(0, "the first party in Wait");
  }

  void Check(Trial& t) override {
    const Outcome& op = t.page().op;
    const Outcome& survivor = t.page().helpers[0];
    if (!t.killed() && op.error() != ErrorCode::kOk) {
      t.Fail("Wait failed when not killed", Describe(op));
    }
    // The survivor may sleep on only while the dead party had not arrived:
    // one arrival counted and the barrier not broken.
    HelperState state = t.WaitHelper(0, [this, &t] {
      return t.killed() && barrier_.waiting() == 1 && !barrier_.broken();
    });
    if (state == HelperState::kStuck) {
      t.Fail("a party asleep in Wait was not woken although the other party had arrived",
             "waiting() " + std::to_string(barrier_.waiting()) +
                 (barrier_.broken() ? ", broken" : ""));
    }
    std::string stand_in = "none";
    if (state == HelperState::kAsleep) {
      // Stand in for the dead party: either this arrival completes the
      // round, or it finds the barrier broken (the party died holding the
      // lock). Either way the survivor must then end.
      Result<uint32_t> mine = barrier_.Wait(300ms);
      stand_in = mine.ok() ? "index " + std::to_string(*mine) : mine.status().ToString();
      if (mine.status().code() == ErrorCode::kDeadlineExceeded) {
        t.Fail("a party asleep in Wait was not woken although its round was over "
               "(a later arrival found a new round)",
               "waiting() " + std::to_string(barrier_.waiting()));
      } else if (!mine.ok() && mine.status().code() != ErrorCode::kClosed) {
        t.Fail("the stand-in party's Wait failed", stand_in);
      }
      state = t.WaitHelper(0, [] { return false; });
      if (state == HelperState::kStuck) {
        t.Fail("a party asleep in Wait stays asleep after the next party arrived",
               "stand-in: " + stand_in);
      }
      if (mine.ok() && survivor.finished() && survivor.error() == ErrorCode::kOk &&
          survivor.value == *mine) {
        t.Fail("two parties got the same arrival index", stand_in);
      }
    }
    if (state == HelperState::kExited) {
      if (!survivor.finished() ||
          (survivor.error() != ErrorCode::kOk && survivor.error() != ErrorCode::kClosed)) {
        t.Fail("the surviving party's Wait ended with neither an index nor kClosed",
               Describe(survivor));
      }
      if (!t.killed() && op.error() == ErrorCode::kOk &&
          survivor.error() == ErrorCode::kOk && survivor.value == op.value) {
        t.Fail("two parties got the same arrival index", Describe(op));
      }
    }
    t.KillHelpers();
    // Usable again after Reset: a full round of two.
    if (!barrier_.Reset().ok()) return t.Fail("Reset failed after the kill");
    t.StartHelper(1, [this] { return barrier_.Wait(5s).ok() ? 0 : 1; });
    Result<uint32_t> mine = barrier_.Wait(5s);
    const HelperState other = t.WaitHelper(1, [] { return false; });
    if (!mine.ok() || other != HelperState::kExited) {
      t.Fail("the barrier is not usable after Reset", mine.status().ToString());
    }
  }

  void Teardown(Trial&) override {
    barrier_ = Barrier();
    (void)Barrier::Unlink(name_);
  }

 private:
  std::string name_;
  Barrier barrier_;
};

// Acquire killed at every instruction on a semaphore of one unit: the unit
// is taken or still there, never two.
class SemaphoreAcquireCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-sema");
    auto s = Semaphore::Create(name_, 1);
    if (!s.ok()) return t.Fail("setup: create", s.status().ToString());
    sem_ = std::move(*s);
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Status s = sem_.Acquire(5s);
    page.op.Report(s.code());
    return 0;
  }

  void Check(Trial& t) override {
    const uint32_t value = sem_.Value();
    if (!t.killed() && t.page().op.error() != ErrorCode::kOk) {
      t.Fail("Acquire failed when not killed", Describe(t.page().op));
    }
    if (value > 1) t.Fail("a unit was created from nothing", "Value() " + std::to_string(value));
    if (!t.killed() && value != 0) t.Fail("Acquire returned OK but the unit is still there");
    const bool took = sem_.TryAcquire().ok();
    if (took != (value == 1)) {
      t.Fail("TryAcquire disagrees with Value()", "Value() " + std::to_string(value));
    }
    if (sem_.Value() != 0 || sem_.TryAcquire().ok() || !sem_.Release().ok() ||
        !sem_.TryAcquire().ok()) {
      t.Fail("the semaphore is not usable after the kill");
    }
  }

  void Teardown(Trial&) override {
    sem_ = Semaphore();
    (void)Semaphore::Unlink(name_);
  }

 private:
  std::string name_;
  Semaphore sem_;
};

// Release killed at every instruction on an empty semaphore, a waiter
// asleep in Acquire: the unit is released or not, never twice; if it was,
// the waiter must get it within the wake bound.
class SemaphoreReleaseCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-semr");
    auto s = Semaphore::Create(name_, 0);
    if (!s.ok()) return t.Fail("setup: create", s.status().ToString());
    sem_ = std::move(*s);
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Status s = sem_.Release(1);
    page.op.Report(s.code());
    return 0;
  }

  void Stopped(Trial& t) override {
    t.StartHelper(0, [this, &t] {
      Status s = sem_.Acquire(30s);
      t.page().helpers[0].Report(s.code());
      return 0;
    });
    t.WaitHelperAsleep(0, "the waiter in Acquire");
  }

  void Check(Trial& t) override {
    if (!t.killed() && t.page().op.error() != ErrorCode::kOk) {
      t.Fail("Release failed when not killed", Describe(t.page().op));
    }
    const HelperState waiter = t.WaitHelper(0, [this] { return sem_.Value() == 0; });
    int taken = 0;
    if (waiter == HelperState::kStuck) {
      t.Fail("a waiter asleep in Acquire was not woken although a unit was released",
             "Value() " + std::to_string(sem_.Value()));
    } else if (waiter == HelperState::kExited) {
      const Outcome& h = t.page().helpers[0];
      if (h.finished() && h.error() == ErrorCode::kOk) {
        taken = 1;
      } else {
        t.Fail("the waiter's Acquire failed", Describe(h));
      }
    }
    t.KillHelpers();
    const uint32_t value = sem_.Value();
    if (value + taken > 1) {
      t.Fail("a unit was created from nothing",
             "Value() " + std::to_string(value) + ", taken " + std::to_string(taken));
    }
    if (!t.killed() && value + taken != 1) t.Fail("Release returned OK but the unit is lost");
    for (uint32_t i = 0; i < value; ++i) (void)sem_.TryAcquire();
    if (sem_.TryAcquire().ok() || !sem_.Release().ok() || !sem_.TryAcquire().ok()) {
      t.Fail("the semaphore is not usable after the kill");
    }
  }

  void Teardown(Trial&) override {
    sem_ = Semaphore();
    (void)Semaphore::Unlink(name_);
  }

 private:
  std::string name_;
  Semaphore sem_;
};

// Set killed at every instruction, a waiter asleep in Wait: once the flag
// is set, the waiter must return OK within the wake bound.
class EventSetCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-evt");
    auto e = Event::Create(name_);
    if (!e.ok()) return t.Fail("setup: create", e.status().ToString());
    event_ = std::move(*e);
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    Status s = event_.Set();
    page.op.Report(s.code());
    return 0;
  }

  void Stopped(Trial& t) override {
    t.StartHelper(0, [this, &t] {
      Status s = event_.Wait(30s);
      t.page().helpers[0].Report(s.code());
      return 0;
    });
    t.WaitHelperAsleep(0, "the waiter in Wait");
  }

  void Check(Trial& t) override {
    if (!t.killed() && (t.page().op.error() != ErrorCode::kOk || !event_.IsSet())) {
      t.Fail("Set failed when not killed", Describe(t.page().op));
    }
    const HelperState waiter = t.WaitHelper(0, [this] { return !event_.IsSet(); });
    if (waiter == HelperState::kStuck) {
      t.Fail("a waiter asleep in Wait was not woken although the flag is set");
    } else if (waiter == HelperState::kExited) {
      const Outcome& h = t.page().helpers[0];
      if (!h.finished() || h.error() != ErrorCode::kOk || !event_.IsSet()) {
        t.Fail("the waiter's Wait ended without the flag set", Describe(h));
      }
    }
    t.KillHelpers();
    if (!event_.Set().ok() || !event_.Wait(Deadline::Now()).ok() || !event_.Clear().ok() ||
        event_.Wait(Deadline::Now()).code() != ErrorCode::kWouldBlock) {
      t.Fail("the event is not usable after the kill");
    }
  }

  void Teardown(Trial&) override {
    event_ = Event();
    (void)Event::Unlink(name_);
  }

 private:
  std::string name_;
  Event event_;
};

// Takes the mutex as the next locker after the kill: it must be acquired
// within the wake bound (owner death reported where the dead child held
// it), and be usable afterwards without any.
void CheckNextLocker(Trial& t, Mutex& mutex, bool expect_owner_died) {
  Result<MutexLock> lock = mutex.Lock(std::chrono::milliseconds(t.wake_bound_ms()));
  if (!lock.ok()) {
    return t.Fail("the next locker could not acquire the mutex", lock.status().ToString());
  }
  if (expect_owner_died && !lock->previous_owner_died()) {
    t.Fail("the holder died holding the mutex, but the next locker was not told");
  }
  if (lock->previous_owner_died() && !lock->MarkConsistent().ok()) {
    t.Fail("MarkConsistent failed after an owner's death");
  }
  (void)lock->Unlock();
  Result<MutexLock> again = mutex.TryLock();
  if (!again.ok() || again->previous_owner_died()) {
    t.Fail("the mutex is not usable after the kill", again.status().ToString());
  }
}

// Lock killed at every instruction on a free mutex; the child that gets it
// dies holding it.
class MutexLockCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-mtxl");
    auto m = Mutex::Create(name_);
    if (!m.ok()) return t.Fail("setup: create", m.status().ToString());
    mutex_ = std::move(*m);
  }

  int Child(SweepPage& page) override {
    SweepBegin();
    auto s = mutex_.Acquire(5s);
    page.op.Report(s.ok() ? ErrorCode::kOk : s.status().code());
    return 0;  // Exits holding it.
  }

  void Check(Trial& t) override {
    if (!t.killed() && t.page().op.error() != ErrorCode::kOk) {
      t.Fail("Lock failed when not killed", Describe(t.page().op));
    }
    CheckNextLocker(t, mutex_, /*expect_owner_died=*/!t.killed());
  }

  void Teardown(Trial&) override {
    mutex_ = Mutex();
    (void)Mutex::Unlink(name_);
  }

 private:
  std::string name_;
  Mutex mutex_;
};

// Unlock killed at every instruction, a locker asleep in Lock: it must get
// the mutex within the wake bound, whether the holder had unlocked (no
// owner death) or died holding it (owner death reported).
class MutexUnlockCase : public SweepCase {
 public:
  void Setup(Trial& t) override {
    name_ = UniqueName("ksweep-mtxu");
    auto m = Mutex::Create(name_);
    if (!m.ok()) return t.Fail("setup: create", m.status().ToString());
    mutex_ = std::move(*m);
  }

  int Child(SweepPage& page) override {
    if (!mutex_.Acquire(5s).ok()) return 2;
    SweepBegin();
    Status s = mutex_.Release();
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
      t.Fail("Unlock failed when not killed", Describe(t.page().op));
    }
    const HelperState locker = t.WaitHelper(0, [] { return false; });
    const Outcome& h = t.page().helpers[0];
    if (locker == HelperState::kStuck) {
      t.Fail("a locker asleep in Lock was not woken after the holder unlocked or died");
    } else if (!h.finished() || h.error() != ErrorCode::kOk) {
      t.Fail("the sleeping locker's Lock failed", Describe(h));
    } else if (!t.killed() && h.value != 0) {
      t.Fail("owner death reported although the holder had unlocked");
    }
    t.KillHelpers();
    if (locker != HelperState::kStuck) CheckNextLocker(t, mutex_, false);
  }

  void Teardown(Trial&) override {
    mutex_ = Mutex();
    (void)Mutex::Unlink(name_);
  }

 private:
  std::string name_;
  Mutex mutex_;
};

TEST(KillSweepSync, BarrierWait) {
  BarrierWaitCase c;
  ExpectCleanSweep(c);
}

TEST(KillSweepSync, SemaphoreAcquire) {
  SemaphoreAcquireCase c;
  ExpectCleanSweep(c);
}

TEST(KillSweepSync, SemaphoreRelease) {
  SemaphoreReleaseCase c;
  ExpectCleanSweep(c);
}

TEST(KillSweepSync, EventSet) {
  EventSetCase c;
  ExpectCleanSweep(c);
}

TEST(KillSweepSync, MutexLock) {
  MutexLockCase c;
  ExpectCleanSweep(c);
}

TEST(KillSweepSync, MutexUnlock) {
  MutexUnlockCase c;
  ExpectCleanSweep(c);
}

}  // namespace
}  // namespace ipc::testing
