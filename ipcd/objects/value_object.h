// ValueObject: the value kind, one Value that clients get, set and
// compare-and-set (Python's manager Value, of any type the protocol
// carries). It starts with the value of the CREATE that made it, or null. Costs its serialized size
// against max_bytes.
//
// Thread safety: single-threaded (see object.h).
#ifndef IPCD_OBJECTS_VALUE_OBJECT_H_
#define IPCD_OBJECTS_VALUE_OBJECT_H_

#include "objects/object.h"

namespace ipcd {

class ValueObject final : public Object {
 public:
  explicit ValueObject(std::string name) : Object(std::move(name), v1::VALUE) {}

  OpStatus Execute(const v1::Call& call, OpContext& ctx,
                   v1::Result* result) override;
  int64_t Size() const override { return 1; }
  void WatchState(v1::Value* out) const override { *out = value_; }
  void Save(CallSink& sink) const override;

 private:
  OpStatus Store(const v1::Value& value, OpContext& ctx);

  v1::Value value_;  // No kind set: null.
  bool fresh_ = true;  // Until the first call, the one that made it.
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_VALUE_OBJECT_H_
