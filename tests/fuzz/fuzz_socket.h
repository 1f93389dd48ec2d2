// Helpers shared by the socket-driven fuzz targets: length-prefixed frames
// (u32 little-endian length, then the bytes) on a raw stream socket, each
// operation bounded by a deadline so a wedged peer becomes a failure, never a
// hang.
#ifndef TESTS_FUZZ_FUZZ_SOCKET_H_
#define TESTS_FUZZ_FUZZ_SOCKET_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fuzz {

using Clock = std::chrono::steady_clock;

inline int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - Clock::now())
                        .count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// Waits for events on fd until deadline; false on timeout.
inline bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

inline int ConnectUnix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline std::string Frame(std::string_view body) {
  std::string out(4, '\0');
  const auto n = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(n >> (8 * i));
  out.append(body);
  return out;
}

// Writes all of bytes; false on error or timeout.
inline bool WriteAll(int fd, std::string_view bytes, Clock::time_point deadline) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return false;
      continue;
    }
    return false;
  }
  return true;
}

// Reads exactly n bytes; false on EOF, error or timeout.
inline bool ReadExactly(int fd, size_t n, std::string* out,
                        Clock::time_point deadline) {
  out->resize(n);
  size_t off = 0;
  while (off < n) {
    const ssize_t r = ::recv(fd, out->data() + off, n - off, MSG_DONTWAIT);
    if (r > 0) {
      off += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    if (!WaitFor(fd, POLLIN, deadline)) return false;
  }
  return true;
}

// Reads one frame of at most max_bytes; false on EOF, error, timeout or an
// oversized length.
inline bool ReadFrame(int fd, std::string* body, Clock::time_point deadline,
                      uint32_t max_bytes = 16u << 20) {
  std::string header;
  if (!ReadExactly(fd, 4, &header, deadline)) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<uint8_t>(header[i])} << (8 * i);
  if (n > max_bytes) return false;
  return ReadExactly(fd, n, body, deadline);
}

}  // namespace fuzz

#endif  // TESTS_FUZZ_FUZZ_SOCKET_H_
