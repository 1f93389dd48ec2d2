// Fuzz target: arbitrary bytes arriving on a stream channel (a peer that does
// not follow the framing, or a corrupted stream) must produce messages,
// kMessageTooLarge, or kClosed — never a crash, a hang or an allocation
// beyond max_message.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ipc/channel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  // Keep inputs within one socket buffer so the write cannot block.
  if (size > 64 * 1024) size = 64 * 1024;
  size_t off = 0;
  while (off < size) {
    const ssize_t n = ::write(fds[1], data + off, size - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fds[1]);
  auto channel = ipc::Connect("pipe:?fd=" + std::to_string(fds[0]) +
                              "&max_message=4096");
  if (!channel.ok()) std::abort();
  std::string message;
  for (int i = 0; i <= static_cast<int>(size); ++i) {
    ipc::Status status = channel->Receive(&message, ipc::Deadline::Now());
    if (status.ok()) {
      if (message.size() > 4096) std::abort();
      continue;
    }
    if (status.code() == ipc::ErrorCode::kMessageTooLarge) continue;
    if (status.code() == ipc::ErrorCode::kClosed) return 0;
    std::abort();  // Nothing else is a legal outcome on a closed stream.
  }
  std::abort();  // Each call consumes at least one byte; we must have hit EOF.
}
