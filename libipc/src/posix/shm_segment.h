// ShmSegment: a POSIX shared-memory object (/dev/shm/NAME) or an inherited
// shared-memory descriptor, mapped read-write. Owner of the mapping and the
// descriptor; unmaps and closes on destruction (it never unlinks by itself).
//
// Creation sizes the object with posix_fallocate, so a full /dev/shm is a
// clear kResourceExhausted at creation instead of a SIGBUS on first touch.
//
// Why not Boost.Interprocess's shared_memory_object and mapped_region, which
// libipc does use for allocating inside a segment (ipc::SharedDict): they
// size with ftruncate (a full /dev/shm then shows up as SIGBUS on first
// touch, not as an error), cannot build an object under a temporary name
// and link it into place once initialised, do not check the owner of what
// they open (the trust rule of ipc/shared_memory.h), and cannot map a
// descriptor received over a socket. Each of those is a few lines here.
//
// Thread safety: the object is immutable after creation; the memory it maps
// is shared and synchronized by its users.
#ifndef IPC_SRC_POSIX_SHM_SEGMENT_H_
#define IPC_SRC_POSIX_SHM_SEGMENT_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "ipc/result.h"
#include "posix/unique_fd.h"

namespace ipc::internal {

class ShmSegment {
 public:
  ShmSegment() = default;
  ~ShmSegment();
  ShmSegment(ShmSegment&& other) noexcept;
  ShmSegment& operator=(ShmSegment&& other) noexcept;

  // Creates /dev/shm/<name> (name without the leading '/') exclusively with
  // the given mode and size. kAddressInUse if it exists. `what` prefixes
  // messages (e.g. "shm://jobs").
  static Result<ShmSegment> Create(const std::string& name, size_t size,
                                   mode_t mode, const std::string& what);
  // Creates /dev/shm/<name> fully initialised: the object is built under a
  // temporary name, init() fills it, and only then is it linked to its real
  // name, so an Open() racing with creation never sees a half-made object.
  // kAddressInUse if the name exists.
  static Result<ShmSegment> CreateInitialized(
      const std::string& name, size_t size, mode_t mode,
      const std::string& what, const std::function<void(void*)>& init);
  // Opens an existing object read-write and maps all of it. The owner of
  // the object (fstat of the descriptor we map) must be admitted by `mode`
  // as peer_credentials.h says: us or root always, our group if mode has
  // 0060, anyone if 0006; else kPermissionDenied. /dev/shm is
  // world-writable, so any user can make a name first; every named object
  // libipc opens comes through here so that the check is made once.
  static Result<ShmSegment> Open(const std::string& name,
                                 const std::string& what, uint32_t mode = 0600);
  // Maps an inherited/received descriptor (e.g. from SCM_RIGHTS). No owner
  // check: whoever passed it was vetted as a peer.
  static Result<ShmSegment> FromFd(UniqueFd fd, const std::string& what);

  // Removes /dev/shm/<name>; existing mappings stay valid.
  static Status Unlink(const std::string& name, const std::string& what);

  void* data() const { return data_; }
  size_t size() const { return size_; }
  int fd() const { return fd_.get(); }

 private:
  ShmSegment(UniqueFd fd, void* data, size_t size)
      : fd_(std::move(fd)), data_(data), size_(size) {}
  static Result<ShmSegment> Map(UniqueFd fd, size_t size, const std::string& what);
  void Reset();

  UniqueFd fd_;
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_SHM_SEGMENT_H_
