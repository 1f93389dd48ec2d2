// Event: a flag that can be waited for, like Python's threading.Event. SET
// raises it and wakes every waiter; CLEAR lowers it; WAIT parks in the
// daemon until it is raised or the timeout passes.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_EVENT_H_
#define IPCD_OBJECTS_EVENT_H_

#include "objects/object.h"

namespace ipcd {

class Event final : public Object {
 public:
  explicit Event(std::string name) : Object(std::move(name), v1::EVENT) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return flag_ ? 1 : 0; }
  void WatchState(v1::Value* out) const override { out->set_bool_value(flag_); }
  void Save(CallSink& sink) const override;

 private:
  bool flag_ = false;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_EVENT_H_
