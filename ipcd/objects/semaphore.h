// Semaphore and BoundedSemaphore: units that connections take (ACQUIRE,
// parked in FIFO order while none is free) and give back (RELEASE). The
// daemon counts the units each connection took and gives them back when
// the connection closes, so a client that dies holding units does not
// leak them (Python's manager keeps them). A RELEASE by a connection that
// holds none adds a unit, as Python allows; a bounded semaphore refuses
// one past its initial units.
//
// Not persisted, like locks: the units taken belong to connections, which
// a restart ends; a restarted daemon makes the semaphore anew on first use.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_SEMAPHORE_H_
#define IPCD_OBJECTS_SEMAPHORE_H_

#include <map>

#include "objects/object.h"

namespace ipcd {

class Semaphore final : public Object {
 public:
  Semaphore(std::string name, v1::Kind kind, int64_t initial)
      : Object(std::move(name), kind), initial_(initial), free_(initial) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return free_; }
  void Save(CallSink& /*sink*/) const override {}
  bool ReleaseHoldsOf(uint64_t session_id) override;
  // Every waiter wants one unit: when the oldest cannot have one, no one can.
  bool strict_fifo() const override { return true; }
  int64_t initial() const { return initial_; }

 private:
  int64_t initial_;
  int64_t free_;
  std::map<uint64_t, int64_t> taken_;  // Session id -> units it holds.
};

// The initial units a CREATE (or first use) asks for: value.int_value,
// 1 when unset; INVALID_ARGUMENT when negative or not an int.
OpStatus InitialUnits(const v1::Call& call, int64_t* units);

}  // namespace ipcd

#endif  // IPCD_OBJECTS_SEMAPHORE_H_
