#include "sync/named_object.h"

#include <cctype>
#include <cstring>

namespace ipc::internal {

Status CheckObjectName(std::string_view what, std::string_view name) {
  bool valid = !name.empty() && name.size() <= 200;
  for (char c : name) {
    valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
             c == '_' || c == '-';
  }
  if (valid) return Status::Ok();
  return Status(ErrorCode::kInvalidArgument,
                std::string(what) + " name '" + std::string(name) +
                    "' must be 1-200 letters, digits, '.', '_' or '-'");
}

std::string ShmObjectName(std::string_view type, std::string_view name) {
  return std::string(kObjectPrefix) + std::string(type) + "." + std::string(name);
}

Result<ShmSegment> OpenStampedObject(const std::string& shm_name,
                                     ObjectKind kind, size_t min_size,
                                     const std::string& what, uint32_t mode) {
  IPC_ASSIGN_OR_RETURN(ShmSegment segment, ShmSegment::Open(shm_name, what, mode));
  const auto* stamp = static_cast<const ObjectStamp*>(segment.data());
  if (segment.size() < min_size ||
      std::memcmp(stamp->magic, kObjectMagic, sizeof(kObjectMagic)) != 0 ||
      stamp->kind != static_cast<uint32_t>(kind)) {
    return Status(ErrorCode::kInvalidArgument,
                  what + ": /dev/shm/" + shm_name +
                      " is not a libipc object of the expected kind");
  }
  return segment;
}

}  // namespace ipc::internal
