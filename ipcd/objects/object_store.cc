#include "objects/object_store.h"

#include "objects/counter.h"
#include "objects/dict.h"
#include "objects/event.h"
#include "objects/lock.h"
#include "objects/queue.h"

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
  std::unique_ptr<Object> object;
  switch (call.kind()) {
    case v1::DICT:
      object = std::make_unique<Dict>(call.object());
      break;
    case v1::COUNTER:
      object = std::make_unique<Counter>(call.object());
      break;
    case v1::LOCK:
      object = std::make_unique<Lock>(call.object(), false);
      break;
    case v1::RLOCK:
      object = std::make_unique<Lock>(call.object(), true);
      break;
    case v1::QUEUE:
      object = std::make_unique<Queue>(call.object(), call.capacity());
      break;
    case v1::EVENT:
      object = std::make_unique<Event>(call.object());
      break;
    default:
      return OpStatus::Error(
          v1::INVALID_ARGUMENT,
          "cannot create '" + call.object() + "': " + KindName(call.kind()));
  }
  *out = object.get();
  objects_.emplace(call.object(), std::move(object));
  return OpStatus::Ok();
}

void ObjectStore::Erase(Object* object) {
  budget_.used -= object->bytes();
  objects_.erase(object->name());
}

}  // namespace ipcd
