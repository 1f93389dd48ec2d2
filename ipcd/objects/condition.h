// Condition: Python's threading.Condition(lock), in the daemon. It is bound
// by name to a lock or rlock, which every WAIT and NOTIFY needs held by
// the calling connection.
//
// WAIT releases every hold of the lock (its parked ACQUIREs go first), and
// parks on the condition until a NOTIFY picks it or its timeout passes;
// then it queues for the lock, parked on the lock object behind the
// connections already waiting there, and is answered once it holds the
// lock again with the holds it had: OK when notified, DEADLINE_EXCEEDED
// when its time ran out. So the waiter moves from the condition's line to
// the lock's, and the server's usual retries of each line drive it.
//
// NOTIFY does not pick waiters itself: it grants wake-ups, which the
// server's strict FIFO retries hand to the oldest waiters, dropping first
// any whose peer has hung up; so a dead waiter does not spend a notify.
// A waiter whose connection closes is forgotten (ReleaseHoldsOf) and never
// gets the lock.
//
// Not persisted: its waiters are connections, which a restart ends.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_CONDITION_H_
#define IPCD_OBJECTS_CONDITION_H_

#include <map>

#include "objects/lock.h"
#include "objects/object.h"

namespace ipcd {

class Condition final : public Object {
 public:
  Condition(std::string name, std::string lock)
      : Object(std::move(name), v1::CONDITION), lock_(std::move(lock)) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  // Connections waiting for a notify.
  int64_t Size() const override { return waiting_; }
  void Save(CallSink& /*sink*/) const override {}
  bool ReleaseHoldsOf(uint64_t session_id) override;
  // The oldest waiter takes the next wake-up: when it cannot, no one can.
  bool strict_fifo() const override { return true; }
  const std::string& lock() const { return lock_; }

 private:
  enum class Phase { kWaiting, kNotified, kTimedOut };
  struct Waiter {
    Phase phase = Phase::kWaiting;
    int64_t holds = 0;    // What WAIT released, given back with the lock.
    bool queued = false;  // Parked on the lock, in its line.
  };
  using Waits = std::map<uint64_t, Waiter>;  // By session id.

  // The lock object, or an error naming it and this condition.
  OpStatus FindLock(const OpContext& ctx, Lock** out) const;
  // An error unless the calling connection holds lock.
  OpStatus CheckHeld(const Lock& lock, const OpContext& ctx, v1::Op op) const;
  OpStatus Wait(const v1::Call& call, OpContext& ctx, v1::Result* result);
  OpStatus Notify(const v1::Call& call, OpContext& ctx, v1::Result* result);
  // A waiter past its wait takes the lock back, or queues for it.
  OpStatus Reacquire(Waits::iterator it, Lock& lock, OpContext& ctx,
                     v1::Result* result);
  void Forget(Waits::iterator it);

  std::string lock_;
  Waits waits_;
  int64_t waiting_ = 0;  // Entries of waits_ in Phase::kWaiting.
  int64_t wakeups_ = 0;  // Granted by NOTIFY, not yet taken; <= waiting_.
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_CONDITION_H_
