#include "ipc/objects.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "posix/object_stamp.h"
#include "posix/unique_fd.h"

namespace ipc {
namespace {

constexpr char kShmDir[] = "/dev/shm";

std::string KindName(uint32_t kind) {
  switch (static_cast<internal::ObjectKind>(kind)) {
    case internal::ObjectKind::kShmChannel: return "shm-channel";
    case internal::ObjectKind::kSemaphore: return "semaphore";
    case internal::ObjectKind::kMutex: return "mutex";
    case internal::ObjectKind::kRecursiveMutex: return "recursive-mutex";
    case internal::ObjectKind::kEvent: return "event";
    case internal::ObjectKind::kSharedMemory: return "shared-memory";
    case internal::ObjectKind::kCondition: return "condition";
    case internal::ObjectKind::kBarrier: return "barrier";
    case internal::ObjectKind::kQueue: return "queue";
  }
  return "unknown";
}

bool PidAlive(int pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// "<base>.creating.<pid>.<n>": an object still being built by pid (or left
// by a creator that died while building it).
int CreatingPid(std::string_view name) {
  const size_t at = name.find(".creating.");
  if (at == std::string_view::npos) return 0;
  std::string_view rest = name.substr(at + 10);
  int pid = 0;
  std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  return pid;
}

ObjectInfo Describe(const std::string& name) {
  ObjectInfo info;
  info.name = name;
  info.kind = "unknown";
  const std::string path = std::string(kShmDir) + "/" + name;
  internal::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st;
  if (fd.valid() && ::fstat(fd.get(), &st) == 0) info.size = st.st_size;
  if (const int pid = CreatingPid(name)) {
    info.kind = "incomplete";
    info.creator_pid = pid;
    info.creator_alive = PidAlive(pid);
    return info;
  }
  internal::ObjectStamp stamp{};
  if (fd.valid() &&
      ::pread(fd.get(), &stamp, sizeof(stamp), 0) == sizeof(stamp) &&
      std::memcmp(stamp.magic, internal::kObjectMagic,
                  sizeof(internal::kObjectMagic)) == 0) {
    info.kind = KindName(stamp.kind);
    info.creator_pid = stamp.creator_pid;
    info.creator_alive = internal::StampOwnerAlive(stamp);
  }
  return info;
}

Status Remove(const ObjectInfo& info) {
  const std::string path = std::string(kShmDir) + "/" + info.name;
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    return ErrnoStatus("removing /dev/shm/" + info.name, errno);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ObjectInfo>> ListObjects() {
  DIR* dir = ::opendir(kShmDir);
  if (dir == nullptr) return ErrnoStatus("listing /dev/shm", errno);
  std::vector<ObjectInfo> out;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.rfind(internal::kObjectPrefix, 0) != 0) continue;
    out.push_back(Describe(name));
  }
  ::closedir(dir);
  return out;
}

Result<std::vector<ObjectInfo>> CleanStaleObjects(bool dry_run) {
  IPC_ASSIGN_OR_RETURN(std::vector<ObjectInfo> all, ListObjects());
  std::vector<ObjectInfo> stale;
  for (ObjectInfo& info : all) {
    if (info.creator_pid == 0 || info.creator_alive) continue;
    if (!dry_run) IPC_RETURN_IF_ERROR(Remove(info));
    stale.push_back(std::move(info));
  }
  return stale;
}

Status RemoveStaleObject(std::string_view name) {
  const std::string n(name);
  if (n.rfind(internal::kObjectPrefix, 0) != 0 || n.find('/') != std::string::npos) {
    return Status(ErrorCode::kNotFound,
                  "'" + n + "' is not a libipc object name (libipc.<type>.<name>)");
  }
  const std::string path = std::string(kShmDir) + "/" + n;
  if (::access(path.c_str(), F_OK) < 0) {
    return ErrnoStatus("/dev/shm/" + n, errno);
  }
  const ObjectInfo info = Describe(n);
  if (info.creator_pid == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "/dev/shm/" + n + ": no readable creator stamp; not removing it");
  }
  if (info.creator_alive) {
    return Status(ErrorCode::kAddressInUse,
                  "/dev/shm/" + n + ": its creator (pid " +
                      std::to_string(info.creator_pid) + ") is still running");
  }
  return Remove(info);
}

}  // namespace ipc
