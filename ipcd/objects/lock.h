// Lock and RLock: a mutex leased to one connection at a time. ACQUIRE waits
// in the daemon (parked, FIFO), RELEASE hands the lock to the oldest
// waiter. An RLock's holder may acquire again and must release as often; a
// Lock's holder acquiring again gets INVALID_ARGUMENT instead of
// deadlocking itself. When the holder's connection closes (the client
// exited or was killed), all its holds are dropped.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_LOCK_H_
#define IPCD_OBJECTS_LOCK_H_

#include "objects/object.h"

namespace ipcd {

class Lock final : public Object {
 public:
  Lock(std::string name, bool recursive)
      : Object(std::move(name), recursive ? v1::RLOCK : v1::LOCK) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return holds_; }
  // Not persisted: a lock belongs to a connection, gone after a restart.
  void Save(CallSink& /*sink*/) const override {}
  bool ReleaseHoldsOf(uint64_t session_id) override;
  bool strict_fifo() const override { return true; }

  // For a condition bound to this lock (objects/condition.h), which
  // releases it for a waiter and gives it back with the holds it had.
  uint64_t holder() const { return holder_; }  // 0 = free.
  // Drops every hold of the session holding it; returns how many it had.
  int64_t ReleaseAll(OpContext& ctx);
  // Gives the free lock to the calling session, with holds holds.
  void Take(int64_t holds, OpContext& ctx);

 private:
  uint64_t holder_ = 0;  // Session id; 0 = free.
  int64_t holds_ = 0;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_LOCK_H_
