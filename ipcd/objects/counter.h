// Counter: one int64 with atomic ADD, GET, SET and COMPARE_AND_SET. An ADD
// that would overflow is refused and changes nothing. Costs no bytes
// against max_bytes (it is bounded by max_objects).
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_COUNTER_H_
#define IPCD_OBJECTS_COUNTER_H_

#include "objects/object.h"

namespace ipcd {

class Counter final : public Object {
 public:
  explicit Counter(std::string name) : Object(std::move(name), v1::COUNTER) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return value_; }
  void Save(CallSink& sink) const override;

 private:
  int64_t value_ = 0;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_COUNTER_H_
