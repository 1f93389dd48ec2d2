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
    case internal::ObjectKind::kSharedDict: return "shared-dict";
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

// The NAME part of "libipc.<tag>.<name>[.creating.<pid>.<n>]" (tags have
// no dots; names may).
std::string UserName(std::string_view file) {
  file.remove_prefix(std::strlen(internal::kObjectPrefix));
  const size_t dot = file.find('.');
  if (dot == std::string_view::npos) return std::string(file);
  file.remove_prefix(dot + 1);
  return std::string(file.substr(0, file.find(".creating.")));
}

ObjectInfo Describe(const std::string& file) {
  ObjectInfo info;
  info.name = UserName(file);
  info.kind = "unknown";
  info.path = std::string(kShmDir) + "/" + file;
  const std::string& name = file;
  internal::UniqueFd fd(::open(info.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
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
  if (::unlink(info.path.c_str()) < 0 && errno != ENOENT) {
    return ErrnoStatus("removing " + info.kind + " '" + info.name + "' (" + info.path + ")",
                       errno);
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

Status RemoveStaleObject(std::string_view name, std::string_view kind) {
  const std::string n(name);
  if (n.rfind(internal::kObjectPrefix, 0) == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + n + "' is a file name; name the object as it was created (" +
                      UserName(n) + ")");
  }
  IPC_ASSIGN_OR_RETURN(std::vector<ObjectInfo> all, ListObjects());
  std::vector<ObjectInfo> matches;
  for (ObjectInfo& info : all) {
    if (info.name == n && (kind.empty() || info.kind == kind)) matches.push_back(std::move(info));
  }
  const std::string what = (kind.empty() ? std::string("object") : std::string(kind)) + " '" + n + "'";
  if (matches.empty()) return Status(ErrorCode::kNotFound, "no libipc " + what + " in /dev/shm");
  for (const ObjectInfo& info : matches) {
    if (info.creator_pid == 0) {
      return Status(ErrorCode::kInvalidArgument,
                    info.kind + " '" + n + "' (" + info.path +
                        "): no readable creator stamp; not removing it");
    }
    if (info.creator_alive) {
      return Status(ErrorCode::kAddressInUse,
                    info.kind + " '" + n + "': its creator (pid " +
                        std::to_string(info.creator_pid) + ") is still running");
    }
  }
  for (const ObjectInfo& info : matches) IPC_RETURN_IF_ERROR(Remove(info));
  return Status::Ok();
}

}  // namespace ipc
