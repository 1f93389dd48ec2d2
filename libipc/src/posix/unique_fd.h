// UniqueFd: sole owner of a file descriptor; closes it on destruction.
//
// Thread safety: like any value; do not share one object between threads
// without synchronization.
#ifndef IPC_SRC_POSIX_UNIQUE_FD_H_
#define IPC_SRC_POSIX_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace ipc::internal {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  // Closes the current descriptor (errors from close are ignored: the
  // descriptor is gone either way on Linux) and takes fd.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_UNIQUE_FD_H_
