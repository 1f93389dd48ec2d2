// ipc::SharedMemory: a named block of memory shared by processes, like
// Python's multiprocessing.shared_memory.SharedMemory.
//
//   auto mem = ipc::SharedMemory::Create("frame", 1 << 20).value();   // one process
//   auto mem = ipc::SharedMemory::Open("frame").value();              // others
//   std::memcpy(mem.data(), pixels, mem.size());
//
// It lives in /dev/shm/libipc.mem.NAME (owner-only unless a mode is given),
// sized with posix_fallocate (a full /dev/shm is kResourceExhausted, never a
// SIGBUS later) and stamped with its creator for `ipcctl clean`. data() is
// 64-byte aligned. Nothing in it synchronizes access: pair it with a Mutex,
// or use SharedValue / SharedArray.
//
// Trust: every libipc named object (Mutex, Semaphore, Event, Condition,
// Barrier, Queue, SharedMemory, SharedValue/SharedArray) refuses to open an
// object in /dev/shm whose owner is neither our effective uid nor root,
// unless the mode given (OpenOrCreate's, or Open's where it takes one)
// admits that owner: group bits admit our group, other bits anyone.
// Open() without a mode trusts only us and root.
//
// Thread safety: the object is immutable after creation; the memory is
// shared and synchronized by its users.
#ifndef IPC_SHARED_MEMORY_H_
#define IPC_SHARED_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ipc/result.h"

namespace ipc {

class SharedMemory {
 public:
  // Creates a zero-filled block of `size` bytes (at least 1); kAddressInUse
  // if NAME exists.
  static Result<SharedMemory> Create(std::string_view name, size_t size,
                                     uint32_t mode = 0600);
  // Like Create, but init(data()) fills the block before NAME appears, so
  // an Open racing with creation never sees it half made.
  static Result<SharedMemory> Create(std::string_view name, size_t size, uint32_t mode,
                                     const std::function<void(void*)>& init);
  // Opens an existing block; kNotFound if there is none. kPermissionDenied
  // if its owner is not trusted: the owner must be this process's
  // effective uid or root, or be admitted by `mode` (0060: our group, 0006:
  // anyone), the rule the listeners apply to their peers. /dev/shm is
  // world-writable, so without this another user could pre-create the name
  // and hand us memory they control.
  static Result<SharedMemory> Open(std::string_view name, uint32_t mode = 0600);
  // Removes the name; processes that have it mapped keep using it.
  static Status Unlink(std::string_view name);

  SharedMemory();
  ~SharedMemory();
  SharedMemory(SharedMemory&&) noexcept;
  SharedMemory& operator=(SharedMemory&&) noexcept;

  void* data() const;
  size_t size() const;
  const std::string& name() const { return name_; }

 private:
  struct Mapping;
  SharedMemory(std::string name, std::unique_ptr<Mapping> mapping);

  std::string name_;
  std::unique_ptr<Mapping> mapping_;
};

}  // namespace ipc

#endif  // IPC_SHARED_MEMORY_H_
