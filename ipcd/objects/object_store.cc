#include "objects/object_store.h"

#include "objects/kind.h"

namespace ipcd {

ObjectStore::ObjectStore(const Limits& limits)
    : max_objects_(limits.max_objects), max_bytes_(limits.max_bytes) {
  budget_.max = limits.max_bytes;
}

void ObjectStore::LiftLimits(bool lifted) {
  limits_lifted_ = lifted;
  budget_.max = lifted ? INT64_MAX : max_bytes_;
}

OpStatus ObjectStore::Create(const v1::Call& call, Object** out) {
  if (size() >= max_objects_ && !limits_lifted_) {
    return OpStatus::Error(v1::RESOURCE_EXHAUSTED,
                           "cannot create " + KindName(call.kind()) + " '" +
                               call.object() + "': max_objects limit (" +
                               std::to_string(max_objects_) + ") reached");
  }
  const KindSpec* spec = FindKind(call.kind());
  if (spec == nullptr) {
    return OpStatus::Error(
        v1::INVALID_ARGUMENT,
        "cannot create '" + call.object() + "': " + KindName(call.kind()));
  }
  std::unique_ptr<Object> object;
  if (OpStatus made = spec->make(call, &object); !made.ok()) return made;
  *out = object.get();
  objects_.emplace(call.object(), std::move(object));
  return OpStatus::Ok();
}

void ObjectStore::Erase(Object* object) {
  budget_.used -= object->bytes();
  objects_.erase(object->name());
}

}  // namespace ipcd
