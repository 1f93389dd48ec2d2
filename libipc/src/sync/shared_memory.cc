#include "ipc/shared_memory.h"

#include <new>

#include "sync/named_object.h"

namespace ipc {
namespace {

// The block's header; the user's bytes start kDataOffset bytes in.
struct MemoryHeader {
  internal::ObjectStamp stamp;
  uint64_t size;  // What the creator asked for.
};
constexpr size_t kDataOffset = 64;
static_assert(sizeof(MemoryHeader) <= kDataOffset);

std::string What(std::string_view name) {
  return "shared memory '" + std::string(name) + "'";
}

}  // namespace

struct SharedMemory::Mapping {
  internal::ShmSegment segment;
  size_t size;
};

SharedMemory::SharedMemory() = default;
SharedMemory::~SharedMemory() = default;
SharedMemory::SharedMemory(SharedMemory&&) noexcept = default;
SharedMemory& SharedMemory::operator=(SharedMemory&&) noexcept = default;
SharedMemory::SharedMemory(std::string name, std::unique_ptr<Mapping> mapping)
    : name_(std::move(name)), mapping_(std::move(mapping)) {}

Result<SharedMemory> SharedMemory::Create(std::string_view name, size_t size,
                                          uint32_t mode) {
  return Create(name, size, mode, [](void*) {});
}

Result<SharedMemory> SharedMemory::Create(std::string_view name, size_t size, uint32_t mode,
                                          const std::function<void(void*)>& init) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("shared memory", name));
  if (size == 0 || size > (size_t{1} << 40)) {
    return Status(ErrorCode::kInvalidArgument,
                  What(name) + ": size must be between 1 byte and 1 TiB");
  }
  IPC_ASSIGN_OR_RETURN(
      internal::ShmSegment segment,
      internal::ShmSegment::CreateInitialized(
          internal::ShmObjectName("mem", name), kDataOffset + size, mode & 0666,
          What(name), [size, &init](void* base) {
            auto* header = new (base) MemoryHeader{};
            header->size = size;
            internal::StampObject(&header->stamp, internal::ObjectKind::kSharedMemory);
            init(static_cast<char*>(base) + kDataOffset);
          }));
  return SharedMemory(std::string(name),
                      std::unique_ptr<Mapping>(new Mapping{std::move(segment), size}));
}

Result<SharedMemory> SharedMemory::Open(std::string_view name, uint32_t mode) {
  IPC_RETURN_IF_ERROR(internal::CheckObjectName("shared memory", name));
  IPC_ASSIGN_OR_RETURN(
      internal::ShmSegment segment,
      internal::OpenStampedObject(internal::ShmObjectName("mem", name),
                                  internal::ObjectKind::kSharedMemory, kDataOffset,
                                  What(name), mode));
  const size_t size = static_cast<const MemoryHeader*>(segment.data())->size;
  if (size > segment.size() - kDataOffset) {
    return Status(ErrorCode::kProtocolError, What(name) + ": header claims more than it holds");
  }
  return SharedMemory(std::string(name),
                      std::unique_ptr<Mapping>(new Mapping{std::move(segment), size}));
}

Status SharedMemory::Unlink(std::string_view name) {
  IPC_RETURN_IF_ERROR(Open(name).status());
  return internal::ShmSegment::Unlink(internal::ShmObjectName("mem", name), What(name));
}

void* SharedMemory::data() const {
  return mapping_ ? static_cast<char*>(mapping_->segment.data()) + kDataOffset : nullptr;
}

size_t SharedMemory::size() const { return mapping_ ? mapping_->size : 0; }

}  // namespace ipc
