// Barrier: `parties` connections meet (Python's threading.Barrier, in the
// daemon). Each WAIT parks until the last party arrives, then every party
// is answered with its arrival index. A WAIT that times out breaks the
// barrier, as does a waiting party whose connection closes; a broken
// barrier answers WAIT with CLOSED until RESET. ABORT breaks it on purpose.
//
// WAIT is retried by the server each time the barrier changes (object.h):
// a party's state lives here, keyed by session, so that a retry knows
// whether its round finished, broke or was reset.
//
// Not persisted: its parties are connections, which a restart ends.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_BARRIER_H_
#define IPCD_OBJECTS_BARRIER_H_

#include <map>

#include "objects/object.h"

namespace ipcd {

class Barrier final : public Object {
 public:
  Barrier(std::string name, int64_t parties)
      : Object(std::move(name), v1::BARRIER), parties_(parties) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return static_cast<int64_t>(waiting_.size()); }
  void Save(CallSink& /*sink*/) const override {}
  bool ReleaseHoldsOf(uint64_t session_id) override;
  int64_t parties() const { return parties_; }

 private:
  // How a party's WAIT ended while it was parked.
  enum class Outcome { kReleased, kBroken, kReset };
  struct Ended {
    Outcome outcome;
    int64_t index;
  };

  OpStatus Wait(const v1::Call& call, OpContext& ctx, v1::Result* result);
  // Ends every waiting party's WAIT with outcome.
  void EndAll(Outcome outcome);
  OpStatus Answer(const Ended& ended, v1::Result* result) const;

  int64_t parties_;
  bool broken_ = false;
  std::map<uint64_t, int64_t> waiting_;  // Session -> arrival index.
  std::map<uint64_t, Ended> ended_;      // Parked sessions not yet answered.
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_BARRIER_H_
