#include "posix/shm_segment.h"

#include "posix/peer_credentials.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>

namespace ipc::internal {

ShmSegment::~ShmSegment() { Reset(); }

ShmSegment::ShmSegment(ShmSegment&& other) noexcept
    : fd_(std::move(other.fd_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

ShmSegment& ShmSegment::operator=(ShmSegment&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::move(other.fd_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void ShmSegment::Reset() {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  fd_.Reset();
}

Result<ShmSegment> ShmSegment::Map(UniqueFd fd, size_t size,
                                   const std::string& what) {
  // MAP_POPULATE: the pages exist already (posix_fallocate), and mapping
  // them all now keeps a page fault out of the first messages' latency.
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_POPULATE, fd.get(), 0);
  if (data == MAP_FAILED) return ErrnoStatus(what + ": mmap", errno);
  return ShmSegment(std::move(fd), data, size);
}

Result<ShmSegment> ShmSegment::Create(const std::string& name, size_t size,
                                      mode_t mode, const std::string& what) {
  const std::string path = "/" + name;
  const int fd = ::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status(ErrorCode::kAddressInUse,
                    what + ": shared-memory object /dev/shm/" + name + " already exists",
                    EEXIST);
    }
    return ErrnoStatus(what + ": shm_open /dev/shm/" + name, errno);
  }
  UniqueFd owned(fd);
  // shm_open applies the umask; set exactly the mode asked for.
  if (::fchmod(fd, mode) < 0) {
    const int err = errno;
    ::shm_unlink(path.c_str());
    return ErrnoStatus(what + ": fchmod", err);
  }
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (rc != 0) {
    ::shm_unlink(path.c_str());
    if (rc == ENOSPC) {
      return Status(ErrorCode::kResourceExhausted,
                    what + ": /dev/shm has no room for " + std::to_string(size) +
                        " bytes (posix_fallocate: No space left on device)",
                    rc);
    }
    return ErrnoStatus(what + ": posix_fallocate", rc);
  }
  auto mapped = Map(std::move(owned), size, what);
  if (!mapped.ok()) ::shm_unlink(path.c_str());
  return mapped;
}

Result<ShmSegment> ShmSegment::CreateInitialized(
    const std::string& name, size_t size, mode_t mode, const std::string& what,
    const std::function<void(void*)>& init) {
  static std::atomic<uint64_t> counter{0};
  const std::string temp = name + ".creating." + std::to_string(::getpid()) +
                           "." + std::to_string(counter++);
  IPC_ASSIGN_OR_RETURN(ShmSegment segment, Create(temp, size, mode, what));
  init(segment.data());
  // link() refuses an existing target, which makes publication exclusive.
  const std::string from = "/dev/shm/" + temp;
  const std::string to = "/dev/shm/" + name;
  const int rc = ::link(from.c_str(), to.c_str());
  const int err = errno;
  ::unlink(from.c_str());
  if (rc < 0) {
    if (err == EEXIST) {
      return Status(ErrorCode::kAddressInUse,
                    what + ": /dev/shm/" + name + " already exists", EEXIST);
    }
    return ErrnoStatus(what + ": publishing /dev/shm/" + name, err);
  }
  return segment;
}

Result<ShmSegment> ShmSegment::Open(const std::string& name,
                                    const std::string& what, uint32_t mode) {
  const std::string path = "/" + name;
  // O_NOFOLLOW: /dev/shm is world-writable; a symlink planted there must
  // not lead us to some other file.
  const int fd = ::shm_open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(what + ": shm_open /dev/shm/" + name, errno);
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) < 0) return ErrnoStatus(what + ": fstat", errno);
  IPC_RETURN_IF_ERROR(CheckOwnerAdmitted(st, mode, what + ": /dev/shm/" + name));
  return FromFd(std::move(owned), what);
}

Result<ShmSegment> ShmSegment::FromFd(UniqueFd fd, const std::string& what) {
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return ErrnoStatus(what + ": fstat", errno);
  if (st.st_size <= 0) {
    return Status(ErrorCode::kProtocolError,
                  what + ": shared-memory object is empty");
  }
  return Map(std::move(fd), static_cast<size_t>(st.st_size), what);
}

Status ShmSegment::Unlink(const std::string& name, const std::string& what) {
  const std::string path = "/" + name;
  if (::shm_unlink(path.c_str()) < 0 && errno != ENOENT) {
    return ErrnoStatus(what + ": shm_unlink /dev/shm/" + name, errno);
  }
  return Status::Ok();
}

}  // namespace ipc::internal
