// ObjectStore: the daemon's named objects, in name order, with the
// max_objects and max_bytes accounting.
//
// Lookups take a string_view and do not allocate (the hot path: a counter
// ADD is one map lookup and one virtual call).
//
// Thread safety: single-threaded.
#ifndef IPCD_OBJECTS_OBJECT_STORE_H_
#define IPCD_OBJECTS_OBJECT_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/limits.h"
#include "objects/object.h"

namespace ipcd {

class ObjectStore {
 public:
  using Map = std::map<std::string, std::unique_ptr<Object>, std::less<>>;

  explicit ObjectStore(const Limits& limits);

  // The object named name, or nullptr.
  Object* Find(std::string_view name) const {
    auto it = objects_.find(name);
    return it == objects_.end() ? nullptr : it->second.get();
  }
  // Creates call.object() of call.kind(), made by the kind's spec from
  // call's arguments (objects/kind.h). REQUIRES: no object of that name
  // exists. RESOURCE_EXHAUSTED at max_objects.
  OpStatus Create(const v1::Call& call, Object** out);
  // Removes object and gives back its bytes. REQUIRES: it is in the store.
  void Erase(Object* object);

  // While lifted, max_objects and max_bytes do not apply: the state a
  // daemon restores was within its limits when it was made, and must come
  // back whole even if the limits are lower now.
  void LiftLimits(bool lifted);

  ByteBudget& budget() { return budget_; }
  const ByteBudget& budget() const { return budget_; }
  const Map& objects() const { return objects_; }
  int64_t size() const { return static_cast<int64_t>(objects_.size()); }

 private:
  Map objects_;
  ByteBudget budget_;
  int64_t max_objects_;
  int64_t max_bytes_;
  bool limits_lifted_ = false;
};

}  // namespace ipcd

#endif  // IPCD_OBJECTS_OBJECT_STORE_H_
