// Shared plumbing for libipc's named objects in /dev/shm: name validation,
// the /dev/shm name, and opening with the owner and stamp checked (the
// trust rule is in include/ipc/shared_memory.h, "Trust").
#ifndef IPC_SRC_NAMED_OBJECT_H_
#define IPC_SRC_NAMED_OBJECT_H_

#include <string>
#include <string_view>

#include "ipc/result.h"
#include "posix/object_stamp.h"
#include "posix/shm_segment.h"

namespace ipc::internal {

// kInvalidArgument unless name is 1-200 of [A-Za-z0-9._-]; `what` is e.g.
// "semaphore".
Status CheckObjectName(std::string_view what, std::string_view name);

// "libipc.<type>.<name>", the object's name under /dev/shm.
std::string ShmObjectName(std::string_view type, std::string_view name);

// Opens /dev/shm/<shm_name> and checks that it is a libipc object of kind
// and at least min_size bytes. kNotFound if missing; kInvalidArgument if it
// is something else; kPermissionDenied if its owner is not admitted by
// `mode` (ShmSegment::Open: us or root, plus our group for 0060 and anyone
// for 0006). Open() passes no mode (only us and root are trusted);
// OpenOrCreate should pass its own mode, the one it would create with.
Result<ShmSegment> OpenStampedObject(const std::string& shm_name,
                                     ObjectKind kind, size_t min_size,
                                     const std::string& what, uint32_t mode = 0600);

// OpenOrCreate for any named object: open(), or create() when there is
// none, and open again if another process created it in between.
template <typename Open, typename Create>
auto OpenOrCreate(const Open& open, const Create& create) -> decltype(open()) {
  for (;;) {
    auto opened = open();
    if (opened.ok() || opened.status().code() != ErrorCode::kNotFound) return opened;
    auto created = create();
    if (created.ok() || created.status().code() != ErrorCode::kAddressInUse) return created;
  }
}

}  // namespace ipc::internal

#endif  // IPC_SRC_NAMED_OBJECT_H_
