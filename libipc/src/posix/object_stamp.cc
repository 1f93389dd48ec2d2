#include "posix/object_stamp.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace ipc::internal {

void StampObject(ObjectStamp* stamp, ObjectKind kind) {
  std::memcpy(stamp->magic, kObjectMagic, sizeof(kObjectMagic));
  stamp->kind = static_cast<uint32_t>(kind);
  stamp->creator_pid = ::getpid();
  stamp->creator_start = ProcessStartTime(::getpid());
}

uint64_t ProcessStartTime(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  // The command name (field 2) may contain spaces and parentheses; fields
  // are counted from the last ')'. starttime is field 22.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return 0;
  int field = 2;
  for (; *p != '\0'; ++p) {
    if (*p == ' ' && ++field == 22) return std::strtoull(p + 1, nullptr, 10);
  }
  return 0;
}

bool StampOwnerAlive(const ObjectStamp& stamp) {
  if (stamp.creator_pid <= 0) return false;
  const uint64_t start = ProcessStartTime(stamp.creator_pid);
  return start != 0 && start == stamp.creator_start;
}

}  // namespace ipc::internal
